"""``--renditions``: the renditions legacy sources lack, one download per source."""

from __future__ import annotations

from typing import Any

from django.core.cache import caches
from django.core.files.storage import storages
from django.template import Context, Template
from django.test import override_settings

from ikstorage import CachedStorage
from ikstorage.cache import clear_local
from ikstorage.profiler import count_calls
from tests.prewarm.conftest import BUCKET, prewarm, put_images, s3_storages

NAMES = [f"legacy/{i:02d}.jpg" for i in range(6)]
SPECS = {"thumb": {"fill": [20, 15], "formats": ["webp", "jpeg"]}, "large": {"fit": [30, 30]}}
#: Renditions per source: thumb in two formats, large in one.
PER_SOURCE = 3
#: A cache of its own, emptied by each test (the default one holds 300 entries).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "prewarm-renditions",
        "OPTIONS": {"MAX_ENTRIES": 10_000},
    }
}


def storages_with_specs() -> dict[str, Any]:
    config = s3_storages()
    config["default"]["OPTIONS"]["specs"] = SPECS
    return config


def test_prewarm_renders_what_legacy_sources_lack(s3: Any) -> None:
    put_images(s3, NAMES, size=(80, 60))
    with override_settings(STORAGES=storages_with_specs(), CACHES=CACHES):
        caches["default"].clear()
        run = prewarm("--prefix", "legacy/", "--renditions")
        assert run.returncode == 0
        # Per source: one GET for its record and every spec (the probe's read, gone on
        # with after the header), a PUT each.
        assert run["s3"] == {
            "ListObjectsV2": 1,
            "GetObject": len(NAMES),
            "PutObject": PER_SOURCE * len(NAMES),
        }
        assert run["renditions_made"] == PER_SOURCE * len(NAMES)
        assert run["records_written"] == len(NAMES)
        listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="renditions/")["Contents"]
        assert len(listed) == PER_SOURCE * len(NAMES)

        again = prewarm("--prefix", "legacy/", "--renditions")
        assert again["s3"] == {"ListObjectsV2": 1}
        assert again["renditions_made"] == 0

        # A page of thumbnails right after, in a new process sharing the cache.
        clear_local()
        storage = storages["default"]
        assert isinstance(storage, CachedStorage)
        page = Template(
            "{% load ikstorage %}{% for n in names %}"
            "{% picture n 'thumb' formats='webp jpeg' %}{% endfor %}"
        )
        with count_calls() as calls:
            html = page.render(Context({"names": NAMES}))
        assert calls.s3 == {}
        assert html.count('width="20" height="15"') == len(NAMES)


def test_a_source_that_cannot_be_rendered_is_reported(s3: Any) -> None:
    put_images(s3, NAMES[:2], size=(80, 60))
    s3.put_object(Bucket=BUCKET, Key="legacy/bad.jpg", Body=b"not an image")
    with override_settings(STORAGES=storages_with_specs(), CACHES=CACHES):
        caches["default"].clear()
        run = prewarm("--prefix", "legacy/", "--renditions")
    assert run.returncode == 1
    reasons = {s["name"]: s["reason"] for s in run["error_samples"]}
    assert "no renditions: not-an-image" in reasons["legacy/bad.jpg"]
    assert run["renditions_made"] == PER_SOURCE * 2


def test_refresh_keeps_the_renditions_of_unchanged_files(s3: Any) -> None:
    put_images(s3, NAMES, size=(80, 60))
    with override_settings(STORAGES=storages_with_specs(), CACHES=CACHES):
        caches["default"].clear()
        assert prewarm("--prefix", "legacy/", "--renditions").returncode == 0
        storage = storages["default"]
        assert isinstance(storage, CachedStorage)
        made = {n: storage.metadata(n).renditions for n in NAMES}
        # Re-read every record: the files did not change, so their renditions stay listed
        # and nothing is rendered again (one get_many finds what the records listed).
        clear_local()
        refreshed = prewarm("--prefix", "legacy/", "--refresh", "--renditions")
        assert refreshed.returncode == 0
        assert refreshed["s3"] == {"ListObjectsV2": 1, "GetObject": len(NAMES)}
        assert refreshed["renditions_made"] == 0
        # Per name, under its write lease: take it, read the record, write, give it back.
        n = len(NAMES)
        assert refreshed["cache_round_trips"] == {
            "get": 1,
            "get_many": 1 + n,
            "add": n,
            "set_many": n,
            "delete_many": n,
        }
        clear_local()
        assert {n: storage.metadata(n).renditions for n in NAMES} == made
        # A file changed behind ikstorage's back loses its old renditions' listing and is
        # rendered again from its new bytes.
        put_images(s3, NAMES[:1], size=(90, 60))
        changed = prewarm("--prefix", "legacy/", "--refresh", "--renditions")
        assert changed["renditions_made"] == PER_SOURCE
        clear_local()
        assert storage.metadata(NAMES[0]).renditions != made[NAMES[0]]
        assert len(storage.metadata(NAMES[0]).renditions) == PER_SOURCE


def test_a_source_over_max_pixels_is_read_no_further_than_its_header(s3: Any) -> None:
    put_images(s3, NAMES[:2], size=(80, 60))  # 4,800 pixels each
    config = storages_with_specs()
    config["default"]["OPTIONS"]["max_pixels"] = 4000
    with override_settings(STORAGES=config, CACHES=CACHES):
        caches["default"].clear()
        run = prewarm("--prefix", "legacy/", "--renditions")
    # One GET each, closed after the header told the size: nothing rendered, nothing written.
    assert run["s3"] == {"ListObjectsV2": 1, "GetObject": 2}
    assert run["renditions_made"] == 0
    assert run["records_written"] == 2
    reasons = {s["name"]: s["reason"] for s in run["error_samples"]}
    assert reasons == {n: "no renditions: too-many-pixels" for n in NAMES[:2]}


def test_a_rendering_run_reads_each_source_once(s3: Any) -> None:
    put_images(s3, NAMES, size=(80, 60))
    with override_settings(STORAGES=storages_with_specs(), CACHES=CACHES):
        caches["default"].clear()
        records_only = prewarm("--prefix", "legacy/", "--no-renditions")
        caches["default"].clear()
        clear_local()
        rendering = prewarm("--prefix", "legacy/", "--renditions")
    # The same listing and the same bytes of each file (each smaller than the probe's
    # first read): the renders cost no byte more than the records alone.
    assert rendering["bytes_downloaded"] == records_only["bytes_downloaded"]
    assert rendering["s3"]["GetObject"] == records_only["s3"]["GetObject"] == len(NAMES)
    assert rendering["renditions_made"] == PER_SOURCE * len(NAMES)
