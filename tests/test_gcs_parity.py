"""CachedStorage over GoogleCloudStorage answers what the bare storage answers, on each emulator.

The page of issue 15's targets, counted at the HTTP level: a cold image costs
one ranged GET, a warm page nothing, an upload one write per file written
(the source and each rendition) and no read. What each emulator puts on a
ranged download differs (``tests/gcs_server.py``); the answers do not.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.base import ContentFile
from django.core.files.images import get_image_dimensions

from ikstorage import CachedStorage
from tests.gcs_server import Emulator, bare, credentials, key_file
from tests.images import image_bytes

IMAGES = {f"page/{i}.jpg": (40 + i, 30 + i) for i in range(5)}
SPECS = {"thumb": {"fill": [20, 15], "format": "webp"}, "small": {"fit": [24, 24]}}


@pytest.fixture
def emulator(gcs: Emulator) -> Emulator:
    return gcs


def url_shape(url: str) -> tuple[str, str, str, list[str]]:
    """What two URLs of one file share even when signed at different moments."""
    parts = urlsplit(url)
    return parts.scheme, parts.netloc, parts.path, sorted(parse_qs(parts.query))


def put_page(storage: Any) -> None:
    for name, size in IMAGES.items():
        storage.save(name, ContentFile(image_bytes(size)))
    storage.save("page/notes.txt", ContentFile(b"notes" * 100))
    storage.save("page/empty.jpg", ContentFile(b""))


@pytest.mark.parametrize("signed", [False, True], ids=["public", "signed"])
def test_answers_equal_the_bare_storages(emulator: Emulator, tmp_path: Path, signed: bool) -> None:
    options: dict[str, Any] = {}
    if signed:
        creds = credentials(key_file(tmp_path))
        options = {"credentials": creds, "querystring_auth": True, "expiration": timedelta(hours=1)}
    plain = bare(**options)
    put_page(plain)
    cached = CachedStorage(storage=bare(**options))
    images = [*IMAGES, "page/empty.jpg"]
    names = [*images, "page/notes.txt", "page/missing.jpg"]
    with emulator.counting() as cold:
        answers = [
            (cached.exists(name), cached.size(name) if cached.exists(name) else None)
            for name in names
        ]
        dimensions = [cached.image_dimensions(name) for name in images]
        urls = [url_shape(cached.url(name)) for name in names]
    # One ranged GET per image (the empty one too, and the missing one), one
    # metadata GET for the text file; URLs are made or signed locally.
    assert cold == {"read": len(names)}
    assert answers == [
        (plain.exists(name), plain.size(name) if plain.exists(name) else None) for name in names
    ]
    expected = []
    for name in images:
        with plain.open(name) as fh:
            expected.append(get_image_dimensions(fh))
    assert dimensions == expected
    assert urls == [url_shape(plain.url(name)) for name in names]
    # The modified time: one metadata GET per file the first time, then kept.
    with emulator.counting() as first:
        modified = [cached.get_modified_time(name) for name in names[:-1]]
    with emulator.counting() as warm:
        assert [cached.get_modified_time(name) for name in names[:-1]] == modified
        for name in names:
            cached.exists(name)
            cached.url(name)
        for name in names[:-1]:
            cached.size(name)
        for name in images:
            cached.image_dimensions(name)
    assert modified == [plain.get_modified_time(name) for name in names[:-1]]
    assert first == {"read": len(images)}  # the text file's came with its probe
    assert warm == {}


def test_a_ranged_download_records_the_objects_generation(emulator: Emulator) -> None:
    """fake-gcs-server's ranged GET carries ETag, ``Last-Modified`` and the generation;
    gcp-storage-emulator's none of them. The record keeps the generation; the
    modified time is not taken from ``Last-Modified`` (whole seconds)."""
    plain = bare()
    plain.save("v.jpg", ContentFile(image_bytes((30, 20))))
    blob = plain.bucket.get_blob("v.jpg")
    response = plain.client._http.get(
        blob._get_download_url(plain.client), headers={"Range": "bytes=0-99"}
    )
    cached = CachedStorage(storage=bare())
    assert cached.exists("v.jpg")
    record = cached.core.cached_records(["v.jpg"])["v.jpg"]
    assert record.modified is None
    if emulator.ranged_metadata:
        assert response.headers["x-goog-generation"] == str(blob.generation)
        assert response.headers["ETag"].strip('"') == blob.etag
        last_modified = parsedate_to_datetime(response.headers["Last-Modified"])
        assert last_modified == blob.updated.replace(microsecond=0)
        assert blob.updated != last_modified  # the sub-second part it cannot carry
        assert record.etag == f"g{blob.generation}"
    else:
        for header in ("x-goog-generation", "ETag", "Last-Modified"):
            assert header not in response.headers
        assert record.etag is None
    # The metadata names the version the same way the download does.
    assert cached.core.files.probe("notes.txt").exists is False
    plain.save("notes.txt", ContentFile(b"n"))
    text = plain.bucket.get_blob("notes.txt")
    assert cached.core.files.probe("notes.txt").etag == f"g{text.generation}"


def test_upload_is_one_write_per_file_and_the_page_costs_nothing(emulator: Emulator) -> None:
    cached = CachedStorage(storage=bare(), specs=SPECS)
    data = image_bytes((64, 48))
    with emulator.counting() as upload:
        name = cached.save("up/p.jpg", ContentFile(data))
    assert upload == {"write": 1 + len(SPECS)}
    with emulator.counting() as page:
        assert cached.exists(name)
        assert cached.size(name) == len(data)
        assert cached.image_dimensions(name) == (64, 48)
        cached.url(name)
        thumb, small = cached.rendition(name, "thumb"), cached.rendition(name, "small")
        assert (thumb.width, thumb.height, small.width, small.height) == (20, 15, 24, 18)
    assert page == {}
    plain = bare()
    for rendition in (thumb, small):
        assert plain.exists(rendition.name)
        assert rendition.url == plain.url(rendition.name)


def test_a_signed_url_is_never_handed_out_within_the_margin(
    emulator: Emulator, tmp_path: Path
) -> None:
    """On the real clock: every URL handed out is good for at least the margin,
    by its own ``X-Goog-Date`` and ``X-Goog-Expires`` (whole seconds)."""
    signed = bare(
        credentials=credentials(key_file(tmp_path)),
        querystring_auth=True,
        expiration=timedelta(seconds=3),
    )
    cached = CachedStorage(storage=signed, url_expiry_margin=2)
    handed: list[tuple[float, str]] = []
    start = time.time()
    while time.time() - start < 2.5:
        handed.append((time.time(), cached.url("a.jpg")))
        time.sleep(0.02)
    for when, url in handed:
        query = parse_qs(urlsplit(url).query)
        signed_at = datetime.strptime(query["X-Goog-Date"][0], "%Y%m%dT%H%M%SZ")
        expires = signed_at.replace(tzinfo=UTC).timestamp() + int(query["X-Goog-Expires"][0])
        assert expires - when >= 2, (when, url)
    # Memoized, and signed again after each whole second: 3 or 4 in 2.5 s.
    assert len(handed) > 50
    assert 3 <= len({url for _, url in handed}) <= 4
