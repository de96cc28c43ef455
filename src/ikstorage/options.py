"""The OPTIONS of ``CachedStorage``: defaults, validation, unknown keys rejected.

Read once, when the storage is built, so a typo fails at start-up (and at
``manage.py check``, as ``ikstorage.E002``) rather than on a live page. Every
option, its default and the reason for it are listed in ``docs/settings.md``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.files.storage import Storage

from ikstorage.backends.base import DEFAULT_PROBE_BYTES, DEFAULT_PROBE_LIMIT
from ikstorage.conf import MAX_LIFETIME, is_seconds
from ikstorage.core.parts import Parts
from ikstorage.core.policy import Policy
from ikstorage.exceptions import ConfigurationError
from ikstorage.renditions.settings import MISSING_CHOICES, RENDER_CHOICES, Settings
from ikstorage.renditions.specs import Spec, parse_specs

__all__ = ["DEFAULTS", "MISSING_CHOICES", "NAMES", "RENDER_CHOICES", "Options", "parse"]

#: Defaults of the OPTIONS; ``docs/settings.md`` gives the reason for each.
DEFAULTS: dict[str, Any] = {
    "cache": "default",
    "identity": None,
    "timeout": 24 * 60 * 60,
    "missing_timeout": 60,
    "local_timeout": 60,
    "local_maxsize": 10_000,
    "broadcast": False,
    "url_expiry_margin": 300,
    "probe_bytes": DEFAULT_PROBE_BYTES,
    "probe_limit": DEFAULT_PROBE_LIMIT,
    "write_lease_timeout": 30,
    "timeout_jitter": 0.1,
    "specs": None,
    "render": "save",
    "missing_renditions": "generate",
    "max_pixels": 50_000_000,
    "max_frames": 300,
    "rendition_prefix": "renditions/",
    "rendition_cache_control": "public, max-age=31536000, immutable",
}
#: Every option name ``CachedStorage`` accepts.
NAMES = frozenset({"storage", *DEFAULTS})


@dataclass(frozen=True, slots=True)
class Options:
    """Validated OPTIONS of one ``CachedStorage``."""

    #: A ``STORAGES`` alias, a ``{"BACKEND": ..., "OPTIONS": ...}`` dict or a ``Storage``.
    storage: str | Mapping[str, Any] | Storage
    cache: str
    #: A name for the wrapped storage's records (added to the identity ikstorage derives).
    identity: str | None
    timeout: float | None
    missing_timeout: float
    local_timeout: float
    local_maxsize: int
    #: Announce writes over the cache's Redis so other processes drop them from L1.
    broadcast: bool
    url_expiry_margin: float
    probe_bytes: int
    probe_limit: int
    write_lease_timeout: float
    timeout_jitter: float
    #: ``{name: Spec}`` (see :mod:`ikstorage.renditions.specs`); empty: no renditions.
    specs: Mapping[str, Spec]
    render: str
    missing_renditions: str
    max_pixels: int
    max_frames: int
    rendition_prefix: str
    rendition_cache_control: str | None

    def parts(self, *, owner: object) -> Parts:
        """The core's parts for the storage ``owner``: built on first use, not here."""
        return Parts(
            self.storage,
            owner=owner,
            cache=self.cache,
            local_timeout=self.local_timeout,
            local_maxsize=self.local_maxsize,
            probe_bytes=self.probe_bytes,
            probe_limit=self.probe_limit,
            named=self.identity,
            broadcast=self.broadcast,
        )

    def policy(self) -> Policy:
        """What the core's read and write paths follow."""
        return Policy(
            timeout=self.timeout,
            missing_timeout=self.missing_timeout,
            timeout_jitter=self.timeout_jitter,
            url_expiry_margin=self.url_expiry_margin,
            write_lease_timeout=self.write_lease_timeout,
            probe_limit=self.probe_limit,
            renditions=bool(self.specs),
        )

    def renditions(self) -> Settings:
        """What the renditions feature follows."""
        return Settings(
            specs=self.specs,
            render=self.render,
            missing=self.missing_renditions,
            max_pixels=self.max_pixels,
            max_frames=self.max_frames,
            prefix=self.rendition_prefix,
            cache_control=self.rendition_cache_control,
            lease_wait=self.write_lease_timeout,
        )


def parse(given: Mapping[str, Any]) -> Options:
    """Validate ``given`` (the keyword arguments of ``CachedStorage``) against the defaults."""
    unknown = sorted(set(given) - NAMES)
    if unknown:
        raise ConfigurationError(
            f"CachedStorage got unknown option(s) {', '.join(map(repr, unknown))}"
            f"{_suggestions(unknown)}; valid options are {', '.join(sorted(NAMES))}."
        )
    storage = given.get("storage")
    if storage is None:
        raise ConfigurationError(
            "CachedStorage needs the 'storage' option: a STORAGES alias, a "
            "{'BACKEND': ..., 'OPTIONS': ...} dict, or a Storage instance."
        )
    if not isinstance(storage, str | Mapping | Storage):
        raise ConfigurationError(
            f"CachedStorage 'storage' must be a STORAGES alias, a dict or a Storage "
            f"instance, not {type(storage).__name__}."
        )
    values = {**DEFAULTS, **given}
    if not isinstance(values["cache"], str):
        raise ConfigurationError("CachedStorage 'cache' must be a CACHES alias (a string).")
    probe_bytes = _count("probe_bytes", values["probe_bytes"], 1024)
    return Options(
        storage=storage,
        cache=values["cache"],
        identity=_identity(values["identity"]),
        timeout=None if values["timeout"] is None else _seconds("timeout", values["timeout"]),
        missing_timeout=_seconds("missing_timeout", values["missing_timeout"]),
        local_timeout=_seconds("local_timeout", values["local_timeout"]),
        local_maxsize=_count("local_maxsize", values["local_maxsize"], 1),
        broadcast=_flag("broadcast", values["broadcast"]),
        url_expiry_margin=_seconds("url_expiry_margin", values["url_expiry_margin"]),
        probe_bytes=probe_bytes,
        probe_limit=_count("probe_limit", values["probe_limit"], probe_bytes),
        write_lease_timeout=_seconds("write_lease_timeout", values["write_lease_timeout"], 1),
        timeout_jitter=_fraction("timeout_jitter", values["timeout_jitter"]),
        specs=_specs(values["specs"]),
        render=_choice("render", values["render"], RENDER_CHOICES),
        missing_renditions=_choice(
            "missing_renditions", values["missing_renditions"], MISSING_CHOICES
        ),
        max_pixels=_count("max_pixels", values["max_pixels"], 1),
        max_frames=_count("max_frames", values["max_frames"], 1),
        rendition_prefix=_prefix(values["rendition_prefix"]),
        rendition_cache_control=_optional_text(
            "rendition_cache_control", values["rendition_cache_control"]
        ),
    )


def _seconds(option: str, value: Any, minimum: float = 0) -> float:
    """A duration the cache backends can hold: finite, at most ``MAX_LIFETIME`` (a year).

    Each of these becomes a cache entry's lifetime somewhere (a record's, a URL's,
    a lease's): ``inf`` or ``1e20`` passed here would make every save raise on
    Redis or Memcached instead.
    """
    if not is_seconds(value, minimum, MAX_LIFETIME):
        none = ", or None" if option == "timeout" else ""
        raise ConfigurationError(
            f"CachedStorage {option!r} must be a number of seconds from {minimum:g} to "
            f"{MAX_LIFETIME} (a year){none}, not {value!r}."
        )
    return float(value)


def _suggestions(unknown: list[str]) -> str:
    """`` (did you mean 'timeout'?)``: the valid name closest to each unknown one, if any."""
    close = {
        name: match[0]
        for name in unknown
        if (match := difflib.get_close_matches(name, sorted(NAMES), n=1, cutoff=0.6))
    }
    if not close:
        return ""
    if len(unknown) == 1:
        return f" (did you mean {close[unknown[0]]!r}?)"
    return f" (did you mean {', '.join(f'{v!r} for {k!r}' for k, v in close.items())}?)"


def _specs(value: Any) -> Mapping[str, Spec]:
    return {} if value is None else parse_specs(value)


def _choice(option: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigurationError(
            f"CachedStorage {option!r} must be one of {', '.join(map(repr, choices))}, "
            f"not {value!r}."
        )
    return str(value)


def _prefix(value: Any) -> str:
    if not isinstance(value, str) or not value.endswith("/") or value.startswith("/"):
        raise ConfigurationError(
            f"CachedStorage 'rendition_prefix' must be a relative folder ending in '/' "
            f"(such as 'renditions/'), not {value!r}."
        )
    return value


def _optional_text(option: str, value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or not value):
        raise ConfigurationError(
            f"CachedStorage {option!r} must be a non-empty string or None, not {value!r}."
        )
    return value


def _identity(value: Any) -> str | None:
    """A name that is the same in every process: text, not an object's ``repr``."""
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ConfigurationError(
            f"CachedStorage 'identity' must be a non-empty string naming the wrapped "
            f"storage (the same in every process), or None, not {value!r}."
        )
    return value


def _flag(option: str, value: Any) -> bool:
    # Exactly a bool: bool("no") is True.
    if not isinstance(value, bool):
        raise ConfigurationError(f"CachedStorage {option!r} must be True or False, not {value!r}.")
    return value


def _fraction(option: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 0.5:
        raise ConfigurationError(
            f"CachedStorage {option!r} must be a fraction from 0 to 0.5, not {value!r}."
        )
    return float(value)


def _count(option: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigurationError(
            f"CachedStorage {option!r} must be a whole number ≥ {minimum}, not {value!r}."
        )
    return value
