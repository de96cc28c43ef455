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
