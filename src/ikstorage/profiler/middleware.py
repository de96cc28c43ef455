"""``StorageProfilerMiddleware``: each profiled response says what it cost.

Adds a ``Server-Timing`` header (visible in the browser's network panel) and
logs one line on the ``ikstorage.profiler`` logger at INFO. Whether a request
is profiled is decided per request from ``IKSTORAGE_PROFILER`` (see
``ikstorage.profiler.conf``); a request that is not profiled costs one
settings lookup.

Counting is process-wide (an S3 call made by a worker thread for this request
is this request's cost), so on a threaded server the numbers of requests that
overlap in time include each other's calls. Exact per-request numbers need one
request at a time: ``runserver --nothreading``, one thread per worker, or the
``ikstorage_profile`` command. Calls made while a ``StreamingHttpResponse`` is
iterated happen after the middleware returns and are not counted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from ikstorage.metrics import count_calls
from ikstorage.profiler import conf
from ikstorage.profiler.report import server_timing, summary

logger = logging.getLogger("ikstorage.profiler")


class StorageProfilerMiddleware:
    """Count the storage, S3 and cache calls of a request; report them in a header and a log."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not conf.should_profile():
            return self.get_response(request)
        with count_calls() as calls:
            # Readable while the request runs (a template footer, a view):
            # ``ikstorage.profiler.context_processors.storage_calls`` exposes it.
            request.ikstorage_calls = calls  # type: ignore[attr-defined]
            response = self.get_response(request)
        timing = server_timing(calls)
        existing = response.headers.get("Server-Timing")
        response.headers["Server-Timing"] = f"{existing}, {timing}" if existing else timing
        logger.info(
            "%s %s %s: %s",
            request.method,
            request.get_full_path(),
            response.status_code,
            summary(calls),
        )
        return response
