"""``OPTIONS["broadcast"]``: another process sees a delete or an overwrite within 1 s.

Real processes: a peer (``tests/scripts/broadcast_peer.py``) holds the files'
records in its L1 while this process writes through its own ``CachedStorage``
over the same bucket (moto over HTTP) and the same Redis (started by the
test, so its connections can be killed and the server restarted mid-run).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
import redis
from django.core.files.base import ContentFile
from django.test import override_settings

from ikstorage import CachedStorage
from ikstorage.cache import broadcast
from ikstorage.profiler import count_calls
from tests.broadcast_peers import ALIAS, Peer, staleness
from tests.resilience.caches import django_redis as django_redis_config
from tests.resilience.caches import locmem
from tests.resilience.caches import redis as redis_config
from tests.s3_settings import s3_options
from tests.servers import Server

pytestmark = [pytest.mark.server, pytest.mark.slow]

#: The target: another process answers as the storage does within this many seconds.
TARGET = 1.0
WRITES = 10

Site = Callable[..., tuple[CachedStorage, Peer]]


def options(endpoint: str, *, on: bool) -> dict[str, Any]:
    return {
        "storage": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": s3_options(endpoint)},
        "broadcast": on,
    }


@pytest.fixture
def bucket(moto_server: str) -> str:
    s3 = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")
    s3.create_bucket(Bucket="media")
    return moto_server


@pytest.fixture
def site(bucket: str, redis_server: Server) -> Iterator[Site]:
    """``site(on=True)``: this process's storage and a peer process, sharing bucket and Redis.

    ``client="django_redis"``: the cache is django-redis instead of Django's ``RedisCache``.
    """
    peers: list[Peer] = []
    overrides: list[override_settings] = []

    def make(
        *, on: bool = True, client: str = "django", **settings: Any
    ) -> tuple[CachedStorage, Peer]:
        config = (django_redis_config if client == "django_redis" else redis_config)(
            redis_server.port
        )
        # Other settings go in the same override: undone in order, at teardown.
        overrides.append(override_settings(CACHES={"default": locmem(), ALIAS: config}, **settings))
        overrides[-1].enable()
        peer = Peer(config, options(bucket, on=on))
        peers.append(peer)
        return CachedStorage(cache=ALIAS, **options(bucket, on=on)), peer

    try:
        yield make
    finally:
        for peer in peers:
            peer.close()
        for override in reversed(overrides):
            override.disable()


def save_files(storage: CachedStorage, count: int, prefix: str = "b") -> list[str]:
    return [storage.save(f"{prefix}/{i}.txt", ContentFile(b"x" * (10 + i))) for i in range(count)]


def warm(peer: Peer, names: list[str]) -> None:
    """The peer holds every name in L1, its subscription confirmed (which cleared L1)."""
    peer.answers(names)
    assert peer.listening()
    peer.answers(names)
    assert peer.answers(names)["round_trips"] == {}


def deletes(storage: CachedStorage, names: list[str]) -> list[Any]:
    return [(n, lambda n=n: storage.delete(n), [False, None]) for n in names]


def overwrites(storage: CachedStorage, names: list[str]) -> list[Any]:
    return [(n, lambda n=n: storage.save(n, ContentFile(b"new")), [True, 3]) for n in names]


def worst(seen: list[float | None]) -> float:
    assert all(s is not None for s in seen), seen
    return max(s for s in seen if s is not None)


@pytest.mark.parametrize("client", ["django", "django_redis"])
def test_a_peer_answers_as_the_storage_does_within_a_second(
    site: Site, figures: Any, client: str
) -> None:
    storage, peer = site(on=True, client=client)
    names = save_files(storage, 2 * WRITES)
    warm(peer, names)
    writes = deletes(storage, names[:WRITES]) + overwrites(storage, names[WRITES:])
    seen = staleness(peer, writes, timeout=5)
    assert worst(seen[:WRITES]) < TARGET, seen
    assert worst(seen[WRITES:]) < TARGET, seen
    figures(worst_delete=worst(seen[:WRITES]), worst_overwrite=worst(seen[WRITES:]))
    # What the peer now answers is what the bucket holds.
    expected = {n: [False, None] for n in names[:WRITES]} | {n: [True, 3] for n in names[WRITES:]}
    assert peer.answers(names)["answers"] == expected


def test_without_broadcast_the_peer_answers_from_l1_for_local_timeout(site: Site) -> None:
    storage, peer = site(on=False)
    names = save_files(storage, 4)
    peer.answers(names)
    seen = staleness(peer, deletes(storage, names), timeout=2, together=True)
    assert seen == [None] * 4  # still "exists" 2 s after every delete


def test_l1_stays_warm_but_for_the_names_written(site: Site) -> None:
    storage, peer = site(on=True)
    names = save_files(storage, 20)
    warm(peer, names)
    for name in names[:3]:
        storage.delete(name)
    storage.save(names[3], ContentFile(b"new"))
    time.sleep(0.5)  # the announcements arrive within milliseconds
    # One round trip for each name written (its new record), none for the 16 others...
    after = peer.answers(names)
    assert after["round_trips"] == {"get_many": 4}
    assert after["s3"] == {}
    assert after["answers"][names[3]] == [True, 3]
    # ...and none at all once the peer holds the new records.
    assert peer.answers(names)["round_trips"] == {}
    assert peer.ask("status")["received"] == 4


def test_one_publish_per_write(site: Site) -> None:
    storage, _ = site(on=True)
    plain = CachedStorage(cache=ALIAS, storage=storage.options.storage)
    for each, extra in ((plain, {}), (storage, {"publish": 1})):
        each.save("o.txt", ContentFile(b"first"))
        with count_calls() as save:
            each.save("o.txt", ContentFile(b"second"))
        with count_calls() as delete:
            each.delete("o.txt")
        with count_calls() as invalidate:
            each.invalidate("o.txt")
        assert save.round_trips == {"add": 1, "set_many": 1, "delete_many": 1, **extra}
        assert delete.round_trips == {"add": 1, "set_many": 1, "delete_many": 1, **extra}
        assert invalidate.round_trips == {"delete_many": 1, **extra}
    # A read costs no publish, and a warm one no round trip at all.
    storage.save("r.txt", ContentFile(b"r"))
    with count_calls() as reads:
        for _ in range(10):
            assert storage.size("r.txt") == 1
    assert reads.round_trips == {}


def test_a_killed_subscription_reconnects_and_clears_l1(
    site: Site, redis_server: Server, figures: Any
) -> None:
    storage, peer = site(on=True)
    names = save_files(storage, 12)
    warm(peer, names)
    client = redis.Redis(port=redis_server.port)
    killed = client.client_kill_filter(_type="pubsub")
    assert killed >= 2  # the peer's subscription, and this process's own
    deadline = time.monotonic() + 10
    while peer.ask("status")["connections"] < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    status = peer.ask("status")
    assert status["connections"] == 2
    assert status["listening"]
    # Whatever was announced while it was away was missed: L1 was cleared.
    assert peer.answers(names)["round_trips"] == {"get_many": 12}
    seen = staleness(
        peer, deletes(storage, names[:5]) + overwrites(storage, names[5:10]), timeout=5
    )
    assert worst(seen) < TARGET, seen
    figures(worst_after_kill=worst(seen))
    client.close()


def test_a_redis_restart_is_ridden_out_and_recovered(
    site: Site, redis_server: Server, figures: Any
) -> None:
    storage, peer = site(on=True, IKSTORAGE_CACHE_RETRY_AFTER=0.5)
    names = save_files(storage, 12)
    warm(peer, names)
    redis_server.stop()
    # Requests neither fail nor wait: the peer answers from L1, the writer from the bucket.
    started = time.monotonic()
    assert peer.answers(names)["answers"][names[0]] == [True, 10]
    storage.delete(names[11])  # the cache misses it: remembered, announced once it is back
    assert not storage.exists(names[11])
    figures(outage_seconds=time.monotonic() - started)
    assert time.monotonic() - started < 2
    assert peer.ask("status")["listening"] is False
    redis_server.start()
    assert peer.listening(timeout=15)
    status = peer.ask("status")
    assert status["connections"] == 2
    assert status["failures"] == 0
    # Until this process settles what the cache missed, the cache (and so the peer,
    # its L1 cleared on reconnecting) holds the record from before the outage...
    assert peer.answers([names[11]])["answers"] == {names[11]: [True, 21]}
    time.sleep(1)  # past this process's cache breaker (IKSTORAGE_CACHE_RETRY_AFTER)
    seen = staleness(
        peer, deletes(storage, names[:5]) + overwrites(storage, names[5:10]), timeout=5
    )
    assert worst(seen) < TARGET, seen
    figures(worst_after_restart=worst(seen))
    # ...and when it does (its first cache call after the breaker), it announces it.
    assert peer.answers([names[11]])["answers"] == {names[11]: [False, None]}


def test_publish_errors_are_swallowed_counted_and_logged_once(
    site: Site, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    storage, _ = site(on=True)
    storage.save("p.txt", ContentFile(b"p"))

    class Refusing:
        def publish(self, channel: str, message: str) -> int:
            raise redis.exceptions.NoPermissionError("PUBLISH denied")

    real = broadcast.redis_client
    monkeypatch.setattr(broadcast, "redis_client", lambda alias: Refusing())
    for _ in range(3):
        storage.save("p.txt", ContentFile(b"again"))
    assert storage.size("p.txt") == 5
    status = broadcast.status(ALIAS)
    assert status["publish_failures"] == 3
    warned = [r for r in caplog.records if "could not announce" in r.getMessage()]
    assert len(warned) == 1
    monkeypatch.setattr(broadcast, "redis_client", real)
    storage.delete("p.txt")
    assert broadcast.status(ALIAS)["published"] == status["published"] + 1


def test_junk_on_the_channel_is_ignored(site: Site, redis_server: Server) -> None:
    storage, peer = site(on=True)
    names = save_files(storage, 3)
    warm(peer, names)
    channel = peer.ask("status")["channels"][0]
    client = redis.Redis(port=redis_server.port)
    for junk in (b"", b"\xff\xfe", b"x r:zz", b"x " + b"r:" + b"0" * 31, b"x ../../etc"):
        client.publish(channel, junk)
    client.close()
    time.sleep(0.3)
    assert peer.answers(names)["round_trips"] == {}
    assert peer.ask("status")["received"] == 0
