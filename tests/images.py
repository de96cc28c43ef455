"""Image bytes for tests, made with Pillow in memory."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def image_bytes(
    size: tuple[int, int] = (64, 48), fmt: str = "JPEG", mode: str = "RGB", **save: object
) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color=128 if mode in ("L", "I;16", "P") else None).save(
        buf, format=fmt, **save
    )
    return buf.getvalue()


def jpeg_with_exif(
    size: tuple[int, int], exif_bytes: int, icc_bytes: int = 0, quality: int = 20
) -> bytes:
    """A JPEG whose EXIF (APP1) and ICC (APP2) blocks come before the frame header."""
    exif = Image.Exif()
    exif[0x010E] = "x" * exif_bytes  # ImageDescription
    buf = io.BytesIO()
    extra = {"icc_profile": b"\0" * icc_bytes} if icc_bytes else {}
    Image.new("RGB", size, (90, 120, 200)).save(
        buf, "JPEG", quality=quality, exif=exif.tobytes(), **extra
    )
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG signature and IHDR claiming ``width`` by ``height`` (a decompression bomb header)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr
    chunk += struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    idat = zlib.compress(b"\0" * 16)
    chunk += struct.pack(">I", len(idat)) + b"IDAT" + idat
    chunk += struct.pack(">I", zlib.crc32(b"IDAT" + idat) & 0xFFFFFFFF)
    return b"\x89PNG\r\n\x1a\n" + chunk + b"\0\0\0\0IEND\xaeB`\x82"
