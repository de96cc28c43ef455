"""GIFs assembled block by block, so a frame can claim any size and any place.

Pillow writes only honest GIFs (every frame inside the logical screen); the
hostile ones are put together here from a logical screen, a global palette
and frames whose compressed pixels Pillow made, each at its own size.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image

#: Four colours: black, red, green, blue.
PALETTE = bytes([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255])


@dataclass(frozen=True)
class Frame:
    """One image descriptor: its size, where it is placed, and its disposal method."""

    size: tuple[int, int]
    offset: tuple[int, int] = (0, 0)
    disposal: int = 0
    colour: int = 1
    delay: int = 10  # hundredths of a second
    #: The LZW code size and sub-blocks; by default, a flat frame of ``size`` as Pillow writes it.
    data: bytes | None = None


def gif(screen: tuple[int, int], frames: list[Frame], *, loop: bool = True) -> bytes:
    """A GIF89a with a logical screen of ``screen`` and ``frames`` as given."""
    out = bytearray(b"GIF89a")
    out += struct.pack("<HHBBB", *screen, 0x80 | 0x01, 0, 0)  # global palette of 4 colours
    out += PALETTE
    if loop:
        out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    for frame in frames:
        out += b"\x21\xf9\x04" + struct.pack("<BHBB", frame.disposal << 2, frame.delay, 0, 0)
        out += b"\x2c" + struct.pack("<HHHHB", *frame.offset, *frame.size, 0)
        out += pixels(frame.size, frame.colour) if frame.data is None else frame.data
    return bytes(out + b"\x3b")


@lru_cache(maxsize=16)
def pixels(size: tuple[int, int], colour: int = 1) -> bytes:
    """The LZW code size and data sub-blocks of a flat frame of ``size``, as Pillow writes them."""
    image = Image.new("P", size, colour)
    image.putpalette(PALETTE)
    buffer = io.BytesIO()
    image.save(buffer, "GIF", optimize=False)  # keep the colour index as given
    data = buffer.getvalue()
    at = 13 + ((3 << ((data[10] & 7) + 1)) if data[10] & 0x80 else 0)
    while data[at] == 0x21:  # extensions: label, then sub-blocks up to an empty one
        at += 2
        while data[at]:
            at += data[at] + 1
        at += 1
    assert data[at] == 0x2C, "Pillow wrote no image descriptor where expected"
    flags = data[at + 9]
    start = at + 10 + ((3 << ((flags & 7) + 1)) if flags & 0x80 else 0)
    assert data[-1] == 0x3B
    return data[start:-1]
