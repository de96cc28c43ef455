"""Storage calls, cache hits and round trips arrive through ikstorage.metrics, for any backend."""

from __future__ import annotations

import threading
from typing import Any

from django.core.files.base import ContentFile

from ikstorage import CachedStorage, metrics
from ikstorage.profiler import count_calls
from tests.conftest import CountingStorage, Events
from tests.images import image_bytes


def emit_one_of_each() -> None:
    metrics.storage_call("exists")
    metrics.storage_call("_save")
    metrics.storage_call("exists")
    metrics.cache("l1", 3, 2)
    metrics.cache("l2", 1, 1)
    metrics.round_trip("get_many")
    metrics.round_trip("add")
    metrics.probe_bytes(500)


def test_events_become_counts() -> None:
    with count_calls() as calls:
        emit_one_of_each()

    assert calls.storage == {"exists": 2, "_save": 1}
    assert calls.storage_total == 3
    assert (calls.l1_hits, calls.l1_misses, calls.l2_hits, calls.l2_misses) == (3, 2, 1, 1)
    assert calls.round_trips == {"get_many": 1, "add": 1}
    assert calls.round_trips_total == 2
    assert calls.probe_bytes == 500
    assert calls.s3 == {}


def test_events_outside_any_block_are_not_counted() -> None:
    with count_calls() as calls:
        pass
    emit_one_of_each()

    assert calls.storage == {}
    assert calls.round_trips == {}


def test_nested_blocks_and_threads() -> None:
    with count_calls() as outer:
        metrics.storage_call("url")
        with count_calls() as inner:
            threads = [threading.Thread(target=emit_one_of_each) for _ in range(10)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

    assert inner.storage == {"exists": 20, "_save": 10}
    assert outer.storage == {"exists": 20, "_save": 10, "url": 1}
    assert inner.l1_hits == outer.l1_hits == 30
    assert inner.probe_bytes == 5000


def test_filesystem_storage_through_ikstorage(fs: CountingStorage, events: Events) -> None:
    """Cold: each memoized call reaches the FileSystemStorage once; warm: none do."""
    fs.save("a.jpg", ContentFile(image_bytes((64, 48))))
    storage = CachedStorage(storage=fs)
    fs.calls.clear()
    with count_calls() as cold:
        storage.exists("a.jpg"), storage.size("a.jpg"), storage.url("a.jpg")
    with count_calls() as warm:
        storage.exists("a.jpg"), storage.size("a.jpg"), storage.url("a.jpg")

    # What the profiler heard is what the FileSystemStorage itself saw.
    assert cold.storage == dict(fs.calls) == {"exists": 1, "size": 1, "open": 1, "url": 1}
    assert cold.storage == dict(events.storage)
    assert cold.round_trips == dict(events.round_trips)
    assert cold.probe_bytes == events.probe_bytes == len(image_bytes((64, 48)))
    assert cold.s3 == {}
    assert warm.storage == {}
    assert warm.round_trips == {}
    assert (warm.l1_hits, warm.l1_misses) == (3, 0)


def test_s3_storage_through_ikstorage(s3: Any, s3_storage: Any) -> None:
    """The DESIGN numbers: bare S3Storage pays two HEADs for exists+size; ikstorage
    one ranged GET, cold, and nothing, warm. The GET's bytes are the probe's bytes."""
    body = image_bytes((64, 48))
    s3.put_object(Bucket="media", Key="a.jpg", Body=body)
    storage = CachedStorage(storage=s3_storage)
    with count_calls() as bare:
        s3_storage.exists("a.jpg"), s3_storage.size("a.jpg")
    with count_calls() as cold:
        storage.exists("a.jpg"), storage.size("a.jpg")
    with count_calls() as warm:
        storage.exists("a.jpg"), storage.size("a.jpg")
    with count_calls() as save:
        storage.save("b.jpg", ContentFile(body))

    assert bare.s3 == {"HeadObject": 2}
    assert cold.s3 == {"GetObject": 1}
    assert cold.bytes_downloaded == cold.probe_bytes == len(body)
    assert warm.s3 == {}
    assert warm.storage == {}
    assert save.s3 == {"PutObject": 1}
    assert save.bytes_downloaded == 0
