"""Tests for ikstorage.imageinfo: Django's answer, exactly, from as few bytes as possible."""

from __future__ import annotations

import functools
import io
import itertools
import os
import random
import struct
import zlib
from collections.abc import Iterator

import pytest
from django.core.files.base import ContentFile
from PIL import Image, ImageCms, ImageFile

from ikstorage.backends.ranges import RangeReader
from ikstorage.imageinfo import (
    IMAGE_EXTENSIONS,
    WHOLE_FILE_LIMIT,
    Dimensions,
    ProbeLimitExceeded,
    ReadAt,
    _django,
    bmff,
    dimensions_from_file,
    is_image_name,
    read_dimensions,
)
from ikstorage.imageinfo._source import ALWAYS_REAL, Source
from ikstorage.imageinfo.jpeg import MIN_SKIP
from tests.corpus import ProbeReader, django_answer
from tests.images import jpeg_with_exif

# Pillow warns about odd headers (truncated tag data, a tag with too many values,
# a decompression-bomb-sized image); production prints those warnings and goes
# on, and so must the probe and Django's function here, so that pytest's
# warnings-as-errors does not change their answers.
pytestmark = pytest.mark.filterwarnings("ignore:::PIL")

EXIF_DESCRIPTION = 0x010E
EXIF_ORIENTATION = 0x0112


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def reader(data: bytes) -> ReadAt:
    return lambda offset, length: data[offset : offset + length]


def probe(data: bytes, *, sized: bool = True) -> Dimensions | None:
    return read_dimensions(reader(data), len(data) if sized else None)


class CountingReader:
    """Records every range the probe asks for."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reads: list[tuple[int, int]] = []

    def __call__(self, offset: int, length: int) -> bytes:
        self.reads.append((offset, length))
        return self.data[offset : offset + length]

    @property
    def total(self) -> int:
        return sum(length for _, length in self.reads)

    def touched(self, start: int, end: int) -> list[tuple[int, int]]:
        """The reads that overlap ``[start, end)``."""
        return [(o, n) for o, n in self.reads if o < end and o + n > start]


def noise(size: tuple[int, int], mode: str = "RGB", seed: int = 1) -> Image.Image:
    """Incompressible pixels, so encoded files are as large as their size says."""
    bands = len(Image.new(mode, (1, 1)).getbands())
    pixels = random.Random(seed).randbytes(size[0] * size[1] * bands)
    return Image.frombytes(mode, size, pixels)


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png_by_hand(width: int, height: int, *chunks: bytes) -> bytes:
    """A PNG whose IHDR claims any size (valid CRCs), with ``chunks`` between IHDR and IDAT."""
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    idat = png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
    return b"\x89PNG\r\n\x1a\n" + ihdr + b"".join(chunks) + idat + png_chunk(b"IEND", b"")


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


def bigtiff(width: int, height: int, ifd_at: int = 16) -> bytes:
    """A minimal 8-bit grey BigTIFF with its IFD at ``ifd_at`` (pixels from offset 256)."""
    pixels = width * height
    tags = [(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1)]
    tags += [(273, 4, 256), (277, 3, 1), (278, 4, height), (279, 4, pixels)]
    entries = b"".join(struct.pack("<HHQQ", tag, kind, 1, value) for tag, kind, value in tags)
    ifd = struct.pack("<Q", len(tags)) + entries + struct.pack("<Q", 0)
    header = b"II+\0" + struct.pack("<HHQ", 8, 0, ifd_at)
    body = header.ljust(256, b"\0") + bytes(random.Random(2).randbytes(pixels))
    return body.ljust(ifd_at, b"\0")[:ifd_at] + ifd + body[ifd_at + len(ifd) :]


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
        "avif-rotated": (encode(Image.new("RGB", (40, 30)), "AVIF", exif=rotated_exif()), (40, 30)),
        "webp-large-lossy": (encode(noise((400, 300)), "WEBP", quality=95), (400, 300)),
        "avif-large": (encode(noise((400, 300)), "AVIF", quality=95), (400, 300)),
    }


def rotated_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    return exif


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


@pytest.fixture
def no_whole_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if the probe falls back to Django's own function on the whole file."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the whole file was handed to Django")

    import ikstorage.imageinfo as imageinfo

    monkeypatch.setattr(imageinfo, "django_dimensions_of", refuse)
    monkeypatch.setattr(imageinfo, "django_dimensions", refuse)


# -- parity on everyday images ----------------------------------------------------------


@pytest.mark.parametrize("name", sorted(image_corpus()))
@pytest.mark.usefixtures("no_whole_file")
def test_dimensions_match_django(name: str) -> None:
    data, expected = image_corpus()[name]
    assert django_answer(data) == expected
    assert probe(data) == expected
    assert probe(data, sized=False) == expected  # the end of the file is found by reading


@pytest.mark.parametrize("name", sorted(image_corpus()))
def test_everyday_images_cost_one_first_read(name: str) -> None:
    """Against the S3 probe's reader every everyday image but one is sized from 64 KiB."""
    data, expected = image_corpus()[name]
    s3 = ProbeReader(data)
    assert read_dimensions(s3, len(data)) == expected
    extra = 1 if name == "jpeg-12mp-big-exif" else 0  # frame header past 64 KiB
    assert s3.calls == 1 + extra
    assert s3.fetched == min(len(data), 65_536) + extra * 16_384


@pytest.mark.parametrize("name", sorted(NOT_IMAGES))
@pytest.mark.usefixtures("no_whole_file")
def test_non_images_are_certainly_not_images(name: str) -> None:
    data = NOT_IMAGES[name]
    assert django_answer(data) == (None, None)
    assert probe(data) == (None, None)
    assert probe(data, sized=False) == (None, None)


@pytest.mark.parametrize("name", sorted(image_corpus()))
def test_truncated_files_match_django(name: str) -> None:
    """A file cut short gets Django's answer for the cut file, whatever that is."""
    data, _ = image_corpus()[name]
    for cut in (10, len(data) // 2, len(data) - 1):
        part = data[:cut]
        expected = django_answer(part)
        assert probe(part) == expected, cut
        assert probe(part, sized=False) in (expected, None), cut


@pytest.mark.parametrize("name", sorted(image_corpus()))
def test_mutated_bytes_match_django_or_are_unknown(name: str) -> None:
    data, _ = image_corpus()[name]
    size = min(len(data), 4096)
    for step in range(40):
        mutated = bytearray(data)
        for k in range(1 + step % 4):
            at = (step * 7919 + k * 104729) % size
            mutated[at] = (mutated[at] + 1 + step * 31) % 256
        sample = bytes(mutated[: len(data) - step % 3 * 7])
        result = probe(sample)
        assert result is None or result == django_answer(sample), step


# -- JPEG ---------------------------------------------------------------------------------


def jpeg_segments(data: bytes) -> dict[int, list[tuple[int, int]]]:
    """Marker -> [(payload offset, payload length)] for the segments before the scan."""
    segments: dict[int, list[tuple[int, int]]] = {}
    pos = 2
    while True:
        marker = data[pos + 1]
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        segments.setdefault(marker, []).append((pos + 4, length - 2))
        if marker == 0xDA:
            return segments
        pos += 2 + length


def test_jpeg_reads_skip_the_exif_payload() -> None:
    data = big_exif_12mp_jpeg()
    segments = jpeg_segments(data)
    [(exif, exif_length)] = segments[0xE1]
    [(icc, icc_length)] = segments[0xE2]
    assert exif_length > 64_000
    assert data[exif : exif + 6] == b"Exif\0\0"
    # The EXIF block: a TIFF header, an IFD0 with one entry (the description), then
    # the 64,000-byte description itself, which nobody reads.
    tiff = exif + 6
    endian = "<" if data[tiff : tiff + 2] == b"II" else ">"
    (entries,) = struct.unpack(endian + "H", data[tiff + 8 : tiff + 10])
    assert entries == 1
    description = tiff + 8 + 2 + 12 + 4

    counting = CountingReader(data)
    assert read_dimensions(counting, len(data)) == (4000, 3000)
    assert counting.touched(max(description, ALWAYS_REAL), exif + exif_length) == []
    # The first 4 KiB; then one 512-byte read where the walk resumes after the
    # EXIF payload (the ICC segment's marker, length and first 32 bytes), one after
    # the ICC payload (the quantisation tables, the frame header, the Huffman tables),
    # and the next 512 bytes, in order (the rest of the Huffman tables, each shorter
    # than a skip is worth, and the scan header).
    assert max(length for _, length in segments[0xC4]) < MIN_SKIP
    resumes = [exif + exif_length, icc + icc_length, icc + icc_length + 512]
    assert counting.reads == [(0, 4096)] + [(offset, 512) for offset in resumes]
    assert counting.total == 5632 < len(data) // 5


def test_large_exif_costs_one_bounded_follow_up() -> None:
    """The S3 probe's case: a 12-megapixel JPEG whose header runs past the first 64 KiB."""
    data = jpeg_with_exif((4000, 3000), exif_bytes=65_400, icc_bytes=4_000)
    s3 = ProbeReader(data)
    assert read_dimensions(s3, len(data)) == (4000, 3000) == django_answer(data)
    assert (s3.calls, s3.fetched) == (2, 65_536 + 16_384)
    assert len(data) > 200_000


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xd8\xff\xe1\x00\x00" * 3,  # a segment length that does not advance
        b"\xff\xd8\xff\xe1\x00\x01",  # a length shorter than its own field
        b"\xff\xd8" + b"\xff" * 10_000,  # endless fill bytes
        b"\xff\xd8" + b"\x00" * 10_000,  # junk where markers should be
        b"\xff\xd8\xff\xda\x00\x08" + b"\0" * 6,  # a scan before any frame header
        b"\xff\xd8\xff\xe1\xff\xff",  # a segment running past the end of the file
        b"\xff\xd8\xff\x01\x00\x00",  # TEM: Pillow knows no such marker
    ],
)
def test_malicious_jpeg_matches_django(data: bytes) -> None:
    counting = CountingReader(data)
    assert read_dimensions(counting, len(data)) == django_answer(data) == (None, None)
    # Each byte is read at most once: the first 4 KiB, then 512 bytes at a time.
    assert counting.total <= len(data)
    assert len(counting.reads) <= 1 + max(0, -(-(len(data) - 4096) // 512))


def test_many_segments_are_walked_like_pillow_walks_them() -> None:
    # Thousands of empty COM segments before the frame: Pillow walks them all.
    frame = b"\xff\xc0\x00\x11\x08\x00\x10\x00\x10\x03" + b"\0" * 9
    frame += b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"  # start of scan
    data = b"\xff\xd8" + b"\xff\xfe\x00\x02" * 5000 + frame
    counting = CountingReader(data)
    assert read_dimensions(counting, len(data)) == (16, 16) == django_answer(data)
    assert counting.total == len(data)


@pytest.mark.parametrize(
    "segment",
    [
        b"\xff\xfe\x00\x02",  # empty comments
        b"\xff\xfe\x00\x03c",  # one-byte comments: too short to be worth skipping
        b"\xff\xd0",  # restart markers: no length
        b"\xff\xff\xff\xdb\x00\x02",  # fill bytes, empty quantisation tables
    ],
)
def test_a_header_of_tiny_segments_is_walked_once(
    segment: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Django opens every prefix (1, 3, 7... 63 KiB here), each a walk of every segment
    in it; the probe proves from its own walk which prefixes cannot open, and opens one."""
    data = b"\xff\xd8" + segment * (100_000 // len(segment)) + encode(noise((64, 48)), "JPEG")[2:]
    expected = django_answer(data)
    opened: list[int] = []
    real_open = Image.open

    def counting_open(fp: object, *args: object, **kwargs: object) -> Image.Image:
        opened.append(1)
        return real_open(fp, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Image, "open", counting_open)
    counting = CountingReader(data)
    assert read_dimensions(counting, len(data)) == expected == (64, 48)
    assert len(opened) == 1
    # Each byte is fetched once, in order: 4 KiB, then 512 bytes at a time.
    assert counting.reads[0] == (0, ALWAYS_REAL)
    assert all(b == a + n for (a, n), (b, _) in itertools.pairwise(counting.reads))
    assert counting.total < len(data) + 512


def test_the_prefixes_the_walk_calls_short_do_not_open_in_pillow() -> None:
    """The walk's proof, checked against Pillow: a prefix cut inside a segment does not
    open (Django feeds more); one cut between two segments after a frame header does."""
    head = b"\xff\xd8" + jpeg_frame(0xC0, 64, 48)
    filler = 3072 - len(head) - 4  # a comment ending exactly at Django's second prefix
    head += b"\xff\xfe" + struct.pack(">H", filler + 2) + b"c" * filler
    head += b"\xff\xfe" + struct.pack(">H", 6002) + b"d" * 6000
    data = head + encode(noise((8, 8)), "JPEG")[2:]
    source = Source(reader(data), len(data))
    source.real(0, ALWAYS_REAL)
    from ikstorage.imageinfo import jpeg

    jpeg.plan(source)
    assert source.read_end is not None
    assert source.short_prefixes == {1024, 7168}
    for cut in (1024, 7168):
        with pytest.raises(OSError, match="Truncated File Read"):  # Django feeds more
            Image.open(io.BytesIO(data[:cut]))
    with Image.open(io.BytesIO(data[:3072])) as opened:
        assert opened.size == (64, 48)
    assert probe(data) == django_answer(data) == (64, 48)


def test_twelve_bit_jpeg_is_refused_like_pillow() -> None:
    frame = b"\xff\xc1\x00\x11\x0c\x00\x10\x00\x10\x03" + b"\0" * 9
    data = b"\xff\xd8" + frame
    assert probe(data) == django_answer(data) == (None, None)


def jpeg_frame(marker: int, width: int, height: int) -> bytes:
    """A three-component 8-bit frame header (SOF0, or DHP when marker is 0xDE)."""
    components = b"\x01\x11\x00\x02\x11\x01\x03\x11\x01"
    return bytes([0xFF, marker]) + struct.pack(">HBHHB", 17, 8, height, width, 3) + components


def test_dhp_counts_as_a_frame_header_as_in_pillow() -> None:
    data = encode(Image.new("RGB", (64, 48)), "JPEG")
    sof = data.index(b"\xff\xc0")
    after = data[: sof + 19] + jpeg_frame(0xDE, 32, 16) + data[sof + 19 :]
    before = data[:sof] + jpeg_frame(0xDE, 32, 16) + data[sof:]
    assert probe(after) == django_answer(after) == (32, 16)  # the last frame header wins
    assert probe(before) == django_answer(before) == (64, 48)


def test_jpeg_cut_between_segments_opens_with_the_frame_seen_so_far() -> None:
    """Django's first prefix is 1024 bytes: a JPEG whose segments end exactly there
    opens as a JPEG without scan, sized by the frame headers before the cut."""
    head = b"\xff\xd8" + jpeg_frame(0xC0, 64, 48)
    filler = 1024 - len(head) - 4
    head += b"\xff\xfe" + struct.pack(">H", filler + 2) + b"c" * filler
    assert len(head) == 1024
    data = head + jpeg_frame(0xDE, 32, 16) + encode(Image.new("RGB", (8, 8)), "JPEG")[2:]
    assert probe(data) == django_answer(data) == (64, 48)
    with Image.open(io.BytesIO(data)) as whole:
        assert whole.size == (8, 8)  # the whole file's last frame header says otherwise


def jpeg_with_exif_ifd(entries: list[tuple[int, int, int, bytes]], padding: int) -> bytes:
    """A JPEG (no JFIF density) whose EXIF IFD0 holds ``entries``, then ``padding`` bytes."""
    ifd = struct.pack("<H", len(entries))
    out_of_line = b""
    data_at = 8 + 2 + 12 * len(entries) + 4
    for tag, kind, count, value in entries:
        if len(value) > 4:
            ifd += struct.pack("<HHII", tag, kind, count, data_at + len(out_of_line))
            out_of_line += value
        else:
            ifd += struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\0")
    tiff = b"II*\0" + struct.pack("<I", 8) + ifd + b"\0\0\0\0" + out_of_line + b"p" * padding
    app1 = b"\xff\xe1" + struct.pack(">H", len(tiff) + 8) + b"Exif\0\0" + tiff
    body = encode(Image.new("RGB", (40, 30)), "JPEG")
    app0 = body.index(b"\xff\xe0")
    app0_end = app0 + 2 + struct.unpack(">H", body[app0 + 2 : app0 + 4])[0]
    return body[:app0] + app1 + body[app0_end:]  # JFIF dropped: Pillow looks in EXIF for DPI


@pytest.mark.parametrize(
    ("xresolution", "expected"),
    [
        ((5, 1, b"\x48\x00\x00\x00\x01\x00\x00\x00"), (40, 30)),  # a RATIONAL, as usual
        ((1, 1, b"\x48"), (None, None)),  # one BYTE: Pillow's x[1] raises IndexError
        ((2, 2, b"7\0"), (None, None)),  # ASCII "7": the same
        ((3, 1, b"\x48\x00"), (40, 30)),  # a SHORT: Pillow falls back to the plain value
    ],
)
def test_exif_resolution_is_read_as_pillow_reads_it(
    xresolution: tuple[int, int, bytes], expected: Dimensions
) -> None:
    """Skipping EXIF must not skip the two tags whose values can make Pillow refuse a JPEG."""
    kind, count, value = xresolution
    entries = [(0x010E, 2, 6000, b"d" * 5999 + b"\0"), (0x011A, kind, count, value)]
    entries.append((0x0128, 3, 1, b"\x02\x00"))
    data = jpeg_with_exif_ifd(entries, padding=20_000)
    counting = CountingReader(data)
    assert read_dimensions(counting, len(data)) == django_answer(data) == expected
    if expected != (None, None):  # (a refusal is settled by reading the file whole)
        assert counting.total < 6000


# -- PNG, GIF, TIFF, BMP, ICO ---------------------------------------------------------


@pytest.mark.usefixtures("no_whole_file")
def test_png_repeated_ihdr_gives_the_last_as_pillow() -> None:
    second = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 30, 20, 8, 2, 0, 0, 0))
    data = png_by_hand(64, 48, second)
    assert probe(data) == django_answer(data) == (30, 20)


@pytest.mark.usefixtures("no_whole_file")
def test_png_with_cgbi_before_ihdr_is_sized() -> None:
    """Apple's CgBI chunk precedes IHDR; Pillow skips it as an unknown chunk."""
    plain = png_by_hand(64, 48)
    data = plain[:8] + png_chunk(b"CgBI", b"\x50\x00\x20\x06") + plain[8:]
    assert probe(data) == django_answer(data) == (64, 48)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("bad CRC after IHDR", png_by_hand(64, 48, b"\0\0\0\x01tEXt!\0\0\0\0")),
        ("IHDR of 12 bytes", b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", b"\0" * 12)),
        ("a decompression bomb", png_by_hand(100_000, 100_000)),
        ("a large image", png_by_hand(10_000, 10_000)),
    ],
)
def test_png_oddities_match_django(name: str, data: bytes) -> None:
    expected = django_answer(data)
    assert probe(data) == expected, name


def test_decompression_bomb_is_unknown_because_django_raises() -> None:
    data = png_by_hand(100_000, 100_000)
    assert django_answer(data) is None  # DecompressionBombError
    assert probe(data) is None


def gif_with_blocks(blocks: bytes) -> bytes:
    data = encode(Image.new("P", (30, 20)), "GIF")
    frame = data.index(b",")
    return data[:frame] + blocks + data[frame:]


@pytest.mark.parametrize(
    "blocks",
    [
        b"!\xfe\x00",  # an empty comment
        b"!\xf9\x00",  # an empty graphic control extension: Pillow then reads "," as a length
        b"!\xff\x00",  # an empty application extension: the same
        b"!\xff\x00\x05hello\x00",  # the same, resynchronised by luck
        b"!\xf9\x04\x01\x00\x00\x00\x00",  # a normal graphic control extension
    ],
)
@pytest.mark.usefixtures("no_whole_file")
def test_gif_blocks_after_an_empty_sub_block_match_django(blocks: bytes) -> None:
    data = gif_with_blocks(blocks)
    assert probe(data) == django_answer(data)


def tiff_by_hand(entries: list[tuple[int, int, int, bytes]], data_at: int = 300) -> bytes:
    """A little-endian TIFF with the IFD entries given, in the order given.

    Out-of-line values start at ``data_at``; 600 pixel bytes follow them at 512
    or after them.
    """
    ifd = struct.pack("<H", len(entries))
    extra = b""
    for tag, kind, count, value in entries:
        if len(value) > 4:
            ifd += struct.pack("<HHII", tag, kind, count, data_at + len(extra))
            extra += value
        else:
            ifd += struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\0")
    data = (b"II*\0" + struct.pack("<I", 8) + ifd + b"\0\0\0\0").ljust(data_at, b"\0") + extra
    return data.ljust(512, b"\0") + b"\x80" * 600


def short(value: int) -> bytes:
    return struct.pack("<H", value)


def long_(value: int) -> bytes:
    return struct.pack("<I", value)


_STRIP = [
    (258, 3, 1, short(8)),
    (259, 3, 1, short(1)),
    (262, 3, 1, short(1)),
    (273, 4, 1, long_(512)),
    (277, 3, 1, short(1)),
    (278, 3, 1, short(20)),
    (279, 4, 1, long_(600)),
]
_W30, _H20 = (256, 3, 1, short(30)), (257, 3, 1, short(20))
_W50 = (256, 3, 1, short(50))
_O6, _O3 = (274, 3, 1, short(6)), (274, 3, 1, short(3))
_W2 = (256, 3, 2, short(30) + short(99))  # two values
_O6x3 = (274, 3, 3, short(6) * 3)  # three values, stored out of line


@pytest.mark.parametrize(
    ("name", "entries", "expected"),
    [
        ("plain", [_W30, _H20, *_STRIP], (30, 20)),
        ("repeated width: the first copy wins", [_W30, _W50, _H20, *_STRIP], (30, 20)),
        ("width as a SSHORT", [(256, 8, 1, short(30)), _H20, *_STRIP], (30, 20)),
        ("width as a LONG", [(256, 4, 1, long_(30)), _H20, *_STRIP], (30, 20)),
        ("width with count 2: the first value", [_W2, _H20, *_STRIP], (30, 20)),
        ("orientation 6 in order", [_W30, _H20, *_STRIP[:3], _O6, *_STRIP[3:]], (20, 30)),
        ("orientation 6 first", [_O6, _W30, _H20, *_STRIP], (20, 30)),
        ("orientation 6 last", [_W30, _H20, *_STRIP, _O6], (20, 30)),
        ("orientation count 3, out of line", [_W30, _H20, *_STRIP, _O6x3], (20, 30)),
        ("orientation 3: no swap", [_W30, _H20, *_STRIP, _O3], (30, 20)),
        ("width as a BYTE: Django raises", [(256, 1, 1, b"\x1e"), _H20, *_STRIP], None),
    ],
)  # fmt: skip
@pytest.mark.usefixtures("no_whole_file")
def test_tiff_tags_are_read_as_pillow_reads_them(
    name: str, entries: list[tuple[int, int, int, bytes]], expected: Dimensions | None
) -> None:
    data = tiff_by_hand(entries)
    assert django_answer(data) == expected, name
    assert probe(data) == expected, name


def test_bigtiff_with_its_ifd_past_the_first_range() -> None:
    data = bigtiff(300, 300, ifd_at=70_000)
    s3 = ProbeReader(data)
    assert read_dimensions(s3, len(data)) == django_answer(data) == (300, 300)
    assert (s3.calls, s3.fetched) == (2, 65_536 + 16_384)


def test_tiff_ifd_beyond_eof_matches_django() -> None:
    for data in (b"II*\0" + struct.pack("<I", 10_000) + b"\0" * 32, b"MM\0*\0\0\0\x08\0\0"):
        assert probe(data) == django_answer(data) == (None, None)


def test_ico_larger_than_64_kib_is_sized_with_follow_ups() -> None:
    data = encode(noise((256, 256)), "ICO", sizes=[(256, 256), (32, 32)])
    assert len(data) > 150_000
    fetches: list[tuple[int, int]] = []

    def fetch(offset: int, length: int) -> bytes:
        fetches.append((offset, length))
        return data[offset : offset + length]

    s3 = RangeReader(fetch, size=len(data), first=65_536, limit=512 * 1024)  # the S3 probe's
    assert read_dimensions(s3.read_at, len(data)) == django_answer(data) == (256, 256)
    # Pillow decodes the largest frame, from growing prefixes: the reader fetches the rest
    # of the file in follow-ups, each starting where the last ended and twice as large.
    assert [length for _, length in fetches] == [65_536, 16_384, 48_128, 65_536, 3_861]
    assert s3.fetched == len(data)


def test_ico_whose_bitmap_frame_django_cannot_read_is_unknown() -> None:
    """Pillow decodes an ICO's largest frame on open; from a 1 KiB prefix a bitmap
    frame fails with ValueError, which Django does not catch."""
    data = encode(noise((64, 64)), "ICO", sizes=[(64, 64)], bitmap_format="bmp")
    assert django_answer(data) is None
    assert probe(data) is None


# -- WebP -----------------------------------------------------------------------------------


def test_large_webp_is_sized_from_its_chunk_headers() -> None:
    data = encode(noise((400, 300)), "WEBP", lossless=True)
    assert len(data) > 300_000
    counting = CountingReader(data)
    assert read_dimensions(counting, len(data)) == django_answer(data) == (400, 300)
    assert counting.reads == [(0, 4096)]


def test_webp_cut_short_by_one_byte_has_no_size_as_in_django() -> None:
    data = encode(noise((400, 300)), "WEBP", quality=90)[:-1]
    assert django_answer(data) == (None, None)
    assert probe(data) == (None, None)


def test_webp_with_bytes_after_its_riff_size() -> None:
    data = encode(noise((100, 80)), "WEBP", quality=90) + b"trailing" * 1000
    assert probe(data) == django_answer(data) == (100, 80)


def test_webp_whose_header_could_be_an_im_file_is_read_for_real() -> None:
    """Pillow's IM plugin reads text lines; a first line like "Key: value" may lead it
    past the bytes a probe would skip, so nothing is skipped (the file is read)."""
    from PIL import ImImagePlugin

    image = noise((200, 150))
    for pad in range(256):  # a RIFF size whose low byte is ":" (the VP8X size is "\n")
        data = encode(image, "WEBP", quality=90, icc_profile=b"i" * (200 + pad))
        if data[4] == ord(":") and b"\n" not in data[:16]:
            break
    assert ImImagePlugin.split.match(data[: data.index(b"\n")])  # "RIFF:...WEBPVP8X"
    counting = CountingReader(data)
    assert read_dimensions(counting, len(data)) == django_answer(data) == (200, 150)
    assert counting.total == len(data)
    plain = encode(image, "WEBP", quality=90)
    counting = CountingReader(plain)
    assert read_dimensions(counting, len(plain)) == (200, 150)
    assert counting.total == 4096


# -- AVIF, HEIF --------------------------------------------------------------------------


def test_avif_larger_than_64_kib_is_one_ranged_read() -> None:
    data = encode(noise((600, 400)), "AVIF", quality=95)
    assert len(data) > 200_000
    s3 = ProbeReader(data)
    assert read_dimensions(s3, len(data)) == django_answer(data) == (600, 400)
    assert (s3.calls, s3.fetched) == (1, 65_536)


@pytest.mark.parametrize("orientation", [1, 2, 3, 4, 5, 6, 7, 8])
def test_avif_rotation_is_not_applied_to_the_size(orientation: int) -> None:
    """Pillow writes the EXIF orientation as irot/imir and reports the stored ispe."""
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    data = encode(noise((60, 40)), "AVIF", exif=exif)
    geometry = avif_geometry(data)
    assert (geometry.width, geometry.height) == (60, 40)
    assert (geometry.rotation != 0 or geometry.mirror is not None) is (orientation != 1)
    assert probe(data) == django_answer(data) == (60, 40)


def avif_geometry(data: bytes) -> bmff.Geometry:
    source = Source(reader(data), len(data))
    [(start, end)] = [(s, e) for kind, s, e in bmff._top_level(source) if kind == b"meta"]
    geometry = bmff.primary_size(bmff.parse_meta(data[start:end]))
    assert geometry is not None
    return geometry


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def full_box(kind: bytes, version: int, payload: bytes) -> bytes:
    return box(kind, struct.pack(">I", version << 24) + payload)


def heif_by_hand(brand: bytes, width: int, height: int, payload: int = 200_000) -> bytes:
    """A still HEIF whose primary item is HEVC-coded (``hvc1``) with an ``ispe``."""
    ftyp = box(b"ftyp", brand + b"\0\0\0\0" + b"mif1heicmiaf")
    hdlr = full_box(b"hdlr", 0, b"\0\0\0\0pict" + b"\0" * 12 + b"\0")
    pitm = full_box(b"pitm", 0, struct.pack(">H", 1))
    infe = full_box(b"infe", 2, struct.pack(">HH", 1, 0) + b"hvc1" + b"\0")
    iinf = full_box(b"iinf", 0, struct.pack(">H", 1) + infe)
    ispe = full_box(b"ispe", 0, struct.pack(">II", width, height))
    hvcc = box(b"hvcC", b"\x01" + b"\0" * 22)
    ipco = box(b"ipco", hvcc + ispe)
    ipma = full_box(b"ipma", 0, struct.pack(">IHB", 1, 1, 2) + b"\x81\x02")
    iprp = box(b"iprp", ipco + ipma)

    def iloc(offset: int) -> bytes:
        entry = struct.pack(">HHHHII", 1, 1, 0, 1, offset, payload)
        return full_box(b"iloc", 0, b"\x44\x00" + entry)

    meta_without = full_box(b"meta", 0, hdlr + pitm + iloc(0) + iinf + iprp)
    offset = len(ftyp) + len(meta_without) + 8
    meta = full_box(b"meta", 0, hdlr + pitm + iloc(offset) + iinf + iprp)
    mdat = box(b"mdat", random.Random(3).randbytes(payload))
    return ftyp + meta + mdat


def test_heic_without_a_heif_opener_has_no_size_and_costs_its_header() -> None:
    data = heif_by_hand(b"heic", 4032, 3024)
    geometry = avif_geometry(data)
    assert (geometry.width, geometry.height) == (4032, 3024)
    counting = CountingReader(data)
    assert read_dimensions(counting, len(data)) == django_answer(data) == (None, None)
    assert counting.total == 4096  # no plugin claims it: nothing past the header is read


def test_heif_with_a_mif1_brand_is_refused_by_libavif_as_in_django() -> None:
    data = heif_by_hand(b"mif1", 640, 480, payload=20_000)
    assert probe(data) == django_answer(data) == (None, None)


class FakeHeifImageFile(ImageFile.ImageFile):
    """A stand-in for a HEIF opener (such as pillow-heif's): sizes from the ispe it finds."""

    format = "FAKEHEIF"

    def _open(self) -> None:
        assert self.fp is not None
        data = self.fp.read()
        at = data.find(b"ispe")
        if at < 0 or len(data) < 150_000:  # wants the file whole, as libheif does
            raise SyntaxError("not a HEIF file")
        self._size = struct.unpack(">II", data[at + 8 : at + 16])
        self._mode = "RGB"


@pytest.fixture
def heif_opener() -> Iterator[None]:
    Image.register_open(FakeHeifImageFile.format, FakeHeifImageFile, lambda p: p[8:12] == b"heic")
    try:
        yield
    finally:
        Image.OPEN.pop(FakeHeifImageFile.format, None)
        Image.ID.remove(FakeHeifImageFile.format)


@pytest.mark.usefixtures("heif_opener")
def test_heic_is_sized_when_a_heif_opener_is_registered() -> None:
    """An unknown plugin claims the file: nothing is skipped, the answer is the plugin's."""
    data = heif_by_hand(b"heic", 4032, 3024)
    assert django_answer(data) == (4032, 3024)
    assert probe(data) == (4032, 3024)
    s3 = ProbeReader(data)
    assert read_dimensions(s3, len(data)) == (4032, 3024)
    assert len(data) <= s3.fetched < len(data) + 16_384  # the opener reads it all, so do we


# -- readers: budgets, errors, unknown sizes ----------------------------------------------


def test_probe_limit_exceeded_gives_none() -> None:
    data = big_exif_12mp_jpeg()

    def budgeted(offset: int, length: int) -> bytes:
        if offset > 4096:
            raise ProbeLimitExceeded
        return data[offset : offset + length]

    assert read_dimensions(budgeted, len(data)) is None


def test_other_reader_errors_propagate() -> None:
    def broken(offset: int, length: int) -> bytes:
        raise ConnectionError("S3 unavailable")

    with pytest.raises(ConnectionError):
        read_dimensions(broken, 1000)


def test_reader_errors_propagate_even_where_pillow_catches_them() -> None:
    """Pillow's TIFF loader catches OSError (a ConnectionError is one) as corrupt tag data."""
    entries = [_W30, _H20, *_STRIP]
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\0")
        for tag, kind, count, value in entries
    )
    data = (b"II*\0" + struct.pack("<I", 5000)).ljust(5000, b"\0") + ifd + b"\0" * 4
    data = data.ljust(8000, b"\0") + b"\x80" * 600
    assert probe(data) == django_answer(data) == (30, 20)

    def flaky(offset: int, length: int) -> bytes:
        if offset + length > ALWAYS_REAL:
            raise ConnectionError("reset by peer")
        return data[offset : offset + length]

    with pytest.raises(ConnectionError):
        read_dimensions(flaky, len(data))


def test_tiff_tag_value_past_djangos_first_prefix_is_skipped_as_in_django() -> None:
    """Django's first prefix (1 KiB) holds the IFD but not an out-of-line Orientation:
    Pillow skips the tag and opens the prefix, so Django does not swap the sides."""
    data = tiff_by_hand([_W30, _H20, *_STRIP, _O6x3], data_at=6000)
    assert probe(data) == django_answer(data) == (30, 20)
    inside = tiff_by_hand([_W30, _H20, *_STRIP, _O6x3], data_at=300)
    assert probe(inside) == django_answer(inside) == (20, 30)


def test_a_short_read_inside_the_file_is_unknown() -> None:
    """A reader that returns fewer bytes than the size says (a budget cut) is not EOF."""
    data, _ = image_corpus()["jpeg-12mp-big-exif"]
    assert read_dimensions(lambda o, n: data[o : o + min(n, 100)], len(data)) is None


def test_a_short_read_with_an_unknown_size_is_checked() -> None:
    data, expected = image_corpus()["png-rgb"]
    calls: list[tuple[int, int]] = []

    def cut(offset: int, length: int) -> bytes:
        calls.append((offset, length))
        return data[offset : offset + min(length, 50)]

    # The reader stops at 50 bytes but the file goes on: the check read says so.
    assert read_dimensions(cut) is None
    assert probe(data, sized=False) == expected


def test_empty_file_has_no_dimensions_without_a_read() -> None:
    def refuse(offset: int, length: int) -> bytes:
        raise AssertionError("read")

    assert read_dimensions(refuse, 0) == (None, None)


# -- dimensions_from_file ---------------------------------------------------------------


def test_dimensions_from_file_restores_position() -> None:
    data, _ = image_corpus()["jpeg-12mp-big-exif"]
    upload = io.BytesIO(data)
    upload.seek(123)
    assert dimensions_from_file(upload) == (4000, 3000)
    assert upload.tell() == 123


class Counting(io.BytesIO):
    read_total = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.read_total += len(chunk)
        return chunk


def test_dimensions_from_file_respects_limit() -> None:
    data, _ = image_corpus()["jpeg-12mp-big-exif"]
    needed = CountingReader(data)
    read_dimensions(needed, len(data))
    assert needed.total == 5632
    assert dimensions_from_file(io.BytesIO(data), limit=5631, fallback_limit=0) is None
    assert dimensions_from_file(io.BytesIO(data), limit=5632, fallback_limit=0) == (4000, 3000)
    upload = Counting(data)
    assert dimensions_from_file(upload, limit=5632, fallback_limit=0) == (4000, 3000)
    assert upload.read_total == 5632


def test_dimensions_from_file_falls_back_to_django_for_small_files() -> None:
    """Past the probe's limit, a file within ``fallback_limit`` is read Django's way."""
    data = encode(noise((256, 256)), "ICO", sizes=[(256, 256)])
    assert dimensions_from_file(io.BytesIO(data), limit=4096, fallback_limit=0) is None
    upload = Counting(data)
    assert dimensions_from_file(upload, limit=4096) == (256, 256)
    assert upload.read_total > len(data)  # Django read it (after the probe's 4 KiB)


def test_dimensions_from_django_file() -> None:
    upload = ContentFile(image_corpus()["webp-alpha"][0], name="a.webp")
    assert dimensions_from_file(upload) == (31, 17)
    assert upload.tell() == 0


@pytest.mark.parametrize(
    "content",
    [io.StringIO("not bytes"), ContentFile("text content", name="a.png")],
    ids=["StringIO", "ContentFile-str"],
)
def test_dimensions_from_text_streams_is_none(content: object) -> None:
    assert dimensions_from_file(content) is None  # type: ignore[arg-type]


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


def test_whole_file_limit_is_the_default_probe_budget() -> None:
    from ikstorage.backends.base import DEFAULT_PROBE_LIMIT

    assert WHOLE_FILE_LIMIT == DEFAULT_PROBE_LIMIT


def test_the_replay_feeds_the_prefixes_django_feeds() -> None:
    assert _django.prefixes(0) == []
    assert _django.prefixes(1000) == [1000]
    assert _django.prefixes(5000) == [1024, 3072, 5000]
    assert _django.prefixes(7168) == [1024, 3072, 7168]


# -- names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("photo.JPG", True),
        ("a/b/c.jpeg", True),
        ("x.WebP", True),
        ("scan.tiff", True),
        ("icon.ico", True),
        ("iphone.HEIC", True),
        ("still.heif", True),
        ("anim.avifs", True),
        ("notes.txt", False),
        ("archive.png.zip", False),
        ("no_extension", False),
        (".png", False),
        ("dir.png/file", False),
        ("movie.mpg", False),
    ],
)
def test_is_image_name(name: str, expected: bool) -> None:
    assert is_image_name(name) is expected


def test_extensions_are_lower_case_with_dot() -> None:
    assert all(ext.startswith(".") and ext == ext.lower() for ext in IMAGE_EXTENSIONS)
    assert {".jpg", ".png", ".gif", ".webp", ".bmp", ".tif", ".ico", ".heic"} <= IMAGE_EXTENSIONS


def test_every_extension_is_one_pillow_opens() -> None:
    """Each extension names a format Pillow opens (HEIF only with an opener registered)."""
    Image.init()
    registered = Image.registered_extensions()
    heif = {".heic", ".heif", ".hif"}
    readable = {ext for ext, fmt in registered.items() if fmt in Image.OPEN or fmt == "MPO"}
    assert IMAGE_EXTENSIONS - heif <= readable
    assert os.path.splitext("x.heic")[1] in IMAGE_EXTENSIONS
