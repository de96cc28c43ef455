"""CachedStorage over a local FileSystemStorage: exact backend calls per operation."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.db.migrations.autodetector import MigrationAutodetector
from django.test import override_settings

from ikstorage import CachedStorage, bypass_cache
from ikstorage.exceptions import ConfigurationError
from ikstorage.records import Record
from tests.conftest import CountingStorage, Events
from tests.images import image_bytes


def cached(fs: CountingStorage, **options: object) -> CachedStorage:
    return CachedStorage(storage=fs, cache="default", **options)


def write_behind_our_back(fs: CountingStorage, name: str, data: bytes) -> None:
    path = Path(fs.location) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_cold_lookup_probes_once_then_answers_from_cache(fs: CountingStorage) -> None:
    write_behind_our_back(fs, "a.png", image_bytes((30, 20), "PNG"))
    storage = cached(fs)

    assert storage.exists("a.png") is True
    assert fs.calls == {"exists": 1, "size": 1, "open": 1}
    fs.calls.clear()

    assert storage.size("a.png") == len(image_bytes((30, 20), "PNG"))
    assert storage.image_dimensions("a.png") == (30, 20)
    assert storage.exists("a.png") is True
    assert fs.calls == {}


def test_non_image_names_are_never_opened(fs: CountingStorage) -> None:
    write_behind_our_back(fs, "movie.mp4", b"\0\0\0\x18ftypmp42" + b"\0" * 5000)
    storage = cached(fs)
    assert storage.size("movie.mp4") == 5012
    # Not determined (None): an ImageFile asking is sent Django's own way, once.
    assert storage.image_dimensions("movie.mp4") is None
    assert fs.calls == {"exists": 1, "size": 1}


def test_a_new_process_reads_l2_in_one_round_trip(fs: CountingStorage, events: Events) -> None:
    from ikstorage.cache import clear_local

    storage = cached(fs)
    storage.save("b.jpg", ContentFile(image_bytes((40, 30)), name="b.jpg"))
    storage.url("b.jpg")
    clear_local()  # what a new process sees: L2 only
    fs.calls.clear()
    events.round_trips.clear()

    assert storage.url("b.jpg") == "/media/b.jpg"
    assert storage.image_dimensions("b.jpg") == (40, 30)
    assert storage.size("b.jpg") == len(image_bytes((40, 30)))
    assert fs.calls == {}
    assert events.round_trips == {"get_many": 1}


def test_save_writes_through_with_dimensions_from_the_bytes(
    fs: CountingStorage, events: Events
) -> None:
    storage = cached(fs)
    data = image_bytes((120, 80))
    name = storage.save("photos/c.jpg", ContentFile(data, name="c.jpg"))
    assert name == "photos/c.jpg"
    # Choosing the name asks the backend (invariant 1); nothing else does.
    assert fs.calls == {"get_available_name": 1, "exists": 1, "_save": 1}
    # Ordered writes: take the name's lease (add), write the record (set_many),
    # give the lease back and drop the cached "missing" of folder photos (delete_many).
    assert events.round_trips == {"add": 1, "set_many": 1, "delete_many": 1}
    fs.calls.clear()

    assert storage.exists(name)
    assert storage.size(name) == len(data)
    assert storage.image_dimensions(name) == (120, 80)
    assert fs.calls == {}


def test_delete_leaves_a_tombstone_a_slow_reader_cannot_overwrite(fs: CountingStorage) -> None:
    storage = cached(fs)
    name = storage.save("d.jpg", ContentFile(image_bytes(), name="d.jpg"))
    stale = storage.core.probe(name)  # a reader that probed before the delete...
    storage.delete(name)
    # ...and fills after it: ``add`` must not replace the tombstone.
    storage.core.cache.add(storage.core.keys.record(name), stale, 60)
    from ikstorage.cache import clear_local

    clear_local()
    fs.calls.clear()
    assert storage.exists(name) is False
    assert fs.calls == {}


def test_tombstone_is_short_lived(fs: CountingStorage) -> None:
    storage = cached(fs, missing_timeout=0)
    name = storage.save("e.jpg", ContentFile(image_bytes(), name="e.jpg"))
    storage.delete(name)
    fs.calls.clear()
    assert storage.exists(name) is False
    assert fs.calls == {"exists": 1}


def test_stale_negative_never_lets_save_overwrite(fs: CountingStorage) -> None:
    """Invariant 1: the name is free only when the backend says so."""
    storage = cached(fs)
    assert storage.exists("taken.jpg") is False  # cached negative
    write_behind_our_back(fs, "taken.jpg", b"precious")  # written by someone else

    name = storage.save("taken.jpg", ContentFile(image_bytes(), name="taken.jpg"))

    assert name != "taken.jpg"
    assert (Path(fs.location) / "taken.jpg").read_bytes() == b"precious"
    assert storage.is_name_available("taken.jpg") is False


def test_size_of_a_name_believed_missing_asks_the_backend(fs: CountingStorage) -> None:
    storage = cached(fs)
    assert storage.exists("late.txt") is False
    write_behind_our_back(fs, "late.txt", b"12345")
    fs.calls.clear()
    assert storage.size("late.txt") == 5
    assert fs.calls == {"size": 1}
    assert storage.exists("late.txt") is True  # the stale negative was dropped


def test_missing_file_errors_are_the_wrapped_storages(fs: CountingStorage) -> None:
    storage = cached(fs)
    with pytest.raises(FileNotFoundError):
        storage.size("nope.jpg")
    with pytest.raises(FileNotFoundError):
        storage.get_modified_time("nope.jpg")
    assert storage.image_dimensions("nope.jpg") is None


def test_failed_save_leaves_no_record(fs: CountingStorage) -> None:
    class Broken(CountingStorage):
        def _save(self, name: str, content: object) -> str:
            raise OSError("disk full")

    broken = Broken(location=fs.location, base_url="/media/")
    storage = CachedStorage(storage=broken)
    with pytest.raises(OSError, match="disk full"):
        storage.save("f.jpg", ContentFile(image_bytes(), name="f.jpg"))
    assert storage.core.cache.get(storage.core.keys.record("f.jpg")) is None
    assert storage.exists("f.jpg") is False


def test_failed_delete_forgets_the_record(fs: CountingStorage) -> None:
    storage = cached(fs)
    name = storage.save("g.jpg", ContentFile(image_bytes(), name="g.jpg"))

    def refuse(name: str) -> None:
        raise PermissionError(name)

    fs.delete = refuse  # type: ignore[method-assign]
    with pytest.raises(PermissionError):
        storage.delete(name)
    assert storage.core.cache.get(storage.core.keys.record(name)) is None


def test_write_mode_open_forgets_before_and_after(fs: CountingStorage) -> None:
    storage = cached(fs)
    name = storage.save("h.txt", ContentFile(b"one", name="h.txt"))
    with storage.open(name, "wb") as fh:
        fh.write(b"longer content")
    fs.calls.clear()
    assert storage.size(name) == len(b"longer content")
    assert fs.calls == {"exists": 1, "size": 1}


def test_modified_time_is_fetched_once_per_record_generation(fs: CountingStorage) -> None:
    storage = cached(fs)
    name = storage.save("m.jpg", ContentFile(image_bytes(), name="m.jpg"))
    fs.calls.clear()
    first = storage.get_modified_time(name)
    assert fs.calls == {"get_modified_time": 1}
    from ikstorage.cache import clear_local

    clear_local()
    assert storage.get_modified_time(name) == first
    assert fs.calls == {"get_modified_time": 1}
    assert first.tzinfo is not None
    # A new save mints a new generation: the old modified time is not believed.
    storage.delete(name)
    storage.save(name, ContentFile(image_bytes(), name=name))
    storage.get_modified_time(name)
    assert fs.calls["get_modified_time"] == 2


@override_settings(USE_TZ=False)
def test_modified_time_is_naive_without_use_tz(fs: CountingStorage) -> None:
    storage = cached(fs)
    name = storage.save("n.jpg", ContentFile(image_bytes(), name="n.jpg"))
    direct = fs.get_modified_time(name)
    storage.get_modified_time(name)
    from ikstorage.cache import clear_local

    clear_local()
    assert storage.get_modified_time(name) == direct
    assert direct.tzinfo is None


def test_url_is_computed_once(fs: CountingStorage) -> None:
    storage = cached(fs)
    assert storage.url("x y.jpg") == "/media/x%20y.jpg"
    assert storage.url("x y.jpg") == "/media/x%20y.jpg"
    assert fs.calls == {"url": 1}


def test_invalidate_and_metadata(fs: CountingStorage) -> None:
    storage = cached(fs)
    name = storage.save("i.jpg", ContentFile(image_bytes((9, 7)), name="i.jpg"))
    record = storage.metadata(name)
    assert (record.exists, record.width, record.height) == (True, 9, 7)
    write_behind_our_back(fs, name, image_bytes((5, 4), "PNG"))
    assert storage.metadata(name).width == 9  # cached until told
    storage.invalidate(name)
    fs.calls.clear()
    assert storage.metadata(name).dimensions == (5, 4)
    assert fs.calls == {"exists": 1, "size": 1, "open": 1}


def test_prefetch_loads_a_page_in_one_round_trip(fs: CountingStorage, events: Events) -> None:
    storage = cached(fs)
    names = [storage.save(f"p{i}.jpg", ContentFile(image_bytes(), name="p.jpg")) for i in range(20)]
    for name in names:
        storage.url(name)
    from ikstorage.cache import clear_local

    clear_local()
    events.round_trips.clear()
    storage.prefetch([*names, None, ""])
    assert events.round_trips == {"get_many": 1}
    for name in names:
        storage.url(name)
        storage.image_dimensions(name)
        storage.size(name)
    assert events.round_trips == {"get_many": 1}
    assert fs.calls == {"get_available_name": 20, "exists": 20, "_save": 20, "url": 20}


def test_bypass_passes_everything_through(fs: CountingStorage, events: Events) -> None:
    storage = cached(fs)
    name = storage.save("j.jpg", ContentFile(image_bytes(), name="j.jpg"))
    fs.calls.clear()
    events.round_trips.clear()
    with bypass_cache():
        storage.exists(name)
        storage.size(name)
        storage.url(name)
        assert storage.image_dimensions(name) is None
    assert fs.calls == {"exists": 1, "size": 1, "url": 1}
    assert events.round_trips == {}


# -- configuration ----------------------------------------------------------------


def test_unknown_option_is_named() -> None:
    with pytest.raises(ImproperlyConfigured, match="'spces'"):
        CachedStorage(storage="x", spces={})


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ({"spces": {}}, "got unknown option(s) 'spces' (did you mean 'specs'?); valid options"),
        ({"timout": 5}, "got unknown option(s) 'timout' (did you mean 'timeout'?); valid"),
        (
            {"local_max_size": 9, "colour": 1},
            "got unknown option(s) 'colour', 'local_max_size' "
            "(did you mean 'local_maxsize' for 'local_max_size'?); valid",
        ),
        ({"colour": "blue"}, "got unknown option(s) 'colour'; valid options are broadcast, "),
    ],
)
def test_an_unknown_option_suggests_the_closest_name(options: dict[str, Any], said: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        CachedStorage(storage="x", **options)
    assert f"CachedStorage {said}" in str(caught.value)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "needs the 'storage' option"),
        ({"storage": 3}, "must be a STORAGES alias"),
        ({"storage": "x", "cache": None}, "must be a CACHES alias"),
        ({"storage": "x", "timeout": -1}, "'timeout' must be a number"),
        ({"storage": "x", "local_maxsize": 0}, "'local_maxsize' must be a whole number"),
        ({"storage": "x", "probe_bytes": 10}, "'probe_bytes' must be a whole number ≥ 1024"),
    ],
)
def test_bad_option_values(options: dict[str, object], message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        CachedStorage(**options)  # type: ignore[arg-type]


def test_storage_by_alias_and_dict(tmp_path: Path) -> None:
    fs_spec = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path)},
    }
    with override_settings(
        STORAGES={
            "files": fs_spec,
            "default": {"BACKEND": "ikstorage.CachedStorage", "OPTIONS": {"storage": "files"}},
            "loop": {"BACKEND": "ikstorage.CachedStorage", "OPTIONS": {"storage": "loop"}},
        }
    ):
        from django.core.files.storage import default_storage, storages

        assert isinstance(storages["default"], CachedStorage)
        assert storages["default"].wrapped is storages["files"]
        assert default_storage.save("k.txt", ContentFile(b"k")) == "k.txt"
        assert CachedStorage(storage=fs_spec).wrapped.location == str(tmp_path)
        with pytest.raises(ImproperlyConfigured, match=r"not an alias in settings\.STORAGES"):
            CachedStorage(storage="nowhere").exists("x")
        with pytest.raises(ImproperlyConfigured, match="this storage itself"):
            storages["loop"].exists("x")
        with pytest.raises(ImproperlyConfigured, match="needs a 'BACKEND' key"):
            CachedStorage(storage={"OPTIONS": {}}).exists("x")


def test_unknown_cache_alias_is_a_clear_error(fs: CountingStorage) -> None:
    with pytest.raises(ImproperlyConfigured, match="'nocache', which is not an alias"):
        CachedStorage(storage=fs, cache="nocache").exists("a")


def test_two_storages_never_share_records(tmp_path: Path) -> None:
    one = CachedStorage(storage=CountingStorage(location=str(tmp_path / "1")))
    two = CachedStorage(storage=CountingStorage(location=str(tmp_path / "2")))
    one.save("same.txt", ContentFile(b"1"))
    assert two.exists("same.txt") is False
    assert one.core.keys.record("same.txt") != two.core.keys.record("same.txt")


def test_deconstruction_is_stable_for_migrations(tmp_path: Path) -> None:
    from django.core.files.storage import FileSystemStorage
    from django.db import models

    def field() -> models.ImageField:
        inner = FileSystemStorage(location=str(tmp_path))
        return models.ImageField(storage=CachedStorage(storage=inner, cache="default"))

    from django.db.migrations.state import ProjectState

    detector = MigrationAutodetector(ProjectState(), ProjectState())
    first = detector.deep_deconstruct(field())
    second = detector.deep_deconstruct(field())
    assert first == second
    path, args, kwargs = CachedStorage(storage="s3", timeout=10).deconstruct()
    assert (path, args, kwargs) == ("ikstorage.CachedStorage", (), {"storage": "s3", "timeout": 10})


def test_pickle_round_trip(fs: CountingStorage) -> None:
    storage = cached(fs, timeout=100)
    storage.save("l.txt", ContentFile(b"abc"))
    clone = pickle.loads(pickle.dumps(storage))
    assert clone.options.timeout == 100
    assert clone.size("l.txt") == 3
    assert clone.core.keys.record("l.txt") == storage.core.keys.record("l.txt")


def test_record_of_another_format_is_a_miss() -> None:
    assert Record.from_plain({"v": 999, "e": True}) is None
    assert Record.from_plain({"v": 1, "e": True}) is None
    assert Record.from_plain("junk") is None
    record = Record(exists=True, size=3, width=1, height=2, dimensions_known=True, generation="g")
    assert Record.from_plain(record.to_plain()) == record


def test_keys_are_safe_for_memcached() -> None:
    from ikstorage.records import Keys

    keys = Keys("\x00identity with spaces" * 100)
    for name in ["a" * 1000, "ünïcødé/😀.jpg", "line\nbreak.jpg", "../up.jpg"]:
        for key in [*keys.facts(name), keys.url(name), keys.lease(name)]:
            assert len(key.encode()) <= 250
            assert key.isascii()
            assert not any(c.isspace() or ord(c) < 32 for c in key)


def test_over_long_names_fail_as_the_wrapped_storage_fails(fs: CountingStorage) -> None:
    storage = cached(fs)
    name = "n" * 1000 + ".jpg"
    with pytest.raises(OSError, match="name too long") as raw:
        fs.save(name, ContentFile(b"x"))
    with pytest.raises(type(raw.value)):
        storage.save(name, ContentFile(b"x"))
    assert storage.core.cache.get(storage.core.keys.record(name)) is None
    assert storage.exists(name) is False


def test_unicode_names_round_trip(fs: CountingStorage) -> None:
    storage = cached(fs)
    name = storage.save("ünï/фото 😀.png", ContentFile(image_bytes((6, 5), "PNG")))
    from ikstorage.cache import clear_local

    clear_local()
    assert storage.image_dimensions(name) == (6, 5)
    assert storage.url(name) == "/media/%C3%BCn%C3%AF/%D1%84%D0%BE%D1%82%D0%BE%20%F0%9F%98%80.png"


def test_concurrent_lookups_probe_each_name_at_most_once_per_thread(
    fs: CountingStorage,
) -> None:
    import threading

    for i in range(20):
        write_behind_our_back(fs, f"t{i}.png", image_bytes((i + 1, 3), "PNG"))
    storage = cached(fs)
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work() -> None:
        try:
            barrier.wait()
            for _ in range(5):
                for i in range(20):
                    assert storage.image_dimensions(f"t{i}.png") == (i + 1, 3)
                    assert storage.exists(f"t{i}.png")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # Racing threads may each fill a record once; after that every answer is cached.
    assert 20 <= fs.calls["exists"] <= 20 * 8
    fs.calls.clear()
    storage.image_dimensions("t0.png")
    assert fs.calls == {}


def test_cold_lookup_asks_l2_once_per_name(fs: CountingStorage, events: Events) -> None:
    write_behind_our_back(fs, "cold.png", image_bytes((3, 2), "PNG"))
    storage = cached(fs)
    storage.url("cold.png")
    storage.image_dimensions("cold.png")
    storage.size("cold.png")
    # One read for the record and URL together, one write for each.
    assert events.round_trips == {"get_many": 1, "set_many": 1, "add": 1}
    assert fs.calls == {"url": 1, "exists": 1, "size": 1, "open": 1}


def test_a_fill_that_loses_to_a_newer_record_reads_it_next(fs: CountingStorage) -> None:
    write_behind_our_back(fs, "race.png", image_bytes((3, 2), "PNG"))
    storage = cached(fs)
    newer = Record(exists=True, size=1, width=9, height=9, dimensions_known=True, generation="n")
    assert (
        storage.core.cache.get(storage.core.keys.record("race.png")) is None
    )  # noted absent in L1
    from django.core.cache import caches

    caches["default"].set(storage.core.keys.record("race.png"), newer.to_plain())  # another writer
    storage.core.cache.add(storage.core.keys.record("race.png"), storage.core.probe("race.png"), 60)
    assert storage.metadata("race.png") == newer


# -- bulk access (what ikstorage_prewarm uses) ------------------------------------------


def test_cached_records_probe_and_store(fs: CountingStorage, events: Events) -> None:
    storage = cached(fs)
    storage.save("known.jpg", ContentFile(image_bytes((30, 20)), name="known.jpg"))
    write_behind_our_back(fs, "legacy.png", image_bytes((8, 6), "PNG"))
    events.round_trips.clear()
    found = storage.core.cached_records(["known.jpg", "./known.jpg", "legacy.png", None])  # type: ignore[list-item]
    assert set(found) == {"known.jpg", "./known.jpg"}
    # The saved record is in L1; one get_many asks L2 about the other.
    assert events.round_trips == {"get_many": 1}
    fs.calls.clear()
    record = storage.core.probe("legacy.png")
    assert (record.exists, record.dimensions) == (True, (8, 6))
    assert record.size == len(image_bytes((8, 6), "PNG"))
    assert fs.calls == {"exists": 1, "size": 1, "open": 1}
    assert storage.core.store("legacy.png", record) is True
    assert storage.core.store("legacy.png", Record.missing()) is False  # a fill never overwrites
    assert storage.exists("legacy.png") is True
    assert storage.core.store("legacy.png", Record.missing(), replace=True) is True
    assert storage.exists("legacy.png") is False
