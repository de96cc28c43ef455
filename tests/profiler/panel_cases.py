"""Debug toolbar panel cases, run by ``test_panel.py`` in a process of their own.

Run with ``--ds tests.profiler.toolbar_settings``; the file name keeps them out
of the main suite's collection.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from debug_toolbar.store import get_store
from debug_toolbar.toolbar import DebugToolbar, StoredDebugToolbar
from django.test import Client, RequestFactory

from tests.profiler import views

ROW = re.compile(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(\d+)</td><td><code>(.*?)</code></td></tr>")
GALLERY_LINE = next(
    i
    for i, line in enumerate(Path(views.__file__).read_text().splitlines(), 1)
    if "photos = [" in line
)
ORIGIN = re.compile(rf"(.*/)?tests/profiler/views\.py:{GALLERY_LINE} in (gallery|&lt;listcomp&gt;)")


@pytest.fixture
def toolbar(photos: Any) -> DebugToolbar:
    """A toolbar with only our panel, for a request to the gallery view."""
    return DebugToolbar(RequestFactory().get("/gallery/"), views.gallery)


def render(toolbar: DebugToolbar) -> Any:
    request = toolbar.request
    response = toolbar.process_request(request)
    panel: Any = toolbar.get_panel_by_id("StorageCallsPanel")
    panel.generate_stats(request, response)
    return panel


def test_lists_calls_by_operation_and_origin(toolbar: DebugToolbar) -> None:
    panel = render(toolbar)

    assert panel.nav_subtitle == "3 S3 calls, 6 storage calls"
    rows = ROW.findall(panel.content)
    by_kind = {(kind, name): int(n) for kind, name, n, _ in rows}
    round_trips = panel.get_stats()["counts"]["round_trips"]
    assert by_kind == {
        ("S3 call", "GetObject"): 3,
        ("presigned URL", "GetObject"): 3,
        ("storage call", "probe"): 3,
        ("storage call", "url"): 3,
        **{("cache round trip", op): n for op, n in round_trips.items()},
    }
    assert round_trips  # a cold render fills the cache
    assert [origin for *_, origin in rows if not ORIGIN.fullmatch(origin)] == []
    assert "<th>S3 calls</th><td>3</td>" in panel.content


def test_second_render_shows_no_storage_or_s3_calls(toolbar: DebugToolbar) -> None:
    render(toolbar)
    panel = render(DebugToolbar(RequestFactory().get("/gallery/"), views.gallery))

    assert panel.nav_subtitle == "0 S3 calls, 0 storage calls"
    assert "<th>Presigned URLs</th><td>0</td>" in panel.content
    assert ROW.findall(panel.content) == []


def test_stats_survive_the_toolbar_store(toolbar: DebugToolbar) -> None:
    """The toolbar stores stats as JSON and renders the panel again from them."""
    content = render(toolbar).content

    assert toolbar.request_id is not None
    stored = StoredDebugToolbar.from_store(toolbar.request_id, panel_id="StorageCallsPanel")

    assert stored.get_panel_by_id("StorageCallsPanel").content == content


def test_through_the_toolbar_middleware(photos: Any, client: Client) -> None:
    """The way a user sees it: the page, then the panel fetched from the toolbar's view."""
    assert client.get("/gallery/").status_code == 200
    request_id = list(get_store().request_ids())[-1]

    response = client.get(
        "/__debug__/render_panel/", {"request_id": request_id, "panel_id": "StorageCallsPanel"}
    )

    content = response.json()["content"]
    assert "<th>S3 calls</th><td>3</td>" in content
    assert "<th>Storage calls</th><td>6</td>" in content
    assert ("S3 call", "GetObject", "3") in [row[:3] for row in ROW.findall(content)]
