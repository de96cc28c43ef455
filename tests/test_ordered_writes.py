"""Invariant 10: writers to one name are ordered by a lease in the shared cache.

The record a save or delete leaves behind must be the one of the write the
storage kept. Each write holds the name's lease (``cache.add``) around the
backend write and the record write; these tests pin the interleavings that
once left a record contradicting the files, the lease's own behaviour, and
what ordering costs per write (cache round trips).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.test import override_settings

from ikstorage import CachedStorage
from ikstorage.cache import MetadataCache, clear_local
from ikstorage.lease import Lease, State
from ikstorage.records import Record
from tests.conftest import CountingStorage, Events


class SlowStorage(CountingStorage):
    """A FileSystemStorage whose ``_save`` pauses after writing until told to go on."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.inside = threading.Event()
        self.go_on = threading.Event()
        self.pause_saves = True

    def _save(self, name: str, content: Any) -> str:
        saved = super()._save(name, content)
        if self.pause_saves:
            self.inside.set()
            assert self.go_on.wait(10)
        return saved


def record_in_l2(storage: CachedStorage, name: str) -> Record | None:
    clear_local()
    value = storage.core.cache.get(storage.core.keys.record(name))
    return value if isinstance(value, Record) else None


def test_a_delete_waits_for_a_save_in_progress(tmp_path: Path) -> None:
    slow = SlowStorage(location=str(tmp_path), allow_overwrite=True)
    storage = CachedStorage(storage=slow)
    (tmp_path / "n.txt").write_bytes(b"old")
    saver = threading.Thread(target=lambda: storage.save("n.txt", ContentFile(b"new bytes")))
    saver.start()
    assert slow.inside.wait(10)
    deleted = threading.Event()

    def delete() -> None:
        storage.delete("n.txt")
        deleted.set()

    deleter = threading.Thread(target=delete)
    deleter.start()
    time.sleep(0.3)
    # The delete waits for the save's lease: the file the save wrote is still there.
    assert not deleted.is_set()
    assert (tmp_path / "n.txt").read_bytes() == b"new bytes"
    slow.go_on.set()
    saver.join(10)
    deleter.join(10)
    assert not (tmp_path / "n.txt").exists()
    record = record_in_l2(storage, "n.txt")
    assert record is not None
    assert record.exists is False


def test_without_the_lease_the_same_interleaving_leaves_a_lie(tmp_path: Path) -> None:
    """The control: with the lease taken by nobody (a cache without ``add``), the bug shows."""
    slow = SlowStorage(location=str(tmp_path), allow_overwrite=True)
    storage = CachedStorage(storage=slow, write_lease_timeout=1)
    original = MetadataCache.add_raw
    MetadataCache.add_raw = lambda self, key, value, timeout: True  # type: ignore[method-assign]
    try:
        saver = threading.Thread(target=lambda: storage.save("n.txt", ContentFile(b"new")))
        saver.start()
        assert slow.inside.wait(10)
        storage.delete("n.txt")  # not held up: no lease
        slow.go_on.set()
        saver.join(10)
    finally:
        MetadataCache.add_raw = original  # type: ignore[method-assign]
    assert not (tmp_path / "n.txt").exists()
    record = record_in_l2(storage, "n.txt")
    assert record is not None
    assert record.exists is True


def test_ordering_costs_two_more_round_trips_per_write(fs: CountingStorage, events: Events) -> None:
    storage = CachedStorage(storage=fs)
    storage.save("a.txt", ContentFile(b"a"))
    assert events.round_trips == {"add": 1, "set_many": 1, "delete_many": 1}
    events.round_trips.clear()
    storage.delete("a.txt")
    assert events.round_trips == {"add": 1, "set_many": 1, "delete_many": 1}


def test_a_dead_holder_releases_by_expiry(fs: CountingStorage) -> None:
    storage = CachedStorage(storage=fs, write_lease_timeout=5)
    # A process that took the lease and died: its lease expires after its TTL.
    caches["default"].add(storage.core.keys.lease("d.txt"), "dead", 1)
    started = time.monotonic()
    storage.save("d.txt", ContentFile(b"d"))
    waited = time.monotonic() - started
    assert 0.9 < waited < 3
    fs.calls.clear()
    assert storage.size("d.txt") == 1
    assert fs.calls == {}  # written through: the save held the lease


def test_a_write_that_outlives_its_lease_leaves_no_record(tmp_path: Path) -> None:
    slow = SlowStorage(location=str(tmp_path))
    storage = CachedStorage(storage=slow, write_lease_timeout=1)
    saver = threading.Thread(target=lambda: storage.save("long.txt", ContentFile(b"long")))
    saver.start()
    assert slow.inside.wait(10)
    time.sleep(1.0)  # past the lease: another writer may have been let in meanwhile
    slow.go_on.set()
    saver.join(10)
    assert record_in_l2(storage, "long.txt") is None  # the next reader asks the storage
    slow.calls.clear()
    assert storage.size("long.txt") == 4
    assert slow.calls == {"exists": 1, "size": 1}


def test_waiting_gives_up_after_the_lease_timeout(fs: CountingStorage) -> None:
    storage = CachedStorage(storage=fs, write_lease_timeout=1)
    caches["default"].add(storage.core.keys.lease("w.txt"), "someone else", 30)
    started = time.monotonic()
    storage.save("w.txt", ContentFile(b"w"))
    assert 0.9 < time.monotonic() - started < 2
    # Not ordered: no record written; the other holder's lease is left alone.
    assert record_in_l2(storage, "w.txt") is None
    assert caches["default"].get(storage.core.keys.lease("w.txt")) == "someone else"
    storage.delete("w.txt")
    # A delete that could not be ordered still leaves a (short-lived) tombstone.
    record = record_in_l2(storage, "w.txt")
    assert record is not None
    assert record.exists is False


# -- the lease itself -------------------------------------------------------------------


def test_lease_uncontended(events: Events) -> None:
    cache = MetadataCache("default", local_timeout=60, local_maxsize=100)
    lease = Lease(cache, "ik:test:lease", ttl=5)
    assert lease.acquire(wait=1) is State.HELD
    assert lease.attempts == 1
    assert lease.still_held
    assert caches["default"].get("ik:test:lease") == lease.token
    lease.release()
    assert caches["default"].get("ik:test:lease") is None
    assert events.round_trips == {"add": 1, "delete_many": 1}


def test_lease_waits_for_the_holder() -> None:
    cache = MetadataCache("default", local_timeout=60, local_maxsize=100)
    first = Lease(cache, "ik:test:lease", ttl=5)
    assert first.acquire(wait=0) is State.HELD
    second = Lease(cache, "ik:test:lease", ttl=5)
    timer = threading.Timer(0.2, first.release)
    timer.start()
    started = time.monotonic()
    assert second.acquire(wait=5) is State.HELD
    assert 0.15 < time.monotonic() - started < 1
    assert second.attempts > 1
    timer.join()
    second.release()


def test_lease_times_out() -> None:
    cache = MetadataCache("default", local_timeout=60, local_maxsize=100)
    assert Lease(cache, "ik:test:lease", ttl=5).acquire(wait=0) is State.HELD
    other = Lease(cache, "ik:test:lease", ttl=5)
    assert other.acquire(wait=0.1) is State.TIMED_OUT
    assert not other.still_held


@override_settings(
    CACHES={
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "down": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        },
    },
    IKSTORAGE_WARNING_INTERVAL=3600,
)
def test_a_cache_outage_lets_everyone_write(fs: CountingStorage, caplog: Any) -> None:
    storage = CachedStorage(storage=fs, cache="down")
    assert storage.save("o.txt", ContentFile(b"o")) == "o.txt"
    assert storage.exists("o.txt") is True
    storage.delete("o.txt")
    assert storage.exists("o.txt") is False
    lease = Lease(storage.core.cache, "ik:test:lease", ttl=5)
    assert lease.acquire(wait=1) is State.UNAVAILABLE
    assert lease.attempts == 1
    assert "unavailable" in caplog.text


@pytest.mark.parametrize("overwrite", [True, False])
def test_concurrent_saves_to_one_name_agree_with_the_disk(tmp_path: Path, overwrite: bool) -> None:
    storage = CachedStorage(
        storage=CountingStorage(location=str(tmp_path), allow_overwrite=overwrite)
    )
    names: list[str] = []

    def save(index: int) -> None:
        names.append(storage.save("c.txt", ContentFile(b"x" * (index + 1))))

    threads = [threading.Thread(target=save, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(names) == 8
    if not overwrite:
        assert len(set(names)) == 8  # invariant 1: no save lost another's bytes
    for name in set(names):
        record = record_in_l2(storage, name)
        on_disk = (tmp_path / name).stat().st_size
        assert record is None or (record.exists and record.size == on_disk)
