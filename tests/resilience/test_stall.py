"""A hung or slow cache costs a page one socket timeout, not one per image.

A TCP proxy in front of a real Redis or memcached first hangs (accepts, reads,
never answers), then answers every request 2 s late. The page is 100 images
(``prefetch``, then ``url``, ``exists``, ``size`` and dimensions of each) in a
process that has not seen them. With the production settings of
``docs/production.md`` (0.25 s socket timeouts) the first L2 call times out,
the circuit breaker leaves the cache alone, and the page is answered by the
storage: one timeout added, however many images. When the proxy heals, the
late answers must not be read as answers to later requests.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import caches
from django.test import override_settings

from ikstorage import CachedStorage
from ikstorage.cache import clear_local
from tests.conftest import CountingStorage, Events
from tests.images import image_bytes
from tests.resilience import caches as configs
from tests.resilience.conftest import Record, Warnings
from tests.resilience.proxy import TcpProxy
from tests.resilience.truth import Fact, answer, fact

pytestmark = pytest.mark.slow

TIMEOUT = configs.SOCKET_TIMEOUT
#: Longer than any page below, so the breaker lets no second attempt through mid-page.
RETRY_AFTER = 2.5
SLOW_ANSWER = 2.0
#: Scheduling noise allowed on a busy 2-core machine. The exact proof is the single
#: L2 attempt per stalled page (neither client retries); 100 timeouts would be 25 s.
SLACK = 0.5


class Proxied:
    def __init__(self, name: str, proxy: TcpProxy, config: dict[str, Any], recovery: float):
        self.name, self.proxy, self.config, self.client_recovery = name, proxy, config, recovery


@pytest.fixture
def proxied(request: pytest.FixtureRequest) -> Iterator[Proxied]:
    name: str = request.param
    server = request.getfixturevalue("memcached_server" if name == "memcached" else "redis_server")
    proxy = TcpProxy(server.port)
    proxy.start()
    recovery = 0.0
    if name == "redis":
        config = configs.redis(proxy.port)
    elif name == "memcached":
        config = configs.memcached(proxy.port)
        recovery = configs.MEMCACHED_DEAD_TIMEOUT
    else:
        config = configs.django_redis(proxy.port, ignore_exceptions=name == "django-redis-ignore")
    try:
        with override_settings(
            CACHES={"default": configs.locmem(), "shared": config},
            IKSTORAGE_CACHE_RETRY_AFTER=RETRY_AFTER,
            IKSTORAGE_WARNING_INTERVAL=60,
        ):
            yield Proxied(name, proxy, config, recovery)
    finally:
        proxy.stop()


def make_page(fs: CountingStorage, count: int) -> dict[str, Fact]:
    root = Path(fs.location)
    (root / "page").mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (root / "page" / f"{i:03d}.jpg").write_bytes(image_bytes((10 + i, 10)))
    names = [f"page/{i:03d}.jpg" for i in range(count)]
    return {name: fact(fs, name) for name in names}


def render(storage: CachedStorage, page: dict[str, Fact]) -> float:
    """Render the page, check every answer against the storage; the seconds it took."""
    started = time.perf_counter()
    storage.prefetch(page)
    answers = {name: answer(storage, name) for name in page}
    elapsed = time.perf_counter() - started
    wrong = [name for name, truth in page.items() if not answers[name].matches(truth)]
    assert wrong == []
    return elapsed


def attempts(events: Events) -> int:
    return sum(events.round_trips.values())


@pytest.mark.parametrize(
    "proxied",
    [
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("django-redis", marks=pytest.mark.redis),
        pytest.param("memcached", marks=pytest.mark.memcached),
    ],
    indirect=True,
)
def test_a_stalled_cache_adds_one_timeout_to_a_100_image_page(
    proxied: Proxied,
    fs: CountingStorage,
    events: Events,
    cache_warnings: Warnings,
    figures: Record,
) -> None:
    page = make_page(fs, 100)
    storage = CachedStorage(storage=fs, cache="shared")

    clear_local()
    cold = render(storage, page)  # nothing cached: every image from the storage, filled into L2
    clear_local()
    events.round_trips.clear()
    healthy = render(storage, page)  # a new process, L2 warm
    healthy_trips = attempts(events)

    proxied.proxy.hang()
    clear_local()
    events.round_trips.clear()
    hung = render(storage, page)
    hung_trips = attempts(events)
    events.round_trips.clear()
    hung_again = render(storage, page)  # the breaker is open: the cache is not asked
    hung_again_trips = attempts(events)

    time.sleep(proxied.client_recovery)
    proxied.proxy.slow(SLOW_ANSWER)
    clear_local()
    events.round_trips.clear()
    slow = render(storage, page)
    slow_trips = attempts(events)

    proxied.proxy.heal()
    time.sleep(max(RETRY_AFTER, SLOW_ANSWER) + 0.2)  # the late answers have all arrived
    render(storage, page)  # the breaker's retry; replays what the stall left pending
    clear_local()
    fs.calls.clear()
    events.round_trips.clear()
    recovered = render(storage, page)  # a new process again: L2 answers, correctly
    recovered_calls = dict(fs.calls)

    figures(
        socket_timeout=TIMEOUT,
        cold_page=cold,
        healthy_page=healthy,
        hung_page=hung,
        hung_added_vs_healthy=hung - healthy,
        hung_added_vs_cold=hung - cold,
        hung_page_again=hung_again,
        slow_2s_page=slow,
        slow_added_vs_cold=slow - cold,
        l2_attempts={"healthy": healthy_trips, "hung": hung_trips, "slow": slow_trips},
        recovered_page=recovered,
        warnings=cache_warnings.unavailable,
    )
    # One L2 call per stalled page, and it cost one timeout: not one per image.
    assert hung_trips == 1
    assert slow_trips == 1
    assert hung_again_trips == 0
    assert hung < cold + TIMEOUT + SLACK
    assert slow < cold + TIMEOUT + SLACK
    assert hung_again < cold + SLACK
    assert cache_warnings.unavailable == 2  # one per process that met the stall
    if proxied.name != "django-redis":
        # (django-redis drops every record it writes: see DJANGO_REDIS_SET_MANY in
        # test_cache_tiers.py, where the same checks are expected to fail.)
        assert healthy_trips == 1
        assert recovered_calls == {}
        assert len(caches["shared"].get_many([storage.core.keys.record(n) for n in page])) == 100


@pytest.mark.redis
@pytest.mark.parametrize("proxied", ["django-redis-ignore"], indirect=True)
def test_ignore_exceptions_still_costs_one_timeout_per_page(
    proxied: Proxied, fs: CountingStorage, events: Events, figures: Record
) -> None:
    """django-redis' IGNORE_EXCEPTIONS would turn each timeout into a silent miss (no
    breaker, a timeout per call); ikstorage calls its client, which raises."""
    page = make_page(fs, 10)
    storage = CachedStorage(storage=fs, cache="shared")
    clear_local()
    cold = render(storage, page)
    proxied.proxy.hang()
    clear_local()
    events.round_trips.clear()
    hung = render(storage, page)
    figures(cold_page=cold, hung_10_image_page=hung, l2_attempts=attempts(events))
    assert hung < cold + TIMEOUT + SLACK
