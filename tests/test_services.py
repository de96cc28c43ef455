"""Real cache servers: Redis and memcached started by the tests, the DB and file caches.

The outage tests stop the server mid-test: every call must still answer
correctly from the storage, warn once, and recover by itself — including
forgetting records that changed while the cache could not be told.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import override_settings

from ikstorage import CachedStorage
from tests.conftest import CountingStorage, Events
from tests.images import image_bytes
from tests.servers import Server


def redis_cache(port: int) -> dict[str, Any]:
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{port}/0",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }


def memcached_cache(port: int) -> dict[str, Any]:
    return {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": f"127.0.0.1:{port}",
        "OPTIONS": {"connect_timeout": 0.5, "timeout": 0.5},
    }


def shared_only(fs: CountingStorage) -> CachedStorage:
    """local_timeout=0: no L1, so every lookup is what a new process would see."""
    return CachedStorage(storage=fs, cache="shared", local_timeout=0)


def exercise_shared_cache(fs: CountingStorage, events: Events) -> None:
    storage = shared_only(fs)
    name = storage.save("s.jpg", ContentFile(image_bytes((31, 17)), name="s.jpg"))
    storage.url(name)
    fs.calls.clear()
    events.round_trips.clear()
    assert storage.image_dimensions(name) == (31, 17)
    assert storage.url(name) == "/media/s.jpg"
    assert fs.calls == {}
    assert events.round_trips == {"get_many": 2}
    storage.delete(name)
    fs.calls.clear()
    assert storage.exists(name) is False
    assert fs.calls == {}


@pytest.mark.redis
def test_redis_round_trips(redis_server: Server, fs: CountingStorage, events: Events) -> None:
    with override_settings(
        CACHES={
            "default": caches["default"].__dict__
            and {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            "shared": redis_cache(redis_server.port),
        }
    ):
        exercise_shared_cache(fs, events)


@pytest.mark.memcached
def test_memcached_round_trips(
    memcached_server: Server, fs: CountingStorage, events: Events
) -> None:
    with override_settings(
        CACHES={
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            "shared": memcached_cache(memcached_server.port),
        }
    ):
        exercise_shared_cache(fs, events)


def test_file_cache_round_trips(tmp_path: Path, fs: CountingStorage, events: Events) -> None:
    with override_settings(
        CACHES={
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            "shared": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(tmp_path / "cache"),
            },
        }
    ):
        exercise_shared_cache(fs, events)


@pytest.mark.django_db
def test_database_cache_round_trips(fs: CountingStorage, events: Events) -> None:
    with override_settings(
        CACHES={
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            "shared": {
                "BACKEND": "django.core.cache.backends.db.DatabaseCache",
                "LOCATION": "ikstorage_cache",
            },
        }
    ):
        call_command("createcachetable", verbosity=0)
        exercise_shared_cache(fs, events)


@pytest.fixture
def quick_retry() -> Iterator[None]:
    with override_settings(IKSTORAGE_CACHE_RETRY_AFTER=0.3, IKSTORAGE_WARNING_INTERVAL=60):
        yield


@pytest.mark.redis
@pytest.mark.usefixtures("quick_retry")
def test_redis_outage_answers_from_storage_and_recovers(
    redis_server: Server,
    fs: CountingStorage,
    events: Events,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with override_settings(
        CACHES={
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            "shared": redis_cache(redis_server.port),
        }
    ):
        storage = shared_only(fs)
        kept = storage.save("kept.jpg", ContentFile(image_bytes((40, 20)), name="kept.jpg"))
        doomed = storage.save("doomed.jpg", ContentFile(image_bytes(), name="doomed.jpg"))

        redis_server.stop()
        fs.calls.clear()
        events.round_trips.clear()
        with caplog.at_level(logging.WARNING, logger="ikstorage.cache"):
            for _ in range(5):
                assert storage.image_dimensions(kept) == (40, 20)
                assert storage.exists(kept) is True
            storage.delete(doomed)  # the tombstone cannot reach Redis
        warnings = [r for r in caplog.records if "unavailable" in r.getMessage()]
        assert len(warnings) == 1
        assert "'shared'" in warnings[0].getMessage()
        # Answers came from the storage; the dead server was tried once, then left alone.
        assert fs.calls["exists"] == 10
        assert fs.calls["delete"] == 1
        assert events.round_trips == {"get_many": 1}

        redis_server.start()
        time.sleep(0.35)
        caplog.clear()
        fs.calls.clear()
        events.round_trips.clear()
        with caplog.at_level(logging.WARNING, logger="ikstorage.cache"):
            # Redis still holds the pre-outage "exists" for doomed.jpg: it is replaced
            # by a blocker (set_many), read as a miss; the storage answers.
            assert storage.exists(doomed) is False
        assert any("is back" in r.getMessage() for r in caplog.records)
        assert events.round_trips == {"set_many": 1, "get_many": 1, "add": 1}
        assert fs.calls == {"exists": 1}
        fs.calls.clear()
        assert storage.image_dimensions(kept) == (40, 20)
        assert fs.calls == {}


@pytest.fixture
def unresponsive_port() -> Iterator[int]:
    """A port that accepts connections and never answers: a hung cache server."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


@pytest.mark.usefixtures("quick_retry")
def test_hung_cache_costs_one_timeout_not_one_per_lookup(
    unresponsive_port: int, fs: CountingStorage, caplog: pytest.LogCaptureFixture
) -> None:
    with override_settings(
        CACHES={
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            "shared": redis_cache(unresponsive_port),
        }
    ):
        storage = shared_only(fs)
        Path(fs.location).mkdir(parents=True, exist_ok=True)
        (Path(fs.location) / "h.jpg").write_bytes(image_bytes((8, 6)))
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="ikstorage.cache"):
            for _ in range(20):
                assert storage.image_dimensions("h.jpg") == (8, 6)
        elapsed = time.monotonic() - started
        # One socket timeout (0.5 s), not twenty.
        assert elapsed < 2.0
        assert len([r for r in caplog.records if "unavailable" in r.getMessage()]) == 1
