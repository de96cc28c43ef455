"""L2 reads that survive a value which does not even deserialize.

Values in the shared cache are untrusted (``DESIGN.md``, invariant 16). Most
junk deserializes into something :func:`ikstorage.records.decode` refuses, but
some does not deserialize at all: raw bytes another client or serializer wrote
under a key (a switch from django-redis' msgpack serializer to Django's
``RedisCache`` over the same server), a truncated pickle. The cache backend
then raises from ``get_many``, and one such value would fail every lookup of
every page that batches its key.

:func:`read_many` tells that error from the cache's own (a bad setting, a bug:
raised unchanged, see :class:`~ikstorage.cache.health.Health`) by where it was
raised: in the serializer's ``loads``. Then it reads the keys one by one and
returns those whose value cannot be read as *unreadable*: misses, to be replaced.
"""

from __future__ import annotations

import pickle
import traceback
from typing import Any

from ikstorage.cache.health import Health, l2

__all__ = ["read_many", "unreadable_value"]

_NOTHING: Any = object()

#: Names of the functions that turn stored bytes back into values, in Django's
#: cache backends, django-redis' serializers and pymemcache.
_DESERIALIZERS = ("loads", "deserialize", "_deserialize", "python_memcache_deserializer")


def unreadable_value(exc: BaseException) -> bool:
    """True when ``exc`` was raised turning a stored value back into an object."""
    if isinstance(exc, pickle.UnpicklingError):
        return True
    return any(frame.name in _DESERIALIZERS for frame in traceback.extract_tb(exc.__traceback__))


def read_many(health: Health, alias: str, keys: list[str]) -> tuple[dict[str, Any], set[str]]:
    """L2's values for ``keys`` (``{}`` in an outage), and the keys whose value is unreadable.

    One ``get_many`` when every value deserializes; otherwise one ``get`` per key,
    so the rare page that meets an unreadable value pays a round trip per key, once
    (the value is then replaced).
    """
    try:
        return health.run("get_many", lambda: l2(alias).get_many(keys), {}), set()
    except Exception as exc:
        if not unreadable_value(exc):
            raise
        if len(keys) == 1:
            return {}, set(keys)
    values: dict[str, Any] = {}
    unreadable: set[str] = set()
    for key in keys:

        def get(key: str = key) -> Any:
            return l2(alias).get(key, _NOTHING)

        try:
            value = health.run("get", get, _NOTHING)
        except Exception as exc:
            if not unreadable_value(exc):
                raise
            unreadable.add(key)
            continue
        if value is not _NOTHING:
            values[key] = value
    return values, unreadable
