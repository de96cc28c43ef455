"""The example gallery's demo runs end to end and reports the exact S3 calls we promise.

The example is its own Django project, so it runs in subprocesses (the test
suite's settings stay out of it), each with its own data directory and its
own embedded moto S3 over real HTTP. Warnings are errors there too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.server]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example"
IMAGES = 12


def manage(*args: str, var_dir: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run ``example/manage.py`` as a user would, in a clean environment; fail on error."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "IKSTORAGE_EXAMPLE_S3_ENDPOINT")
    }
    env.update(IKSTORAGE_EXAMPLE_VAR_DIR=str(var_dir), PYTHONWARNINGS="error")
    script = "manage.py" if cwd == EXAMPLE else "example/manage.py"
    done = subprocess.run(
        [sys.executable, script, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("example-var")


@pytest.fixture(scope="module")
def demo(var_dir: Path) -> dict[str, Any]:
    done = manage("gallery_demo", "--images", str(IMAGES), "--json", var_dir=var_dir)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_upload_is_one_put_for_the_photo_and_one_per_rendition(demo: dict[str, Any]) -> None:
    # thumb in AVIF, WebP and JPEG, and large: 4 renditions, made from the bytes in hand.
    assert demo["images"] == IMAGES
    assert demo["renditions_per_photo"] == 4
    assert demo["upload"]["s3"] == {"PutObject": 5 * IMAGES}


def test_plain_s3storage_pays_four_calls_per_photo(demo: dict[str, Any]) -> None:
    # url: none; width/height: HeadObject, HeadObject, GetObject of the whole
    # file; size: HeadObject.
    plain = demo["plain_page"]["renders"]["plain"]
    assert plain["s3"] == {"GetObject": IMAGES, "HeadObject": 3 * IMAGES}
    assert plain["round_trips"] == 0


def test_cold_cache_is_one_ranged_get_per_photo(demo: dict[str, Any]) -> None:
    renders = demo["plain_page"]["renders"]
    assert renders["cold"]["s3"] == {"GetObject": IMAGES}
    assert renders["cold"]["bytes_downloaded"] < renders["plain"]["bytes_downloaded"]


def test_warm_render_makes_no_s3_call_and_no_cache_round_trip(demo: dict[str, Any]) -> None:
    for page in ("plain_page", "thumbnail_page"):
        warm = demo[page]["renders"]["warm"]
        assert (warm["s3"], warm["round_trips"]) == ({}, 0), page


def test_new_process_makes_no_s3_call_and_one_cache_round_trip(demo: dict[str, Any]) -> None:
    # The views have no prefetch(): the names noted as the photos loaded all go
    # in the first lookup's get_many. On the thumbnail page this is the first
    # view after the upload: the save recorded the renditions.
    for page in ("plain_page", "thumbnail_page"):
        new = demo[page]["renders"]["new_process"]
        assert (new["s3"], new["round_trips"]) == ({}, 1), page


def test_thumbnails_of_files_uploaded_elsewhere_are_made_once_on_first_view(
    demo: dict[str, Any],
) -> None:
    # Per photo: one GET that learns its metadata from the header and reads on through
    # the whole file, one decode, and a PutObject per rendition.
    cold = demo["thumbnail_page"]["renders"]["cold"]
    assert cold["s3"] == {"GetObject": IMAGES, "PutObject": 4 * IMAGES}
    plain = demo["plain_page"]["renders"]
    # The whole files (what the plain page downloads), each once: no header read twice.
    assert cold["bytes_downloaded"] == plain["plain"]["bytes_downloaded"]


def test_every_render_of_a_page_shows_the_same_photos(demo: dict[str, Any]) -> None:
    for page in ("plain_page", "thumbnail_page"):
        renders = demo[page]["renders"].values()
        assert {r["status"] for r in renders} == {200}
        assert {r["img_tags"] for r in renders} == {IMAGES}
        assert len({r["main_sha256"] for r in renders}) == 1, page


def test_every_thumbnail_url_loads_as_the_size_the_page_gives(demo: dict[str, Any]) -> None:
    # Per photo: the <img> (JPEG), the AVIF and WebP <source>s, the link to 'large'.
    assert demo["thumbnail_page"]["urls_checked"] == 4 * IMAGES


def test_profile_command_works_on_the_gallery_in_a_later_process(
    demo: dict[str, Any], var_dir: Path
) -> None:
    """A later process restores the bucket on the same endpoint and finds the cache warm."""
    done = manage("ikstorage_profile", "/gallery/plain/", "--compare", "--json", var_dir=var_dir)
    runs = {run["label"]: run for run in json.loads(done.stdout)["runs"]}
    assert runs["bypass"]["s3"] == demo["plain_page"]["renders"]["plain"]["s3"]
    assert runs["ikstorage"]["s3"] == {}
    assert {run["status"] for run in runs.values()} == {200}


def test_table_from_the_example_directory(tmp_path: Path) -> None:
    done = manage("gallery_demo", "--images", "3", var_dir=tmp_path, cwd=EXAMPLE)
    assert (
        "Upload through Photo.objects.create(): 15 S3 calls (PutObject=15), 5.00 per photo: "
        "the photo and its 4 renditions." in done.stdout
    )
    assert "ikstorage saved 12 of 12 S3 calls on a warm render (3 images)." in done.stdout
    assert "Cold cache (photos uploaded without ikstorage): 15 S3 calls" in done.stdout
    assert done.stderr == ""
