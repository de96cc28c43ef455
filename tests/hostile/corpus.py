"""The hostile corpus: crafted files, each with what it claims and what saving it must give.

Every file is made here, in memory, from Pillow's output patched by hand
(``gifs.py`` builds GIFs block by block). Three kinds:

* **bombs**: headers that claim more than they hold (a GIF frame growing an
  8x8 canvas to 144 megapixels, an APNG claiming two billion frames, a WebP
  canvas of 268 megapixels in a 200-byte file, a JPEG of 65500x65500);
* **broken files**: truncated, garbage pixel data, garbage ICC and EXIF
  profiles, compressed text that inflates past Pillow's limits;
* **honest files at the limit**: what ``max_pixels`` lets through at its
  worst (a 50-megapixel 16-bit PNG, two 25-megapixel frames of a GIF, an
  APNG and a WebP, 300 frames of a GIF in the budget). They set the memory
  budget; the bombs must stay within it.

``EXPECTED`` is what the record says after the save, with the default specs
of the tier (:data:`SPECS`): the rendition error, or each rendition's spec,
format, size and frame count.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from PIL import Image

from tests.hostile.gifs import Frame, gif
from tests.images import png_header_only
from tests.renditions.sources import jpeg_claiming, photo, save

#: The tier's specs: one like the source (GIF stays GIF: animated), one in WebP (animated).
SPECS: dict[str, Any] = {
    "large": {"fit": [800, 800]},
    "thumb": {"fill": [200, 150], "format": "webp"},
}

#: A tiny frame whose pixels are never meant to be decoded: clear code, end code.
NO_PIXELS = b"\x02\x01\x2c\x00"

#: A rendition as the record lists it, read back from S3: spec, format, width, height, frames.
Shown = tuple[str, str, int, int, int]


@dataclass(frozen=True)
class Hostile:
    """One crafted file: its name (which chooses the extension), what it claims, how it is made."""

    name: str
    claim: str
    build: Callable[[], bytes]
    #: The record's ``rendition_error`` after the save (``None``: rendered).
    error: str | None
    #: The renditions made, sorted (empty when ``error`` is set).
    shown: tuple[Shown, ...] = ()
    #: An honest file at the limit: among the costliest saves ``max_pixels`` allows.
    at_limit: bool = False


def chunk(kind: bytes, body: bytes) -> bytes:
    """A PNG chunk with its length and CRC."""
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """``(kind, body)`` of every chunk of a PNG."""
    at, found = 8, []
    while at < len(data):
        (length,) = struct.unpack_from(">I", data, at)
        found.append((data[at + 4 : at + 8], data[at + 8 : at + 8 + length]))
        at += 12 + length
    return found


def png_from(chunks: list[tuple[bytes, bytes]]) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunk(kind, body) for kind, body in chunks)


def png_rows(width: int, height: int, depth: int, colour_type: int, channels: int) -> bytes:
    """A flat PNG, its rows compressed as they are made (50 megapixels never in memory at once)."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    row = b"\x00" + b"\x80" * (width * channels * depth // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return png_from([(b"IHDR", ihdr), (b"IDAT", idat), (b"IEND", b"")])


def apng(size: tuple[int, int], count: int = 2, mode: str = "RGB") -> bytes:
    colours = [(255, 0, 0, 128), (0, 255, 0, 128), (0, 0, 255, 128)]
    frames = [Image.new(mode, size, colours[i % 3][: len(mode)]) for i in range(count)]
    return save(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=100)


def apng_patched(kind: bytes, nth: int, patch: Callable[[bytearray], None]) -> bytes:
    """A two-frame 40x30 APNG whose ``nth`` chunk of ``kind`` is changed by ``patch``."""
    chunks, seen = [], 0
    for name, body in png_chunks(apng((40, 30))):
        if name == kind:
            if seen == nth:
                changed = bytearray(body)
                patch(changed)
                body = bytes(changed)
            seen += 1
        chunks.append((name, body))
    return png_from(chunks)


def png_with(extra: list[tuple[bytes, bytes]]) -> bytes:
    """A 64x48 photo as PNG with ``extra`` chunks before its pixels."""
    chunks = png_chunks(save(Image.open(io.BytesIO(photo((64, 48)))), "PNG"))
    return png_from(chunks[:1] + extra + chunks[1:])


def webp_canvas(width: int, height: int) -> bytes:
    """A small animated WebP whose extended header (VP8X) claims a ``width`` x ``height`` canvas."""
    frames = [Image.new("RGB", (16, 16), c) for c in [(255, 0, 0), (0, 0, 255)]]
    data = bytearray(save(frames[0], "WEBP", save_all=True, append_images=frames[1:]))
    assert data[12:16] == b"VP8X"
    data[24:27] = (width - 1).to_bytes(3, "little")
    data[27:30] = (height - 1).to_bytes(3, "little")
    return bytes(data)


def webp_frame_beyond() -> bytes:
    """An animated 16x16 WebP whose second frame (ANMF) claims to be 4000x4000."""
    data = bytearray(webp_canvas(16, 16))
    at = data.index(b"ANMF", data.index(b"ANMF") + 4)
    data[at + 8 + 6 : at + 8 + 9] = (3999).to_bytes(3, "little")
    data[at + 8 + 9 : at + 8 + 12] = (3999).to_bytes(3, "little")
    return bytes(data)


@lru_cache(maxsize=2)
def progressive(size: tuple[int, int] = (7071, 7071)) -> bytes:
    """A flat progressive JPEG, 4:4:4: ten scans, as libjpeg's default script writes."""
    image = Image.new("RGB", size, (200, 100, 50))
    return save(image, "JPEG", progressive=True, subsampling=0, quality=90)


def jpeg_scans(total: int, size: tuple[int, int] = (7071, 7071)) -> bytes:
    """:func:`progressive` with its last scan repeated up to ``total`` scans.

    The last scan refines one component's AC coefficients; of a flat picture
    it is a few dozen bytes, and each repeat makes libjpeg walk every
    coefficient of that component once more.
    """
    data = progressive(size)
    starts = [m.start() for m in re.finditer(b"\xff\xda", data)]  # no APPn segment to hide one
    end = data.rindex(b"\xff\xd9")
    return data[:end] + data[starts[-1] : end] * (total - len(starts)) + b"\xff\xd9"


def jpeg_segment(marker: int, body: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body


def jpeg_with(segments: bytes) -> bytes:
    """A 64x48 photo as JPEG with ``segments`` right after its start-of-image marker."""
    data = photo((64, 48))
    return data[:2] + segments + data[2:]


def garbage(size: int, seed: int) -> bytes:
    """Deterministic noise."""
    return bytes((i * 2654435761 + seed) >> 7 & 0xFF for i in range(size))


def exif_loop() -> bytes:
    """A TIFF-structured EXIF block whose first IFD claims 65535 entries and points at itself."""
    ifd = (
        struct.pack("<H", 0xFFFF) + struct.pack("<HHII", 0x8769, 4, 1, 8) * 4 + struct.pack("<I", 8)
    )
    return b"Exif\x00\x00II*\x00" + struct.pack("<I", 8) + ifd


def icc_chunks() -> bytes:
    """ICC APP2 segments that claim to be 3 of 255, with garbage inside."""
    return b"".join(
        jpeg_segment(0xE2, b"ICC_PROFILE\x00" + bytes([n, 255]) + garbage(60000, n))
        for n in (1, 7, 255)
    )


def tiff_claiming(width: int, height: int) -> bytes:
    data = bytearray(save(Image.new("RGB", (16, 16), (1, 2, 3)), "TIFF"))
    image = Image.open(io.BytesIO(bytes(data)))
    assert image.size == (16, 16)
    # Little-endian TIFF: ImageWidth (256) and ImageLength (257) as SHORT or LONG entries.
    for tag, value in ((256, width), (257, height)):
        for kind in (3, 4):
            entry = struct.pack("<HHI", tag, kind, 1)
            at = data.find(entry)
            if at >= 0:
                data[at + 2 : at + 4] = struct.pack("<H", 4)
                data[at + 8 : at + 12] = struct.pack("<I", value)
                break
        else:
            raise AssertionError(f"no tag {tag} in Pillow's TIFF")
    return bytes(data)


def bmp_claiming(width: int, height: int) -> bytes:
    data = bytearray(save(Image.new("RGB", (16, 16), (1, 2, 3)), "BMP"))
    struct.pack_into("<ii", data, 18, width, height)
    return bytes(data)


def png_with_a_broken_stream() -> bytes:
    """A 64x48 PNG whose compressed pixels are garbage (chunk CRCs kept valid)."""
    chunks = png_chunks(save(Image.new("RGB", (64, 48), (9, 9, 9)), "PNG"))
    return png_from([(k, bytes(b ^ 0x5A for b in v) if k == b"IDAT" else v) for k, v in chunks])


def truncated(data: bytes, keep: float) -> bytes:
    return data[: int(len(data) * keep)]


def animated_gif() -> bytes:
    return gif((40, 30), [Frame((40, 30), colour=c) for c in (1, 2, 3)])


def _apng_frames(count: int) -> Callable[[bytearray], None]:
    def patch(body: bytearray) -> None:
        struct.pack_into(">I", body, 0, count)

    return patch


def _fctl_size(width: int, height: int) -> Callable[[bytearray], None]:
    def patch(body: bytearray) -> None:
        struct.pack_into(">II", body, 4, width, height)

    return patch


_SEVEN = 7071  # 7071 x 7071 = 49,999,041 pixels: just under max_pixels (progressive's default)
_FIRST = (("large", "gif", 8, 8, 1), ("thumb", "webp", 8, 6, 1))
_STILL_PHOTO = (("large", "jpeg", 64, 48, 1), ("thumb", "webp", 64, 48, 1))
_STILL_PNG = (("large", "png", 64, 48, 1), ("thumb", "webp", 64, 48, 1))
_AT_LIMIT_STILL = (("large", "png", 800, 800, 1), ("thumb", "webp", 200, 150, 1))
_AT_LIMIT_JPEG = (("large", "jpeg", 800, 800, 1), ("thumb", "webp", 200, 150, 1))

CORPUS: tuple[Hostile, ...] = (
    # -- GIF: canvas growth, far frames, frame counts --------------------------------------
    Hostile(
        "gif-grows-8000x7000.gif",
        "8x8 screen; frame 2 is 8000x7000 (56 MP)",
        lambda: gif((8, 8), [Frame((8, 8)), Frame((8000, 7000), colour=2)]),
        None,
        _FIRST,
    ),
    Hostile(
        "gif-grows-12000x12000.gif",
        "8x8 screen; frame 2 is 12000x12000 (144 MP)",
        lambda: gif((8, 8), [Frame((8, 8)), Frame((12000, 12000), colour=2)]),
        None,
        _FIRST,
    ),
    Hostile(
        "gif-grows-by-offset.gif",
        "8x8 screen; frame 2 is 1x1 placed at (65534, 65534): a 4.3 GP canvas",
        lambda: gif((8, 8), [Frame((8, 8)), Frame((1, 1), offset=(65534, 65534), colour=2)]),
        None,
        _FIRST,
    ),
    Hostile(
        "gif-grows-in-steps.gif",
        "8x8 screen; 40 frames each 1 px further out, up to 4000x4000 (16 MP x 40)",
        lambda: gif(
            (8, 8),
            [Frame((8, 8))]
            + [Frame((1, 1), offset=(100 * n, 100 * n), colour=n % 4) for n in range(1, 41)],
        ),
        None,
        _FIRST,
    ),
    Hostile(
        "gif-first-frame-beyond-screen.gif",
        "8x8 screen; frame 1 is 8000x7000 with disposal 2 (a fill of its area on open)",
        lambda: gif((8, 8), [Frame((8000, 7000), disposal=2, colour=2)]),
        "too-many-pixels",
    ),
    Hostile(
        "gif-first-frame-13000.gif",
        "1x1 screen; frame 1 claims 13000x13000 (169 MP), disposal 2, no pixel data",
        lambda: gif((1, 1), [Frame((13000, 13000), disposal=2, data=NO_PIXELS)]),
        "too-many-pixels",
    ),
    Hostile(
        "gif-far-first-frame.gif",
        "1x1 frame placed at (65535, 65535) (from test_bad_input)",
        lambda: gif((1, 1), [Frame((1, 1), offset=(65535, 65535))]),
        "too-many-pixels",
    ),
    Hostile(
        "gif-screen-65535.gif",
        "logical screen 65535x65535 (4.3 GP), one 8x8 frame",
        lambda: gif((65535, 65535), [Frame((8, 8))]),
        "too-many-pixels",
    ),
    Hostile(
        "gif-20000-frames.gif",
        "64x64, 20001 frames (a frame-count bomb, 500 KB)",
        lambda: gif(
            (64, 64),
            [Frame((64, 64))]
            + [Frame((1, 1), offset=(n % 64, 0), colour=n % 4) for n in range(20000)],
        ),
        None,
        (("large", "gif", 64, 64, 1), ("thumb", "webp", 64, 48, 1)),
    ),
    Hostile(
        "gif-300-frames-in-budget.gif",
        "408x408, 300 frames: 49.9 MP in all, the most an animation may decode",
        lambda: gif((408, 408), [Frame((408, 408), colour=n % 4) for n in range(300)]),
        None,
        (("large", "gif", 408, 408, 300), ("thumb", "webp", 200, 150, 300)),
        at_limit=True,
    ),
    Hostile(
        "gif-2x5000-in-budget.gif",
        "5000x5000, 2 frames: 50 MP in all, animated",
        lambda: gif((5000, 5000), [Frame((5000, 5000), colour=1), Frame((5000, 5000), colour=2)]),
        None,
        (("large", "gif", 800, 800, 2), ("thumb", "webp", 200, 150, 2)),
        at_limit=True,
    ),
    Hostile(
        "gif-truncated-in-frame-2.gif",
        "a 3-frame 40x30 GIF cut in its second frame",
        lambda: truncated(animated_gif(), 0.55),
        None,
        (("large", "gif", 40, 30, 1), ("thumb", "webp", 40, 30, 1)),
    ),
    # -- APNG ----------------------------------------------------------------------------
    Hostile(
        "apng-frame-beyond-canvas.png",
        "40x30 APNG; frame 2's fcTL claims 8000x7000",
        lambda: apng_patched(b"fcTL", 1, _fctl_size(8000, 7000)),
        None,
        (("large", "png", 40, 30, 1), ("thumb", "webp", 40, 30, 1)),
    ),
    Hostile(
        "apng-first-frame-beyond-canvas.png",
        "40x30 APNG; frame 1's fcTL claims 8000x7000",
        lambda: apng_patched(b"fcTL", 0, _fctl_size(8000, 7000)),
        "not-an-image",
    ),
    Hostile(
        "apng-two-billion-frames.png",
        "40x30 APNG with 2 frames whose acTL claims 2147483647",
        lambda: apng_patched(b"acTL", 0, _apng_frames(0x7FFFFFFF)),
        None,
        (("large", "png", 40, 30, 1), ("thumb", "webp", 40, 30, 1)),
    ),
    Hostile(
        "apng-2x5000-in-budget.png",
        "5000x5000 RGBA APNG, 2 frames: 50 MP in all, animated in WebP",
        lambda: apng((5000, 5000), mode="RGBA"),
        None,
        (("large", "png", 800, 800, 1), ("thumb", "webp", 200, 150, 2)),
        at_limit=True,
    ),
    # -- WebP ----------------------------------------------------------------------------
    Hostile(
        "webp-canvas-16384.webp",
        "animated WebP whose VP8X claims a 16384x16384 canvas (268 MP)",
        lambda: webp_canvas(16384, 16384),
        "too-many-pixels",
    ),
    Hostile(
        "webp-canvas-13000.webp",
        "animated WebP whose VP8X claims 13000x13000 (169 MP, under Pillow's limit: 1.35 GB "
        "of canvases for libwebp)",
        lambda: webp_canvas(13000, 13000),
        "too-many-pixels",
    ),
    Hostile(
        "webp-canvas-7500.webp",
        "animated WebP whose VP8X claims 7500x7500 (56 MP; libwebp allocates 2 canvases on open)",
        lambda: webp_canvas(7500, 7500),
        "too-many-pixels",
    ),
    Hostile(
        "webp-frame-beyond-canvas.webp",
        "16x16 animated WebP; frame 2 (ANMF) claims 4000x4000",
        webp_frame_beyond,
        None,
        (("large", "webp", 16, 16, 2), ("thumb", "webp", 16, 12, 2)),
    ),
    Hostile(
        "webp-2x5000-in-budget.webp",
        "5000x5000 RGBA lossless WebP, 2 frames: 50 MP in all, animated",
        lambda: save(
            Image.new("RGBA", (5000, 5000), (255, 0, 0, 128)),
            "WEBP",
            save_all=True,
            append_images=[Image.new("RGBA", (5000, 5000), (0, 255, 0, 128))],
            lossless=True,
        ),
        None,
        (("large", "webp", 800, 800, 2), ("thumb", "webp", 200, 150, 2)),
        at_limit=True,
    ),
    Hostile(
        "webp-truncated.webp",
        "a 200x150 WebP cut in half (from test_bad_input)",
        lambda: truncated(save(Image.effect_noise((200, 150), 60).convert("RGB"), "WEBP"), 0.5),
        "corrupt",
    ),
    # -- PNG -----------------------------------------------------------------------------
    Hostile(
        "png-claims-8000x8000.png",
        "IHDR claims 8000x8000 (64 MP), 16 bytes of pixels (from test_bad_input)",
        lambda: png_header_only(8000, 8000),
        "too-many-pixels",
    ),
    Hostile(
        "png-claims-20000x20000.png",
        "IHDR claims 20000x20000 (400 MP, over Pillow's own limit)",
        lambda: png_header_only(20_000, 20_000),
        "too-many-pixels",
    ),
    Hostile(
        "png-claims-2147483647-wide.png",
        "IHDR claims 2147483647x1",
        lambda: png_header_only(0x7FFFFFFF, 1),
        "too-many-pixels",
    ),
    Hostile(
        "png-grey16-at-the-limit.png",
        "7071x7071 16-bit grey (50 MP, 110 KB): the costliest still image max_pixels allows",
        lambda: png_rows(_SEVEN, _SEVEN, 16, 0, 1),
        None,
        _AT_LIMIT_STILL,
        at_limit=True,
    ),
    Hostile(
        "png-ztxt-bomb.png",
        "a zTXt chunk inflating to 64 MB",
        lambda: png_with([(b"zTXt", b"k\x00\x00" + zlib.compress(b"\x00" * (64 << 20), 9))]),
        "corrupt",  # Pillow refuses text over its MAX_TEXT_CHUNK (1 MiB) when it opens the file
    ),
    Hostile(
        "png-garbage-iccp.png",
        "an iCCP chunk holding 20 KB of garbage",
        lambda: png_with([(b"iCCP", b"p\x00\x00" + zlib.compress(garbage(20_000, 3)))]),
        None,
        _STILL_PNG,
    ),
    Hostile(
        "png-garbage-exif.png",
        "an eXIf chunk whose first IFD claims 65535 entries and points at itself",
        lambda: png_with([(b"eXIf", exif_loop()[6:])]),
        None,
        _STILL_PNG,
    ),
    Hostile(
        "png-broken-stream.png",
        "valid chunks, garbage compressed pixels (from test_bad_input)",
        png_with_a_broken_stream,
        "corrupt",
    ),
    Hostile(
        "png-truncated.png",
        "a 200x150 PNG cut in half (from test_bad_input)",
        lambda: truncated(save(Image.effect_noise((200, 150), 60).convert("RGB"), "PNG"), 0.5),
        "corrupt",
    ),
    # -- JPEG ----------------------------------------------------------------------------
    Hostile(
        "jpeg-claims-9000x9000.jpg",
        "SOF claims 9000x9000 (81 MP) (from test_bad_input)",
        lambda: jpeg_claiming(9000, 9000),
        "too-many-pixels",
    ),
    Hostile(
        "jpeg-claims-65500x65500.jpg",
        "SOF claims 65500x65500 (4.3 GP)",
        lambda: jpeg_claiming(65500, 65500),
        "too-many-pixels",
    ),
    Hostile(
        "jpeg-claims-7000x7000.jpg",
        "SOF claims 7000x7000 (49 MP, under the cap) over 16x16 of data",
        lambda: jpeg_claiming(7000, 7000),
        None,
        (("large", "jpeg", 800, 800, 1), ("thumb", "webp", 200, 150, 1)),
    ),
    Hostile(
        "jpeg-progressive-at-the-limit.jpg",
        "7071x7071 progressive 4:4:4 (libjpeg holds every coefficient)",
        progressive,
        None,
        _AT_LIMIT_JPEG,
        at_limit=True,
    ),
    Hostile(
        "jpeg-100-scans.jpg",
        "the same with its last scan repeated up to 100 scans: the most work a JPEG may cost",
        lambda: jpeg_scans(100),
        None,
        _AT_LIMIT_JPEG,
        at_limit=True,
    ),
    Hostile(
        "jpeg-2000-scans.jpg",
        "the same with 2000 scans (740 KB; a minute of decoding)",
        lambda: jpeg_scans(2000),
        "too-many-scans",
    ),
    Hostile(
        "jpeg-garbage-icc.jpg",
        "three ICC segments (1, 7 and 255 of 255) of garbage",
        lambda: jpeg_with(icc_chunks()),
        None,
        _STILL_PHOTO,
    ),
    Hostile(
        "jpeg-exif-loop.jpg",
        "EXIF whose first IFD claims 65535 entries and points at itself",
        lambda: jpeg_with(jpeg_segment(0xE1, exif_loop())),
        None,
        _STILL_PHOTO,
    ),
    Hostile(
        "jpeg-garbage-exif.jpg",
        "an EXIF segment of 65 KB of garbage",
        lambda: jpeg_with(jpeg_segment(0xE1, b"Exif\x00\x00" + garbage(65_000, 9))),
        None,
        _STILL_PHOTO,
    ),
    Hostile(
        "jpeg-truncated.jpg",
        "a 320x240 photo cut at 60 % (from test_bad_input)",
        lambda: truncated(photo((320, 240)), 0.6),
        "corrupt",
    ),
    # -- TIFF, BMP, not images ------------------------------------------------------------
    Hostile(
        "tiff-claims-100000x100000.tif",
        "TIFF whose IFD claims 100000x100000 (10 GP)",
        lambda: tiff_claiming(100_000, 100_000),
        "too-many-pixels",
    ),
    Hostile(
        "bmp-claims-30000x30000.bmp",
        "BMP header claims 30000x30000 (900 MP)",
        lambda: bmp_claiming(30_000, 30_000),
        "too-many-pixels",
    ),
    Hostile("empty.jpg", "zero bytes", lambda: b"", "empty"),
    Hostile(
        "pdf.jpg",
        "a PDF named .jpg (from test_bad_input)",
        lambda: b"%PDF-1.7\n" + b"x" * 500,
        "not-an-image",
    ),
    Hostile(
        "eps.jpg",
        "an EPS named .jpg: never handed to Ghostscript (from test_bad_input)",
        lambda: b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n",
        "not-an-image",
    ),
)

#: A small photo: the save every budget is measured against.
BASELINE = Hostile(
    "baseline.jpg",
    "a 640x480 photo",
    lambda: photo((640, 480)),
    None,
    (("large", "jpeg", 640, 480, 1), ("thumb", "webp", 200, 150, 1)),
)
