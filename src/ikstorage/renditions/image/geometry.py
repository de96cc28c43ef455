"""Where a spec's output comes from: its size and the region of the source it shows.

Everything a user specifies is about the image as it is shown, upright (EXIF
orientation applied). The pixels, however, are decoded as stored. Rather than
rotating the whole decoded source (15 ms for a 6-megapixel image), the
pipeline maps the upright region back onto the stored pixels with
:func:`stored_box`, resizes that region, and rotates only the small result.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import ExifTags, Image

from ikstorage.renditions.specs import Spec

__all__ = [
    "TRANSPOSE",
    "Plan",
    "exif_orientation",
    "plan",
    "stored_box",
    "stored_size",
    "upright_size",
]

Box = tuple[float, float, float, float]

#: The transposition that turns stored pixels upright, per EXIF orientation.
TRANSPOSE: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True, slots=True)
class Plan:
    """One spec applied to one source, in upright source pixels."""

    #: Output width and height, upright.
    size: tuple[int, int]
    #: The region of the upright source the output shows (left, top, right, bottom).
    box: Box
    #: True when the output is the region itself, unscaled, on whole pixels: a crop.
    exact: bool = False
    #: True when nothing is cropped away: the output shows the whole source.
    full_frame: bool = False


def plan(spec: Spec, width: int, height: int) -> Plan:
    """Output size and source region for ``spec`` on an upright ``width`` x ``height`` source."""
    if spec.fill is not None:
        return _fill(spec, width, height)
    if spec.fit is not None:
        box_w, box_h = spec.fit
        scale = min(box_w / width, box_h / height)
    elif spec.width is not None:
        scale = spec.width / width
    else:
        assert spec.height is not None
        scale = spec.height / height
    if not spec.upscale:
        scale = min(scale, 1.0)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return Plan(size=size, box=(0.0, 0.0, float(width), float(height)), full_frame=True)


def _fill(spec: Spec, width: int, height: int) -> Plan:
    assert spec.fill is not None
    box_w, box_h = spec.fill
    # The largest region with the box's aspect ratio that fits in the source.
    if width * box_h > height * box_w:
        crop_w, crop_h = height * box_w / box_h, float(height)
    else:
        crop_w, crop_h = float(width), width * box_h / box_w
    anchor_x, anchor_y = spec.anchor
    if crop_w < box_w and not spec.upscale:
        # Too small to fill the box: keep the region at the source's own scale, on whole pixels.
        out_w, out_h = max(1, min(width, round(crop_w))), max(1, min(height, round(crop_h)))
        at_x, at_y = round((width - out_w) * anchor_x), round((height - out_h) * anchor_y)
        return Plan(
            size=(out_w, out_h),
            box=(float(at_x), float(at_y), float(at_x + out_w), float(at_y + out_h)),
            exact=True,
            full_frame=(out_w, out_h) == (width, height),
        )
    left, top = (width - crop_w) * anchor_x, (height - crop_h) * anchor_y
    full = crop_w == width and crop_h == height
    return Plan(size=(box_w, box_h), box=(left, top, left + crop_w, top + crop_h), full_frame=full)


def exif_orientation(image: Image.Image) -> int:
    """The EXIF (or XMP) orientation, 1-8; 1 when absent or unreadable."""
    try:
        value = image.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # a broken EXIF block must not stop the rendition: show as stored
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def upright_size(width: int, height: int, orientation: int) -> tuple[int, int]:
    """The size shown for stored pixels of ``width`` x ``height`` with this orientation."""
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


stored_size = upright_size  # the swap is its own inverse


def stored_box(box: Box, orientation: int, width: int, height: int) -> Box:
    """The region of the stored ``width`` x ``height`` pixels that shows upright ``box``.

    Each orientation maps an upright point (u, v) back to the stored point (x,
    y); the two corners of the box are mapped and re-ordered.
    """
    corners = [_stored_point(u, v, orientation, width, height) for u, v in (box[:2], box[2:])]
    xs, ys = sorted(c[0] for c in corners), sorted(c[1] for c in corners)
    return (xs[0], ys[0], xs[1], ys[1])


def _stored_point(
    u: float, v: float, orientation: int, width: int, height: int
) -> tuple[float, float]:
    if orientation == 2:
        return (width - u, v)
    if orientation == 3:
        return (width - u, height - v)
    if orientation == 4:
        return (u, height - v)
    if orientation == 5:
        return (v, u)
    if orientation == 6:
        return (v, height - u)
    if orientation == 7:
        return (width - v, height - u)
    if orientation == 8:
        return (width - v, u)
    return (u, v)
