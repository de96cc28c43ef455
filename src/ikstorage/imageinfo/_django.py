"""Django's ``get_image_dimensions``, replayed over a :class:`Source`.

Django feeds Pillow's ``ImageFile.Parser`` the file in growing pieces (1 KiB,
then 2, 4, 8 KiB...) and, after each, lets the parser try ``Image.open`` on
everything fed so far; the first prefix Pillow opens gives the answer. A
prefix matters: a JPEG cut exactly between two segments opens with the frame
header seen so far, a TIFF tag whose value lies past the prefix is skipped.
:func:`replay` runs the same ``Image.open`` calls on views of the same
prefixes, so every plugin and every quirk is Pillow's own, but a view only
fetches the bytes a plugin actually reads. Where a format's plan proved what
the plugin does with a prefix (a JPEG cut inside a segment stops for want of
bytes: Django feeds more), that prefix is not opened, and a prefix whose
bytes the plan knows is read by Pillow at C speed: the replay's work is then
one walk of the header, where Django's is one per prefix. :func:`django_dimensions` is
Django's function itself, for bytes in hand.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from typing import IO, cast

from ikstorage.imageinfo._source import ALWAYS_REAL, ProbeLimitExceeded, Source, Unsure
from ikstorage.imageinfo._view import View

FIRST_CHUNK = 1024  # django.core.files.images.get_image_dimensions: chunk_size = 1024


@dataclass(frozen=True, slots=True)
class Opened:
    """Django returns this size."""

    width: int
    height: int


class NotAnImage:
    """Django returns ``(None, None)``: no prefix, the whole file included, opens."""


class Raises:
    """Django raises (a decompression bomb, a header Pillow rejects with ValueError...)."""


NOT_AN_IMAGE = NotAnImage()
RAISES = Raises()
Outcome = Opened | NotAnImage | Raises


def prefixes(size: int | None) -> list[int] | None:
    """The lengths of the prefixes Django opens, in order (``None``: the size is unknown)."""
    if size is None:
        return None
    lengths: list[int] = []
    fed, chunk = 0, FIRST_CHUNK
    while fed < size:
        fed = min(size, fed + chunk)
        lengths.append(fed)
        chunk *= 2
    return lengths


def replay(source: Source) -> Outcome:
    """What ``get_image_dimensions`` answers for the file behind ``source``.

    Raises ProbeLimitExceeded or Unsure when the reads needed are out of reach,
    and re-raises whatever ``read_at`` raised, even where a plugin caught it.
    """
    fed, chunk = 0, FIRST_CHUNK
    while True:
        if source.size is not None and fed >= source.size:
            return NOT_AN_IMAGE
        fed += chunk
        chunk *= 2
        if fed in source.short_prefixes and source.size is not None and fed < source.size:
            # Cut inside a segment: the plugin stops there for want of bytes, and a
            # longer prefix (the whole file at the latest) walks the same bytes first.
            continue
        outcome = _feed(source, fed if source.size is None else min(fed, source.size))
        if outcome is not None:
            return outcome
        if source.size is None and not source.real(fed, 1):
            return NOT_AN_IMAGE  # the file ends within this prefix: it was fed whole


def _feed(source: Source, limit: int) -> Outcome | None:
    """One ``Parser.feed``: ``Image.open`` on the first ``limit`` bytes. None: feed more."""
    from PIL import Image

    view = _opened(source, limit)
    try:
        try:
            image = Image.open(cast("IO[bytes]", view))
        except OSError:  # Parser.feed: "not enough data"
            _reraise(source)
            return None
        except zlib.error as exc:  # Django passes "Error -5" (truncated stream), raises others
            _reraise(source)
            return None if str(exc.args[0]).startswith("Error -5") else RAISES
        except RuntimeError:  # Django passes, e.g. "could not create decoder object"
            _reraise(source)
            return None
        except (ProbeLimitExceeded, Unsure):
            raise
        except Exception:
            _reraise(source)
            return RAISES
        _reraise(source)
        try:
            with image:
                _prepare_decoder(image)
                _reraise(source)
                width, height = image.size
        except (ProbeLimitExceeded, Unsure):
            raise
        except Exception:
            _reraise(source)
            return RAISES
        return Opened(width, height)
    finally:
        view.close()


def _opened(source: Source, limit: int) -> View | io.BytesIO:
    """The first ``limit`` bytes of the file, as Pillow will read them.

    A :class:`View` fetches only what a plugin reads. When the format's plan
    proved that the claiming plugin reads nothing at or past ``read_end`` (and
    every other plugin nothing past ``ALWAYS_REAL``), those bytes are what
    Pillow reads, all of them: they are served at once into a ``BytesIO``,
    which Pillow reads at C speed, as it reads Django's. The rest of the
    prefix, never read, is zeros.
    """
    read_end = source.read_end
    if read_end is None:
        return View(source, limit)
    data = source.serve(0, min(limit, max(read_end, ALWAYS_REAL)))
    if len(data) < limit and source.size is not None:
        data += bytes(min(limit, source.size) - len(data))
    return io.BytesIO(data)


def _prepare_decoder(image: object) -> None:
    """What ``Parser.feed`` does right after ``Image.open`` succeeds (and can fail on)."""
    from PIL import Image, ImageFile

    assert isinstance(image, ImageFile.ImageFile)
    if hasattr(image, "load_seek") or hasattr(image, "load_read") or len(image.tile) != 1:
        return
    image.load_prepare()
    decoder_name, extents, _, args = image.tile[0]
    image.tile = []
    decoder = Image._getdecoder(image.mode, decoder_name, args, image.decoderconfig)
    decoder.setimage(image.im, extents)


def _reraise(source: Source) -> None:
    """A reader error swallowed by a plugin still ends the probe, as raised."""
    if source.failure is not None:
        raise source.failure


def django_dimensions(fileobj: IO[bytes]) -> tuple[int | None, int | None] | None:
    """Django's own ``get_image_dimensions`` on an open file; ``None`` if it raises."""
    from django.core.files.images import get_image_dimensions

    try:
        width, height = get_image_dimensions(fileobj)
    except Exception:
        return None
    return width, height


def django_dimensions_of(data: bytes) -> tuple[int | None, int | None] | None:
    """The same for bytes in hand."""
    return django_dimensions(io.BytesIO(data))
