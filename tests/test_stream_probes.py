"""``Adapter.probe_open``: one read of the whole file that answers what the ranged probe does.

For every adapter with a streamed probe (S3 on moto, Google Cloud Storage on
its emulator), the facts the streamed probe gives are the ranged probe's, for
photos, empty files, missing names, headers larger than the first read and
files that are not images; and a legacy photo's first thumbnail view costs
one request in all. Azure keeps the default (the probe, then a download):
its SDK reads the first 32 MiB of an unranged download before it returns.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.base import ContentFile

from ikstorage import CachedStorage
from ikstorage.backends.base import Adapter
from ikstorage.backends.stream import Later, Streamed
from ikstorage.profiler import count_calls
from tests.gcs_server import Emulator, start_emulator
from tests.images import image_bytes, jpeg_with_exif, png_header_only
from tests.renditions.sources import photo

PROBE = 64 * 1024
SPECS = {"thumb": {"fill": [200, 150], "format": "webp"}}
#: Name -> bytes: what each case stores.
FILES = {
    "p/photo.jpg": photo((1200, 900)),
    "p/exif.jpg": jpeg_with_exif((640, 480), 65_000, icc_bytes=4_000),
    "p/small.png": image_bytes((40, 30), "PNG"),
    "p/empty.jpg": b"",
    "p/bomb.png": png_header_only(100_000, 100_000) + bytes(200_000),
    "p/text.jpg": b"not an image at all " * 5000,
}


def same_facts(adapter: Adapter, name: str) -> None:
    ranged = adapter.probe(name)
    with adapter.probe_open(name) as opened:
        assert opened.facts == ranged, name
        if ranged.exists:
            assert isinstance(opened, Streamed) or not ranged.size, name
            assert opened.read() == FILES[name]
        else:
            assert isinstance(opened, Later), name


# -- S3 (moto in-process) ---------------------------------------------------------------


@pytest.mark.parametrize("name", [*FILES, "p/missing.jpg"])
def test_s3_streamed_facts_are_the_ranged_probes(s3: Any, s3_storage: Any, name: str) -> None:
    for key, data in FILES.items():
        s3.put_object(Bucket="media", Key=key, Body=data)
    same_facts(CachedStorage(storage=s3_storage).core.files, name)


def test_s3_a_closed_read_takes_no_more_than_the_header(s3: Any, s3_storage: Any) -> None:
    s3.put_object(Bucket="media", Key="p/photo.jpg", Body=FILES["p/photo.jpg"])
    adapter = CachedStorage(storage=s3_storage).core.files
    with count_calls() as calls, adapter.probe_open("p/photo.jpg") as opened:
        assert opened.facts.dimensions == (1200, 900)
        assert len(opened.head) == PROBE
    assert (calls.s3, calls.probe_bytes) == ({"GetObject": 1}, PROBE)


# -- Google Cloud Storage (emulator) ---------------------------------------------------


@pytest.fixture(scope="module")
def gcs_emulator() -> Iterator[Emulator]:
    yield from start_emulator()


@pytest.fixture
def emulator(gcs_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    # No background bucket-metadata fetch racing the counts (see tests/test_gcs.py).
    monkeypatch.setenv("DISABLE_GCS_PYTHON_CLIENT_OTEL_BUCKET_METADATA", "true")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator.host)
    gcs_emulator.wipe()
    return gcs_emulator


def gcs(**options: Any) -> Any:
    from google.auth.credentials import AnonymousCredentials
    from storages.backends.gcloud import GoogleCloudStorage

    return GoogleCloudStorage(
        bucket_name="media",
        project_id="test",
        credentials=AnonymousCredentials(),
        querystring_auth=False,
        **options,
    )


@pytest.fixture
def gcs_files(emulator: Emulator) -> Emulator:
    bare = gcs()
    for name, data in FILES.items():
        assert bare.save(name, ContentFile(data)) == name
    return emulator


@pytest.mark.parametrize("name", [*FILES, "p/missing.jpg"])
def test_gcs_streamed_facts_are_the_ranged_probes(gcs_files: Emulator, name: str) -> None:
    same_facts(CachedStorage(storage=gcs()).core.files, name)


def test_gcs_a_legacy_photo_costs_one_request(gcs_files: Emulator) -> None:
    storage = CachedStorage(storage=gcs(), specs=SPECS)
    with gcs_files.counting() as requests, count_calls() as calls:
        shown = storage.rendition("p/photo.jpg", "thumb")
    assert (shown.width, shown.height, shown.fallback) == (200, 150, False)
    assert requests == {"read": 1, "write": 1}
    assert calls.storage == {"probe": 1, "write": 1, "url": 1}
    # The record-only path stays one ranged read of 64 KiB.
    with gcs_files.counting() as requests, count_calls() as calls:
        assert storage.metadata("p/exif.jpg").dimensions == (640, 480)
    assert requests == {"read": 2}  # the first range, then the header beyond the EXIF block
    # A source refused by its header is not read past it.
    with gcs_files.counting() as requests, count_calls() as calls:
        assert storage.rendition("p/bomb.png", "thumb").fallback is True
    assert (requests, calls.probe_bytes) == ({"read": 1}, PROBE)
    assert storage.metadata("p/bomb.png").rendition_error == "too-many-pixels"
