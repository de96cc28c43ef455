"""Invariant 16: a shared-cache value that fails validation is a miss, and is replaced.

Every malformed value (a modified time no ``datetime`` holds, wrong types,
truncated structures, random bytes) under a record key answers every call with
the wrapped storage's answer and no exception; the probe that answered it
replaces it, so the next process asks the storage nothing. On locmem and on a
real Redis (where raw bytes that do not even unpickle can sit under a key).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.test import override_settings

from ikstorage import CachedStorage
from ikstorage.cache import clear_local
from ikstorage.profiler import count_calls
from ikstorage.records import (
    DimensionsEntry,
    ModifiedEntry,
    Record,
    RenditionInfo,
    UrlEntry,
    decode,
)
from tests.conftest import CountingStorage, Events
from tests.images import image_bytes

NAME = "photos/a.jpg"
SIZE = (40, 30)
RENDITION = ["thumb", "fp", "webp", "renditions/t.webp", 20, 15, 300, None]


def _with(**changes: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda plain: {**plain, **changes}


def _without(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda plain: {k: v for k, v in plain.items() if k != key}


#: A valid record's plain form -> a malformed value, by what is wrong with it.
MALFORMED: dict[str, Callable[[dict[str, Any]], Any]] = {
    "mtime 10**400": _with(m=10**400),
    "mtime inf": _with(m=float("inf")),
    "mtime -inf": _with(m=float("-inf")),
    "mtime nan": _with(m=float("nan")),
    "mtime 1e20": _with(m=1e20),
    "mtime -1e20": _with(m=-1e20),
    "mtime text": _with(m="2024-01-01"),
    "mtime bool": _with(m=True),
    "size negative": _with(s=-1),
    "size float": _with(s=3.0),
    "size text": _with(s="3"),
    "size bool": _with(s=True),
    "size 10**400": _with(s=10**400),
    "width negative": _with(w=-40),
    "height text": _with(h="30"),
    "exists text": _with(e="false"),
    "exists int": _with(e=1),
    "known text": _with(d="yes"),
    "generation int": _with(g=7),
    "etag int": _with(t=5),
    "digest bytes": _with(x=b"ab"),
    "error int": _with(f=3),
    "renditions text": _with(r="abc"),
    "renditions dict": _with(r={"thumb": 1}),
    "rendition truncated": _with(r=[RENDITION[:4]]),
    "rendition negative size": _with(r=[[*RENDITION[:6], -300, None]]),
    "rendition url int": _with(r=[[*RENDITION[:7], 9]]),
    "placeholder one item": _with(p=["#fff"]),
    "placeholder text": _with(p="#fff"),
    "missing mtime": _without("m"),
    "missing renditions": _without("r"),
    "format only": lambda plain: {"v": plain["v"]},
    "empty dict": lambda plain: {},
    "older format": _with(v=2),
    "list": lambda plain: list(plain.values()),
    "random bytes": lambda plain: random.Random(16).randbytes(64),
    "random text": lambda plain: "ÿ\x00junk" * 9,
    "int": lambda plain: 12345,
    "none": lambda plain: None,
}


def test_the_cases_are_malformed_and_a_valid_record_reads_back() -> None:
    record = Record(
        exists=True,
        size=3,
        width=1,
        height=2,
        dimensions_known=True,
        modified=1.7e9,
        generation="g",
        renditions=(RenditionInfo.from_plain(RENDITION),),
        placeholder=("#fff", "data:"),
    )
    plain = record.to_plain()
    assert Record.from_plain(plain) == record
    for case, malformed in MALFORMED.items():
        assert Record.from_plain(malformed(plain)) is None, case


@pytest.mark.parametrize(
    "value",
    [
        {"v": 3, "u": "/a.jpg", "x": float("inf")},
        {"v": 3, "u": "/a.jpg", "x": float("nan")},
        {"v": 3, "u": "/a.jpg", "x": 10**400},
        {"v": 3, "u": "/a.jpg", "x": True},
        {"v": 3, "u": 5, "x": None},
        {"v": 3, "u": "/a.jpg"},
    ],
)
def test_malformed_urls_are_misses(value: dict[str, Any]) -> None:
    assert UrlEntry.from_plain(value) is None
    assert UrlEntry.from_plain({"v": 3, "u": "/a.jpg", "x": 1.7e9}) == UrlEntry("/a.jpg", 1.7e9)


def test_malformed_facts_beside_a_record_are_misses() -> None:
    for modified in (10**400, float("inf"), float("nan"), 1e20, "1", None):
        assert ModifiedEntry.from_plain({"v": 3, "g": "g", "m": modified}) is None
    assert ModifiedEntry.from_plain({"v": 3, "g": 1, "m": 1.0}) is None
    for width in (-1, 1.5, "1", 10**400):
        assert DimensionsEntry.from_plain({"v": 3, "g": "g", "w": width, "h": 1}) is None
    assert DimensionsEntry.from_plain({"v": 3, "g": 9, "w": 1, "h": 1}) is None
    assert DimensionsEntry.from_plain({"v": 3, "g": "g", "w": None, "h": None}) is not None


def test_decode_never_raises() -> None:
    class Hostile(dict[str, Any]):
        def get(self, *args: Any) -> Any:
            raise RuntimeError("a value that misbehaves when read")

    for kind in ("r", "u", "m", "d"):
        assert decode(f"ik:3:{kind}:x", Hostile()) is None


@pytest.fixture(params=["locmem", "redis"])
def cache_settings(request: pytest.FixtureRequest) -> Iterator[str]:
    """The default cache: locmem, or Django's RedisCache on a server of the test's own."""
    if request.param == "locmem":
        yield "locmem"
        return
    server = request.getfixturevalue("redis_server")
    config = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{server.port}/0",
    }
    with override_settings(CACHES={"default": config}):
        yield "redis"


def answers(storage: Any) -> tuple[Any, ...]:
    return (
        storage.exists(NAME),
        storage.size(NAME),
        storage.url(NAME),
        storage.get_modified_time(NAME),
        storage.image_dimensions(NAME) if isinstance(storage, CachedStorage) else SIZE,
    )


def test_malformed_records_answer_as_the_storage_and_are_replaced(
    s3: Any, s3_storage: Any, cache_settings: str
) -> None:
    s3.put_object(Bucket="media", Key=NAME, Body=image_bytes(SIZE))
    storage = CachedStorage(storage=s3_storage)
    expected = answers(s3_storage)
    key = storage.core.keys.record(NAME)
    valid = storage.metadata(NAME).to_plain()
    cases = dict(MALFORMED)
    if cache_settings == "redis":
        cases["raw bytes, no pickle"] = lambda plain: RawBytes(random.Random(3).randbytes(40))
    for case, malformed in cases.items():
        put(key, malformed(valid))
        clear_local()
        with count_calls() as first:
            assert answers(storage) == expected, case
        assert first.s3 == {"GetObject": 1}, case  # the probe, once for all five answers
        clear_local()  # a new process: L2 holds the record the probe wrote
        with count_calls() as second:
            assert answers(storage) == expected, case
        assert second.s3 == {}, case
        assert Record.from_plain(caches["default"].get(key)) is not None, case


class RawBytes(bytes):
    """Bytes written under a key by another client, bypassing the cache's serializer."""


def put(key: str, value: Any) -> None:
    cache = caches["default"]
    if isinstance(value, RawBytes):
        cache._cache.get_client(key, write=True).set(cache.make_and_validate_key(key), value)
    else:
        cache.set(key, value)


def test_replacing_junk_costs_a_lease_and_one_write(
    fs: CountingStorage, events: Events, cache_settings: str
) -> None:
    fs.save(NAME, ContentFile(image_bytes(SIZE)))
    storage = CachedStorage(storage=fs)
    key = storage.core.keys.record(NAME)
    caches["default"].set(key, MALFORMED["mtime inf"](storage.metadata(NAME).to_plain()))
    clear_local()
    fs.calls.clear()
    events.round_trips.clear()
    assert storage.exists(NAME)
    # Looked up (record and URL together), the lease, a fresh look, the write, the release.
    assert events.round_trips == {"get_many": 2, "add": 1, "set_many": 1, "delete_many": 1}
    assert fs.calls == {"exists": 1, "size": 1, "open": 1}
    clear_local()
    assert storage.exists(NAME)
    assert fs.calls == {"exists": 1, "size": 1, "open": 1}


def test_raw_bytes_in_redis_are_read_one_key_at_a_time_once(
    fs: CountingStorage, events: Events, redis_server: Any
) -> None:
    config = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{redis_server.port}/0",
    }
    with override_settings(CACHES={"default": config}):
        fs.save(NAME, ContentFile(image_bytes(SIZE)))
        storage = CachedStorage(storage=fs)
        key = storage.core.keys.record(NAME)
        put(key, RawBytes(b"\x80\x05garbage"))
        clear_local()
        fs.calls.clear()
        assert storage.size(NAME) == fs.size(NAME)
        # The batch fails to unpickle; its two keys read alone (the record's fails); the
        # lease; the fresh look (one key) fails too; the write; the release.
        assert events.round_trips == {
            "get_many": 2,
            "get": 2,
            "add": 1,
            "set_many": 1,
            "delete_many": 1,
        }
        clear_local()
        events.round_trips.clear()
        assert storage.size(NAME) == fs.size(NAME)
        assert events.round_trips == {"get_many": 1}


def test_junk_is_not_replaced_while_a_writer_holds_the_lease(fs: CountingStorage) -> None:
    fs.save(NAME, ContentFile(image_bytes(SIZE)))
    storage = CachedStorage(storage=fs)
    key = storage.core.keys.record(NAME)
    junk = MALFORMED["size negative"](storage.metadata(NAME).to_plain())
    caches["default"].set(key, junk)
    clear_local()
    held = storage.core.lease(NAME)  # a save or a delete at work: it writes its own record
    assert storage.size(NAME) == fs.size(NAME)
    assert caches["default"].get(key) == junk
    held.release()
    clear_local()
    assert storage.size(NAME) == fs.size(NAME)
    assert Record.from_plain(caches["default"].get(key)) is not None


def test_a_valid_record_written_meanwhile_is_never_overwritten(fs: CountingStorage) -> None:
    """A save lands between the lookup that found junk and the probe's write."""
    fs.save(NAME, ContentFile(image_bytes(SIZE)))
    storage = CachedStorage(storage=fs)
    key = storage.core.keys.record(NAME)
    caches["default"].set(key, MALFORMED["mtime nan"](storage.metadata(NAME).to_plain()))
    clear_local()
    probe = storage.core.files.probe
    saved = threading.Event()

    def probe_then_save(name: Any) -> Any:
        facts = probe(name)
        if not saved.is_set():  # another process replaces the file meanwhile
            saved.set()
            storage.delete(NAME)
            storage.save(NAME, ContentFile(image_bytes((8, 6))))
        return facts

    storage.core.files.probe = probe_then_save  # type: ignore[method-assign]
    assert storage.exists(NAME)
    clear_local()
    written = Record.from_plain(caches["default"].get(key))
    assert written is not None
    assert written.dimensions == (8, 6)


def test_only_a_deserializers_error_marks_a_value_unreadable() -> None:
    import json
    import pickle

    from ikstorage.cache.unreadable import unreadable_value

    class JsonSerializer:  # as django-redis' serializers name it
        def loads(self, data: bytes) -> Any:
            return json.loads(data)

    errors: list[Exception] = []
    for bad in (lambda: pickle.loads(b"\x80\x05garbage"), lambda: JsonSerializer().loads(b"{")):
        try:
            bad()
        except Exception as exc:
            errors.append(exc)
    assert [unreadable_value(exc) for exc in errors] == [True, True]

    def get_many(keys: Any) -> Any:  # a cache's own bug: raised outside any deserializer
        raise TypeError("a bug")

    with pytest.raises(TypeError) as raised:
        get_many([])
    assert not unreadable_value(raised.value)
