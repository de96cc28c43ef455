"""A django-debug-toolbar panel: the request's storage and S3 calls, and where they came from.

Add ``"ikstorage.profiler.panel.StorageCallsPanel"`` to ``DEBUG_TOOLBAR_PANELS``.
This module imports ``debug_toolbar``; nothing else in ikstorage does, so the
toolbar stays an optional dependency (the ``debug-toolbar`` extra).

Each call is traced to the innermost frame of your own code (see
``ikstorage.metrics.stack``), so "100 HeadObject from gallery/views.py:12"
points at the line to change. Tracing walks the stack once per call, which is
why only this panel asks for it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from debug_toolbar.panels import Panel
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ikstorage.metrics import Calls, count_calls
from ikstorage.profiler.report import plural

_KINDS = {
    "s3": "S3 call",
    "presign": "presigned URL",
    "storage": "storage call",
    "round_trip": "cache round trip",
}


class StorageCallsPanel(Panel):
    """Counts by operation and the lines of code that made the calls.

    (debug_toolbar ships type hints for few of its methods; the ignores below
    mark calls into those.)
    """

    title = "Storage"
    template = ""  # content is built in Python; see ``content``

    def process_request(self, request: HttpRequest) -> HttpResponse:
        with count_calls(trace=True) as calls:
            response: HttpResponse = super().process_request(request)  # type: ignore[no-untyped-call]
        self._calls = calls
        return response

    def generate_stats(self, request: HttpRequest, response: HttpResponse) -> None:
        calls: Calls | None = getattr(self, "_calls", None)
        if calls is None:
            return
        # Plain lists and dicts: the toolbar's store serializes stats as JSON.
        origins = Counter((t.kind, t.name, t.where) for t in calls.traces)
        self.record_stats(  # type: ignore[no-untyped-call]
            {
                "counts": calls.as_dict(),
                "origins": [[kind, name, where, n] for (kind, name, where), n in origins.items()],
            }
        )

    def _stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = self.get_stats()  # type: ignore[no-untyped-call]
        return stats

    @property
    def nav_subtitle(self) -> str:
        counts = self._stats().get("counts")
        if not counts:
            return ""
        return (
            f"{plural(counts['s3_total'], 'S3 call')}, "
            f"{plural(counts['storage_total'], 'storage call')}"
        )

    @property
    def content(self) -> SafeString:
        stats = self._stats()
        counts = stats.get("counts")
        if not counts:
            return format_html("<p>{}</p>", "No calls were recorded for this request.")
        cache = counts["cache"]
        summary = [
            ("S3 calls", counts["s3_total"]),
            ("S3 HTTP attempts (retries)", f"{counts['s3_attempts']} ({counts['retries']})"),
            ("Presigned URLs", sum(counts["presigned"].values())),
            ("Bytes downloaded", counts["bytes_downloaded"]),
            ("Storage calls", counts["storage_total"]),
            ("L1 hits / misses", f"{cache['l1']['hits']} / {cache['l1']['misses']}"),
            ("L2 hits / misses", f"{cache['l2']['hits']} / {cache['l2']['misses']}"),
            ("Cache round trips", counts["round_trips_total"]),
            ("Time (ms)", counts["duration_ms"]),
        ]
        origins = sorted(stats.get("origins", []), key=lambda o: (-o[3], o[0], o[1], o[2]))
        return format_html(
            "<h4>Totals</h4><table><tbody>{}</tbody></table>"
            "<h4>Calls by origin</h4><table><thead><tr><th>Kind</th><th>Operation</th>"
            "<th>Count</th><th>From</th></tr></thead><tbody>{}</tbody></table>",
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", summary),
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                ((_KINDS.get(kind, kind), name, n, where) for kind, name, where, n in origins),
            ),
        )
