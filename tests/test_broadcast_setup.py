"""``OPTIONS["broadcast"]`` without a server: the option, ``ikstorage.E009``, L1's drops.

The broadcast itself, between real processes over a real Redis, is tested in
``tests/resilience/test_broadcast.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core import checks
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.test import override_settings

from ikstorage import CachedStorage
from ikstorage.cache import levels
from ikstorage.cache.broadcast import carries
from ikstorage.cache.local import LocalCache
from ikstorage.exceptions import CacheConfigurationError, ConfigurationError
from ikstorage.records import Record

REDIS = {
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    "LOCATION": "redis://127.0.0.1:1/0",
    "OPTIONS": {"socket_timeout": 0.1, "socket_connect_timeout": 0.1},
}
DJANGO_REDIS = {
    "BACKEND": "django_redis.cache.RedisCache",
    "LOCATION": "redis://127.0.0.1:1/0",
    "OPTIONS": {"SOCKET_TIMEOUT": 0.1, "SOCKET_CONNECT_TIMEOUT": 0.1},
}
LOCMEM = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}


def storages(tmp_path: Path) -> dict[str, Any]:
    fs = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    fs["OPTIONS"] = {"location": str(tmp_path)}  # type: ignore[assignment]
    return {
        "fs": fs,
        "default": {
            "BACKEND": "ikstorage.CachedStorage",
            "OPTIONS": {"storage": "fs", "broadcast": True},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_broadcast_is_true_or_false(tmp_path: Path, value: Any) -> None:
    with pytest.raises(ConfigurationError, match="'broadcast' must be True or False"):
        CachedStorage(storage=FileSystemStorage(location=str(tmp_path)), broadcast=value)


def test_broadcast_is_off_by_default(tmp_path: Path) -> None:
    storage = CachedStorage(storage=FileSystemStorage(location=str(tmp_path)))
    assert storage.options.broadcast is False
    assert storage.core.cache.broadcast is None


@pytest.mark.parametrize(
    ("cache", "found"),
    [
        (LOCMEM, ["ikstorage.E009"]),
        (
            {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": "/tmp/x",
            },
            ["ikstorage.E009"],
        ),
        (REDIS, []),
        (DJANGO_REDIS, []),
    ],
)
def test_broadcast_needs_a_redis_cache(tmp_path: Path, cache: Any, found: list[str]) -> None:
    with override_settings(STORAGES=storages(tmp_path), CACHES={"default": cache}):
        messages = [m for m in checks.run_checks(tags=[checks.Tags.caches]) if m.id]
    assert [m.id for m in messages if m.id == "ikstorage.E009"] == found
    for message in messages:
        if message.id == "ikstorage.E009":
            assert message.level == checks.ERROR
            assert "RedisCache" in (message.hint or "")


def test_a_storage_that_cannot_be_built_is_checked_for_broadcast_too(tmp_path: Path) -> None:
    broken = storages(tmp_path)
    broken["default"]["OPTIONS"]["specs"] = {"a": {"fil": [1, 1]}}
    with override_settings(STORAGES=broken, CACHES={"default": LOCMEM}, DEBUG=True):
        ids = [m.id for m in checks.run_checks(tags=[checks.Tags.caches]) if m.id]
    assert ids == ["ikstorage.E002", "ikstorage.E009"]


def test_broadcast_on_another_cache_raises_when_first_used(tmp_path: Path) -> None:
    with override_settings(CACHES={"default": LOCMEM}):
        storage = CachedStorage(storage=FileSystemStorage(location=str(tmp_path)), broadcast=True)
        with pytest.raises(CacheConfigurationError, match=r"ikstorage\.E009"):
            storage.exists("a.txt")


def test_the_known_redis_backends_and_their_subclasses_carry_it() -> None:
    from django.core.cache.backends.redis import RedisCache

    class Mine(RedisCache):
        pass

    assert carries(Mine)
    assert carries("django_redis.cache.RedisCache")
    assert not carries("django.core.cache.backends.locmem.LocMemCache")
    assert not carries("no.such.Backend")
    assert not carries(42)


def test_a_drop_tells_the_reads_in_flight() -> None:
    local: LocalCache[str] = LocalCache(10)
    local.set("a", "old", 60)
    mark = local.drops
    local.drop(["a"])
    assert local.get("a") is None
    assert local.dropped_since("a", mark)
    assert not local.dropped_since("b", mark)
    assert not local.dropped_since("a", local.drops)
    later = local.drops
    local.clear()  # a reconnection: every read in flight may be older than a missed write
    assert local.dropped_since("b", later)


def test_many_drops_are_forgotten_conservatively() -> None:
    local: LocalCache[str] = LocalCache(3)
    mark = local.drops
    local.drop(["a", "b", "c", "d"])
    assert local.dropped_since("zzz", mark)  # forgotten which: every key counts as dropped
    assert not local.dropped_since("zzz", local.drops)


def test_a_read_that_crossed_a_drop_does_not_keep_what_it_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = CachedStorage(storage=FileSystemStorage(location=str(tmp_path)))
    storage.save("a.txt", ContentFile(b"abc"))
    cache, key = storage.core.cache, storage.core.keys.record("a.txt")
    levels.clear_local()
    real = levels.read_many

    def read_then_hear_a_write(*args: Any) -> Any:
        found = real(*args)
        cache._local.drop([key])  # another process's write announced mid-read
        return found

    monkeypatch.setattr(levels, "read_many", read_then_hear_a_write)
    answered = cache.get(key)
    assert isinstance(answered, Record)  # answered once (the read began before the write)...
    assert cache.peek(key) is None  # ...but not kept: the next read asks L2 again
    monkeypatch.setattr(levels, "read_many", real)
    assert isinstance(cache.get(key), Record)
    assert isinstance(cache.peek(key), Record)
