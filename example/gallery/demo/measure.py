"""Render a page through Django's test client and count what it cost.

The same function measures every row of the demo's tables, in this process and
in the new one (``gallery_render``), so the rows differ only in the state of
the cache. A ``Measurement`` travels between processes as JSON.

Renders are compared on the page's ``<main>``: the photos. The header holds
the upload form, whose CSRF token changes on every request, and the footer
the request's own counts, which are what differs between rows.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

from django.core.files.storage import storages
from django.db import connection
from django.template.loader import get_template
from django.test import Client
from django.urls import resolve

from gallery.demo.page import Figure, read_page
from ikstorage import bypass_cache
from ikstorage.profiler import Counts, count_calls


@dataclass(frozen=True)
class Measurement:
    """What one render cost, and enough of its HTML to check it against the others."""

    status: int
    s3: dict[str, int]
    s3_total: int
    bytes_downloaded: int
    round_trips: int
    duration_ms: float
    main_sha256: str  # of the page's <main>: the photos
    figures: list[Figure] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_calls(cls, calls: Counts, *, status: int = 0, html: str = "") -> Measurement:
        page = read_page(html)
        return cls(
            status=status,
            s3=dict(sorted(calls.s3.items())),
            s3_total=calls.s3_total,
            bytes_downloaded=calls.bytes_downloaded,
            round_trips=calls.round_trips_total,
            duration_ms=round(calls.duration * 1000, 1),
            main_sha256=hashlib.sha256(page.main.encode()).hexdigest() if html else "",
            figures=page.figures,
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Measurement:
        figures = [Figure.from_json(f) for f in data.get("figures", [])]
        return cls(**{**data, "figures": figures})


def warm_up(path: str) -> None:
    """Pay once-per-process costs that are not the page's, so the time column compares pages.

    Loads the URLconf, the view and the template, opens the database, builds
    the S3 client (S3Storage does so on first use in each thread, about
    100 ms, with or without ikstorage) and installs the profiler's botocore
    hooks. Reads nothing from S3 or the cache.
    """
    match = resolve(path.partition("?")[0])
    get_template(f"gallery/{'plain' if match.url_name == 'gallery-plain' else 'index'}.html")
    connection.ensure_connection()
    storages["s3"].connection  # type: ignore[attr-defined]  # noqa: B018
    with count_calls():
        pass


def render(path: str, *, bypass: bool = False) -> Measurement:
    """GET ``path`` once and count its calls; ``bypass`` measures the wrapped storage alone.

    Inside ``bypass_cache()`` every ``CachedStorage`` passes each call straight
    to the storage it wraps, so the page costs what it would with the plain
    ``S3Storage`` in ``STORAGES["default"]``.
    """
    client = Client(raise_request_exception=True)
    with count_calls() as calls:
        if bypass:
            with bypass_cache():
                response = client.get(path)
        else:
            response = client.get(path)
    html = response.content.decode()
    return Measurement.from_calls(calls, status=response.status_code, html=html)
