"""Django cache calls and database queries, counted the same way for every library.

ikstorage's profiler counts ikstorage's own cache round trips; django-imagekit
and sorl-thumbnail use the Django cache too (imagekit remembers that a file
exists, sorl keeps its key-value store there). To compare pages, every call
any library makes on the Django cache is counted here, at the cache backend:
one public call (``get``, ``get_many``, ``add``, ``set_many``...) is one round
trip, as it would be to Redis or Memcached, however the file-based backend
carries it out (its ``get_many`` is a loop over ``get``; only the outer call
is counted).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

from django.core.cache.backends.filebased import FileBasedCache
from django.db import connection

#: Round trips by operation since the last :func:`reset`, from every thread.
calls: Counter[str] = Counter()
_lock = threading.Lock()
_depth = threading.local()

PUBLIC = (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "set_many",
    "delete_many",
    "has_key",
    "incr",
    "decr",
    "get_or_set",
    "clear",
)


def _counted(operation: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        depth = getattr(_depth, "value", 0)
        if depth == 0:
            with _lock:
                calls[operation] += 1
        _depth.value = depth + 1
        try:
            return method(self, *args, **kwargs)
        finally:
            _depth.value = depth

    return call


class CountingFileBasedCache(FileBasedCache):
    """Django's file-based cache, counting each public call once."""


for _operation in PUBLIC:
    setattr(
        CountingFileBasedCache,
        _operation,
        _counted(_operation, getattr(FileBasedCache, _operation)),
    )


def reset() -> None:
    with _lock:
        calls.clear()


def snapshot() -> dict[str, int]:
    with _lock:
        return dict(sorted(calls.items()))


@contextmanager
def queries() -> Iterator[list[int]]:
    """Count the database queries of the block: ``with queries() as n: ...; n[0]``."""
    count = [0]

    def wrapper(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield count
