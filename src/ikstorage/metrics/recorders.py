"""The recorders that are listening right now, process-wide, and what each must answer.

Kept apart from the hooks and the recorder class so both can depend on it
without depending on each other: ``Recorder`` names the calls the hooks make,
so this module needs neither. Hooks read ``recorders.current`` without a
lock: when nothing is profiling, an S3 call pays one attribute load and one
truth test.
"""

from __future__ import annotations

from typing import Protocol

from ikstorage.metrics.events import Listeners


class Recorder(Protocol):
    """What ``botocore_hooks`` reports about S3 calls; implemented by ``Calls``."""

    def record_s3_call(self, operation: str) -> None: ...

    def record_presign(self, operation: str) -> None: ...

    def record_attempt(self, operation: str, attempt: int, nbytes: int) -> None: ...


recorders: Listeners[Recorder] = Listeners()
#: Deliver S3 events to a recorder from now on, from every thread.
add = recorders.add
#: Stop delivering S3 events to a recorder (no error if it was not added).
remove = recorders.remove
