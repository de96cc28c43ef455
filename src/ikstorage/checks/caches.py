"""System checks of the cache a ``CachedStorage`` keeps its records in.

A cache that cannot work (its alias or client library missing), that does not
share (local memory, the dummy cache) or that can hang a page (no socket
timeouts) is reported at ``manage.py check`` rather than found on a live page.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

from ikstorage.cache import errors as cache_errors
from ikstorage.cache.broadcast import BACKENDS, carries

__all__ = ["check_broadcast", "check_cache"]

LOCMEM = "django.core.cache.backends.locmem.LocMemCache"
DUMMY = "django.core.cache.backends.dummy.DummyCache"


def check_cache(where: str, alias: str) -> list[checks.CheckMessage]:
    """E001, E004, E005, W001, W002, W004, W006: what the ``cache`` alias of a storage lacks."""
    errors: list[checks.CheckMessage] = []
    if alias not in settings.CACHES:
        errors.append(
            checks.Error(
                f"The cache alias {alias!r} is not in settings.CACHES.",
                hint=f"Add it to CACHES or set OPTIONS['cache'] to one of "
                f"{sorted(settings.CACHES)}.",
                obj=where,
                id="ikstorage.E001",
            )
        )
    else:
        backend = settings.CACHES[alias].get("BACKEND")
        unusable = _check_backend(where, alias, backend)
        errors += unusable or _check_timeouts(where, alias, settings.CACHES[alias])
        if backend == LOCMEM and not settings.is_overridden("CACHES"):
            errors.append(_implicit_locmem(where, alias))
        elif backend == LOCMEM and not settings.DEBUG:
            errors.append(
                checks.Warning(
                    f"The cache {alias!r} is process-local memory.",
                    hint="Each process fills its own copy from S3. Use Redis, Memcached, the "
                    "database or file cache so processes share what they learned.",
                    obj=where,
                    id="ikstorage.W001",
                )
            )
        elif backend == DUMMY:
            errors.append(
                checks.Warning(
                    f"The cache {alias!r} is the dummy cache: nothing is shared between processes.",
                    hint="Point OPTIONS['cache'] at a real cache.",
                    obj=where,
                    id="ikstorage.W002",
                )
            )
    return errors


def _implicit_locmem(where: str, alias: str) -> checks.CheckMessage:
    """``ikstorage.W006``: no ``CACHES`` setting at all, whatever ``DEBUG`` says.

    Django's default is then a local-memory cache: a newcomer who never chose
    it learns here, not from a prewarm whose records vanish with its process,
    that every process keeps its own records.
    """
    return checks.Warning(
        f"settings.CACHES is not set, so the cache {alias!r} is Django's default: "
        "process-local memory. Each process (each worker, each manage.py command) "
        "keeps its own records and fills them from the storage again; "
        "ikstorage_prewarm cannot fill it.",
        hint="Set CACHES, e.g. {'default': {'BACKEND': "
        "'django.core.cache.backends.redis.RedisCache', 'LOCATION': "
        "'redis://127.0.0.1:6379/0', 'OPTIONS': {'socket_timeout': 0.25, "
        "'socket_connect_timeout': 0.25}}} (see the README).",
        obj=where,
        id="ikstorage.W006",
    )


#: Network caches and the OPTIONS that bound how long a call may wait.
TIMEOUT_OPTIONS = {
    "django.core.cache.backends.redis.RedisCache": ("socket_timeout", "socket_connect_timeout"),
    "django_redis.cache.RedisCache": ("SOCKET_TIMEOUT", "SOCKET_CONNECT_TIMEOUT"),
    "django.core.cache.backends.memcached.PyMemcacheCache": ("timeout", "connect_timeout"),
}


def _check_timeouts(where: str, alias: str, config: dict[str, Any]) -> list[checks.CheckMessage]:
    """``ikstorage.W004``: a network cache without socket timeouts.

    The breaker turns a hung cache into one timeout per page, but only if a
    call ever times out: redis-py waits 5 s by default, pymemcache forever.
    """
    wanted = TIMEOUT_OPTIONS.get(config.get("BACKEND", ""))
    options = config.get("OPTIONS") or {}
    if wanted is None or all(options.get(name) is not None for name in wanted):
        return []
    missing = [name for name in wanted if options.get(name) is None]
    return [
        checks.Warning(
            f"The cache {alias!r} sets no {' or '.join(missing)}: a hung cache server "
            "makes a page wait for the client's default (5 s for redis-py, forever for "
            "pymemcache) before ikstorage answers from the storage.",
            hint=f"Set OPTIONS {{{', '.join(f'{n!r}: 0.25' for n in missing)}}} "
            "(see docs/production.md).",
            obj=where,
            id="ikstorage.W004",
        )
    ]


def _check_backend(where: str, alias: str, backend: Any) -> list[checks.CheckMessage]:
    """E004/E005: the cache cannot work however healthy its server is.

    Django imports a cache's client library only on first use, so without this
    a missing ``redis`` package shows up as an error on the first page instead
    of at deploy.
    """
    try:
        backend_class = import_string(str(backend))
    except Exception as exc:
        module = cache_errors.missing_module(exc)
        if module is not None:
            return [_missing_library(where, alias, str(backend), module, exc)]
        return [
            checks.Error(
                f"The cache {alias!r} has BACKEND {backend!r}, which does not import "
                f"({type(exc).__name__}: {exc}).",
                hint=f"Set CACHES[{alias!r}]['BACKEND'] to the dotted path of a cache "
                "backend class, e.g. 'django.core.cache.backends.redis.RedisCache', or "
                "install the package that provides it.",
                obj=where,
                id="ikstorage.E004",
            )
        ]
    required = cache_errors.required_library(backend_class)
    if required is None:
        return []
    module, _package = required
    try:
        importlib.import_module(module)
    except ImportError as exc:
        return [_missing_library(where, alias, str(backend), module, exc)]
    return []


def _missing_library(
    where: str, alias: str, backend: str, module: str, exc: BaseException
) -> checks.CheckMessage:
    package = cache_errors.PACKAGES[module]
    return checks.Error(
        f"The cache {alias!r} uses {backend}, which needs the {package!r} package: "
        f"module {module!r} does not import ({exc}).",
        hint=f"pip install {package} (and add it to the project's requirements), or "
        f"point CACHES[{alias!r}]['BACKEND'] at a backend whose library is installed.",
        obj=where,
        id="ikstorage.E005",
    )


def check_broadcast(where: str, alias: str, broadcast: object) -> list[checks.CheckMessage]:
    """``ikstorage.E009``: ``OPTIONS["broadcast"]`` on a cache that is not Redis.

    The announcements travel over the cache's own Redis connection; any other
    cache cannot carry them, and the storage raises when first used rather
    than quietly serving other processes' stale records for ``local_timeout``.
    """
    if broadcast is not True or alias not in settings.CACHES:
        return []
    backend = settings.CACHES[alias].get("BACKEND")
    if carries(backend):
        return []
    return [
        checks.Error(
            f"OPTIONS['broadcast'] is on, but the cache {alias!r} is {backend!r}: "
            "writes can only be announced over Redis.",
            hint=f"Point OPTIONS['cache'] at a cache using {' or '.join(BACKENDS)}, or "
            "remove OPTIONS['broadcast'] (other processes then see writes within "
            "local_timeout).",
            obj=where,
            id="ikstorage.E009",
        )
    ]
