"""Sample photos for the demo, made with Pillow: varied, and the same bytes on every run.

Sizes and formats vary the way a real gallery's do (landscape, portrait,
square; JPEG and PNG), so the dimensions ikstorage reports are worth
checking. Two photos in every hundred carry a large EXIF block before the
image header, as camera photos do; ikstorage must still learn their
dimensions without downloading the whole file. Each photo is drawn from a
generator seeded with its number, so the bytes, and therefore the bytes
downloaded, are the same on every run.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw

#: Side of the square tile of grain laid over each photo.
GRAIN = 128

SIZES: tuple[tuple[int, int], ...] = (
    (1200, 800),
    (800, 1200),
    (640, 480),
    (1600, 900),
    (320, 240),
    (1024, 1024),
    (480, 640),
    (1920, 1080),
    (256, 192),
    (900, 600),
)


@dataclass(frozen=True)
class SamplePhoto:
    """One generated photo and what the page should say about it."""

    number: int
    filename: str
    title: str
    data: bytes
    width: int
    height: int


def exif_bytes(number: int) -> int:
    """Size of the EXIF text block of photo ``number``: 0 for most, 40 or 60 KB for two in 100."""
    if number % 50 != 7:
        return 0
    return 40_000 if (number // 50) % 2 == 0 else 60_000


def sample_photo(number: int) -> SamplePhoto:
    """Photo ``number`` (from 1): every fourth is a PNG, the rest JPEGs."""
    rng = random.Random(number)
    width, height = SIZES[(number - 1) % len(SIZES)]
    fmt = "PNG" if number % 4 == 0 else "JPEG"
    image = _draw(rng, width, height)
    buf = io.BytesIO()
    exif = exif_bytes(number)
    if fmt == "PNG":
        image.quantize(64, method=Image.Quantize.FASTOCTREE).save(buf, "PNG")
    else:
        options: dict[str, object] = {"quality": 82}
        if exif:
            tags = Image.Exif()
            tags[0x010F] = "ikstorage example camera"  # Make
            tags[0x010E] = "".join(rng.choice("abcdefgh ") for _ in range(exif))  # description
            options["exif"] = tags.tobytes()
        image.save(buf, "JPEG", **options)
    ext = "png" if fmt == "PNG" else "jpg"
    extra = f", {exif // 1000} KB EXIF" if exif else ""
    return SamplePhoto(
        number=number,
        filename=f"photo-{number:03d}.{ext}",
        title=f"Photo {number}: {width}x{height} {fmt}{extra}",
        data=buf.getvalue(),
        width=width,
        height=height,
    )


def _draw(rng: random.Random, width: int, height: int) -> Image.Image:
    """Colour fields, a few shapes and grain: quick to draw, compresses like a photo.

    The grain is a tile of seeded random bytes (Pillow's ``effect_noise`` is
    not seeded), so that JPEG sizes are realistic and stable.
    """
    seed = Image.new("RGB", (6, 4))
    seed.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(24)])
    image = seed.resize((width, height), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(min(width, height) // 10 + 1, min(width, height) // 3 + 2)
        colour = tuple(rng.randrange(256) for _ in range(3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    tile = Image.frombytes("L", (GRAIN, GRAIN), rng.randbytes(GRAIN * GRAIN)).convert("RGB")
    grain = Image.new("RGB", (width, height))
    for left in range(0, width, GRAIN):
        for top in range(0, height, GRAIN):
            grain.paste(tile, (left, top))
    return Image.blend(image, grain, 0.12)
