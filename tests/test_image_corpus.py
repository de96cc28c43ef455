"""Every file in Pillow's own test images gets Django's answer, or "unknown".

Pillow's ``Tests/images`` (fetched from PyPI for the installed Pillow, see
``tests/corpus.py``) holds a thousand files for every plugin, many of them
crafted: truncated headers, decompression bombs, fuzzer finds, files named
for one format and holding another. For each file, Django's
``get_image_dimensions`` on the whole file is the reference; the probe is run
the ways the storage runs it, and each definite answer must be Django's.

The unknowns are listed by name: a regression shows as a new name (or a
disagreement, which must never happen).
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import PIL
import pytest

from ikstorage.imageinfo import Dimensions, dimensions_from_file, read_dimensions
from tests.corpus import CorpusUnavailable, ProbeReader, corpus_files, django_answer, pillow_images
from tests.servers import unavailable

pytestmark = pytest.mark.filterwarnings("ignore:::PIL")  # production prints them and goes on

#: The corpus this module's exact expectations were recorded with.
RECORDED_PILLOW = "13.0.0"
RECORDED_FILES = 1060

#: Files Django's get_image_dimensions raises on (so the only right answer is
#: "unknown"): decompression bombs, ICOs whose bitmap frame Pillow decodes on
#: open and cannot from a 1 KiB prefix, XPM and PNG headers Pillow rejects with
#: ValueError, a TIFF whose frame count Pillow refuses.
DJANGO_RAISES = {
    "bmp/b/badwidth.bmp",
    "bmp/b/reallybig.bmp",
    "decompression_bomb.gif",
    "decompression_bomb.ico",
    "hopper.ico",
    "hopper_256x256.ico",
    "hopper_bpp2.xpm",
    "hopper_rgb.xpm",
    "hopper_unexpected.ico",
    "png_decompression_dos.png",
    "python.ico",
    "seek_too_large.tif",
}


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    django: Dimensions | None  # None: Django raises


@pytest.fixture(scope="module")
def corpus() -> list[Case]:
    try:
        root = pillow_images()
    except CorpusUnavailable as exc:
        unavailable(f"Pillow's test images are not available: {exc}")
        raise AssertionError("unreachable") from exc
    cases = []
    for path in corpus_files(root):
        data = path.read_bytes()
        cases.append(Case(path.relative_to(root).as_posix(), data, django_answer(data)))
    return cases


Probe = Callable[[bytes], "Dimensions | None"]


def tally(corpus: list[Case], probe: Probe) -> tuple[Counter[str], set[str], list[str]]:
    """(counts of agree/unknown/disagree, names of unknowns, disagreements described)."""
    counts: Counter[str] = Counter()
    unknown: set[str] = set()
    disagreements: list[str] = []
    for case in corpus:
        result = probe(case.data)
        if result is None:
            counts["unknown"] += 1
            unknown.add(case.name)
        elif case.django is not None and result == case.django:
            counts["agree"] += 1
        else:
            counts["disagree"] += 1
            disagreements.append(f"{case.name}: probe {result}, Django {case.django}")
    return counts, unknown, disagreements


def recorded() -> bool:
    return PIL.__version__ == RECORDED_PILLOW


def s3_probe(data: bytes) -> Dimensions | None:
    """The S3 probe's reader: 64 KiB first, 16 KiB follow-ups, 512 KiB in all, size known."""
    return read_dimensions(ProbeReader(data), len(data))


def unsized_probe(data: bytes) -> Dimensions | None:
    """The same reader, the size not given: the end of the file is found by reading."""
    return read_dimensions(ProbeReader(data))


def tight_probe(data: bytes) -> Dimensions | None:
    """A stingy reader (1 KiB, then 256 bytes, 64 KiB in all): more skipping, less budget."""
    return read_dimensions(ProbeReader(data, first=1024, follow=256, budget=64 << 10), len(data))


def upload_probe(data: bytes) -> Dimensions | None:
    """The save path: an upload in hand."""
    return dimensions_from_file(io.BytesIO(data))


def test_corpus_is_complete(corpus: list[Case]) -> None:
    assert len(corpus) > 500
    assert any("/" in case.name for case in corpus)  # subfolders included
    if recorded():
        assert len(corpus) == RECORDED_FILES
        assert {case.name for case in corpus if case.django is None} == DJANGO_RAISES


@pytest.mark.parametrize(
    ("probe", "extra_unknown"),
    [(s3_probe, 0), (upload_probe, 0), (unsized_probe, 37), (tight_probe, 116)],
    ids=["s3", "upload", "unsized", "tight"],
)
def test_probe_agrees_with_django(corpus: list[Case], probe: Probe, extra_unknown: int) -> None:
    """Never a different answer; "unknown" where Django raises, and where the reader
    cannot reach what the answer needs: without a size, 35 TIFF and 2 EPS files
    larger than the first read (their plugins seek to the end before any read
    found it); with the tight reader, files whose header (or whole, when Pillow
    reads it all) does not fit in its 64 KiB."""
    counts, unknown, disagreements = tally(corpus, probe)
    assert disagreements == []
    raises = {case.name for case in corpus if case.django is None}
    assert raises <= unknown
    if extra_unknown == 0:
        assert unknown == raises
    if recorded():
        total_unknown = len(DJANGO_RAISES) + extra_unknown
        assert counts == Counter(agree=RECORDED_FILES - total_unknown, unknown=total_unknown)


def test_recorded_names_exist(corpus: list[Case]) -> None:
    if not recorded():
        pytest.skip(f"expectations recorded for Pillow {RECORDED_PILLOW}, not {PIL.__version__}")
    names = {case.name for case in corpus}
    assert names >= DJANGO_RAISES
    assert Path("avif/hopper.heif").as_posix() in names
