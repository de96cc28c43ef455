"""Image width and height as Django's ``get_image_dimensions`` finds them, reading little.

The storage layer wants an image's size without downloading it: against S3
every byte costs a ranged GET. The caller supplies a random-access reader
(``read_at(offset, length)``) and, when known, the file's size.

The answer is Django's, exactly: :func:`read_dimensions` replays what
``get_image_dimensions`` does (Pillow's ``Image.open`` on growing prefixes of
the file, with every registered plugin, in the registry's order) over a view
of the file that fetches only the bytes a plugin reads. Most plugins read a
few hundred bytes of header. For JPEG, WebP and AVIF/HEIF, whose plugins read
far more than they look at (a 64 KiB EXIF block, the whole file for libwebp
and libavif), a plan per format marks the bytes nobody interprets, and those
are served as zeros instead of being fetched (see ``jpeg``, ``webp``,
``bmff``, and ``_sparse`` for when skipping is allowed at all).

Three answers:

* ``(width, height)``: what Django returns for the whole file.
* ``(None, None)``: Django returns that too; given only when certain (every
  byte any plugin read was real, or Django's own function ran on the whole
  file).
* ``None``: unknown. The caller reads the file Django's way once. Unknown is
  the answer when the reader's budget runs out, when Django would raise (a
  decompression bomb, a header Pillow rejects with ``ValueError``), and when
  a file too large to read whole cannot be decided from what was read.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
from typing import IO

from ikstorage.imageinfo._django import (
    NOT_AN_IMAGE,
    Opened,
    django_dimensions,
    django_dimensions_of,
    replay,
)
from ikstorage.imageinfo._source import ProbeLimitExceeded, ReadAt, Source, Unsure

__all__ = [
    "IMAGE_EXTENSIONS",
    "WHOLE_FILE_LIMIT",
    "Dimensions",
    "ProbeLimitExceeded",
    "ReadAt",
    "dimensions_from_file",
    "is_image_name",
    "read_dimensions",
]

Dimensions = tuple[int | None, int | None]
"""``(width, height)``, or ``(None, None)`` where Django finds no dimensions."""

IMAGE_EXTENSIONS: frozenset[str] = frozenset({
    # The formats sized from their headers: JPEG, PNG, GIF, WebP, BMP, TIFF, ICO.
    ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".apng", ".gif", ".webp",
    ".bmp", ".dib", ".tif", ".tiff", ".ico",
    # ISO BMFF: AVIF stills and sequences; HEIF/HEIC (sized only when a HEIF opener
    # such as pillow-heif is registered with Pillow, else Django finds none either).
    ".avif", ".avifs", ".heic", ".heif", ".hif",
    # Other formats Pillow opens without extra software, which an ImageField
    # accepts and sizes: camera MPO, JPEG 2000, cursors, Photoshop, Targa, QOI.
    ".mpo", ".jp2", ".j2k", ".jpf", ".jpx", ".cur", ".psd", ".tga", ".qoi",
})  # fmt: skip

#: A file this small whose header the replay cannot decide (bytes it skipped
#: might matter) is read whole and given to Django's own function. It is also
#: the default probe budget, so the whole file is usually within reach.
WHOLE_FILE_LIMIT = 512 * 1024


def is_image_name(name: str) -> bool:
    """True when the name's extension says it is an image worth probing (case-insensitive)."""
    return posixpath.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def read_dimensions(read_at: ReadAt, size: int | None = None) -> Dimensions | None:
    """Django's answer for the file behind ``read_at``, or None when unknown.

    ``size`` is the file's length; without it, the end of the file is found by
    reading (a short read, confirmed by an empty one). ``read_at`` raising
    ProbeLimitExceeded makes the answer unknown; any other error it raises
    propagates, even where a Pillow plugin would have swallowed it.
    """
    if size == 0:
        return (None, None)  # Django reads nothing and finds nothing
    source = Source(read_at, size)
    try:
        return _answer(source)
    except (ProbeLimitExceeded, Unsure):
        return None


def _answer(source: Source) -> Dimensions | None:
    from ikstorage.imageinfo import _sparse

    try:
        _sparse.plan(source)
        outcome = replay(source)
    except Unsure:
        outcome = None
    if isinstance(outcome, Opened):
        return (outcome.width, outcome.height)
    if outcome is NOT_AN_IMAGE and not source.zeros_served:
        return (None, None)
    undecided = outcome is None or source.zeros_served
    if undecided and source.size is not None and source.size <= WHOLE_FILE_LIMIT:
        return django_dimensions_of(source.whole())  # Django's own function decides
    return None  # Django raises, or the file is too large to settle it here


def dimensions_from_file(
    fileobj: IO[bytes], limit: int = 1 << 20, fallback_limit: int = 32 << 20
) -> Dimensions | None:
    """Django's answer for an open file (an upload being saved), or None when unknown.

    The header is probed with at most ``limit`` bytes read; when that cannot
    decide and the file holds at most ``fallback_limit`` bytes, Django's
    ``get_image_dimensions`` itself runs on it (no network is involved on the
    save path). The file position is restored. Text streams and unseekable
    files give None, never an error.
    """
    try:
        if not fileobj.seekable():
            return None
        start = fileobj.tell()
    except (AttributeError, OSError, TypeError, ValueError):
        return None
    try:
        if not isinstance(fileobj.read(0), bytes):  # a text stream
            return None
        end = fileobj.seek(0, io.SEEK_END)
        size = int(end if end is not None else fileobj.tell())
        result = read_dimensions(_file_reader(fileobj, limit), size)
        if result is None and size <= fallback_limit:
            result = django_dimensions(fileobj)
        return result
    except (AttributeError, OSError, TypeError, ValueError):
        return None
    finally:
        with contextlib.suppress(AttributeError, OSError, TypeError, ValueError):
            fileobj.seek(start)


def _file_reader(fileobj: IO[bytes], limit: int) -> ReadAt:
    """``read_at`` over a seekable binary file, raising ProbeLimitExceeded past ``limit`` bytes."""
    spent = 0

    def read_at(offset: int, length: int) -> bytes:
        nonlocal spent
        if spent + length > limit:
            raise ProbeLimitExceeded(f"probe would read {spent + length} bytes, limit is {limit}")
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

    return read_at
