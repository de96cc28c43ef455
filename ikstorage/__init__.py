"""ikstorage: a caching Django ``Storage`` proxy for S3 and any other storage.

``CachedStorage`` wraps a storage and answers ``exists``, ``size``, ``url``,
modified time and image dimensions from a two-level cache, so image pages
stop paying an S3 call per attribute.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["CachedStorage", "bypass_cache"]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from ikstorage.bypass import bypass_cache
    from ikstorage.storage import CachedStorage


def __getattr__(name: str) -> Any:
    # Imported lazily so that ``import ikstorage`` (e.g. from settings.py or
    # INSTALLED_APPS) never imports Django's storage machinery early.
    if name in __all__:
        from ikstorage import storage

        return getattr(storage, name)
    raise AttributeError(f"module 'ikstorage' has no attribute {name!r}")
