"""The ``ikstorage`` app: installs the ``ImageFile`` hook and registers the system checks."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core.signals import setting_changed


class IkStorageConfig(AppConfig):
    name = "ikstorage"
    label = "ikstorage"
    verbose_name = "ikstorage"

    def ready(self) -> None:
        from ikstorage import checks, hooks
        from ikstorage.conf import conf

        checks.register()
        if conf.PATCH_IMAGEFILE:
            hooks.install()
        setting_changed.connect(_setting_changed, dispatch_uid="ikstorage-setting-changed")


def _setting_changed(*, setting: str, **kwargs: Any) -> None:
    from ikstorage import cache, hooks
    from ikstorage.conf import conf

    if setting == "IKSTORAGE_PATCH_IMAGEFILE":
        (hooks.install if conf.PATCH_IMAGEFILE else hooks.uninstall)()
    elif setting == "CACHES":
        cache.clear_local()
