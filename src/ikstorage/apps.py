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
        from ikstorage import checks
        from ikstorage.conf import conf
        from ikstorage.core import batching
        from ikstorage.patches import descriptor, imagefile

        checks.register()
        if conf.PATCH_IMAGEFILE:
            imagefile.install()
        if conf.BATCH_LOOKUPS:
            descriptor.install()
        request_started.connect(batching.clear, dispatch_uid="ikstorage-batching-clear")
        setting_changed.connect(_setting_changed, dispatch_uid="ikstorage-setting-changed")


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
