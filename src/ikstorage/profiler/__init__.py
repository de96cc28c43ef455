"""Count what a page costs: S3 API calls, storage calls, cache round trips.

``count_calls()`` is the measuring tool. It lives in ``ikstorage.metrics``,
below the features that count with it, and stays public and stable under this
name. The middleware, the ``ikstorage_profile`` command, the pytest plugin
(``ikstorage.pytest_plugin``) and the debug toolbar panel
(``ikstorage.profiler.panel``, which needs django-debug-toolbar) are ways to
read it. See ``docs/profiler.md``.
"""

from __future__ import annotations

from ikstorage.metrics import Calls, Counts, Trace, count_calls
from ikstorage.profiler.middleware import StorageProfilerMiddleware

__all__ = ["Calls", "Counts", "StorageProfilerMiddleware", "Trace", "count_calls"]
