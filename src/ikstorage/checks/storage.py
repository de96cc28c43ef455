"""System checks of the storage a ``CachedStorage`` wraps and of its own options.

The wrapped storage must build, its signed URLs must outlive the memo's
margin, deferred rendering needs the Tasks framework and an alias, and its
records need an identity that is the same in every process.
"""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

__all__ = ["check_storage"]


def check_storage(where: str, storage: Any) -> list[checks.CheckMessage]:
    """E002, W003, E006, E007 and W005: what the wrapped storage and its options lack."""
    errors: list[checks.CheckMessage] = []
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
        errors += check_deferred(where, storage)
    errors += check_identity(where, storage)
    return errors


def check_identity(where: str, storage: Any) -> list[checks.CheckMessage]:
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


def check_deferred(where: str, storage: Any) -> list[checks.CheckMessage]:
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
