"""The ``IKSTORAGE_PROFILER`` setting, read on every access.

Reading on access (not at import) lets ``override_settings`` switch the
middleware on and off in tests. Unknown keys and bad values raise a
``ConfigurationError`` (an ``ImproperlyConfigured``) naming the key, so a typo
cannot silently leave profiling on in production.
"""

from __future__ import annotations

import random
from typing import Any

from django.conf import settings

from ikstorage.exceptions import ConfigurationError

DEFAULTS: dict[str, Any] = {
    # Profile only when DEBUG is on: the Server-Timing header tells any client
    # how many S3 calls and cache trips a page made, and counting every call
    # costs a little, so neither belongs in production unless asked for.
    "ENABLED": "debug",
    # Every request, once enabled: in development you want each page's numbers.
    # In production lower it (e.g. 0.01) to sample a few requests.
    "SAMPLE_RATE": 1.0,
}


def options() -> dict[str, Any]:
    """``IKSTORAGE_PROFILER`` merged over the defaults, validated."""
    given = getattr(settings, "IKSTORAGE_PROFILER", None) or {}
    if not isinstance(given, dict):
        raise ConfigurationError("IKSTORAGE_PROFILER must be a dict.")
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise ConfigurationError(
            f"IKSTORAGE_PROFILER has unknown key {unknown[0]!r}; "
            f"valid keys are {', '.join(sorted(DEFAULTS))}."
        )
    merged = {**DEFAULTS, **given}
    if merged["ENABLED"] not in ("debug", True, False):
        raise ConfigurationError(
            f"IKSTORAGE_PROFILER['ENABLED'] must be 'debug', True or False, "
            f"not {merged['ENABLED']!r}."
        )
    rate = merged["SAMPLE_RATE"]
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise ConfigurationError(
            f"IKSTORAGE_PROFILER['SAMPLE_RATE'] must be a number from 0 to 1, not {rate!r}."
        )
    return merged


def should_profile() -> bool:
    """Decide for one request: enabled (``"debug"`` follows ``DEBUG``), then sampled."""
    opts = options()
    enabled = settings.DEBUG if opts["ENABLED"] == "debug" else opts["ENABLED"]
    if not enabled:
        return False
    rate = float(opts["SAMPLE_RATE"])
    return rate >= 1.0 or random.random() < rate
