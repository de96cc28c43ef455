"""``benchmarks/peers.py``: each contender's S3 calls, exactly, as ``docs/benchmark.md`` has them.

One run of the command on a page of 3 photos with no latency, every
installed contender in processes of its own, as the full benchmark runs them;
counts do not depend on time, nor on the page's size except for
django-pictures (as many srcset sizes as fit each photo: its counts here are
for the first three), so the other numbers asserted here per photo are the
ones a full run prints. django-pictures, Wagtail and django-easy-images are in
the ``bench`` dependency group, not ``test``: CI runs the others. Times are
not asserted (a page of three photos says nothing about them), but the tables,
the docs page and the chart must be written.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from benchmarks.peerbench.contenders import CONTENDERS

pytestmark = [pytest.mark.slow, pytest.mark.heavy]

ROOT = Path(__file__).resolve().parent.parent
IMAGES = 3
PHASES = ("upload", "cold", "warm", "new_process")

NONE: dict[str, int] = {}
READ_SOURCE = {"HeadObject": 2, "GetObject": 1}

PICTURES_UPLOAD = {
    "PutObject": 35 / IMAGES,
    "DeleteObject": 32 / IMAGES,
    "HeadObject": 2,
    "GetObject": 1,
}
WAGTAIL_COLD = {"HeadObject": 2, "GetObject": 1, "PutObject": 1}
EASY_IMAGES_UPLOAD = {"PutObject": 3, "HeadObject": 4, "GetObject": 2}

#: S3 calls per photo: upload, cold, warm, new process. H/G/P/D in the docs.
S3_PER_PHOTO: dict[str, tuple[dict[str, int], ...]] = {
    "row": ({"PutObject": 2}, NONE, NONE, NONE),
    "s3": ({"PutObject": 1}, READ_SOURCE, READ_SOURCE, READ_SOURCE),
    "ik-field": ({"PutObject": 1}, NONE, NONE, NONE),
    "kit": (
        {"PutObject": 1},
        {"HeadObject": 7, "GetObject": 3, "PutObject": 1},
        {"HeadObject": 4, "GetObject": 2},
        {"HeadObject": 4, "GetObject": 2},
    ),
    "kit-ik": ({"PutObject": 1}, {"GetObject": 2, "HeadObject": 2, "PutObject": 1}, NONE, NONE),
    "kit-opt": (
        {"PutObject": 2, "HeadObject": 3, "GetObject": 1},
        {"HeadObject": 4, "GetObject": 2},
        {"HeadObject": 4, "GetObject": 2},
        {"HeadObject": 4, "GetObject": 2},
    ),
    "kit-opt-ik": ({"PutObject": 2, "GetObject": 2, "HeadObject": 2}, NONE, NONE, NONE),
    "sorl": ({"PutObject": 1}, {"HeadObject": 3, "GetObject": 1, "PutObject": 1}, NONE, NONE),
    "sorl-ik": ({"PutObject": 1}, {"GetObject": 2, "HeadObject": 2, "PutObject": 1}, NONE, NONE),
    "easy": (
        {"PutObject": 1},
        {"HeadObject": 2, "GetObject": 1, "DeleteObject": 1, "PutObject": 1},
        READ_SOURCE,
        READ_SOURCE,
    ),
    "easy-dims": (
        {"PutObject": 1},
        {"HeadObject": 2, "GetObject": 1, "DeleteObject": 1, "PutObject": 1},
        NONE,
        NONE,
    ),
    "easy-ik": (
        {"PutObject": 1},
        {"HeadObject": 2, "GetObject": 1, "DeleteObject": 1, "PutObject": 1},
        NONE,
        NONE,
    ),
    # Every width of the srcset, 100 to 1200 px and within the photo in 4:3: 12, 9
    # and 11 for the first three photos (32), each deleted first, then written.
    "pictures": (PICTURES_UPLOAD, NONE, NONE, NONE),
    "pictures-ik": (PICTURES_UPLOAD, NONE, NONE, NONE),
    # The rendition made on the first page: the source read, its rendition written.
    "wagtail": ({"PutObject": 1}, WAGTAIL_COLD, NONE, NONE),
    "wagtail-prefetch": ({"PutObject": 1}, WAGTAIL_COLD, NONE, NONE),
    "wagtail-ik": ({"PutObject": 1}, WAGTAIL_COLD, NONE, NONE),
    # The source, its src (built in the save) and 2x (built by build_img_queue).
    "easy-images": (EASY_IMAGES_UPLOAD, NONE, NONE, NONE),
    "easy-images-ik": (EASY_IMAGES_UPLOAD, NONE, NONE, NONE),
    "ik": ({"PutObject": 2}, NONE, NONE, NONE),
}

#: Django cache calls of a warm page and of a new process's page, per photo,
#: except ikstorage's own pages: one ``get_many`` for the whole page.
CACHE_WARM_NEW: dict[str, tuple[Mapping[str, float], Mapping[str, float]]] = {
    "row": (NONE, NONE),
    "s3": (NONE, NONE),
    "ik-field": (NONE, {"get_many": 1 / IMAGES}),
    # imagekit asks its cache whether the file exists on each of url, width, height.
    "kit": ({"get": 3}, {"get": 3}),
    # Once (url); width and height come from ikstorage's record. A new process
    # fetches each thumbnail's record on its own: imagekit's names are not
    # model fields, so they are not batched.
    "kit-ik": ({"get": 1}, {"get": 1, "get_many": 1}),
    "kit-opt": (NONE, NONE),
    "kit-opt-ik": (NONE, {"get_many": 1}),
    # sorl's key-value store, one entry per thumbnail; on ikstorage the URL too.
    "sorl": ({"get": 1}, {"get": 1}),
    "sorl-ik": ({"get": 1}, {"get": 1, "get_many": 1}),
    "easy": (NONE, NONE),
    "easy-dims": (NONE, NONE),
    "easy-ik": (NONE, {"get_many": 1}),
    "pictures": (NONE, NONE),
    # One lookup for the page's sources, then one per srcset URL (32): a size's name
    # is the picture's, not a model field's, so it is not batched.
    "pictures-ik": (NONE, {"get_many": 33 / IMAGES}),
    # Wagtail looks each rendition up in its cache, and writes it back, on every page.
    "wagtail": ({"get_many": 1, "set": 1}, {"get_many": 1, "set": 1}),
    # Prefetched renditions come from the database; the write-back stays.
    "wagtail-prefetch": ({"set": 1}, {"set": 1}),
    "wagtail-ik": ({"get_many": 1, "set": 1}, {"get_many": 2, "set": 1}),
    "easy-images": (NONE, NONE),
    "easy-images-ik": (NONE, {"get_many": 1}),
    "ik": (NONE, {"get_many": 1 / IMAGES}),
}


#: The contenders this environment runs: the classic libraries are in the 'test'
#: group (CI); django-pictures, Wagtail and django-easy-images in the 'bench'
#: group only (``python3 dev.py bench``), so CI runs without them.
RUN = [c.slug for c in CONTENDERS if c.installed]


def libraries_missing() -> list[str]:
    return [m for m in ("imagekit", "sorl", "easy_thumbnails") if not importlib.util.find_spec(m)]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One run of the command, all contenders; its output, results and docs directory."""
    if libraries_missing():
        pytest.skip(f"the peers are not installed: {libraries_missing()} (the 'test' group)")
    out = tmp_path_factory.mktemp("peers")
    command = [sys.executable, str(ROOT / "benchmarks" / "peers.py"), "--images", str(IMAGES)]
    command += ["--latency-ms", "0", "--repeats", "2", "--new-processes", "1"]
    command += ["--no-time-target", "--json", str(out / "results.json")]
    charting = importlib.util.find_spec("matplotlib") is not None
    if charting:
        command += ["--write-docs", "--docs-dir", str(out / "docs")]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return {
        "stdout": done.stdout,
        "json": out / "results.json",
        "results": json.loads((out / "results.json").read_text())["results"],
        "docs": out / "docs" if charting else None,
    }


def per_photo(counts: dict[str, int]) -> dict[str, float]:
    return {operation: count / IMAGES for operation, count in counts.items()}


def test_every_contender_is_asserted() -> None:
    assert set(S3_PER_PHOTO) == set(CACHE_WARM_NEW) == {c.slug for c in CONTENDERS}


@pytest.mark.parametrize("slug", RUN)
def test_s3_calls_per_photo(run: dict[str, Any], slug: str) -> None:
    phases = run["results"][slug]
    measured = tuple(per_photo(phases[phase]["s3"]) for phase in PHASES)
    assert measured == S3_PER_PHOTO[slug]


@pytest.mark.parametrize("slug", RUN)
def test_cache_round_trips(run: dict[str, Any], slug: str) -> None:
    phases = run["results"][slug]
    measured = (per_photo(phases["warm"]["cache"]), per_photo(phases["new_process"]["cache"]))
    assert measured == CACHE_WARM_NEW[slug]


def test_every_render_shows_the_same_page(run: dict[str, Any]) -> None:
    for slug, phases in run["results"].items():
        pages = {phases[phase]["html_sha256"] for phase in ("cold", "warm", "new_process")}
        assert len(pages) == 1, slug


def test_the_tables_are_printed(run: dict[str, Any]) -> None:
    stdout = run["stdout"]
    for contender in CONTENDERS:
        expected = 3 if contender.slug in RUN else 0
        assert stdout.count(f"| {contender.label} |") == expected, contender.slug
    assert "| django-imagekit (JustInTime) | 1 (P) | 11 (7 H, 3 G, P) | 6 (4 H, 2 G) |" in stdout


def test_the_docs_page_and_the_chart_are_written(run: dict[str, Any]) -> None:
    if run["docs"] is None:
        pytest.skip("matplotlib is not installed (the 'bench' group)")
    page = (run["docs"] / "benchmark.md").read_text()
    assert "![" in page
    assert "(images/benchmark.png)" in page
    assert "| ikstorage renditions | 2 (2 P) | 0 | 0 | 0 |" in page
    assert "`MAX_ENTRIES = 10_000`" in page
    png = (run["docs"] / "images" / "benchmark.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert b"Software" not in png  # no version stamp: the same numbers give the same bytes


def test_the_same_numbers_write_the_same_files(run: dict[str, Any], tmp_path: Path) -> None:
    """``--from-json`` measures nothing; the page and the PNG depend on the numbers only."""
    if run["docs"] is None:
        pytest.skip("matplotlib is not installed (the 'bench' group)")
    command = [sys.executable, str(ROOT / "benchmarks" / "peers.py"), "--no-time-target"]
    command += ["--from-json", str(run["json"]), "--write-docs", "--docs-dir", str(tmp_path)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    for written in ("benchmark.md", "images/benchmark.png"):
        assert (tmp_path / written).read_bytes() == (run["docs"] / written).read_bytes(), written
