"""Colour: every output is 8-bit sRGB (or 8-bit grey), whatever the source stored.

Browsers assume sRGB for an untagged image, and outputs carry no ICC profile
(all metadata is stripped), so the pixels themselves are converted: an
embedded profile (Display P3 from phones, Adobe RGB from cameras, a CMYK
press profile) is honoured with LittleCMS; CMYK without a profile gets
Pillow's plain conversion; 16-bit grey is scaled, not clipped (Pillow's
``convert("L")`` clips everything above 255 to white).

Conversion happens after resizing, on the small outputs: resampling gives the
same result in either gamma-encoded space, and converting 0.03 megapixels
instead of 6 is what keeps a profiled source as fast as an untagged one.
"""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageCms

__all__ = ["WORKING_MODES", "for_format", "has_alpha", "to_srgb", "working"]

#: Modes the pipeline resizes in: 8 bits per channel, alpha resized premultiplied by Pillow.
WORKING_MODES = frozenset({"RGB", "RGBA", "L", "LA", "CMYK"})

_INTENT = ImageCms.Intent.PERCEPTUAL
# NOCACHE: the transforms are shared between threads; LittleCMS's one-pixel cache is not.
_FLAGS = ImageCms.Flags.BLACKPOINTCOMPENSATION | ImageCms.Flags.NOCACHE


def working(image: Image.Image) -> Image.Image:
    """``image`` (decoded) in one of :data:`WORKING_MODES`, keeping what it shows.

    Palettes become RGB(A) so resizing can filter (Pillow resizes ``P`` and
    ``1`` with nearest-neighbour only); a transparent colour key becomes alpha;
    16-bit and 32-bit grey is scaled to 8 bits.
    """
    mode = image.mode
    keyed = "transparency" in image.info
    if mode in WORKING_MODES and not keyed:
        return image
    if (mode in ("L", "RGB", "P", "PA", "1") and keyed) or mode in ("PA", "RGBa", "RGBX"):
        return image.convert("RGBA" if mode != "RGBX" else "RGB")
    if mode == "P":
        return image.convert("RGB")
    if mode == "La":
        return image.convert("LA")
    if mode.startswith("I"):
        # 16-bit samples (PNG, TIFF, PGM) land in "I;16*" or "I": 0..65535 onto 0..255.
        wide = image if mode == "I" else image.convert("I")
        return wide.point(lambda value: value / 256).convert("L")  # scaled in "I", then 8-bit
    if mode in ("1", "F"):
        return image.convert("L")
    return image.convert("RGBA" if "A" in mode else "RGB")


def has_alpha(image: Image.Image) -> bool:
    """True when the opened (not yet decoded) source may have transparent pixels."""
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def to_srgb(image: Image.Image, icc_profile: bytes | None) -> tuple[Image.Image, bool]:
    """``image`` (a working mode) as sRGB ``RGB``/``RGBA`` or grey ``L``/``LA``.

    Returns the image and whether a profile was *ignored*: an unreadable
    profile, or one for another colour space than the pixels', is.
    """
    transform = _transform(icc_profile, _colour_mode(image.mode)) if icc_profile else None
    ignored = bool(icc_profile) and transform is None
    if transform is None and image.mode != "CMYK":
        return image, ignored
    alpha = image.getchannel("A") if image.mode in ("RGBA", "LA") else None
    colour = image.convert(_colour_mode(image.mode)) if alpha is not None else image
    if transform is not None:
        converted = ImageCms.applyTransform(colour, transform)
        assert converted is not None  # only None when applied in place
        colour = converted
    else:
        colour = colour.convert("RGB")
    if alpha is not None:
        colour.putalpha(alpha)
    return colour, ignored


def for_format(image: Image.Image, alpha_allowed: bool, background: str) -> Image.Image:
    """``image`` ready for an encoder: alpha kept only where it is used and allowed.

    An alpha channel that is opaque everywhere is dropped (smaller files, and
    JPEG needs no flattening); otherwise a format without alpha gets the image
    composited onto ``background``.
    """
    if image.mode not in ("RGBA", "LA"):
        return image
    alpha = image.getchannel("A")
    low, _ = alpha.getextrema()
    if low == 255:
        return image.convert(image.mode[:-1])
    if alpha_allowed:
        return image
    flat = Image.new("RGB", image.size, background)
    flat.paste(image.convert("RGB"), mask=alpha)
    return flat


def _colour_mode(mode: str) -> str:
    return {"RGBA": "RGB", "LA": "L"}.get(mode, mode)


@lru_cache(maxsize=16)
def _transform(icc_profile: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    """A transform from ``icc_profile`` to sRGB for ``mode`` pixels; ``None`` if unusable.

    Cached: building one costs about a millisecond and phones embed the same few
    profiles in every photo.
    """
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        return ImageCms.buildTransform(
            source, _srgb(), mode, "RGB", renderingIntent=_INTENT, flags=_FLAGS
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None


@lru_cache(maxsize=1)
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
