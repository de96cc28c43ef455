"""Tests for ikstorage.imageinfo: sizes match Django's, and skipped payloads are never read."""

from __future__ import annotations

import functools
import io
import struct
import zlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.images import get_image_dimensions
from PIL import Image, ImageCms

from ikstorage.imageinfo import (
    IMAGE_EXTENSIONS,
    ProbeLimitExceeded,
    ReadAt,
    dimensions_from_file,
    is_image_name,
    read_dimensions,
)

EXIF_DESCRIPTION = 0x010E
EXIF_ORIENTATION = 0x0112


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def reader(data: bytes) -> ReadAt:
    return lambda offset, length: data[offset : offset + length]


class CountingReader:
    """Records every range the parser asks for."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reads: list[tuple[int, int]] = []

    def __call__(self, offset: int, length: int) -> bytes:
        self.reads.append((offset, length))
        return self.data[offset : offset + length]

    @property
    def total(self) -> int:
        return sum(length for _, length in self.reads)


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png_by_hand(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims any size, with a valid CRC (a decompression-bomb header)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def exif_with_description(size: int, orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[EXIF_DESCRIPTION] = "x" * size
    if orientation is not None:
        exif[EXIF_ORIENTATION] = orientation
    return exif


@functools.cache
def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@functools.cache
def big_exif_12mp_jpeg() -> bytes:
    """4000x3000 JPEG with a ~64 KB EXIF APP1 and an ICC profile; flat colour encodes fast."""
    image = Image.new("RGB", (4000, 3000), (120, 80, 40))
    exif = exif_with_description(64_000)
    return encode(image, "JPEG", quality=5, exif=exif, icc_profile=srgb_icc())


def bmp_core_header(width: int, height: int) -> bytes:
    """A 24-bit BMP with the 12-byte BITMAPCOREHEADER (Pillow only writes INFOHEADER)."""
    stride = (width * 3 + 3) & ~3
    pixels = b"\x10\x20\x30" * width + b"\0" * (stride - width * 3)
    offset = 14 + 12
    header = b"BM" + struct.pack("<IHHI", offset + stride * height, 0, 0, offset)
    return header + struct.pack("<IHHHH", 12, width, height, 1, 24) + pixels * height


def top_down_bmp(width: int, height: int) -> bytes:
    data = bytearray(encode(Image.new("RGB", (width, height), "blue"), "BMP"))
    data[22:26] = struct.pack("<i", -height)
    return bytes(data)


def bigtiff(width: int, height: int) -> bytes:
    """A minimal 8-bit grey BigTIFF (Pillow reads it, but only the fallback path sizes it)."""
    tags = [(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1)]
    tags += [(273, 4, 256), (277, 3, 1), (278, 4, height), (279, 4, width * height)]
    entries = b"".join(struct.pack("<HHQQ", tag, kind, 1, value) for tag, kind, value in tags)
    ifd = struct.pack("<Q", len(tags)) + entries + struct.pack("<Q", 0)
    header = b"II+\0" + struct.pack("<HHQ", 8, 0, 16) + ifd
    return header.ljust(256, b"\0") + b"\x80" * min(width * height, 4096)


def gif_frame_beyond_screen() -> bytes:
    """A GIF whose first frame is wider than its logical screen: Pillow grows the size."""
    data = bytearray(encode(Image.new("P", (30, 20)), "GIF"))
    data[6:8] = struct.pack("<H", 10)
    return bytes(data)


def animated(fmt: str, size: tuple[int, int], **params: object) -> bytes:
    frames = [Image.new("RGBA", size, (i * 60, 0, 0, 255)) for i in range(3)]
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], **params)


@functools.cache
def image_corpus() -> dict[str, tuple[bytes, tuple[int, int]]]:
    """Name -> (file bytes, expected width and height)."""
    rgb = Image.new("RGB", (64, 48), (200, 30, 30))
    rgba = Image.new("RGBA", (31, 17), (0, 0, 255, 128))
    return {
        "jpeg": (encode(rgb, "JPEG"), (64, 48)),
        "jpeg-progressive": (encode(rgb, "JPEG", progressive=True), (64, 48)),
        "jpeg-big-exif-icc": (
            encode(rgb, "JPEG", exif=exif_with_description(60_000), icc_profile=srgb_icc()),
            (64, 48),
        ),
        "jpeg-12mp-big-exif": (big_exif_12mp_jpeg(), (4000, 3000)),
        "jpeg-cmyk": (encode(Image.new("CMYK", (23, 45)), "JPEG"), (23, 45)),
        "jpeg-gray": (encode(Image.new("L", (45, 23)), "JPEG"), (45, 23)),
        "jpeg-exif-rotated": (
            encode(Image.new("RGB", (40, 30)), "JPEG", exif=exif_with_description(10, 6)),
            (40, 30),
        ),
        "png-rgb": (encode(rgb, "PNG"), (64, 48)),
        "png-16bit": (encode(Image.new("I;16", (19, 7)), "PNG"), (19, 7)),
        "png-palette": (encode(rgb.convert("P"), "PNG"), (64, 48)),
        "png-rgba": (encode(rgba, "PNG"), (31, 17)),
        "apng": (animated("PNG", (25, 35)), (25, 35)),
        "gif": (encode(rgb.convert("P"), "GIF"), (64, 48)),
        "gif-animated": (animated("GIF", (26, 36), comment=b"c" * 600), (26, 36)),
        "gif-frame-beyond-screen": (gif_frame_beyond_screen(), (30, 20)),
        "webp-lossy": (encode(rgb, "WEBP", quality=50), (64, 48)),
        "webp-lossless": (encode(rgb, "WEBP", lossless=True), (64, 48)),
        "webp-alpha": (encode(rgba, "WEBP", quality=50), (31, 17)),
        "webp-animated": (animated("WEBP", (27, 37)), (27, 37)),
        "bmp": (encode(rgb, "BMP"), (64, 48)),
        "bmp-top-down": (top_down_bmp(12, 9), (12, 9)),
        "bmp-core-header": (bmp_core_header(3, 2), (3, 2)),
        "tiff-le": (encode(rgb, "TIFF", compression="tiff_lzw"), (64, 48)),
        "tiff-be": (encode(Image.new("I;16B", (7, 5)), "TIFF"), (7, 5)),
        "tiff-orientation-6": (
            encode(Image.new("RGB", (40, 30)), "TIFF", exif=exif_with_description(5, 6)),
            (30, 40),
        ),
        "tiff-bigtiff": (bigtiff(40, 30), (40, 30)),
        "ico": (encode(rgba.resize((64, 64)), "ICO", sizes=[(16, 16), (48, 48)]), (48, 48)),
        "avif": (encode(rgb, "AVIF"), (64, 48)),
    }


NOT_IMAGES: dict[str, bytes] = {
    "empty": b"",
    "text": b"hello, this is not an image\n" * 20,
    "unicode": "Ünïcødé ✓ — 画像ではありません\n".encode() * 10,
    "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
    "mp4": b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 64,
    "random": bytes((i * 97 + 13) % 256 for i in range(2048)),
    "jpeg-soi-then-junk": b"\xff\xd8\xff" + b"\x00" * 100,
    "png-magic-only": b"\x89PNG\r\n\x1a\n",
    "gif-header-only": b"GIF89a\x10\x00\x10\x00\x00\x00\x00",
    "riff-wave": b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 32,
}


def django_dimensions(data: bytes) -> tuple[int, int] | None:
    width, height = get_image_dimensions(io.BytesIO(data))
    if width is None or height is None:
        return None
    return width, height


@pytest.fixture
def no_pillow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Native formats must not reach the Pillow fallback."""

    def refuse(*args: object, **kwargs: object) -> Image.Image:
        raise AssertionError("Pillow fallback used for a natively parsed format")

    monkeypatch.setattr(Image, "open", refuse)


@pytest.mark.parametrize("name", sorted(image_corpus()))
def test_dimensions_match_django(name: str) -> None:
    data, expected = image_corpus()[name]
    assert django_dimensions(data) == expected
    assert read_dimensions(reader(data)) == expected


@pytest.mark.parametrize("name", sorted(NOT_IMAGES))
def test_non_images_match_django(name: str) -> None:
    data = NOT_IMAGES[name]
    assert django_dimensions(data) is None
    assert read_dimensions(reader(data)) is None


@pytest.mark.parametrize(
    "name", sorted(n for n in image_corpus() if n not in ("ico", "avif", "tiff-bigtiff"))
)
@pytest.mark.usefixtures("no_pillow")
def test_native_formats_do_not_use_pillow(name: str) -> None:
    data, expected = image_corpus()[name]
    assert read_dimensions(reader(data)) == expected


@pytest.mark.parametrize("name", sorted(image_corpus()))
def test_first_ten_bytes_give_none(name: str) -> None:
    data, _ = image_corpus()[name]
    assert read_dimensions(reader(data[:10])) is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("jpeg", None),  # cut before the scan header: Pillow refuses it too
        ("png-rgb", (64, 48)),
        ("gif", (64, 48)),
        ("gif-animated", None),  # a 600-byte comment precedes the first frame
        ("webp-alpha", (31, 17)),
        ("bmp", (64, 48)),
        ("tiff-le", None),  # Pillow writes the IFD after the strips
        ("tiff-be", (7, 5)),
    ],
)
def test_first_half(name: str, expected: tuple[int, int] | None) -> None:
    data, _ = image_corpus()[name]
    assert read_dimensions(reader(data[: len(data) // 2])) == expected


@pytest.mark.parametrize("name", sorted(image_corpus()))
def test_mutated_bytes_never_raise(name: str) -> None:
    data, _ = image_corpus()[name]
    size = min(len(data), 4096)
    for step in range(200):
        mutated = bytearray(data)
        for k in range(1 + step % 4):
            at = (step * 7919 + k * 104729) % size
            mutated[at] = (mutated[at] + 1 + step * 31) % 256
        result = read_dimensions(reader(bytes(mutated[: len(data) - step % 3 * 7])))
        assert result is None or all(isinstance(side, int) and side > 0 for side in result)


def test_jpeg_cut_inside_exif_gives_none() -> None:
    data = big_exif_12mp_jpeg()
    assert read_dimensions(reader(data[:30_000])) is None


def test_jpeg_reads_skip_the_exif_payload() -> None:
    data = big_exif_12mp_jpeg()
    # Locate the segments independently: SOI, then marker + length pairs up to SOF0.
    segments: list[tuple[int, int, int]] = []  # (marker, offset, length with marker)
    pos = 2
    while data[pos + 1] != 0xC0:
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        segments.append((data[pos + 1], pos, 2 + length))
        pos += 2 + length
    sof = pos
    [(exif_start, exif_length)] = [(at, n) for marker, at, n in segments if marker == 0xE1]
    assert exif_length > 64_000
    assert data[exif_start + 4 : exif_start + 10] == b"Exif\0\0"

    counting = CountingReader(data)
    assert read_dimensions(counting) == (4000, 3000)

    # Past the first 32 bytes, nothing inside the EXIF payload is requested.
    for offset, length in counting.reads[1:]:
        assert offset + length <= exif_start + 4 or offset >= exif_start + exif_length
    # First 32 bytes, then 4 bytes (marker + length) at each segment start past them,
    # the 6 bytes of SOF0 that hold precision, height, width and components, then the
    # segments up to the start of scan, whose header must be complete (as Pillow wants).
    after: list[int] = []
    pos = sof + 2 + struct.unpack(">H", data[sof + 2 : sof + 4])[0]
    while data[pos + 1] != 0xDA:
        after.append(pos)
        pos += 2 + struct.unpack(">H", data[pos + 2 : pos + 4])[0]
    sos, sos_length = pos, struct.unpack(">H", data[pos + 2 : pos + 4])[0]
    expected = [(0, 32)]
    expected += [(start, 4) for _, start, _ in segments if start >= 32]
    expected += [(sof, 4), (sof + 4, 6)]
    expected += [(start, 4) for start in after]
    expected += [(sos, 4), (sos + 4, sos_length - 2)]
    assert counting.reads == expected
    assert counting.total == sum(length for _, length in expected)
    assert counting.total < 200 < len(data) // 1000


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xd8\xff\xe1\x00\x00" * 3,  # a segment length that does not advance
        b"\xff\xd8\xff\xe1\x00\x01",  # a length shorter than its own field
        b"\xff\xd8" + b"\xff" * 10_000,  # endless fill bytes
        b"\xff\xd8" + b"\x00" * 10_000,  # junk where markers should be
        b"\xff\xd8\xff\xda\x00\x08" + b"\0" * 6,  # a scan before any frame header
        b"\xff\xd8\xff\xe1\xff\xff",  # a segment running past the end of the file
    ],
)
def test_malicious_jpeg_gives_none(data: bytes) -> None:
    counting = CountingReader(data)
    assert read_dimensions(counting) is None
    assert len(counting.reads) <= 4096 + 1


def test_jpeg_segment_walk_is_capped() -> None:
    # Thousands of empty COM segments before the frame: the walk gives up instead.
    frame = b"\xff\xc0\x00\x11\x08\x00\x10\x00\x10\x03" + b"\0" * 9
    frame += b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"  # start of scan
    data = b"\xff\xd8" + b"\xff\xfe\x00\x02" * 5000 + frame
    counting = CountingReader(data)
    assert read_dimensions(counting) is None
    assert len(counting.reads) <= 4096 + 1
    assert read_dimensions(reader(b"\xff\xd8" + b"\xff\xfe\x00\x02" * 10 + frame)) == (16, 16)


def test_twelve_bit_jpeg_is_refused_like_pillow() -> None:
    frame = b"\xff\xc1\x00\x11\x0c\x00\x10\x00\x10\x03" + b"\0" * 9
    assert read_dimensions(reader(b"\xff\xd8" + frame)) is None


def test_tiff_ifd_beyond_eof_gives_none() -> None:
    assert read_dimensions(reader(b"II*\0" + struct.pack("<I", 10_000) + b"\0" * 32)) is None
    assert read_dimensions(reader(b"MM\0*" + struct.pack(">I", 8) + b"\0\0")) is None


def test_probe_limit_exceeded_gives_none() -> None:
    data = big_exif_12mp_jpeg()

    def budgeted(offset: int, length: int) -> bytes:
        if offset > 1024:
            raise ProbeLimitExceeded
        return data[offset : offset + length]

    assert read_dimensions(budgeted) is None


def test_other_reader_errors_propagate() -> None:
    def broken(offset: int, length: int) -> bytes:
        raise ConnectionError("S3 unavailable")

    with pytest.raises(ConnectionError):
        read_dimensions(broken)


def test_dimensions_from_file_restores_position() -> None:
    data, _ = image_corpus()["jpeg-12mp-big-exif"]
    upload = io.BytesIO(data)
    upload.seek(123)
    assert dimensions_from_file(upload) == (4000, 3000)
    assert upload.tell() == 123


def test_dimensions_from_file_respects_limit() -> None:
    data, _ = image_corpus()["jpeg-big-exif-icc"]
    # The probe needs 84 bytes: 32, 4 at each of four segments, 6 of SOF0, 4 at each
    # of four table segments, 4 + 10 of the start of scan.
    assert dimensions_from_file(io.BytesIO(data), limit=83) is None
    assert dimensions_from_file(io.BytesIO(data), limit=84) == (64, 48)

    class Counting(io.BytesIO):
        read_total = 0

        def read(self, size: int | None = -1) -> bytes:
            chunk = super().read(size)
            self.read_total += len(chunk)
            return chunk

    ico = Counting(image_corpus()["ico"][0])
    assert dimensions_from_file(ico, limit=5000) == (48, 48)
    assert ico.read_total <= 5000


def test_dimensions_from_django_file() -> None:
    upload = ContentFile(image_corpus()["webp-alpha"][0], name="a.webp")
    assert dimensions_from_file(upload) == (31, 17)
    assert upload.tell() == 0


def test_dimensions_from_unseekable_file() -> None:
    class Pipe(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

    assert dimensions_from_file(io.BufferedReader(Pipe())) is None

    class NoSeekable:
        def read(self, size: int = -1) -> bytes:
            return b""

    assert dimensions_from_file(NoSeekable()) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("photo.JPG", True),
        ("a/b/c.jpeg", True),
        ("x.WebP", True),
        ("scan.tiff", True),
        ("icon.ico", True),
        ("notes.txt", False),
        ("archive.png.zip", False),
        ("no_extension", False),
        (".png", False),
        ("dir.png/file", False),
    ],
)
def test_is_image_name(name: str, expected: bool) -> None:
    assert is_image_name(name) is expected


def test_extensions_are_lower_case_with_dot() -> None:
    assert all(ext.startswith(".") and ext == ext.lower() for ext in IMAGE_EXTENSIONS)
    assert {".jpg", ".png", ".gif", ".webp", ".bmp", ".tif", ".ico"} <= IMAGE_EXTENSIONS
