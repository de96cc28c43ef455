"""Fuzzing the probe against Django: mutated real headers and random bytes.

Property: for any bytes, ``read_dimensions`` answers ``None`` (unknown) or
exactly what Django's ``get_image_dimensions`` returns for the same bytes
(and only ``None`` where Django raises). It never raises, except what the
reader raised, which always comes through.

Seeds are small real files of every format the probe treats specially, made
with Pillow here (no network), several larger than the probe's first 4 KiB so
that mutations land in the ranges it skips. Examples are derandomised, so CI
runs the same ones every time; ``IKSTORAGE_FUZZ_EXAMPLES`` scales them up for a
longer local run, and ``IKSTORAGE_FUZZ_RANDOM=1`` draws new ones.
"""

from __future__ import annotations

import functools
import io
import os
import random
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from ikstorage.imageinfo import ProbeLimitExceeded, read_dimensions
from tests.corpus import ProbeReader, django_answer

pytestmark = pytest.mark.filterwarnings("ignore:::PIL")  # production prints them and goes on

SCALE = int(os.environ.get("IKSTORAGE_FUZZ_EXAMPLES", "1"))
FUZZ = settings(
    max_examples=250 * SCALE,
    deadline=None,  # Django's own answer for a mutated header can take a while
    derandomize=os.environ.get("IKSTORAGE_FUZZ_RANDOM") != "1",
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def noise(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    bands = len(Image.new(mode, (1, 1)).getbands())
    return Image.frombytes(mode, size, random.Random(7).randbytes(size[0] * size[1] * bands))


@functools.cache
def seeds() -> dict[str, bytes]:
    """Small real files; the ones marked ``big`` pass the probe's 4 KiB first read."""
    rgb = noise((24, 16))
    exif = Image.Exif()
    exif[0x010E] = "d" * 6000  # ImageDescription: pushes the EXIF block past 4 KiB
    exif[0x011A] = 72.0  # XResolution
    exif[0x0128] = 2  # ResolutionUnit
    exif[0x0112] = 6
    frames = [noise((20, 12), "RGBA"), noise((20, 12), "RGBA").rotate(90)]
    return {
        "jpeg": encode(rgb, "JPEG"),
        "jpeg-big-exif": encode(rgb, "JPEG", exif=exif, icc_profile=b"\0" * 5000),
        "jpeg-progressive": encode(rgb, "JPEG", progressive=True, quality=90),
        "png": encode(rgb, "PNG"),
        "apng": encode(frames[0], "PNG", save_all=True, append_images=frames[1:]),
        "gif": encode(rgb.convert("P"), "GIF", comment=b"c" * 300),
        "webp-lossy-big": encode(noise((80, 60)), "WEBP", quality=95),
        "webp-lossless": encode(rgb, "WEBP", lossless=True),
        "webp-animated-big": encode(
            noise((60, 40), "RGBA"), "WEBP", save_all=True, append_images=[noise((60, 40))]
        ),
        "bmp": encode(rgb, "BMP"),
        "tiff": encode(rgb, "TIFF", exif=exif),
        "tiff-be": encode(Image.new("I;16B", (7, 5)), "TIFF"),
        "ico": encode(noise((32, 32), "RGBA"), "ICO", sizes=[(32, 32), (16, 16)]),
        "avif-big": encode(noise((96, 64)), "AVIF", quality=95, exif=exif),
    }


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A seed with a few byte flips, insertions, deletions, field overwrites or a cut."""
    name = draw(st.sampled_from(sorted(seeds())))
    data = bytearray(seeds()[name])
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        # Headers matter most: favour the first 256 bytes, but reach everywhere.
        end = len(data) if draw(st.booleans()) else min(len(data), 256)
        at = draw(st.integers(0, end - 1))
        op = draw(st.sampled_from(["flip", "insert", "delete", "field", "cut"]))
        if op == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        elif op == "field":  # a length or an offset replaced by a telling value
            value = draw(st.sampled_from([0, 1, 2, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF]))
            fmt = draw(st.sampled_from([">H", "<H", ">I", "<I"]))
            field = struct.pack(fmt, value & (0xFFFF if fmt[1] == "H" else 0xFFFFFFFF))
            data[at : at + len(field)] = field
        else:
            del data[at:]
    return bytes(data)


def check(data: bytes, *, sized: bool) -> None:
    result = read_dimensions(ProbeReader(data), len(data) if sized else None)
    if result is not None:
        assert result == django_answer(data)


@FUZZ
@given(data=mutated(), sized=st.booleans())
def test_mutated_headers_get_djangos_answer_or_none(data: bytes, sized: bool) -> None:
    check(data, sized=sized)


MAGIC = [b"", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"RIFF\0\0\0\0WEBPVP8 ", b"BM"]
MAGIC += [b"II*\0", b"MM\0*", b"\0\0\0\x1cftypavif", b"\0\0\0\x1cftypheic", b"\0\0\1\0"]


@FUZZ
@given(magic=st.sampled_from(MAGIC), tail=st.binary(max_size=6000), sized=st.booleans())
def test_random_bytes_get_djangos_answer_or_none(magic: bytes, tail: bytes, sized: bool) -> None:
    check(magic + tail, sized=sized)


class ReaderError(Exception):
    """A failure of the storage behind the reader."""


@settings(FUZZ, max_examples=60 * SCALE)
@given(
    name=st.sampled_from(sorted(name for name, data in seeds().items() if len(data) > 4096)),
    fail_at=st.integers(0, 6),
    error=st.sampled_from([ReaderError, ConnectionError, ProbeLimitExceeded]),
)
def test_reader_errors_always_come_through(name: str, fail_at: int, error: type[Exception]) -> None:
    """The reader fails on call ``fail_at`` + 1: that error, and only it, comes out
    (ProbeLimitExceeded as "unknown"), even where a Pillow plugin would swallow it."""
    data = seeds()[name]
    clean: list[int] = []

    def counting(offset: int, length: int) -> bytes:
        clean.append(offset)
        return data[offset : offset + length]

    expected = read_dimensions(counting, len(data))
    calls = 0

    def read_at(offset: int, length: int) -> bytes:
        nonlocal calls
        calls += 1
        if calls > fail_at:
            raise error(f"call {calls}")
        return data[offset : offset + length]

    if fail_at >= len(clean):  # the probe is done before the reader fails
        assert read_dimensions(read_at, len(data)) == expected
    elif error is ProbeLimitExceeded:
        assert read_dimensions(read_at, len(data)) is None
    else:
        with pytest.raises(error):
            read_dimensions(read_at, len(data))


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def _frame(marker: int, width: int, height: int, bits: int = 8) -> bytes:
    components = b"\x01\x11\x00\x02\x11\x01\x03\x11\x01"
    return _segment(marker, struct.pack(">BHHB", bits, height, width, 3) + components)


@st.composite
def jpeg_headers(draw: st.DrawFn) -> bytes:
    """A JPEG header of many segments of every kind the walk tells apart, sized so
    Django's prefixes (1, 3, 7 KiB) cut it anywhere: inside segments, between them,
    between a 0xFF and its marker, in junk, before and after a frame header."""
    exif = Image.Exif()
    exif[0x011A] = 72.0
    exif_block = b"Exif\0\0" + exif.tobytes()
    pieces = st.one_of(
        st.builds(lambda n: _segment(0xFE, b"c" * n), st.sampled_from([0, 1, 7, 600, 1500])),
        st.builds(
            lambda m, n: _segment(m, b"a" * n),
            st.integers(0xE0, 0xEF),
            st.sampled_from([0, 40, 700]),
        ),
        st.just(_segment(0xE1, exif_block)),
        st.builds(
            _frame, st.sampled_from([0xC0, 0xC2, 0xDE]), st.integers(1, 99), st.integers(1, 99)
        ),
        st.just(_frame(0xC1, 9, 9, bits=12)),
        st.just(_segment(0xC4, bytes(29))),
        st.just(_segment(0xDB, bytes(65))),
        st.just(_segment(0xDB, bytes(11))),  # a short quantisation table: Pillow refuses it
        st.sampled_from([b"\xff\xd0", b"\xff\xff", b"\xff\x00", b"\x00\x01"]),
    )
    prefix = draw(st.sampled_from([1024, 3072, 7168]))
    body = b"\xff\xd8" + b"".join(draw(st.lists(pieces, max_size=3)))
    body += draw(st.sampled_from([b"", _frame(0xC0, 11, 7)]))  # a frame before the cut, or not
    while len(body) < prefix - 600:
        body += draw(pieces)
    gap = prefix - len(body)
    if gap >= 4 and draw(st.booleans()):  # a segment ends exactly where the prefix cuts
        body += _segment(0xFE, b"p" * (gap - 4))
    # After the cut: another frame (Django answers the one before a cut between
    # segments), an EXIF block (its DPI is looked up where the walk ends), or nothing.
    body += draw(st.sampled_from([b"", _frame(0xDE, 13, 5), _segment(0xE1, exif_block)]))
    body += b"".join(draw(st.lists(pieces, max_size=4)))
    tail = seeds()["jpeg"]
    data = body + tail[tail.index(b"\xff\xda") :]
    if draw(st.booleans()):
        data = data[: draw(st.integers(2, len(data)))]
    return data


@FUZZ
@given(data=jpeg_headers(), sized=st.booleans())
def test_jpeg_headers_cut_by_djangos_prefixes_get_djangos_answer(data: bytes, sized: bool) -> None:
    """The walk proves which of Django's prefixes Pillow cannot open; the replay skips
    those: the answer must still be Django's wherever the prefixes cut."""
    check(data, sized=sized)
