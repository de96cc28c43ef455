"""Invariant 12: no herds (one probe for many concurrent askers), no avalanche (jittered TTLs)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.test import override_settings

from ikstorage import CachedStorage
from ikstorage.core.singleflight import SingleFlight
from tests.conftest import CountingStorage
from tests.images import image_bytes


class SlowProbeStorage(CountingStorage):
    """``exists`` takes a while, so concurrent askers pile up behind the first probe."""

    delay = 0.2
    error: Exception | None = None

    def exists(self, name: str) -> bool:
        time.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return super().exists(name)


def ask_together(threads: int, ask: Any) -> list[Any]:
    """Run ``ask()`` in ``threads`` threads released at the same moment; results or errors."""
    barrier = threading.Barrier(threads)
    results: list[Any] = [None] * threads

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = ask()
        except Exception as exc:
            results[index] = exc

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(10)
    return results


def test_fifty_concurrent_askers_cost_one_probe(tmp_path: Path) -> None:
    slow = SlowProbeStorage(location=str(tmp_path))
    (tmp_path / "one.png").write_bytes(image_bytes((31, 17), "PNG"))
    storage = CachedStorage(storage=slow)
    started = time.monotonic()
    results = ask_together(50, lambda: storage.image_dimensions("one.png"))
    assert results == [(31, 17)] * 50
    assert slow.calls == {"exists": 1, "size": 1, "open": 1}
    # Nobody waited much longer than the one probe (0.2 s).
    assert time.monotonic() - started < 2


def test_fifty_concurrent_askers_on_s3_cost_one_ranged_get(s3: Any, s3_storage: Any) -> None:
    from ikstorage.profiler import count_calls

    s3.put_object(Bucket="media", Key="one.jpg", Body=image_bytes((64, 48)))
    storage = CachedStorage(storage=s3_storage)
    with count_calls() as calls:
        results = ask_together(50, lambda: storage.image_dimensions("one.jpg"))
    assert results == [(64, 48)] * 50
    assert calls.s3 == {"GetObject": 1}


def test_an_error_reaches_every_waiter_and_is_not_remembered(tmp_path: Path) -> None:
    slow = SlowProbeStorage(location=str(tmp_path))
    slow.error = PermissionError("denied")
    storage = CachedStorage(storage=slow)
    results = ask_together(20, lambda: storage.exists("x.jpg"))
    assert all(isinstance(r, PermissionError) for r in results)
    assert slow.calls == {"exists": 1}
    slow.error = None
    slow.calls.clear()
    assert storage.exists("x.jpg") is False  # the next asker probes afresh
    assert slow.calls == {"exists": 1}


def test_single_flight_unit() -> None:
    flights: SingleFlight[int] = SingleFlight()
    entered = threading.Event()
    release = threading.Event()
    calls = Counter[str]()

    def slow() -> int:
        calls["slow"] += 1
        entered.set()
        assert release.wait(5)
        return 42

    leader = threading.Thread(target=lambda: flights.do("k", slow))
    leader.start()
    assert entered.wait(5)
    assert flights.in_flight() == 1
    got: list[int] = []
    follower = threading.Thread(target=lambda: got.append(flights.do("k", slow)))
    follower.start()
    time.sleep(0.05)
    release.set()
    leader.join(5)
    follower.join(5)
    assert got == [42]
    assert calls == {"slow": 1}
    assert flights.in_flight() == 0
    assert flights.do("k", lambda: 7) == 7  # a finished key starts afresh


def _expiries(storage: CachedStorage, names: list[str]) -> list[float]:
    """Seconds left for each record in the local-memory L2 (Django's own bookkeeping)."""
    cache = caches["default"]
    now = time.time()
    return [
        cache._expire_info[cache.make_and_validate_key(storage.core.keys.record(n))] - now  # type: ignore[attr-defined]
        for n in names
    ]


def test_records_written_together_expire_apart(fs: CountingStorage) -> None:
    storage = CachedStorage(storage=fs, timeout=1000)
    names = [storage.save(f"burst/{i}.txt", ContentFile(b"x")) for i in range(200)]
    left = _expiries(storage, names)
    assert min(left) > 1000 * 0.9 - 5
    assert max(left) <= 1000
    # Spread over the last tenth of the timeout: no one-second bucket holds more than a few.
    per_second = Counter(int(x) for x in left)
    assert len(per_second) > 60
    assert max(per_second.values()) < 15


def test_jitter_off_and_bad_values(fs: CountingStorage) -> None:
    from ikstorage.exceptions import ConfigurationError

    storage = CachedStorage(storage=fs, timeout=1000, timeout_jitter=0)
    names = [storage.save(f"flat/{i}.txt", ContentFile(b"x")) for i in range(20)]
    assert max(_expiries(storage, names)) - min(_expiries(storage, names)) < 5
    with pytest.raises(ConfigurationError, match="'timeout_jitter' must be a fraction"):
        CachedStorage(storage=fs, timeout_jitter=0.9)


@pytest.mark.redis
def test_probe_fills_spread_their_expiry_in_redis(fs: CountingStorage, redis_server: Any) -> None:
    import redis

    location = f"redis://127.0.0.1:{redis_server.port}/0"
    with override_settings(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": location,
            }
        }
    ):
        for i in range(200):
            (Path(fs.location) / "legacy").mkdir(parents=True, exist_ok=True)
            (Path(fs.location) / f"legacy/{i}.txt").write_bytes(b"x")
        storage = CachedStorage(storage=fs, timeout=3600)
        for i in range(200):
            storage.exists(f"legacy/{i}.txt")  # read fills, all in one burst
        client = redis.Redis.from_url(location)
        ttls = [
            client.ttl(
                caches["default"].make_and_validate_key(storage.core.keys.record(f"legacy/{i}.txt"))
            )
            for i in range(200)
        ]
    assert all(3600 * 0.9 - 5 <= t <= 3600 for t in ttls)
    # 360 s of spread: about 5.5 records per 10 s; none of the 36 buckets holds a herd.
    buckets = Counter(t // 10 for t in ttls)
    assert len(buckets) >= 30
    assert max(buckets.values()) <= 20
