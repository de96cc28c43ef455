"""The page's footer: what this request has cost so far, from ``ikstorage.profiler``.

``StorageProfilerMiddleware`` counts a request and reports it in a
``Server-Timing`` header and a log line, after the response is made; it keeps
its counts to itself, so a template cannot print them. This middleware opens
its own ``count_calls()`` block around the request and hands it to templates
(``page_cost`` in the context). A ``Calls`` can be read while its block is
open, so the footer, rendered last, shows everything the request did before
it: the view, the queries' file fields and the thumbnails above it.

Counting is process-wide: on the threaded dev server, requests that overlap
in time count each other's calls (see ``docs/profiler.md``). Images are not
among them: the browser fetches those from S3, not from Django.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponseBase

from ikstorage.profiler import Calls, count_calls

#: Where the middleware leaves the request's recorder.
ATTRIBUTE = "gallery_calls"


class PageCostMiddleware:
    """Count each request's S3, storage and cache calls where its templates can read them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        with count_calls() as calls:
            setattr(request, ATTRIBUTE, calls)
            return self.get_response(request)


class PageCost:
    """The footer's sentences, read from the recorder when the footer renders."""

    def __init__(self, calls: Calls) -> None:
        self.calls = calls

    @property
    def s3(self) -> str:
        """``"0 S3 calls"`` or ``"400 S3 calls (HeadObject=300, GetObject=100)"``."""
        ops = sorted(self.calls.s3.items(), key=lambda item: (-item[1], item[0]))
        text = _plural(sum(n for _, n in ops), "S3 call")
        return text + (f" ({', '.join(f'{op}={n}' for op, n in ops)})" if ops else "")

    @property
    def storage(self) -> str:
        return _plural(self.calls.storage_total, "call") + " to the wrapped storage"

    @property
    def cache(self) -> str:
        calls = self.calls
        return (
            f"{_plural(calls.round_trips_total, 'cache round trip')} "
            f"(in-process cache: {_plural(calls.l1_hits, 'hit')}, "
            f"{_plural(calls.l1_misses, 'miss', 'misses')})"
        )

    @property
    def milliseconds(self) -> str:
        return f"{self.calls.duration * 1000:.1f} ms"


def page_cost(request: HttpRequest) -> dict[str, Any]:
    """Context processor: ``page_cost``, or nothing outside ``PageCostMiddleware``."""
    calls = getattr(request, ATTRIBUTE, None)
    return {"page_cost": PageCost(calls)} if isinstance(calls, Calls) else {}


def _plural(n: int, noun: str, nouns: str = "") -> str:
    return f"{n} {noun if n == 1 else nouns or noun + 's'}"
