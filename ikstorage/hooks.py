"""Answer ``ImageFile.width`` and ``.height`` from the storage's cache.

Django's ``ImageFile._get_image_dimensions`` opens the file and feeds it to
Pillow. For a file on S3 that is two ``HeadObject`` calls and a ``GetObject``
every time a fresh model instance asks. When the file's storage can answer
(it has an ``image_dimensions(name)`` method, as ``CachedStorage`` does), the
hook asks it instead; anything else — a file not saved yet, another storage,
a storage that answers ``None`` — takes Django's own path unchanged.

Because the hook sits on ``django.core.files.images.ImageFile``, it serves
every subclass: ``ImageFieldFile``, easy-thumbnails' ``ThumbnailFile`` and
django-imagekit's ``ImageCacheFile`` alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.files.images import ImageFile

Dimensions = tuple[int | None, int | None]

_original: Callable[[ImageFile], Dimensions] = ImageFile._get_image_dimensions  # type: ignore[attr-defined]


def _get_image_dimensions(self: ImageFile) -> Dimensions:
    if not hasattr(self, "_dimensions_cache"):
        storage: Any = getattr(self, "storage", None)
        answer = getattr(storage, "image_dimensions", None)
        name = getattr(self, "name", None)
        if name and callable(answer) and getattr(self, "_committed", True):
            dimensions = answer(name)
            if dimensions is not None:
                self._dimensions_cache = dimensions  # type: ignore[attr-defined]
                return dimensions  # type: ignore[no-any-return]
    return _original(self)


def install() -> None:
    """Route dimension lookups through the storage (idempotent)."""
    ImageFile._get_image_dimensions = _get_image_dimensions  # type: ignore[attr-defined]


def uninstall() -> None:
    """Restore Django's own dimension lookup."""
    ImageFile._get_image_dimensions = _original  # type: ignore[attr-defined]


def installed() -> bool:
    return ImageFile._get_image_dimensions is _get_image_dimensions  # type: ignore[attr-defined]
