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
* ``ikstorage.E008`` — ``CachedStorage`` is used but ``"ikstorage"`` is not in
  ``INSTALLED_APPS`` (registered from :mod:`.installed`, not by the app).
* ``ikstorage.E009`` — ``OPTIONS["broadcast"]`` on a cache that is not Redis
  (Django's ``RedisCache`` or django-redis).
* ``ikstorage.W001`` — the cache is local memory while ``DEBUG`` is off: each
  process has its own, so new processes start cold and writes in one process
  are not seen by the others until their entries expire.
* ``ikstorage.W002`` — the cache is the dummy cache: nothing is cached.
* ``ikstorage.W003`` — signed URLs expire sooner than ``url_expiry_margin``:
  they are never memoized.
* ``ikstorage.W004`` — a Redis or Memcached cache without socket timeouts.
* ``ikstorage.W005`` — no identity can be derived for the wrapped storage and
  none is named (``OPTIONS["identity"]``): its records are per process.
* ``ikstorage.W006`` — ``CACHES`` is not set: Django's default local-memory
  cache, whatever ``DEBUG`` says.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.apps import AppConfig, apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import LazyObject
from django.utils.module_loading import import_string

from ikstorage.checks.caches import check_broadcast, check_cache
from ikstorage.checks.storage import check_storage
from ikstorage.conf import conf


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
    """Every CachedStorage the project uses: STORAGES entries and model field storages.

    A ``STORAGES`` entry that cannot be built comes as ``(where, (error, OPTIONS))``.
    """
    from django.core.files.storage import storages

    from ikstorage.storage import CachedStorage

    for alias, spec in settings.STORAGES.items():
        if _is_cached(spec.get("BACKEND"), CachedStorage):
            try:
                yield f"STORAGES[{alias!r}]", storages[alias]
            except ImproperlyConfigured as exc:
                yield f"STORAGES[{alias!r}]", (exc, spec.get("OPTIONS") or {})
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
        if isinstance(storage, tuple):
            errors += _unbuilt(where, *storage)
            continue
        if id(storage) in seen:
            continue
        seen.add(id(storage))
        errors += _check_one(where, storage)
    return errors


def _unbuilt(where: str, error: ImproperlyConfigured, options: Any) -> list[checks.CheckMessage]:
    """E002 for every mistake in a storage that cannot be built, and its cache's checks.

    Building stops at the first mistake; a project fixing one at a time would
    run ``check`` once per broken spec, and meet the cache's warnings last.
    """
    from ikstorage.renditions import spec_errors

    found = [str(error)]
    if isinstance(options, dict):
        found += [str(e) for e in spec_errors(options.get("specs")) if str(e) not in found]
    errors: list[checks.CheckMessage] = [
        checks.Error(message, obj=where, id="ikstorage.E002") for message in found
    ]
    cache = options.get("cache", "default") if isinstance(options, dict) else None
    if isinstance(cache, str):
        errors += check_cache(where, cache)
        errors += check_broadcast(where, cache, options.get("broadcast"))
    return errors


def _check_one(where: str, storage: Any) -> list[checks.CheckMessage]:
    """The checks of one storage: its cache (``caches``), then what it wraps (``storage``)."""
    options = storage.options
    return (
        check_cache(where, options.cache)
        + check_broadcast(where, options.cache, options.broadcast)
        + check_storage(where, storage)
    )
