"""Names from model fields: exact S3 calls, exact queries, and what a second run costs."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from ikstorage import CachedStorage
from ikstorage import cache as ik_cache
from ikstorage.prewarm.sources import cached_file_fields
from ikstorage.profiler import count_calls
from tests.prewarm.conftest import BUCKET, prewarm, put_images
from tests.testapp.models import Photo

pytestmark = pytest.mark.django_db

IMAGES = [f"photos/{i:02d}.jpg" for i in range(25)]
DOCS = [f"docs/{i}.txt" for i in range(5)]


@pytest.fixture
def rows(cached: CachedStorage, s3: Any) -> list[str]:
    """25 images and 5 text files in the bucket, one row each, and 2 rows with no file."""
    put_images(s3, IMAGES, (64, 48))
    for name in DOCS:
        s3.put_object(Bucket=BUCKET, Key=name, Body=b"text " * 100)
    Photo.objects.bulk_create(Photo(image=name) for name in [*IMAGES, *DOCS, "", ""])
    return [*IMAGES, *DOCS]


def test_one_call_per_file_and_one_query_per_batch(rows: list[str]) -> None:
    with count_calls() as calls, CaptureQueriesContext(connection) as queries:
        run = prewarm("testapp.Photo.image", "--batch-size", "10")
    assert run.returncode == 0, run.stderr
    # One ranged GET per image, one HEAD per other file: nothing else.
    assert calls.s3 == run["s3"] == {"GetObject": 25, "HeadObject": 5}
    assert (
        calls.bytes_downloaded
        == run["bytes_downloaded"]
        == 25 * len(__import__("tests.images", fromlist=["image_bytes"]).image_bytes((64, 48)))
    )
    assert run["files_seen"] == run["records_written"] == run["probed"] == 30
    # 30 names in batches of 10: three get_many, and one add per record; the
    # checkpoint costs one get (none found) and, for a run this short, nothing else.
    assert run["cache_round_trips"] == {"get": 1, "get_many": 3, "add": 30}
    # Keyset pagination: three full pages and the empty one that ends it; no instances.
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(selects) == 4
    assert all('"testapp_photo"."id" >' in sql for sql in selects[1:])


def test_second_run_costs_no_s3_call(rows: list[str]) -> None:
    assert prewarm("testapp.Photo.image").returncode == 0
    ik_cache.clear_local()  # as in a new process: only the shared cache knows
    with count_calls() as calls:
        again = prewarm("testapp.Photo.image")
    assert calls.s3 == again["s3"] == {}
    assert again["already_cached"] == 30
    assert again["records_written"] == 0
    assert again["cache_round_trips"] == {"get": 1, "get_many": 1}


def test_refresh_rereads_and_overwrites(rows: list[str], cached: CachedStorage, s3: Any) -> None:
    assert prewarm("testapp.Photo.image").returncode == 0
    before = cached.core.cached_records(IMAGES[:1])[IMAGES[0]]
    put_images(s3, IMAGES[:1], (80, 20))  # changed behind ikstorage's back
    ik_cache.clear_local()
    assert cached.core.cached_records(IMAGES[:1])[IMAGES[0]] == before  # stale, as expected
    with count_calls() as calls:
        run = prewarm("testapp.Photo.image", "--refresh")
    assert calls.s3 == {"GetObject": 25, "HeadObject": 5}
    assert run["records_written"] == 30
    # Everything is re-read, each name under its write lease (take it, read the record,
    # write, give it back); renditions of unchanged files are kept.
    assert run["cache_round_trips"] == {
        "get": 1,
        "get_many": 31,
        "add": 30,
        "set_many": 30,
        "delete_many": 30,
    }
    ik_cache.clear_local()
    assert cached.core.cached_records(IMAGES[:1])[IMAGES[0]].dimensions == (80, 20)


def test_dry_run_calls_nothing(rows: list[str], cached: CachedStorage) -> None:
    with count_calls() as calls:
        run = prewarm("testapp.Photo.image", "--dry-run")
    assert calls.s3 == {}
    assert run["would_probe"] == 30
    assert run["records_written"] == 0
    assert run["cache_round_trips"] == {"get_many": 1}
    assert cached.core.cached_records(rows) == {}
    assert prewarm("testapp.Photo.image").returncode == 0
    assert prewarm("testapp.Photo.image", "--dry-run")["would_probe"] == 0


def test_all_cached_fields_by_default(rows: list[str]) -> None:
    labels = {f"{model._meta.label}.{field.name}" for model, field in cached_file_fields()}
    assert "testapp.Photo.image" in labels
    run = prewarm()
    assert run.returncode == 0, run.stderr
    assert "testapp.Photo.image" in run["sources"]
    assert set(run["sources"]) == labels
    assert run["s3"] == {"GetObject": 25, "HeadObject": 5}
    assert prewarm("testapp.Photo")["sources"] == ["testapp.Photo.image"]


def test_a_name_in_many_rows_is_probed_once(cached: CachedStorage, s3: Any) -> None:
    put_images(s3, ["photos/same.jpg"])
    Photo.objects.bulk_create(Photo(image="photos/same.jpg") for _ in range(5))
    run = prewarm("testapp.Photo.image")
    assert run["s3"] == {"GetObject": 1}
    assert run["files_seen"] == 1


def test_page_after_prewarm_costs_no_s3_call(rows: list[str]) -> None:
    """A new process (empty L1) sharing the warmed L2 renders without S3."""
    assert prewarm("testapp.Photo.image").returncode == 0
    ik_cache.clear_local()
    page = Template(
        "{% for p in photos %}{{ p.image.url }} {{ p.image.width }}x{{ p.image.height }} "
        "{{ p.image.size }};{% endfor %}"
    )
    with count_calls() as calls:
        photos = Photo.objects.filter(image__startswith="photos/").order_by("pk")
        html = page.render(Context({"photos": photos}))
    assert calls.s3 == {}
    assert html.count(" 64x48 ") == 25


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("testapp.Nope", "App 'testapp' doesn't have a 'Nope' model"),
        ("testapp.Photo.title", "has no file field 'title' (its file fields: image)"),
        ("testapp.PhotoRow", "no file field there is stored on a CachedStorage"),
        ("photo", "expected app_label.Model or app_label.Model.field"),
    ],
)
def test_bad_labels(cached: CachedStorage, label: str, message: str) -> None:
    run = prewarm(label)
    assert run.error is not None
    assert message in str(run.error)


def test_nothing_on_a_cached_storage() -> None:
    with override_settings(
        STORAGES={"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    ):
        run = prewarm()
        assert run.error is not None
        assert "No file field of any installed model is stored on a CachedStorage" in str(run.error)
        named = prewarm("testapp.Photo.image")
        assert "its storage is FileSystemStorage, not a CachedStorage" in str(named.error)
