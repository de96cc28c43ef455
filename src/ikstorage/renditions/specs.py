"""Rendition specs: what to make from a saved image, validated once at start-up.

A spec is declared in ``OPTIONS["specs"]`` as a dict (``{"thumb": {"fill":
[200, 150], "format": "webp"}}``) or as a :class:`Spec` object. Both go
through the same validation in :meth:`Spec.__post_init__`, so a typo or a bad
value fails when the storage is built (and at ``manage.py check``), with a
:class:`~ikstorage.exceptions.ConfigurationError` that names the spec and the
key, never on a live upload. Most values are checked and normalized by
:mod:`.spec_values`; checked here are the name, ``upscale`` and how the keys
go together (one geometry, ``format`` or ``formats``, ``anchor`` only with
``fill``).

:meth:`Spec.fingerprint` is what rendition names are derived from: a digest
of every value that changes the output, stable across processes and
releases, so a changed spec never reuses a URL (see :mod:`.naming`).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from ikstorage.exceptions import ConfigurationError
from ikstorage.renditions.spec_values import (
    ANCHORS,
    FORMATS,
    valid_anchor,
    valid_background,
    valid_box,
    valid_format,
    valid_formats,
    valid_globs,
    valid_pixels,
    valid_quality,
)

__all__ = [
    "ANCHORS",
    "DEFAULT_QUALITY",
    "FORMATS",
    "PIPELINE_VERSION",
    "Spec",
    "parse_specs",
    "spec_errors",
    "specs_for",
]

#: Bumped when the pipeline's output for an unchanged spec changes on purpose
#: (a new default, a different filter), so those renditions get new names.
PIPELINE_VERSION = 1

#: Encoder quality when a spec gives none. JPEG 85: 1-2 dB (PSNR) above Pillow's
#: 75 for a quarter to a third more bytes; WebP 80: Pillow's default, about half
#: the bytes of JPEG 85; AVIF's scale differs: 60 comes within 1 dB of JPEG 85
#: at a third of its bytes (measured in docs/renditions.md).
DEFAULT_QUALITY: dict[str, int] = {"jpeg": 85, "webp": 80, "avif": 60}

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}\Z")
_GEOMETRY = ("fill", "fit", "width", "height")


@dataclass(frozen=True, slots=True)
class Spec:
    """One rendition: a geometry, an output format and its encoder settings.

    Exactly one geometry: ``fill=(w, h)`` (exactly wxh, cropped), ``fit=(w,
    h)`` (inside wxh, never cropped), ``width=w`` or ``height=h`` (the other
    side follows the aspect ratio). Without ``upscale`` a smaller source is
    never enlarged: ``fill`` then returns the largest crop of the same aspect
    ratio at the source's own scale.
    """

    name: str = ""
    fill: tuple[int, int] | None = None
    fit: tuple[int, int] | None = None
    width: int | None = None
    height: int | None = None
    #: ``"jpeg"``, ``"png"``, ``"webp"``, ``"avif"``, ``"gif"`` or ``None`` (like the source).
    format: str | None = None
    #: 1-100 for JPEG, WebP and AVIF; ``None`` is :data:`DEFAULT_QUALITY`.
    quality: int | None = None
    upscale: bool = False
    #: Which part a ``fill`` crop keeps: (x, y) in 0..1; (0, 0) keeps the top-left corner.
    anchor: tuple[float, float] = (0.5, 0.5)
    #: What transparent pixels become in a format without alpha (JPEG): ``#rrggbb``.
    background: str = "#ffffff"
    #: Globs over the saved name (case-insensitive, ``*`` crosses ``/``); empty: every name.
    match: tuple[str, ...] = field(default=())
    #: Several output formats of one geometry, most efficient first, for
    #: ``{% picture %}`` (``["avif", "webp", "jpeg"]``); the last is the ``<img>``
    #: fallback. Instead of ``format``; see :meth:`variants`.
    formats: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        where = f"Spec {self.name!r}" if self.name else "Spec"
        if not isinstance(self.name, str) or (self.name and not _NAME.match(self.name)):
            raise ConfigurationError(
                f"Spec name {self.name!r} must be 1-40 letters, digits, '_' or '-' "
                "(it becomes part of file names and template arguments)."
            )
        given = [key for key in _GEOMETRY if getattr(self, key) is not None]
        if len(given) != 1:
            raise ConfigurationError(
                f"{where} needs exactly one of 'fill', 'fit', 'width' or 'height', "
                f"got {', '.join(map(repr, given)) or 'none'} (for a box use 'fit' or 'fill')."
            )
        for key in ("fill", "fit"):
            if getattr(self, key) is not None:
                set_(self, key, valid_box(where, key, getattr(self, key)))
        for key in ("width", "height"):
            if getattr(self, key) is not None:
                set_(self, key, valid_pixels(where, key, getattr(self, key)))
        set_(self, "format", valid_format(where, self.format))
        formats = valid_formats(where, self.formats)
        if formats and self.format is not None:
            raise ConfigurationError(
                f"{where} gives both 'format' and 'formats'; use 'formats' alone for several."
            )
        set_(self, "formats", formats)
        set_(self, "quality", valid_quality(where, self.format, self.quality))
        if not isinstance(self.upscale, bool):
            raise ConfigurationError(
                f"{where} 'upscale' must be True or False, not {self.upscale!r}."
            )
        anchor = valid_anchor(where, self.anchor)
        if anchor != (0.5, 0.5) and self.fill is None:
            raise ConfigurationError(
                f"{where} 'anchor' applies to 'fill' only (nothing is cropped)."
            )
        set_(self, "anchor", anchor)
        set_(self, "background", valid_background(where, self.background))
        set_(self, "match", valid_globs(where, self.match))

    @classmethod
    def from_options(cls, name: str, options: Mapping[str, Any]) -> Spec:
        """The spec an ``OPTIONS["specs"]`` entry describes; unknown keys are refused."""
        if not isinstance(options, Mapping):
            raise ConfigurationError(
                f"Spec {name!r} must be a dict or an ikstorage.Spec, not {type(options).__name__}."
            )
        keys = sorted(f.name for f in fields(cls) if f.name != "name")
        unknown = sorted(set(options) - set(keys), key=str)
        if unknown:
            raise ConfigurationError(
                f"Spec {name!r} has unknown key(s) {', '.join(map(repr, unknown))}; "
                f"valid keys are {', '.join(keys)}."
            )
        return cls(name=name, **options)

    @property
    def mode(self) -> str:
        """``"fill"``, ``"fit"``, ``"width"`` or ``"height"``."""
        return next(key for key in _GEOMETRY if getattr(self, key) is not None)

    def fingerprint(self) -> str:
        """A digest of everything that changes the output (not ``name`` nor ``match``).

        Built from canonical JSON, so it is the same in every process and on
        every platform; :data:`PIPELINE_VERSION` is part of it.
        """
        values = {
            "v": PIPELINE_VERSION,
            "mode": self.mode,
            "box": list(getattr(self, self.mode)) if self.mode in ("fill", "fit") else None,
            "side": getattr(self, self.mode) if self.mode in ("width", "height") else None,
            "format": self.format,
            "quality": self.quality,
            "upscale": self.upscale,
            "anchor": list(self.anchor) if self.fill is not None else None,
            "background": self.background,
        }
        canonical = json.dumps(values, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("ascii")).hexdigest()[:16]

    def deconstruct(self) -> tuple[str, tuple[()], dict[str, Any]]:
        """How migrations write this spec (``CachedStorage(specs=[Spec(...)])`` on a field).

        Only the values that differ from the defaults, so a migration does not
        churn when a default changes.
        """
        given = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) != f.default
        }
        return ("ikstorage.Spec", (), given)

    def variants(self) -> list[Spec]:
        """One spec per output format: ``formats`` expanded, or this spec itself.

        Each variant has one ``format`` (its own fingerprint, so its own file
        name); all are rendered from the same decode.
        """
        if not self.formats:
            return [self]
        return [
            replace(
                self,
                formats=(),
                format=fmt,
                quality=None if fmt in ("png", "gif") else self.quality,
            )
            for fmt in self.formats
        ]

    def matches(self, name: str) -> bool:
        """True when this spec applies to a file saved as ``name``."""
        if not self.match:
            return True
        lowered = name.lower()
        return any(fnmatch.fnmatchcase(lowered, glob.lower()) for glob in self.match)


def parse_specs(value: Mapping[str, Any] | Iterable[Spec] | None) -> dict[str, Spec]:
    """Validate ``OPTIONS["specs"]``: a ``{name: dict | Spec}`` mapping or a list of Specs.

    Returns ``{name: Spec}`` in the order given. The first mistake raises
    :class:`~ikstorage.exceptions.ConfigurationError`; :func:`spec_errors`
    lists them all.
    """
    specs: dict[str, Spec] = {}
    for spec in _specs(value):
        if spec.name in specs:
            raise ConfigurationError(f"Spec {spec.name!r} is declared twice.")
        specs[spec.name] = spec
    return specs


def spec_errors(value: object) -> list[ConfigurationError]:
    """Every mistake in ``OPTIONS["specs"]``, for a system check that reports them all."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        errors = []
        for name, options in value.items():
            try:
                parse_specs({name: options})
            except ConfigurationError as exc:
                errors.append(exc)
        return errors
    try:
        parse_specs(value)  # type: ignore[arg-type]
    except ConfigurationError as exc:
        return [exc]
    return []


def specs_for(specs: Mapping[str, Spec] | Iterable[Spec], name: str) -> list[Spec]:
    """The specs whose ``match`` globs accept a file saved as ``name``, in declared order."""
    values = specs.values() if isinstance(specs, Mapping) else specs
    return [spec for spec in values if spec.matches(name)]


def _specs(value: object) -> Iterable[Spec]:
    if value is None:
        return
    if isinstance(value, Mapping):
        for name, options in value.items():
            if not isinstance(name, str):
                raise ConfigurationError(f"Spec names must be strings, not {name!r}.")
            if isinstance(options, Spec):
                if options.name and options.name != name:
                    raise ConfigurationError(
                        f"Spec {name!r} is given a Spec named {options.name!r}; "
                        "leave the name out or make them equal."
                    )
                yield replace(options, name=name)
            else:
                yield Spec.from_options(name, options)
        return
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ConfigurationError(
            "OPTIONS 'specs' must be a dict of {name: options} or a list of ikstorage.Spec, "
            f"not {type(value).__name__}."
        )
    for spec in value:
        if not isinstance(spec, Spec):
            raise ConfigurationError(
                f"OPTIONS 'specs' lists {spec!r}; a list may hold ikstorage.Spec objects only."
            )
        if not spec.name:
            raise ConfigurationError("A Spec in a list of specs needs a name.")
        yield spec
