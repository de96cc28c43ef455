"""Sample photos: photo-like JPEGs of varied sizes, the same bytes on every run.

Each is a colour gradient under a tile of grain drawn from a generator seeded
with its number, so it compresses like a photograph (200 to 400 KB,
more than the 64 KiB a metadata probe reads) and no two are alike. Sizes vary
- landscape, portrait, square - so a dimension printed for the wrong file
cannot pass for right; every one is larger than the 200x150 thumbnail in both
directions, so every library crops rather than refusing to enlarge.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image

SIZES: tuple[tuple[int, int], ...] = (
    (1200, 900),
    (900, 1200),
    (1280, 854),
    (1024, 768),
    (1000, 1000),
    (1600, 900),
)
#: Side of the square tile of grain laid over each photo.
GRAIN = 96


def size(index: int) -> tuple[int, int]:
    return SIZES[index % len(SIZES)]


def name(index: int) -> str:
    return f"p{index:04d}.jpg"


def photo(index: int) -> bytes:
    """The JPEG bytes of photo ``index``."""
    rng = random.Random(index)
    width, height = size(index)
    colours = [rng.randrange(40, 216) for _ in range(3)]
    bands = [
        Image.linear_gradient("L")
        .rotate(rng.choice((0, 90, 180, 270)))
        .point(lambda v, c=c: c // 2 + v * c // 512)
        for c in colours
    ]
    image = Image.merge("RGB", bands).resize((width, height))
    grain = Image.frombytes("L", (GRAIN, GRAIN), rng.randbytes(GRAIN * GRAIN))
    noise = Image.new("L", (width, height))
    for x in range(0, width, GRAIN):
        for y in range(0, height, GRAIN):
            noise.paste(grain, (x, y))
    image = Image.blend(image, Image.merge("RGB", (noise, noise, noise)), 0.12)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def write(directory: Path, count: int) -> None:
    """Write photos ``0 .. count-1`` into ``directory``, once for every contender to read."""
    directory.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        (directory / name(index)).write_bytes(photo(index))
