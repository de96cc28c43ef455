"""Encoders: one place for each output format's Pillow options, extension and MIME type.

Every save passes explicit options, so a Pillow upgrade that changes a
default does not silently change renditions that already have a name. No
metadata is ever passed (no EXIF, XMP, ICC, comments): ``encode`` also
clears ``Image.info``, which some Pillow writers (PNG, AVIF) copy otherwise.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image

from ikstorage.exceptions import RenditionError
from ikstorage.renditions.specs import DEFAULT_QUALITY

__all__ = ["OUTPUTS", "OutputFormat", "encodable", "encode", "encode_frames", "output_format"]


@dataclass(frozen=True, slots=True)
class OutputFormat:
    """What a storage and a browser need to know about an output format."""

    name: str
    pillow: str
    extension: str
    content_type: str
    alpha: bool
    animation: bool


OUTPUTS: dict[str, OutputFormat] = {
    "jpeg": OutputFormat("jpeg", "JPEG", "jpg", "image/jpeg", alpha=False, animation=False),
    "png": OutputFormat("png", "PNG", "png", "image/png", alpha=True, animation=False),
    "webp": OutputFormat("webp", "WEBP", "webp", "image/webp", alpha=True, animation=True),
    "avif": OutputFormat("avif", "AVIF", "avif", "image/avif", alpha=True, animation=False),
    "gif": OutputFormat("gif", "GIF", "gif", "image/gif", alpha=True, animation=True),
}

#: Pillow source formats whose own kind is a fine output (``format=None``).
_KEEP = {"JPEG": "jpeg", "MPO": "jpeg", "PNG": "png", "WEBP": "webp", "AVIF": "avif", "GIF": "gif"}

#: WebP effort 4 (Pillow's default; 6 takes twice as long for 1-7 % fewer
#: bytes); AVIF speed 6 (libavif's default; 8 is 3x faster for 45-70 % more
#: bytes at the same quality setting). Measured in docs/renditions.md.
_WEBP_METHOD = 4
_AVIF_SPEED = 6


def output_format(spec_format: str | None, source_format: str | None, alpha: bool) -> str:
    """The output format of a spec: its own, else the source's kind, else PNG or JPEG.

    Sources in another format (TIFF, BMP, HEIF) become PNG when they have
    alpha and JPEG otherwise.
    """
    if spec_format is not None:
        return spec_format
    kept = _KEEP.get(source_format or "")
    if kept is not None:
        return kept
    return "png" if alpha else "jpeg"


def encodable(image: Image.Image, fmt: str) -> Image.Image:
    """The mode the encoder for ``fmt`` takes without guessing."""
    if fmt == "jpeg" and image.mode not in ("RGB", "L"):
        return image.convert("RGB")
    if fmt in ("webp", "avif") and image.mode in ("L", "LA"):
        return image.convert("RGBA" if image.mode == "LA" else "RGB")
    return image


def encode(image: Image.Image, fmt: str, quality: int | None) -> bytes:
    """One still image, in a mode ``fmt`` accepts, as bytes."""
    return _save(image, fmt, _options(fmt, quality))


def encode_frames(
    frames: Sequence[Image.Image],
    durations: Sequence[int],
    loop: int,
    fmt: str,
    quality: int | None,
) -> bytes:
    """An animation (WebP or GIF) of full frames; ``durations`` in milliseconds."""
    options: dict[str, Any] = {
        **_options(fmt, quality),
        "save_all": True,
        "append_images": list(frames[1:]),
        "duration": list(durations),
        "loop": loop,
    }
    if fmt == "gif":
        options["disposal"] = 2  # every frame is whole: clear, then draw
    for frame in frames[1:]:
        frame.info = {}
    return _save(frames[0], fmt, options)


def _options(fmt: str, quality: int | None) -> dict[str, Any]:
    q = quality if quality is not None else DEFAULT_QUALITY.get(fmt)
    if fmt == "jpeg":
        return {"quality": q, "progressive": True, "optimize": True}
    if fmt == "webp":
        return {"quality": q, "method": _WEBP_METHOD}
    if fmt == "avif":
        return {"quality": q, "speed": _AVIF_SPEED}
    if fmt == "png":
        return {"optimize": True}
    return {}


def _save(image: Image.Image, fmt: str, options: dict[str, Any]) -> bytes:
    image.info = {}
    buffer = io.BytesIO()
    try:
        image.save(buffer, OUTPUTS[fmt].pillow, **options)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RenditionError(f"Encoding {fmt} failed: {exc}", reason="encode-failed") from exc
    return buffer.getvalue()
