"""The warm answers (``ikstorage.core.warm``): what L1 holds, one dictionary read each, never more.

Every way an L1 entry changes takes the answer derived from it out of its
table, so the table never answers what L1 no longer holds.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.files.base import ContentFile

from ikstorage import CachedStorage
from ikstorage.bypass import bypass_cache
from ikstorage.cache import levels
from ikstorage.cache.local import LocalCache
from tests.conftest import CountingStorage, Events
from tests.images import image_bytes


def warmed(fs: CountingStorage, count: int = 3) -> tuple[CachedStorage, list[str]]:
    """A storage whose files' URLs and dimensions were each asked twice (L1, then the tables)."""
    storage = CachedStorage(storage=fs)
    names = [
        storage.save(f"w/{i}.jpg", ContentFile(image_bytes((20 + i, 10)))) for i in range(count)
    ]
    for _ in range(2):
        for name in names:
            storage.url(name)
            storage.image_dimensions(name)
    return storage, names


def test_a_warm_page_is_answered_from_the_tables(fs: CountingStorage, events: Events) -> None:
    storage, names = warmed(fs)
    warm = storage.core.warm
    assert set(warm.urls) == set(warm.dimensions) == set(names)
    fs.calls.clear()
    events.cache.clear()
    events.round_trips.clear()
    answers = [(storage.url(n), storage.image_dimensions(n)) for n in names]
    assert answers == [(f"/media/w/{i}.jpg", (20 + i, 10)) for i in range(3)]
    assert fs.calls == {}
    assert events.round_trips == {}
    assert +events.cache == {"l1_hits": 6}


def test_the_first_warm_read_keeps_the_answer_the_next_reads_it(
    fs: CountingStorage, events: Events
) -> None:
    storage = CachedStorage(storage=fs)
    name = storage.save("w/a.jpg", ContentFile(image_bytes((31, 17))))
    warm = storage.core.warm
    fs.calls.clear()
    events.round_trips.clear()
    assert storage.image_dimensions(name) == (31, 17)  # from the record L1 holds since the save
    assert warm.dimensions[name][1] == (31, 17)
    assert name not in warm.urls
    assert storage.url(name) == "/media/w/a.jpg"  # the first ask: the URL is made and kept
    assert name not in warm.urls
    assert storage.url(name) == "/media/w/a.jpg"  # from L1, kept in the table
    assert warm.urls[name][1] == "/media/w/a.jpg"
    assert fs.calls == {"url": 1}
    assert events.round_trips == {"get_many": 1, "set_many": 1}  # the URL: missed, then kept


def _overwrite(storage: CachedStorage, name: str) -> None:
    storage.delete(name)
    assert storage.save(name, ContentFile(image_bytes((64, 48)))) == name


def _drop(storage: CachedStorage, name: str) -> None:
    """What the broadcast does on another process's word."""
    keys = storage.core.keys
    stored = storage.core.names.stored(name)
    assert stored is not None
    levels.local_level("default", 1).drop([*keys.facts(stored), keys.url(name)])


CHANGES: dict[str, Callable[[CachedStorage, str], None]] = {
    "delete": lambda storage, name: storage.delete(name),
    "overwrite": _overwrite,
    "invalidate": lambda storage, name: storage.invalidate(name),
    "dropped": _drop,
    "cleared": lambda storage, name: levels.clear_local(),
    "setting": lambda storage, name: storage.core.forget("MEDIA_URL"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_takes_the_answer_out_of_the_tables(fs: CountingStorage, change: str) -> None:
    storage, names = warmed(fs)
    first, others = names[0], names[1:]
    CHANGES[change](storage, first)
    warm = storage.core.warm
    assert first not in warm.dimensions
    # A write or a delete leaves the URL's L1 entry as it was (the URL does not change).
    assert (first in warm.urls) is (change in ("delete", "overwrite"))
    if change not in ("cleared", "setting"):  # the others' entries are untouched
        assert set(others) <= set(warm.dimensions) & set(warm.urls)
    expected = {"delete": None, "overwrite": (64, 48)}.get(change, (20, 10))
    assert storage.image_dimensions(first) == expected


def test_an_entry_changed_since_it_was_read_keeps_nothing() -> None:
    local: LocalCache[str] = LocalCache(10)
    local.set("k", "old", 60)
    item = local.item("k")
    assert item is not None
    local.set("k", "new", 60)
    table: dict[str, object] = {}
    local.derive("k", item, table, "n", "from old")
    assert table == {}
    newer = local.item("k")
    assert newer is not None
    local.derive("k", newer, table, "n", "from new")
    assert table == {"n": "from new"}


def test_eviction_takes_the_evicted_entries_answers_out() -> None:
    local: LocalCache[str] = LocalCache(10)
    table: dict[str, object] = {}
    for i in range(10):
        local.set(f"k{i}", f"v{i}", 60)
        item = local.item(f"k{i}")
        assert item is not None
        local.derive(f"k{i}", item, table, f"n{i}", i)
    local.set("k10", "v10", 60)  # full: the oldest tenth (one entry) goes
    assert local.item("k0") is None
    assert table == {f"n{i}": i for i in range(1, 10)}


def test_an_expired_entry_dropped_on_read_takes_its_answer_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    local: LocalCache[str] = LocalCache(10)
    local.set("k", "v", 5)
    item = local.item("k")
    assert item is not None
    table: dict[str, object] = {}
    local.derive("k", item, table, "n", "answer")
    monkeypatch.setattr("ikstorage.cache.local.now", lambda: item[1] + 1)
    assert local.get("k") is None
    assert table == {}


def test_bypass_asks_the_storage_not_the_tables(fs: CountingStorage) -> None:
    storage, names = warmed(fs, count=1)
    fs.calls.clear()
    with bypass_cache():
        assert storage.url(names[0]) == "/media/w/0.jpg"
        assert storage.image_dimensions(names[0]) is None  # Django reads the file itself
    assert fs.calls == {"url": 1}
