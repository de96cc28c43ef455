"""``ikstorage.E008``: ``CachedStorage`` is used but the ``ikstorage`` app is not installed.

Without the app none of the other checks is registered and the
``{% load ikstorage %}`` tags do not load. A check registered in
``AppConfig.ready()`` never runs when the app is missing, so this one is
registered when ``ikstorage.CachedStorage`` is first resolved (a model
field's storage, a ``STORAGES`` entry being built, an import in the
project's code), from the package's ``__getattr__`` through
:func:`ikstorage.apps.cached_storage_resolved`, which also installs the hooks
the app would have installed. A ``STORAGES`` entry alone is resolved only
when first used, after ``manage.py check`` has run: the storage then logs the
same message. Django's registry is a set, so registering again is a no-op.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig, apps
from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

__all__ = ["check_installed", "register"]


def register() -> None:
    """Register :func:`check_installed` (idempotent: the registry keeps a set)."""
    checks.register(checks.Tags.caches)(check_installed)


def check_installed(
    *,
    app_configs: Sequence[AppConfig] | None = None,
    databases: Sequence[str] | None = None,
    **kwargs: Any,
) -> list[checks.CheckMessage]:
    """E008 once, naming where ``CachedStorage`` is used, when the app is missing."""
    if apps.is_installed("ikstorage"):
        return []
    users = _users()
    if not users:
        return []
    return [
        checks.Error(
            f"CachedStorage is used ({', '.join(users)}) but 'ikstorage' is not in "
            "INSTALLED_APPS: the {% load ikstorage %} tags do not load and the other "
            "ikstorage checks do not run. (The dimension hook and lookup batching are "
            "installed when the storage is first used, so pages are not slower.)",
            hint="Add 'ikstorage' to INSTALLED_APPS.",
            id="ikstorage.E008",
        )
    ]


def _users() -> list[str]:
    """Where ``CachedStorage`` is configured: ``STORAGES`` entries, then model fields."""
    from django.utils.functional import LazyObject

    from ikstorage.storage import CachedStorage

    found = []
    for alias, spec in settings.STORAGES.items():
        try:
            backend = import_string(str(spec.get("BACKEND")))
        except Exception:
            continue
        if isinstance(backend, type) and issubclass(backend, CachedStorage):
            found.append(f"STORAGES[{alias!r}]")
    for model in apps.get_models():
        for field in model._meta.get_fields():
            storage = getattr(field, "storage", None)
            if not isinstance(storage, LazyObject) and isinstance(storage, CachedStorage):
                found.append(f"{model._meta.label}.{field.name}")
    return found
