"""The recorders that are listening right now, process-wide.

Kept apart from the hooks and the recorder class so both can depend on it
without depending on each other. Hooks read ``recorders.current`` without a
lock: when nothing is profiling, an S3 call pays one attribute load and one
truth test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ikstorage.metrics import Listeners

if TYPE_CHECKING:
    from ikstorage.profiler.calls import Calls

recorders: Listeners[Calls] = Listeners()
#: Deliver S3 events to a recorder from now on, from every thread.
add = recorders.add
#: Stop delivering S3 events to a recorder (no error if it was not added).
remove = recorders.remove
