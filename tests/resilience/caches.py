"""The cache settings ``docs/production.md`` recommends, as the resilience tests use them.

Every networked cache gets a bounded connect and read timeout: with the
circuit breaker (``IKSTORAGE_CACHE_RETRY_AFTER``) a hung server then costs a
page one timeout, not one per image. Memcached's client (pymemcache's
``HashClient``, which Django always uses) also gets ``retry_attempts: 0``: with
its default of 2 it answers "miss" (and drops deletes) *silently* for a second
after a failure instead of raising, so an outage cannot be seen; and a short
``dead_timeout``, so a server that is back is used again within seconds
instead of its default 60.
"""

from __future__ import annotations

from typing import Any

#: Connect and read timeout of every networked cache, seconds.
SOCKET_TIMEOUT = 0.25
#: Seconds pymemcache waits before trying a server it marked dead again.
MEMCACHED_DEAD_TIMEOUT = 1.0


def redis(port: int, timeout: float = SOCKET_TIMEOUT) -> dict[str, Any]:
    """Django's own Redis backend."""
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{port}/0",
        "OPTIONS": {"socket_connect_timeout": timeout, "socket_timeout": timeout},
    }


def django_redis(
    port: int, *, ignore_exceptions: bool = False, timeout: float = SOCKET_TIMEOUT
) -> dict[str, Any]:
    """django-redis; ``IGNORE_EXCEPTIONS`` swallows its connection errors."""
    options: dict[str, Any] = {"SOCKET_CONNECT_TIMEOUT": timeout, "SOCKET_TIMEOUT": timeout}
    if ignore_exceptions:
        options["IGNORE_EXCEPTIONS"] = True
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{port}/0",
        "OPTIONS": options,
    }


def memcached(port: int, timeout: float = SOCKET_TIMEOUT) -> dict[str, Any]:
    """Django's pymemcache backend, with failures raised instead of hidden."""
    return {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": f"127.0.0.1:{port}",
        "OPTIONS": {
            "connect_timeout": timeout,
            "timeout": timeout,
            "retry_attempts": 0,
            "dead_timeout": MEMCACHED_DEAD_TIMEOUT,
        },
    }


def database(table: str) -> dict[str, Any]:
    return {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": table}


def filebased(directory: str) -> dict[str, Any]:
    return {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": directory}


def diskcache(directory: str) -> dict[str, Any]:
    """diskcache's ``DjangoCache`` (SQLite shards in a directory)."""
    return {
        "BACKEND": "diskcache.DjangoCache",
        "LOCATION": directory,
        "SHARDS": 4,
        "DATABASE_TIMEOUT": 0.01,
        "OPTIONS": {"size_limit": 2**30},
    }


def locmem() -> dict[str, Any]:
    return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
