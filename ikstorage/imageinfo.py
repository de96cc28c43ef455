"""Image width and height from header bytes, reading as little as possible.

The storage layer wants an image's size without downloading it: against S3 every
byte costs a ranged GET, and decoding pixels would cost far more. The caller
supplies a random-access reader (``read_at(offset, length)``); the parsers here
ask only for the ranges they need and jump over segments they do not (a JPEG
EXIF block can be 64 KiB, its payload is never fetched).

JPEG, PNG/APNG, GIF, WebP, BMP and classic TIFF are parsed natively. ICO, AVIF
and BigTIFF are handed to Pillow, opened lazily from at most the first 64 KiB,
so the pixels are never decoded. HEIC and JPEG XL are absent because Pillow
cannot read them without extra plugins.

Results agree with Django's ``get_image_dimensions`` (that is, with Pillow's
``Image.size``) so sizes learnt here match what an ``ImageField`` would
store: raw stored dimensions, except for TIFF, where Pillow swaps them when the
Orientation tag says the image is transposed (5-8). Headers Pillow refuses
(a 12-bit JPEG, an unknown PNG colour type) give None here too.
"""

from __future__ import annotations

import io
import posixpath
import struct
import threading
import warnings
import zlib
from collections.abc import Callable
from typing import IO

ReadAt = Callable[[int, int], bytes]
"""``read_at(offset, length)``: up to ``length`` bytes at ``offset`` (fewer, or b"", at EOF)."""

IMAGE_EXTENSIONS: frozenset[str] = frozenset({
    ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".apng", ".gif", ".webp",
    ".bmp", ".dib", ".tif", ".tiff", ".ico", ".avif",
})  # fmt: skip

_HEAD = 32  # enough for every native format's magic and, except JPEG/TIFF, its size fields
_FALLBACK_BYTES = 64 * 1024  # Pillow only ever sees this much
_MAX_STEPS = 4096  # JPEG markers/junk bytes walked, GIF blocks, TIFF IFD entries
_MAX_GIF_SUBBLOCKS = 1 << 16  # GIF extensions come in 255-byte pieces: allows ~16 MiB
_MAX_SIDE = 2**31

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_PNG_MODES = {(1, 0), (2, 0), (4, 0), (8, 0), (16, 0), (8, 2), (16, 2)} | {
    (1, 3), (2, 3), (4, 3), (8, 3), (8, 4), (16, 4), (8, 6), (16, 6)
}  # fmt: skip
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers without a length field, as Pillow walks them (plus TEM, 0x01).
_JPEG_STANDALONE = frozenset({0x01, 0xC8, *range(0xD0, 0xDA), *range(0xF0, 0xFE)})
_PILLOW_FORMATS = ("ICO", "AVIF", "TIFF")  # TIFF: BigTIFF and rare byte-order marks
_TIFF_TYPES = {1: "B", 3: "H", 4: "I"}  # BYTE, SHORT, LONG
_TIFF_WIDTH, _TIFF_LENGTH, _TIFF_ORIENTATION = 256, 257, 274

_pillow_lock = threading.Lock()


class ProbeLimitExceeded(Exception):
    """Raised by a reader whose byte budget is spent; the probe then gives up quietly."""


class _Short(Exception):
    """The bytes ended before a header field: truncated, or not what the magic promised."""


def is_image_name(name: str) -> bool:
    """True when the name's extension says it is an image worth probing (case-insensitive)."""
    return posixpath.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def read_dimensions(read_at: ReadAt) -> tuple[int, int] | None:
    """Width and height from the image header, or None when the bytes are not an image
    this module can size (or are corrupt/truncated, or the reader's budget ran out).

    Errors other than ProbeLimitExceeded raised by ``read_at`` (network, permissions)
    propagate: they say nothing about the image.
    """
    try:
        return _probe(_Source(read_at, read_at(0, _HEAD)[:_HEAD]))
    except (_Short, ProbeLimitExceeded):
        return None


def dimensions_from_file(fileobj: IO[bytes], limit: int = 1 << 20) -> tuple[int, int] | None:
    """Same, from a seekable file object (an upload being saved): restores the file
    position afterwards; reads at most ``limit`` bytes in total; returns None for
    unseekable files.
    """
    try:
        if not fileobj.seekable():
            return None
        start = fileobj.tell()
    except (AttributeError, OSError, ValueError):
        return None
    spent = 0

    def read_at(offset: int, length: int) -> bytes:
        nonlocal spent
        length = min(length, limit - spent)
        if length <= 0:
            raise ProbeLimitExceeded(f"probe read {spent} bytes, limit is {limit}")
        fileobj.seek(offset)
        chunks: list[bytes] = []
        while length > 0:  # raw files may return short reads before EOF
            chunk = fileobj.read(length)
            if not chunk:
                break
            chunks.append(chunk)
            spent += len(chunk)
            length -= len(chunk)
        return b"".join(chunks)

    try:
        return read_dimensions(read_at)
    finally:
        fileobj.seek(start)


class _Source:
    """The first bytes of the file plus the reader, so small reads inside them are free."""

    def __init__(self, read_at: ReadAt, head: bytes) -> None:
        self.read_at = read_at
        self.head = head

    def read(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes at ``offset``; fewer only at EOF."""
        head = self.head
        if offset + length <= len(head) or len(head) < _HEAD:  # or the whole file is in head
            return head[offset : offset + length]
        if offset < _HEAD:  # fetch only the part past head
            rest = offset + length - _HEAD
            return head[offset:] + self.read_at(_HEAD, rest)[:rest]
        return self.read_at(offset, length)[:length]

    def take(self, offset: int, length: int) -> bytes:
        """Exactly ``length`` bytes at ``offset``, or _Short."""
        data = self.read(offset, length)
        if len(data) < length:
            raise _Short
        return data


def _size(width: int, height: int) -> tuple[int, int] | None:
    """Reject sizes no real image has; a zero or huge side means a corrupt header."""
    if 0 < width <= _MAX_SIDE and 0 < height <= _MAX_SIDE:
        return width, height
    return None


def _probe(src: _Source) -> tuple[int, int] | None:
    """Dispatch on the magic bytes; unknown magic goes to Pillow."""
    head = src.head
    if not head:
        return None
    if head.startswith(b"\xff\xd8\xff"):
        return _jpeg(src)
    if head.startswith(_PNG_MAGIC):
        return _png(src)
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return _gif(src)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _webp(src)
    if head[:2] == b"BM":
        return _bmp(src)
    if head[:4] in (b"II*\0", b"MM\0*"):
        return _tiff(src)
    return _pillow(src)


def _jpeg(src: _Source) -> tuple[int, int] | None:
    """Walk the markers after SOI to the start of scan, skipping payloads by length.

    The size is the last frame header's, and it counts only once the scan
    header is there too: Pillow (and so Django) refuses a JPEG cut before it.
    """
    pos = 2
    size: tuple[int, int] | None = None
    for _ in range(_MAX_STEPS):
        prefix, marker, length = struct.unpack(">BBH", src.take(pos, 4))
        if prefix != 0xFF or marker == 0xFF:  # junk between segments, or a fill byte
            pos += 1
        elif marker == 0x00 or marker in _JPEG_STANDALONE:
            pos += 2
        elif marker == 0xDA:  # start of scan: the header is complete
            if size is None or length < 2:
                return None
            src.take(pos + 4, length - 2)
            return size
        elif marker < 0xC0:  # reserved
            return None
        elif marker in _JPEG_SOF:
            precision, height, width, components = struct.unpack(">BHHB", src.take(pos + 4, 6))
            if precision != 8 or components not in (1, 3, 4):  # what Pillow can open
                return None
            size = _size(width, height)
            if size is None:
                return None
            pos += 2 + length
        elif length < 2:
            return None
        else:
            pos += 2 + length
    return None


def _png(src: _Source) -> tuple[int, int] | None:
    """IHDR is the first chunk; its CRC is checked because Pillow rejects a bad one."""
    chunk = src.take(8, 25)
    (crc,) = struct.unpack(">I", chunk[21:])
    if chunk[:8] != b"\0\0\0\x0dIHDR" or crc != zlib.crc32(chunk[4:21]):
        return None
    width, height, depth, colour, _, filtering = struct.unpack(">IIBBBB", chunk[8:20])
    if (depth, colour) not in _PNG_MODES or filtering:
        return None
    return _size(width, height)


def _gif(src: _Source) -> tuple[int, int] | None:
    """Logical screen, grown to cover the first frame as Pillow does."""
    width, height, flags = struct.unpack("<HHB", src.take(6, 5))
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    steps = 0
    while steps < _MAX_GIF_SUBBLOCKS:
        steps += 1
        block = src.take(pos, 1)
        if block == b";":
            return None
        if block == b"!":  # extension: label, then sub-blocks until a zero length
            pos += 2
            while (length := src.take(pos, 1)[0]) and steps < _MAX_GIF_SUBBLOCKS:
                pos += 1 + length
                steps += 1
            pos += 1
        elif block == b",":
            left, top, w, h, flags = struct.unpack("<HHHHB", src.take(pos + 1, 9))
            palette = 3 << ((flags & 7) + 1) if flags & 0x80 else 0
            src.take(pos + 10 + palette, 1)  # LZW code size: Pillow needs the frame to start
            return _size(max(width, left + w), max(height, top + h))
        else:  # stray byte
            pos += 1
    return None


def _webp(src: _Source) -> tuple[int, int] | None:
    """Canvas size from the first chunk: VP8X, VP8L (lossless) or VP8 (lossy key frame)."""
    kind = src.take(12, 4)
    if kind == b"VP8X":
        w = src.take(24, 3) + b"\0"
        h = src.take(27, 3) + b"\0"
        return _size(struct.unpack("<I", w)[0] + 1, struct.unpack("<I", h)[0] + 1)
    if kind == b"VP8L":
        data = src.take(20, 5)
        if data[0] != 0x2F:
            return None
        (bits,) = struct.unpack("<I", data[1:])
        return _size((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if kind == b"VP8 ":
        data = src.take(23, 7)
        if data[:3] != b"\x9d\x01\x2a":
            return None
        width, height = struct.unpack("<HH", data[3:])
        return _size(width & 0x3FFF, height & 0x3FFF)
    return None


def _bmp(src: _Source) -> tuple[int, int] | None:
    """BITMAPCOREHEADER (16-bit sides) or an INFOHEADER family (32-bit, height may be <0)."""
    (header_size,) = struct.unpack("<I", src.take(14, 4))
    if header_size == 12:
        return _size(*struct.unpack("<HH", src.take(18, 4)))
    if header_size in (40, 52, 56, 64, 108, 124):
        width, height = struct.unpack("<Ii", src.take(18, 8))
        if height < -(2**24):  # Pillow only reads heights with a 0xFF top byte as top-down
            return None
        return _size(width, abs(height))
    return None


def _tiff(src: _Source) -> tuple[int, int] | None:
    """ImageWidth/ImageLength from the first IFD, swapped when Orientation is 5-8."""
    endian = "<" if src.head[:2] == b"II" else ">"
    (ifd,) = struct.unpack(endian + "I", src.take(4, 4))
    (count,) = struct.unpack(endian + "H", src.take(ifd, 2))
    tags: dict[int, int] = {}
    entries = b""
    for index in range(min(count, _MAX_STEPS)):
        at = 12 * (index % 32)
        if at == 0:  # entries are fetched 32 at a time; a short batch is fine
            entries = src.read(ifd + 2 + 12 * index, 12 * min(32, count - index))
        if at + 12 > len(entries):
            break
        tag, kind, values = struct.unpack_from(endian + "HHI", entries, at)
        if tag > _TIFF_ORIENTATION:  # entries are sorted: nothing useful follows
            break
        if values == 1 and kind in _TIFF_TYPES:
            tags[tag] = struct.unpack_from(endian + _TIFF_TYPES[kind], entries, at + 8)[0]
    if _TIFF_WIDTH not in tags or _TIFF_LENGTH not in tags:
        return None
    width, height = tags[_TIFF_WIDTH], tags[_TIFF_LENGTH]
    if tags.get(_TIFF_ORIENTATION) in (5, 6, 7, 8):
        width, height = height, width
    return _size(width, height)


def _pillow(src: _Source) -> tuple[int, int] | None:
    """Let Pillow size ICO, AVIF and BigTIFF from a bounded prefix, without decoding.

    Image.open is lazy: it parses the header only. Only the plugins for the formats
    in IMAGE_EXTENSIONS are tried, so the weak signatures of formats nobody uploads
    (TGA, XBM...) cannot turn random bytes into an "image", and their parsers' bugs
    stay out of reach. A decompression-bomb header gives its size (the warning is
    silenced) or None (the error is caught). Warning filters are process-wide, hence
    the lock around them.
    """
    from PIL import Image  # deferred: most probes never need it

    data = src.head
    if len(data) == _HEAD:
        data += src.read_at(_HEAD, _FALLBACK_BYTES - _HEAD)
    try:
        with _pillow_lock, warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
            with Image.open(io.BytesIO(data), formats=_PILLOW_FORMATS) as image:
                return _size(*image.size)
    # OSError: UnidentifiedImageError and truncated reads. ValueError/SyntaxError/EOFError:
    # header fields a plugin rejects. RuntimeError: a codec refusing the data (AVIF).
    except (OSError, ValueError, SyntaxError, EOFError, RuntimeError):
        return None
    except Image.DecompressionBombError:
        return None
