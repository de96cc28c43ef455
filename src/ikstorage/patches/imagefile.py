"""Answer ``ImageFile.width`` and ``.height`` from the storage's cache.

Django's ``ImageFile._get_image_dimensions`` opens the file and feeds it to
Pillow. For a file on S3 that is two ``HeadObject`` calls and a ``GetObject``
every time a fresh model instance asks. When the file's storage can answer
(it has an ``image_dimensions(name)`` method, as ``CachedStorage`` does), the
hook asks it instead; anything else — a file not saved yet, another storage,
a storage that answers ``None`` — takes the class's own path unchanged. When
the storage answered ``None`` for a file it holds (its header did not tell the
dimensions within the probe's budget), what Django's path found is handed back
to the storage's ``remember_dimensions(name, dimensions)``, so the next
asker, in any process, is answered from the cache.

The hook sits on ``django.core.files.images.ImageFile``, so every subclass
that keeps Django's lookup benefits (``ImageFieldFile``, django-imagekit's
``ImageCacheFile``). easy-thumbnails' ``ThumbnailFile`` replaces the lookup
with its own, so when easy-thumbnails is installed its method is wrapped the
same way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.core.files.images import ImageFile
from django.core.files.storage import default_storage
from django.utils.functional import empty

from ikstorage.patches.default import state, wrapped_default

Dimensions = tuple[int | None, int | None]
Lookup = Callable[[Any], Dimensions]

#: Patched classes and the method each had before.
_originals: dict[type, Lookup] = {}


def _asking_the_storage_first(original: Lookup) -> Lookup:
    @functools.wraps(original)
    def _get_image_dimensions(self: Any) -> Dimensions:
        cached = self.__dict__.get("_dimensions_cache")
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        if not hasattr(self, "_dimensions_cache"):
            storage: Any = getattr(self, "storage", None)
            if storage is default_storage:  # not through the proxy's costly detour
                storage = state["_wrapped"]
                if storage is empty:
                    storage = wrapped_default()
            answer = getattr(storage, "image_dimensions", None)
            name = getattr(self, "name", None)
            if name and callable(answer) and getattr(self, "_committed", True):
                dimensions = answer(name)
                if dimensions is not None:
                    self._dimensions_cache = dimensions
                    return dimensions  # type: ignore[no-any-return]
                found = original(self)
                remember = getattr(storage, "remember_dimensions", None)
                if callable(remember):
                    remember(name, tuple(found))
                return found
        return original(self)

    _get_image_dimensions.ikstorage_hook = True  # type: ignore[attr-defined]
    return _get_image_dimensions


def _targets() -> list[type]:
    targets: list[type] = [ImageFile]
    if apps.is_installed("easy_thumbnails"):
        from easy_thumbnails.files import ThumbnailFile

        targets.append(ThumbnailFile)
    return targets


def install() -> None:
    """Route dimension lookups through the storage (idempotent)."""
    for cls in _targets():
        if cls not in _originals:
            original: Lookup = cls.__dict__["_get_image_dimensions"]
            _originals[cls] = original
            cls._get_image_dimensions = _asking_the_storage_first(original)  # type: ignore[attr-defined]


def uninstall() -> None:
    """Restore each class's own dimension lookup."""
    for cls, original in list(_originals.items()):
        cls._get_image_dimensions = original  # type: ignore[attr-defined]
        del _originals[cls]


def installed() -> bool:
    return getattr(ImageFile._get_image_dimensions, "ikstorage_hook", False) is True  # type: ignore[attr-defined]
