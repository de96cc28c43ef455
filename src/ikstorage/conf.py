"""Project-wide settings, read from ``django.conf.settings`` and validated on every access.

Reading on access (not at import) lets ``override_settings`` work in tests and
keeps import order irrelevant. A bad value raises
:class:`~ikstorage.exceptions.ConfigurationError` naming the setting, the value
and what is expected, and ``manage.py check`` reports it as ``ikstorage.E003``:
a typo must never leave the site quietly running without its cache.
Per-storage choices (cache alias, timeouts) are OPTIONS of
:class:`ikstorage.CachedStorage` instead; see ``docs/settings.md``.
"""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings

from ikstorage.exceptions import ConfigurationError

#: The settings this object reads, by property name.
NAMES = ("PATCH_IMAGEFILE", "BATCH_LOOKUPS", "CACHE_RETRY_AFTER", "WARNING_INTERVAL")

#: The longest lifetime a cache entry may be given: a year. Django's Redis and
#: Memcached backends take ``int()`` of a timeout (``inf`` raises OverflowError),
#: Redis refuses an expiry past 64 bits of milliseconds, Memcached stores one past
#: 30 days as a 32-bit Unix time (it overflows in 2038), and the database cache as a
#: ``datetime`` (year 9999): a year is valid on every one of them for years to come.
MAX_LIFETIME = 365 * 24 * 60 * 60


def _describe(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def _flag(name: str, default: bool) -> bool:
    value = getattr(settings, name, default)
    # Exactly a bool: bool("no") is True, so a string would switch it on.
    if not isinstance(value, bool):
        raise ConfigurationError(f"{name} must be True or False, not {_describe(value)}.")
    return value


def is_seconds(value: object, minimum: float = 0, maximum: float = math.inf) -> bool:
    """True for a duration: an ``int`` or ``float``, finite, from ``minimum`` to ``maximum``.

    A bool is an int to Python but never a duration; a string such as "5" is
    rejected rather than parsed, as Django does for its own numeric settings;
    ``inf`` and ``nan`` are no number of seconds (``nan`` fails every comparison,
    and ``int(inf)`` raises where a cache backend converts it).
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return minimum <= value <= maximum  # compared as is: a huge int is no float


def _seconds(name: str, default: float) -> float:
    value = getattr(settings, name, default)
    if not is_seconds(value):
        raise ConfigurationError(
            f"{name} must be a number of seconds, 0 or more (an int or a float such as "
            f"{default:g}), not {_describe(value)}."
        )
    return float(value)


class Settings:
    @property
    def PATCH_IMAGEFILE(self) -> bool:
        """Answer ``ImageFile.width``/``.height`` from the cache (default ``True``).

        Django reads the image header through the storage to learn its size,
        which on S3 means two HEADs and a GET of the whole file. The ``ikstorage``
        app replaces that lookup with the cached dimensions when the file's
        storage is a ``CachedStorage``; other files are untouched.
        """
        return _flag("IKSTORAGE_PATCH_IMAGEFILE", True)

    @property
    def BATCH_LOOKUPS(self) -> bool:
        """Fetch the metadata of a page's files in one round trip (default ``True``).

        As model instances are loaded, the names in their file fields are noted;
        the first lookup that misses the in-process cache fetches all of them
        from the shared cache in one ``get_many``. Without it, a new process
        makes one round trip per image unless the view calls ``prefetch()``.
        """
        return _flag("IKSTORAGE_BATCH_LOOKUPS", True)

    @property
    def CACHE_RETRY_AFTER(self) -> float:
        """Seconds to leave the shared cache alone after it failed (default 5).

        Short enough to recover quickly by itself, long enough that a dead
        cache server costs one connection attempt per few seconds, not one per
        lookup.
        """
        return _seconds("IKSTORAGE_CACHE_RETRY_AFTER", 5.0)

    @property
    def WARNING_INTERVAL(self) -> float:
        """Seconds between two "cache unavailable" warnings for one cache (default 60).

        One line a minute says the cache is down without flooding the log of a
        busy site.
        """
        return _seconds("IKSTORAGE_WARNING_INTERVAL", 60.0)

    def errors(self) -> list[ConfigurationError]:
        """Every setting's error, for the system check (empty when all are valid)."""
        found: list[ConfigurationError] = []
        for name in NAMES:
            try:
                getattr(self, name)
            except ConfigurationError as exc:
                found.append(exc)
        return found


conf = Settings()
