"""``{{ ikstorage_calls }}`` in templates: the current request's counts so far.

Add ``"ikstorage.profiler.context_processors.storage_calls"`` to the template
``context_processors`` and ``StorageProfilerMiddleware`` to ``MIDDLEWARE``: a
template (a footer) reads ``ikstorage_calls.s3_total``,
``ikstorage_calls.round_trips_total`` and the rest of
:class:`~ikstorage.metrics.calls.Calls` while the page renders.
``None`` when the request is not profiled.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def storage_calls(request: HttpRequest) -> dict[str, Any]:
    return {"ikstorage_calls": getattr(request, "ikstorage_calls", None)}
