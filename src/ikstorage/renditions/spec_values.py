"""The values a spec's keys may take, each checked and put in one canonical form.

One function per kind of value a key of ``OPTIONS["specs"]`` takes: each
gets where the value came from (``"Spec 'thumb'"``, for the message) and the
value as the user wrote it, and returns it normalized (``"jpg"`` is ``"jpeg"``, ``"#abc"`` is
``"#aabbcc"``, ``"top"`` is ``(0.5, 0.0)``) or raises a
:class:`~ikstorage.exceptions.ConfigurationError` that names the spec, the key
and what would be accepted. Normal forms matter: the fingerprint a rendition's
name is derived from is built from them, so two spellings of one spec share
their files.

Apart from :mod:`.specs` so that module reads as what a spec *is*; nothing here
imports Pillow until a format that needs a codec check is asked for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ikstorage.exceptions import ConfigurationError, MissingLibraryError

__all__ = [
    "ANCHORS",
    "FORMATS",
    "valid_anchor",
    "valid_background",
    "valid_box",
    "valid_format",
    "valid_formats",
    "valid_globs",
    "valid_pixels",
    "valid_quality",
]

#: Output formats a spec may ask for. ``None`` means "like the source" (see
#: :func:`ikstorage.renditions.image.encoders.output_format`).
FORMATS = ("jpeg", "png", "webp", "avif", "gif")

#: Named anchors for ``fill``: which part of the source a crop keeps.
ANCHORS: dict[str, tuple[float, float]] = {
    "center": (0.5, 0.5),
    "centre": (0.5, 0.5),
    "top": (0.5, 0.0),
    "bottom": (0.5, 1.0),
    "left": (0.0, 0.5),
    "right": (1.0, 0.5),
    "top-left": (0.0, 0.0),
    "top-right": (1.0, 0.0),
    "bottom-left": (0.0, 1.0),
    "bottom-right": (1.0, 1.0),
}

_HEX = re.compile(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})\Z")
#: Pillow's save format name for each output format that needs a codec check.
_CODECS = {"webp": "WEBP", "avif": "AVIF"}


def valid_pixels(where: str, key: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
        raise ConfigurationError(
            f"{where} {key!r} must be a whole number of pixels from 1 to 10000, not {value!r}."
        )
    return value


def valid_box(where: str, key: str, value: object) -> tuple[int, int]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ConfigurationError(f"{where} {key!r} must be [width, height], not {value!r}.")
    items = list(value)
    if len(items) != 2:
        raise ConfigurationError(f"{where} {key!r} must be [width, height], not {value!r}.")
    return (valid_pixels(where, key, items[0]), valid_pixels(where, key, items[1]))


def valid_format(where: str, value: object) -> str | None:
    if value is None:
        return None
    lowered = value.lower() if isinstance(value, str) else value
    lowered = "jpeg" if lowered == "jpg" else lowered
    if lowered not in FORMATS:
        raise ConfigurationError(
            f"{where} 'format' must be one of {', '.join(map(repr, FORMATS))} or None "
            f"(like the source), not {value!r}."
        )
    assert isinstance(lowered, str)
    codec = _CODECS.get(lowered)
    if codec is not None:
        from PIL import Image

        Image.init()
        if codec not in Image.SAVE:
            raise MissingLibraryError(
                f"{where} 'format' is {lowered!r}, but this Pillow cannot write {codec}; "
                "install a Pillow build with it (AVIF needs Pillow ≥ 11.2).",
                package="pillow",
                name="PIL",
            )
    return lowered


def valid_formats(where: str, value: object) -> tuple[str, ...]:
    if value is None or value == ():
        return ()
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ConfigurationError(
            f"{where} 'formats' must be a list such as ['avif', 'webp', 'jpeg'], not {value!r}."
        )
    found: list[str] = []
    for item in value:
        fmt = valid_format(where, item)
        if fmt is None or fmt in found:
            raise ConfigurationError(
                f"{where} 'formats' lists {item!r} {'twice' if fmt else 'as None'}; "
                "list each output format once."
            )
        found.append(fmt)
    return tuple(found)


def valid_quality(where: str, fmt: str | None, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        raise ConfigurationError(f"{where} 'quality' must be a whole number 1-100, not {value!r}.")
    if fmt in ("png", "gif"):
        raise ConfigurationError(f"{where} 'quality' has no effect on {fmt!r} (lossless).")
    return value


def valid_anchor(where: str, value: object) -> tuple[float, float]:
    if isinstance(value, str):
        named = ANCHORS.get(value.lower())
        if named is None:
            raise ConfigurationError(
                f"{where} 'anchor' {value!r} is not one of {', '.join(sorted(ANCHORS))} "
                "nor [x, y] with x and y in 0..1."
            )
        return named
    items = list(value) if isinstance(value, Iterable) else []
    if len(items) == 2 and all(
        not isinstance(v, bool) and isinstance(v, int | float) and 0 <= v <= 1 for v in items
    ):
        return (float(items[0]), float(items[1]))
    raise ConfigurationError(
        f"{where} 'anchor' must be [x, y] with x and y in 0..1 or a name such as 'top', "
        f"not {value!r}."
    )


def valid_background(where: str, value: object) -> str:
    if not isinstance(value, str) or not _HEX.match(value):
        raise ConfigurationError(
            f"{where} 'background' must be a colour '#rrggbb' or '#rgb', not {value!r}."
        )
    digits = value[1:].lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits


def valid_globs(where: str, value: object) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, Iterable) or isinstance(items, bytes):
        raise ConfigurationError(
            f"{where} 'match' must be a glob or a list of globs, not {value!r}."
        )
    globs = tuple(items)
    if not all(isinstance(g, str) and g for g in globs):
        raise ConfigurationError(
            f"{where} 'match' must hold non-empty glob strings such as 'avatars/*', not {value!r}."
        )
    return globs
