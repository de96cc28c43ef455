"""Bad input: whatever Pillow raises on a corrupt or hostile file, as the library's typed errors.

Pillow's plugins raise almost any built-in exception on broken bytes, and
its own pixel limit raises (or, where warnings are errors, warns) a
decompression bomb. :func:`decoding` turns each into
:class:`~ikstorage.exceptions.UnreadableImageError` or
:class:`~ikstorage.exceptions.TooManyPixelsError`, whose ``reason`` a record
can keep, so a bad upload is remembered instead of crashing the save.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image

from ikstorage.exceptions import TooManyPixelsError, UnreadableImageError

__all__ = ["DECODE_ERRORS", "decoding"]

#: What Pillow's plugins raise on bad input (a truncated file, a broken header).
DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    struct.error,
    zlib.error,
)


@contextmanager
def decoding(max_pixels: int, what: str) -> Iterator[None]:
    """Pillow's errors on bad input, as the typed errors a caller can record."""
    try:
        yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own limit (Image.MAX_IMAGE_PIXELS) struck first; its warning is
        # an exception where warnings are errors.
        raise TooManyPixelsError(
            f"The source is refused as a decompression bomb: {exc}", limit=max_pixels
        ) from exc
    except DECODE_ERRORS as exc:
        raise UnreadableImageError(
            f"The source's {what} could not be read ({type(exc).__name__}: {exc}); "
            "it is corrupt or truncated.",
            reason="corrupt",
        ) from exc
