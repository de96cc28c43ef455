"""System checks: configuration mistakes found at ``manage.py check``, not on a live page.

IDs are stable and listed in ``docs/checks.md``:

* ``ikstorage.E001`` — the ``cache`` option names an alias missing from ``CACHES``.
* ``ikstorage.E002`` — the wrapped storage cannot be built.
* ``ikstorage.E003`` — an ``IKSTORAGE_*`` setting has a wrong type or value.
* ``ikstorage.E004`` — the cache's ``BACKEND`` does not import.
* ``ikstorage.E005`` — the cache's backend needs a client library that is not
  installed (``RedisCache`` without ``redis``, ``PyMemcacheCache`` without
  ``pymemcache``, ``PyLibMCCache`` without ``pylibmc``).
* ``ikstorage.E006`` — ``render="defer"`` without Django's Tasks framework
  (Django 6.0+, or the ``django-tasks`` backport).
* ``ikstorage.E007`` — ``render="defer"`` on a storage that is not an entry of
  ``STORAGES`` (a task worker finds it by its alias).
* ``ikstorage.W001`` — the cache is local memory while ``DEBUG`` is off: each
  process has its own, so new processes start cold and writes in one process
  are not seen by the others until their entries expire.
* ``ikstorage.W002`` — the cache is the dummy cache: nothing is cached.
* ``ikstorage.W003`` — signed URLs expire sooner than ``url_expiry_margin``:
  they are never memoized.
* ``ikstorage.W004`` — a Redis or Memcached cache without socket timeouts.
* ``ikstorage.W005`` — no identity can be derived for the wrapped storage and
  none is named (``OPTIONS["identity"]``): its records are per process.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from typing import Any

from django.apps import AppConfig, apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import LazyObject
from django.utils.module_loading import import_string

from ikstorage.cache import errors as cache_errors
from ikstorage.conf import conf

LOCMEM = "django.core.cache.backends.locmem.LocMemCache"
DUMMY = "django.core.cache.backends.dummy.DummyCache"


def register() -> None:
    checks.register(checks.Tags.caches)(check_storages)
    checks.register()(check_settings)


def check_settings(
    *,
    app_configs: Sequence[AppConfig] | None = None,
    databases: Sequence[str] | None = None,
    **kwargs: Any,
) -> list[checks.CheckMessage]:
    """``ikstorage.E003`` for each ``IKSTORAGE_*`` setting that would raise when read."""
    from ikstorage.profiler.conf import options as profiler_options

    errors: list[checks.CheckMessage] = [
        checks.Error(
            str(exc),
            hint="See the project settings in docs/settings.md.",
            id="ikstorage.E003",
        )
        for exc in conf.errors()
    ]
    try:
        profiler_options()
    except ImproperlyConfigured as exc:
        errors.append(checks.Error(str(exc), hint="See docs/profiler.md.", id="ikstorage.E003"))
    return errors


def _configured() -> Iterator[tuple[str, Any]]:
    """Every CachedStorage the project uses: STORAGES entries and model field storages."""
    from django.core.files.storage import storages

    from ikstorage.storage import CachedStorage

    for alias, spec in settings.STORAGES.items():
        if _is_cached(spec.get("BACKEND"), CachedStorage):
            try:
                yield f"STORAGES[{alias!r}]", storages[alias]
            except ImproperlyConfigured as exc:
                yield f"STORAGES[{alias!r}]", exc
    for model in apps.get_models():
        for field in model._meta.get_fields():
            storage = getattr(field, "storage", None)
            # default_storage (a LazyObject) is STORAGES["default"], checked above.
            if not isinstance(storage, LazyObject) and isinstance(storage, CachedStorage):
                yield f"{model._meta.label}.{field.name}", storage


def _is_cached(backend: Any, cached: type) -> bool:
    """True if ``BACKEND`` is ``CachedStorage`` or a subclass, however its path is spelled.

    A ``BACKEND`` that does not import is none of ikstorage's to report: Django
    raises when that storage is first used.
    """
    try:
        found = import_string(str(backend))
    except Exception:
        return False
    return isinstance(found, type) and issubclass(found, cached)


def check_storages(
    *,
    app_configs: Sequence[AppConfig] | None = None,
    databases: Sequence[str] | None = None,
    **kwargs: Any,
) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    seen: set[int] = set()
    for where, storage in _configured():
        if isinstance(storage, ImproperlyConfigured):
            errors.append(checks.Error(str(storage), obj=where, id="ikstorage.E002"))
            continue
        if id(storage) in seen:
            continue
        seen.add(id(storage))
        errors += _check_one(where, storage)
    return errors


def _check_one(where: str, storage: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    alias = storage.options.cache
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
        if backend == LOCMEM and not settings.DEBUG:
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
    try:
        lifetime = storage.core.files.url_lifetime()
    except Exception as exc:
        errors.append(
            checks.Error(
                f"The wrapped storage could not be built: {type(exc).__name__}: {exc}",
                hint="Check OPTIONS['storage'] and the wrapped storage's own settings.",
                obj=where,
                id="ikstorage.E002",
            )
        )
        return errors
    margin = storage.options.url_expiry_margin
    if lifetime is not None and lifetime <= margin:
        errors.append(
            checks.Warning(
                f"Signed URLs live {lifetime}s, not longer than url_expiry_margin "
                f"({margin:g}s), so they are never memoized.",
                hint="Raise the storage's querystring_expire or lower url_expiry_margin.",
                obj=where,
                id="ikstorage.W003",
            )
        )
    if storage.options.render == "defer":
        errors += _check_deferred(where, storage)
    errors += _check_identity(where, storage)
    return errors


def _check_identity(where: str, storage: Any) -> list[checks.CheckMessage]:
    """``ikstorage.W005``: nothing that is the same in every process names the storage."""
    if storage.options.identity is not None or storage.core.files.identity() is not None:
        return []
    wrapped = type(storage.core.wrapped)
    return [
        checks.Warning(
            f"No identity can be derived for {wrapped.__module__}.{wrapped.__qualname__} "
            "(no deconstruct(), or arguments that differ between processes): each process "
            "keeps its own records and sees another's writes only when they expire.",
            hint="Name its files with OPTIONS['identity'] (see docs/checks.md).",
            obj=where,
            id="ikstorage.W005",
        )
    ]


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


def _check_deferred(where: str, storage: Any) -> list[checks.CheckMessage]:
    """``render="defer"`` needs Django's Tasks framework and a STORAGES alias to find it by."""
    from ikstorage.exceptions import ConfigurationError

    try:
        from ikstorage.renditions import tasks  # noqa: F401  (needs Django's Tasks framework)
    except ImproperlyConfigured as exc:
        return [
            checks.Error(
                str(exc),
                hint="Use Django 6.0+, or pip install django-tasks on Django 5.2.",
                obj=where,
                id="ikstorage.E006",
            )
        ]
    from ikstorage.renditions.binding import required
    from ikstorage.renditions.queue import alias_of

    try:
        alias_of(required(where, storage))
    except ConfigurationError as exc:
        return [
            checks.Error(
                str(exc),
                hint="Declare the storage in settings.STORAGES and point the field at it "
                "(storage=lambda: storages['media']), or use render='save'.",
                obj=where,
                id="ikstorage.E007",
            )
        ]
    return []


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
