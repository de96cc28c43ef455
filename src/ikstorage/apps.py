"""The ``ikstorage`` app: installs the hooks on Django's file classes and registers the checks."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core.signals import request_started, setting_changed


class IkStorageConfig(AppConfig):
    name = "ikstorage"
    label = "ikstorage"
    verbose_name = "ikstorage"

    def ready(self) -> None:
        from ikstorage import batching, checks, fieldfiles, hooks
        from ikstorage.conf import conf

        checks.register()
        if conf.PATCH_IMAGEFILE:
            hooks.install()
        if conf.BATCH_LOOKUPS:
            fieldfiles.install()
        request_started.connect(batching.clear, dispatch_uid="ikstorage-batching-clear")
        setting_changed.connect(_setting_changed, dispatch_uid="ikstorage-setting-changed")


def _setting_changed(*, setting: str, **kwargs: Any) -> None:
    from ikstorage import cache, fieldfiles, hooks, storage
    from ikstorage.conf import conf

    storage.settings_changed(setting)
    if setting == "IKSTORAGE_PATCH_IMAGEFILE":
        (hooks.install if conf.PATCH_IMAGEFILE else hooks.uninstall)()
    elif setting == "IKSTORAGE_BATCH_LOOKUPS":
        (fieldfiles.install if conf.BATCH_LOOKUPS else fieldfiles.uninstall)()
    elif setting == "CACHES":
        cache.clear_local()
