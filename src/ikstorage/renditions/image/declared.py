"""The canvas a file's headers declare, read from its bytes before Pillow opens it.

Two plugins allocate pixels on a size they take from the file without
checking it against anything of ours:

* **GIF.** A frame placed or sized beyond the logical screen grows the canvas
  (Pillow's ``GifImageFile._seek``), when the frame is sought: an 8x8 GIF
  whose second frame claims 8000x7000 passes a check of the screen and then
  decodes 56 megapixels, several times over. The first frame is sought
  inside ``Image.open``, where a disposal method fills the frame's area at
  once.
* **WebP.** libwebp's animation decoder, created inside ``Image.open``,
  allocates two canvases of four bytes a pixel for the size the header
  claims; Pillow refuses only sizes over its own limit (179 megapixels).

So the pipeline reads what these headers declare first, in one pass over the
bytes that decodes nothing: for a GIF, the logical screen and every image
descriptor, with Pillow's rules for growing the canvas; for a WebP, the
canvas. The canvas of the first frame is held to ``max_pixels`` before
``Image.open``; the largest canvas any frame needs bounds the work of an
animation before its first frame is decoded (:mod:`.frames`).

For other formats ``Image.open`` reads the header without allocating pixels
(an APNG's frames must lie within its header's size), so Pillow's size is
the one checked.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import IO

__all__ = ["Declared", "declared"]


@dataclass(frozen=True, slots=True)
class Declared:
    """What a GIF's or a WebP's headers declare."""

    #: The canvas Pillow opens: the logical screen, grown by the first frame (GIF).
    first: tuple[int, int]
    #: The largest canvas any frame grows it to: every frame is composited at this size.
    largest: tuple[int, int]
    #: Image descriptors counted (GIF); ``None`` where the decoder counts them (WebP).
    frames: int | None = None

    @property
    def grows(self) -> bool:
        """True when a later frame lies beyond the first frame's canvas."""
        return self.largest != self.first


def declared(source: IO[bytes]) -> Declared | None:
    """What ``source``'s headers declare, read from its start; ``None`` if not a GIF or WebP.

    The stream is left at its start. Reads every block header of a GIF (a
    byte or two per 255 bytes of pixels), skipping the pixels themselves.
    """
    source.seek(0)
    try:
        head = source.read(30)
        if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 13:
            return _gif(source, head)
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            size = _webp(head)
            return None if size is None else Declared(size, size)
        return None
    finally:
        source.seek(0)


def _gif(source: IO[bytes], head: bytes) -> Declared:
    """The GIF's canvases as Pillow grows them, walking its blocks as Pillow's plugin does."""
    screen = struct.unpack_from("<HH", head, 6)
    flags = head[10]
    source.seek(13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 13))
    width, height = screen
    first: tuple[int, int] | None = None
    frames = 0
    while True:
        byte = source.read(1)
        if not byte or byte == b";":
            break
        if byte == b"!":  # an extension: its label, then sub-blocks to an empty one
            source.read(1)
            _skip_blocks(source)
        elif byte == b",":  # an image descriptor
            descriptor = source.read(9)
            if len(descriptor) < 9:
                break
            left, top, w, h, local = struct.unpack("<HHHHB", descriptor)
            width, height = max(width, left + w), max(height, top + h)
            if local & 0x80:
                source.seek(3 << ((local & 7) + 1), os.SEEK_CUR)
            source.read(1)  # the LZW minimum code size
            _skip_blocks(source)
            frames += 1
            if first is None:
                first = (width, height)
        # Any other byte is skipped, as Pillow skips it.
    return Declared(first or screen, (width, height), frames)


def _skip_blocks(source: IO[bytes]) -> None:
    """Past a chain of data sub-blocks (a length byte, then that many bytes) and its end."""
    while True:
        length = source.read(1)
        if not length or not length[0]:
            return
        source.seek(length[0], os.SEEK_CUR)


def _webp(head: bytes) -> tuple[int, int] | None:
    """The canvas of a WebP from its first chunk (extended, lossy or lossless)."""
    chunk = head[12:16]
    if chunk == b"VP8X" and len(head) >= 30:
        return (
            int.from_bytes(head[24:27], "little") + 1,
            int.from_bytes(head[27:30], "little") + 1,
        )
    if chunk == b"VP8 " and len(head) >= 30 and head[23:26] == b"\x9d\x01\x2a":
        w, h = struct.unpack_from("<HH", head, 26)
        return w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8L" and len(head) >= 25 and head[20] == 0x2F:
        (bits,) = struct.unpack_from("<I", head, 21)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None
