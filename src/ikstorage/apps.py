"""The ``ikstorage`` app: installs the hooks on Django's file classes and registers the checks."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig, apps
from django.core.signals import request_started, setting_changed


class IkStorageConfig(AppConfig):
    name = "ikstorage"
    label = "ikstorage"
    verbose_name = "ikstorage"

    def ready(self) -> None:
        from ikstorage import checks

        checks.register()
        install_hooks()


def install_hooks() -> None:
    """Install the hooks on Django's file classes and the signal receivers (idempotent).

    Called by the app's ``ready()``, and by :func:`cached_storage_resolved`
    when ``CachedStorage`` is used without the app: a missing
    ``INSTALLED_APPS`` line must not bring back a storage call per image.
    """
    from ikstorage.conf import conf
    from ikstorage.core import batching
    from ikstorage.patches import descriptor, imagefile

    if conf.PATCH_IMAGEFILE:
        imagefile.install()
    if conf.BATCH_LOOKUPS:
        descriptor.install()
    request_started.connect(batching.clear, dispatch_uid="ikstorage-batching-clear")
    setting_changed.connect(_setting_changed, dispatch_uid="ikstorage-setting-changed")


def cached_storage_resolved() -> None:
    """``ikstorage.CachedStorage`` was looked up: make a missing app loud, not slow.

    A ``STORAGES`` entry names the class by its dotted path, so when the app
    is missing from ``INSTALLED_APPS`` nothing of ikstorage runs until the
    storage is first used. Then ``ikstorage.E008`` is registered (it reports
    at the next ``manage.py check``; the storage logs it at once), and the
    hooks the app would have installed are installed here, so pages still
    make no storage call per image. When the app registry is not ready yet
    (the class imported from a settings module) the app cannot be looked up:
    its ``ready()``, if it is installed, does the same.
    """
    from ikstorage.checks import installed

    installed.register()
    if apps.apps_ready and not apps.is_installed("ikstorage"):
        install_hooks()


def _setting_changed(*, setting: str, **kwargs: Any) -> None:
    from ikstorage import cache, storage
    from ikstorage.conf import conf
    from ikstorage.patches import descriptor, imagefile

    storage.settings_changed(setting)
    if setting == "IKSTORAGE_PATCH_IMAGEFILE":
        (imagefile.install if conf.PATCH_IMAGEFILE else imagefile.uninstall)()
    elif setting == "IKSTORAGE_BATCH_LOOKUPS":
        (descriptor.install if conf.BATCH_LOOKUPS else descriptor.uninstall)()
    elif setting == "CACHES":
        cache.clear_local()
