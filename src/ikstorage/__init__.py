"""ikstorage: a caching Django ``Storage`` proxy for S3 and any other storage.

``CachedStorage`` wraps a storage and answers ``exists``, ``size``, ``url``,
modified time and image dimensions from a two-level cache, so image pages
stop paying an S3 call per attribute; it renders thumbnails (``Spec``) when a
file is saved, and ``rendition()`` shows them without a storage call.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["CachedStorage", "Spec", "bypass_cache", "rendition"]
__version__ = "0.1.0"

#: Where each public name lives. Imported on first use, so that ``import
#: ikstorage`` (settings.py, INSTALLED_APPS) imports neither Django's storage
#: machinery nor Pillow.
_HOMES = {
    "CachedStorage": "ikstorage.storage",
    "bypass_cache": "ikstorage.bypass",
    "Spec": "ikstorage.renditions.specs",
    "rendition": "ikstorage.renditions.binding",
}

if TYPE_CHECKING:
    from ikstorage.bypass import bypass_cache
    from ikstorage.renditions.binding import rendition
    from ikstorage.renditions.specs import Spec
    from ikstorage.storage import CachedStorage


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'ikstorage' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    if name == "CachedStorage":
        # The app may be missing from INSTALLED_APPS: its check must still run
        # and its hooks still be installed (ikstorage.apps.cached_storage_resolved).
        importlib.import_module("ikstorage.apps").cached_storage_resolved()
    return value
