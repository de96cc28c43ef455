"""Project-wide settings, read from ``django.conf.settings`` on every access.

Reading on access (not at import) lets ``override_settings`` work in tests and
keeps import order irrelevant. Per-storage choices (cache alias, timeouts)
are OPTIONS of :class:`ikstorage.CachedStorage` instead; see ``docs/settings.md``.
"""

from __future__ import annotations

from django.conf import settings


class Settings:
    @property
    def PATCH_IMAGEFILE(self) -> bool:
        """Answer ``ImageFile.width``/``.height`` from the cache (default ``True``).

        Django reads the image header through the storage to learn its size,
        which on S3 means two HEADs and a GET of the whole file. The ``ikstorage``
        app replaces that lookup with the cached dimensions when the file's
        storage is a ``CachedStorage``; other files are untouched.
        """
        return bool(getattr(settings, "IKSTORAGE_PATCH_IMAGEFILE", True))

    @property
    def CACHE_RETRY_AFTER(self) -> float:
        """Seconds to leave the shared cache alone after it failed (default 5).

        Short enough to recover quickly by itself, long enough that a dead
        cache server costs one connection attempt per few seconds, not one per
        lookup.
        """
        return float(getattr(settings, "IKSTORAGE_CACHE_RETRY_AFTER", 5.0))

    @property
    def WARNING_INTERVAL(self) -> float:
        """Seconds between two "cache unavailable" warnings for one cache (default 60).

        One line a minute says the cache is down without flooding the log of a
        busy site.
        """
        return float(getattr(settings, "IKSTORAGE_WARNING_INTERVAL", 60.0))


conf = Settings()
