"""A legacy photo's first thumbnail view costs one ``GetObject``: the probe reads on.

A source saved before ikstorage has no record and no renditions. The first
``rendition()`` asked for it probes with a ``GetObject`` of the whole object,
reads the header, and goes on reading only when its renditions are due (the
spec applies, the header refuses nothing, the source's lease is this
request's). Anything else closes the read after the header. ``.width`` and
every other record-only question keep the ranged probe of 64 KiB.

Counts are exact: S3 calls by operation, bytes S3 sent (``Content-Length``)
and bytes ikstorage took from the response bodies.
"""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest
from botocore.exceptions import ResponseStreamingError
from botocore.response import StreamingBody

from ikstorage.exceptions import SourceReadError
from ikstorage.profiler import count_calls
from tests.images import png_header_only
from tests.renditions.sources import photo
from tests.renditions_storage.helpers import OUTPUTS, SOURCE, cached, listing

NAME = "legacy/old.jpg"
PROBE = 64 * 1024


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Bytes taken from S3 response bodies, one entry per ``read`` (what the code pulled)."""
    reads: list[int] = []
    original = StreamingBody.read

    def read(self: StreamingBody, amt: int | None = None) -> bytes:
        data: bytes = original(self, amt)
        reads.append(len(data))
        return data

    monkeypatch.setattr(StreamingBody, "read", read)
    return reads


def test_twenty_legacy_photos_cost_one_get_each(s3: Any, s3_storage: Any, taken: list[int]) -> None:
    photos = {f"legacy/{i}.jpg": photo((1200 + 8 * i, 900)) for i in range(20)}
    for name, data in photos.items():
        s3.put_object(Bucket="media", Key=name, Body=data)
    storage = cached(s3_storage)
    with count_calls() as calls:
        shown = [storage.rendition(name, "thumb") for name in photos]
    assert [(r.width, r.height, r.fallback) for r in shown] == [(200, 150, False)] * 20
    assert calls.s3 == {"GetObject": 20, "PutObject": 20 * OUTPUTS}
    # Each photo's bytes once: no header read twice, nothing beyond the photo.
    size = sum(len(data) for data in photos.values())
    assert calls.bytes_downloaded == size
    assert sum(taken) == size
    assert calls.probe_bytes == 20 * PROBE
    # The records say what a ranged probe says, and list the renditions.
    for name in photos:
        record = storage.metadata(name)
        assert (record.size, record.dimensions_known) == (len(photos[name]), True)
        assert len(record.renditions) == OUTPUTS


def test_the_record_only_path_stays_one_ranged_get(
    s3: Any, s3_storage: Any, taken: list[int]
) -> None:
    s3.put_object(Bucket="media", Key=NAME, Body=SOURCE)
    storage = cached(s3_storage)
    with count_calls() as calls:
        assert (storage.size(NAME), storage.exists(NAME)) == (len(SOURCE), True)
        assert storage.metadata(NAME).dimensions == (1200, 900)
    assert (calls.s3, calls.bytes_downloaded, sum(taken)) == ({"GetObject": 1}, PROBE, PROBE)
    # Renditions asked for later: the record is known, one download of the photo.
    with count_calls() as calls:
        assert storage.rendition(NAME, "thumb").fallback is False
    assert calls.s3 == {"GetObject": 1, "PutObject": OUTPUTS}
    assert calls.bytes_downloaded == len(SOURCE)


def test_a_spec_that_does_not_apply_keeps_the_ranged_probe(s3: Any, s3_storage: Any) -> None:
    s3.put_object(Bucket="media", Key=NAME, Body=SOURCE)
    storage = cached(s3_storage, specs={"thumb": {"fill": [200, 150], "match": ["avatars/*"]}})
    with count_calls() as calls:
        shown = storage.rendition(NAME, "thumb")
    assert (shown.fallback, shown.width) == (True, 1200)
    assert (calls.s3, calls.bytes_downloaded) == ({"GetObject": 1}, PROBE)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        # A decompression bomb's header: 10 gigapixels claimed, a megabyte stored.
        (png_header_only(100_000, 100_000) + bytes(1 << 20), "too-many-pixels"),
        # Not an image at all, named like one.
        (random.Random(7).randbytes(1 << 20), "not-an-image"),
        # An honest photo over the limit (max_pixels is 1 MP below).
        (photo((1600, 1200)), "too-many-pixels"),
    ],
    ids=["bomb-header", "not-an-image", "over-max-pixels"],
)
def test_a_refused_source_is_never_read_past_its_header(
    s3: Any, s3_storage: Any, taken: list[int], data: bytes, reason: str
) -> None:
    s3.put_object(Bucket="media", Key=NAME, Body=data)
    storage = cached(s3_storage, max_pixels=1_000_000)
    with count_calls() as calls:
        shown = storage.rendition(NAME, "thumb")
    assert shown.fallback is True
    # One GET whose body was closed after the header: 64 KiB taken of it, no more.
    assert calls.s3 == {"GetObject": 1}
    assert (sum(taken), calls.probe_bytes) == (PROBE, PROBE)
    assert storage.metadata(NAME).rendition_error == reason
    assert listing(s3) == [NAME]
    with count_calls() as calls:
        assert storage.rendition(NAME, "thumb").fallback is True
    assert calls.s3 == {}  # recorded, not retried


def test_two_requests_at_once_cost_one_get(s3: Any, s3_storage: Any) -> None:
    s3.put_object(Bucket="media", Key=NAME, Body=SOURCE)
    storage = cached(s3_storage)
    storage.wrapped.connection  # noqa: B018  (the client, built before the race)
    start = threading.Barrier(2)
    shown: list[Any] = [None, None]
    original = type(storage.core.files).probe_open

    def slow_probe_open(self: Any, name: str) -> Any:
        opened = original(self, name)
        threading.Event().wait(0.2)  # the other request arrives while this one reads
        return opened

    def ask(i: int) -> None:
        start.wait()
        shown[i] = storage.rendition(NAME, "thumb")

    with pytest.MonkeyPatch.context() as patch, count_calls() as calls:
        patch.setattr(type(storage.core.files), "probe_open", slow_probe_open)
        threads = [threading.Thread(target=ask, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert calls.s3 == {"GetObject": 1, "PutObject": OUTPUTS}
    assert calls.bytes_downloaded == len(SOURCE)
    # The one that shared the probe is shown the source (the render holds the lease),
    # or the rendition when it asked after the render ended.
    assert sorted(s.fallback for s in shown) in ([False, False], [False, True])
    assert len(storage.metadata(NAME).renditions) == OUTPUTS


def test_a_download_that_fails_midway_leaves_the_record_right(
    s3: Any, s3_storage: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3.put_object(Bucket="media", Key=NAME, Body=SOURCE)
    storage = cached(s3_storage)
    original = StreamingBody.read
    served = [0]

    def breaking(self: StreamingBody, amt: int | None = None) -> bytes:
        if served[0] >= PROBE:  # the header came; the rest breaks off
            raise ResponseStreamingError(error="Connection broken: IncompleteRead")
        data: bytes = original(self, amt)
        served[0] += len(data)
        return data

    monkeypatch.setattr(StreamingBody, "read", breaking)
    with count_calls() as calls, pytest.raises(SourceReadError) as caught:
        storage.rendition(NAME, "thumb")
    assert calls.s3 == {"GetObject": 1}
    assert NAME in str(caught.value)
    assert isinstance(caught.value, OSError)
    assert isinstance(caught.value.__cause__, ResponseStreamingError)
    # The record is what the header told: exists, size, dimensions; no renditions and
    # no failure recorded (a broken connection is not the photo's fault).
    record = storage.metadata(NAME)
    assert (record.exists, record.size, record.dimensions) == (True, len(SOURCE), (1200, 900))
    assert (record.renditions, record.rendition_error) == ((), None)
    assert listing(s3) == [NAME]
    # The lease was released: the next request renders, from one download.
    monkeypatch.setattr(StreamingBody, "read", original)
    with count_calls() as calls:
        assert storage.rendition(NAME, "thumb").fallback is False
    assert calls.s3 == {"GetObject": 1, "PutObject": OUTPUTS}


def test_a_source_saved_meanwhile_is_not_rendered_from_the_old_bytes(
    s3: Any, s3_storage: Any
) -> None:
    """A write between the probe and the lease: the read is dropped, the saved record kept."""
    from django.core.files.base import ContentFile

    s3.put_object(Bucket="media", Key=NAME, Body=SOURCE)
    storage = cached(s3_storage)
    newer = photo((1000, 750))
    host = storage.core
    original = host.lease

    def lease_after_a_save(stored: str, *, wait: float | None = None) -> Any:
        if wait == 0.0 and not saved:
            saved.append(True)
            storage.delete(NAME)  # another process replaces the photo, with its renditions
            storage.save(NAME, ContentFile(newer))
        return original(stored, wait=wait)

    saved: list[bool] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(host, "lease", lease_after_a_save)
        shown = storage.rendition(NAME, "thumb")
    assert (shown.fallback, shown.width) == (False, 200)
    record = storage.metadata(NAME)
    assert (record.size, record.dimensions) == (len(newer), (1000, 750))
    assert shown.name in [r.name for r in record.renditions]


@pytest.mark.parametrize("tag", ["picture", "srcset"])
def test_a_tag_on_a_legacy_photo_costs_one_get(s3: Any, s3_storage: Any, tag: str) -> None:
    from ikstorage.renditions import html

    s3.put_object(Bucket="media", Key=NAME, Body=SOURCE)
    storage = cached(s3_storage)
    with count_calls() as calls:
        if tag == "picture":
            markup = html.picture(NAME, "thumb", storage=storage, alt="")
        else:
            markup = html.srcset(NAME, "thumb", storage=storage)
    assert calls.s3 == {"GetObject": 1, "PutObject": OUTPUTS}
    assert calls.bytes_downloaded == len(SOURCE)
    names = [r.name for r in storage.metadata(NAME).renditions]
    assert len(names) == OUTPUTS
    assert any(name in markup for name in names)
    with count_calls() as calls:
        assert (html.picture if tag == "picture" else html.srcset)(
            NAME, "thumb", storage=storage
        ) != ""
    assert calls.s3 == {}


def test_a_header_read_that_breaks_off_falls_back_to_two_requests(
    s3: Any, s3_storage: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the ranged probe does: the facts from a HEAD, the file read again for the render."""
    s3.put_object(Bucket="media", Key=NAME, Body=SOURCE)
    storage = cached(s3_storage)
    original = StreamingBody.read
    broken: list[bool] = []

    def breaking_once(self: StreamingBody, amt: int | None = None) -> bytes:
        if not broken:
            broken.append(True)
            raise ResponseStreamingError(error="Connection broken: IncompleteRead")
        data: bytes = original(self, amt)
        return data

    monkeypatch.setattr(StreamingBody, "read", breaking_once)
    with count_calls() as calls:
        shown = storage.rendition(NAME, "thumb")
    assert (shown.width, shown.fallback) == (200, False)
    assert calls.s3 == {"GetObject": 2, "HeadObject": 1, "PutObject": OUTPUTS}
    record = storage.metadata(NAME)
    assert (record.size, len(record.renditions)) == (len(SOURCE), OUTPUTS)
