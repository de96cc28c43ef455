"""The same checks on every cache tier our users run.

Django's own Redis, Memcached, database and file caches, diskcache's
``DjangoCache`` (the production advice for django-imagekit) and django-redis
(most Redis sites), with and without its ``IGNORE_EXCEPTIONS``: a save writes
its record through, a read fills it once, ``prefetch()`` loads a page in one
round trip, and an outage is answered from the storage, then recovered from
with no stale record left behind.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.test import override_settings

from ikstorage import CachedStorage
from ikstorage.cache import clear_local
from tests.conftest import CountingStorage, Events
from tests.images import image_bytes
from tests.resilience.conftest import Record, Warnings
from tests.resilience.tiers import ALIAS, PARAMS, Tier
from tests.resilience.truth import Answer, answer, fact, l2_disagreements

pytestmark = pytest.mark.parametrize("tier", PARAMS, indirect=True)

RETRY_AFTER = 0.3


def write(fs: CountingStorage, name: str, data: bytes) -> None:
    """A file written behind ikstorage's back (another tool, another process)."""
    path = Path(fs.path(name))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_save_writes_the_record_through(
    tier: Tier,
    fs: CountingStorage,
    events: Events,
    figures: Record,
    request: pytest.FixtureRequest,
) -> None:
    storage = CachedStorage(storage=fs, cache=ALIAS)
    data = image_bytes((31, 17))
    events.round_trips.clear()
    name = storage.save("photos/a.jpg", ContentFile(data, name="a.jpg"))
    save_trips = dict(events.round_trips)
    storage.url(name)

    clear_local()  # a new process: only L2 is shared
    fs.calls.clear()
    events.round_trips.clear()
    assert answer(storage, name) == Answer(True, len(data), (31, 17), "/media/photos/a.jpg")
    figures(save=save_trips, new_process_lookup=dict(events.round_trips))
    assert save_trips == {"add": 1, "set_many": 1, "delete_many": 1}
    assert fs.calls == {}
    assert events.round_trips == {"get_many": 1}
    assert l2_disagreements(storage, [name]) == []


def test_first_read_fills_the_record_once(
    tier: Tier,
    fs: CountingStorage,
    events: Events,
    figures: Record,
    request: pytest.FixtureRequest,
) -> None:
    data = image_bytes((12, 34), fmt="PNG")
    write(fs, "b.png", data)
    storage = CachedStorage(storage=fs, cache=ALIAS)
    expected = Answer(True, len(data), (12, 34), "/media/b.png")

    fs.calls.clear()
    events.round_trips.clear()
    assert answer(storage, "b.png") == expected
    fill_trips, fill_calls = dict(events.round_trips), dict(fs.calls)

    clear_local()
    fs.calls.clear()
    events.round_trips.clear()
    assert answer(storage, "b.png") == expected
    figures(fill=fill_trips, fill_storage_calls=fill_calls, second_process=dict(events.round_trips))
    assert fill_trips == {"get_many": 1, "set_many": 1, "add": 1}
    assert fill_calls == {"url": 1, "exists": 1, "size": 1, "open": 1}
    assert fs.calls == {}
    assert events.round_trips == {"get_many": 1}


def test_prefetch_loads_a_page_in_one_round_trip(
    tier: Tier,
    fs: CountingStorage,
    events: Events,
    figures: Record,
    request: pytest.FixtureRequest,
) -> None:
    storage = CachedStorage(storage=fs, cache=ALIAS)
    names = []
    for i in range(20):
        saved = storage.save(f"page/{i}.jpg", ContentFile(image_bytes((20 + i, 10)), name="x.jpg"))
        storage.url(saved)
        names.append(saved)
    truth = {name: fact(fs, name) for name in names}

    clear_local()
    fs.calls.clear()
    events.round_trips.clear()
    storage.prefetch(names)
    prefetch_trips = dict(events.round_trips)
    for name in names:
        assert answer(storage, name).matches(truth[name])
    figures(prefetch_20_images=prefetch_trips, page_total=dict(events.round_trips))
    assert prefetch_trips == {"get_many": 1}
    assert events.round_trips == {"get_many": 1}
    assert fs.calls == {}


def test_outage_answers_from_the_storage_and_recovers(
    tier: Tier,
    fs: CountingStorage,
    events: Events,
    cache_warnings: Warnings,
    figures: Record,
    request: pytest.FixtureRequest,
) -> None:
    # local_timeout=0: every lookup goes to L2, as in a process that has not seen the files.
    storage = CachedStorage(storage=fs, cache=ALIAS, local_timeout=0)
    kept, doomed, born = "kept.jpg", "doomed.jpg", "born.jpg"
    write(fs, kept, image_bytes((40, 20)))
    write(fs, doomed, image_bytes((8, 8)))
    for name in (kept, doomed):
        assert storage.image_dimensions(name) is not None  # filled into L2 by a read
    assert l2_disagreements(storage, [kept, doomed]) == []

    with override_settings(IKSTORAGE_CACHE_RETRY_AFTER=RETRY_AFTER, IKSTORAGE_WARNING_INTERVAL=60):
        tier.down()
        events.round_trips.clear()
        started = time.monotonic()
        # Writes L2 cannot be told about: neither may leave a wrong record behind.
        storage.delete(doomed)
        storage.save(born, ContentFile(image_bytes((5, 7)), name=born))
        names = (kept, doomed, born)
        truth = {name: fact(fs, name) for name in names}
        assert not truth[doomed].exists
        for _ in range(3):
            for name in names:
                assert answer(storage, name).matches(truth[name])
        time.sleep(RETRY_AFTER + 0.05)  # the breaker lets one call through: still down
        for _ in range(3):
            for name in names:
                assert answer(storage, name).matches(truth[name])
        outage_seconds = time.monotonic() - started
        attempts = sum(events.round_trips.values())

        tier.up()
        time.sleep(RETRY_AFTER + tier.client_recovery + 0.1)
        after = {name: answer(storage, name) for name in names}
        wrong = l2_disagreements(storage, names)
        fs.calls.clear()
        assert storage.image_dimensions(kept) == (40, 20)
        assert storage.size(kept) == truth[kept].size
        served_by_l2 = dict(fs.calls)

    figures(
        outage_seconds=outage_seconds,
        l2_attempts_during_outage=attempts,
        unavailable_warnings=cache_warnings.unavailable,
        back_warnings=cache_warnings.back,
    )
    assert wrong == []
    assert all(after[name].matches(truth[name]) for name in names)
    assert served_by_l2 == {}
    assert cache_warnings.unavailable == 1
    # At most a flush, a call and a write per retry window (a disk that is full still
    # answers reads and deletes): bounded by the breaker, not by the number of lookups.
    assert 1 <= attempts <= 3 * (int(outage_seconds / RETRY_AFTER) + 1)
