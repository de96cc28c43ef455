"""The plain form every cached value takes, and the checks it passes when read back.

Values in the shared cache are untrusted (``DESIGN.md``, invariant 16): another
release, another serializer or a corrupted entry may hand back anything. Every
reader therefore goes through these checks, and anything that fails them is a
miss, never an exception on a page. Each check raises ``TypeError`` or
``ValueError`` (which the readers catch) and accepts exactly what ikstorage
itself writes: a value that passes is safe to hand to every answer (a modified
time converts to a ``datetime``, a size is an ``int`` a storage could report).
``FORMAT`` is part of every key and every value, so a record written by another
release is ignored rather than misread.
"""

from __future__ import annotations

import math
import secrets
from datetime import UTC, datetime

__all__ = [
    "FORMAT",
    "count",
    "flag",
    "new_generation",
    "optional_count",
    "optional_text",
    "optional_timestamp",
    "sequence",
    "text",
    "text_pair",
    "timestamp",
]

#: Bumped whenever the stored shape or meaning changes; part of every key and every value.
#: 2: ``dimensions_known`` is False for "not determined yet" (read Django's way once).
#: 3: renditions, placeholder, source digest and a rendition failure in the record.
FORMAT = 3

#: Beyond any size, width or height a storage or an image can have (a signed 64-bit int).
MAX_COUNT = 2**63 - 1
#: POSIX times every ``datetime`` conversion accepts, in any time zone: a few days
#: inside ``datetime.min`` and ``datetime.max``, so no UTC offset pushes one out.
MIN_TIMESTAMP = datetime(1, 1, 4, tzinfo=UTC).timestamp()
MAX_TIMESTAMP = datetime(9999, 12, 28, tzinfo=UTC).timestamp()


def new_generation() -> str:
    """A token that tells one written version of a record from any other."""
    return secrets.token_hex(6)


def flag(value: object) -> bool:
    """A ``bool`` (not a truthy string: ``"false"`` is not ``True``); ``TypeError`` otherwise."""
    if not isinstance(value, bool):
        raise TypeError(value)
    return value


def count(value: object) -> int:
    """A size, width or height: an ``int`` (not a ``bool``) from 0 to :data:`MAX_COUNT`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(value)
    if not 0 <= value <= MAX_COUNT:
        raise ValueError(value)
    return value


def optional_count(value: object) -> int | None:
    """:func:`count`, or ``None``."""
    return None if value is None else count(value)


def timestamp(value: object) -> float:
    """A POSIX time that converts to a ``datetime``: finite, within :data:`MIN_TIMESTAMP`
    and :data:`MAX_TIMESTAMP` (``inf``, ``nan``, ``1e20`` or ``10**400`` would raise
    ``OverflowError`` or ``ValueError`` from the answer that converts it)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(value)
    # Compared before ``float()``: an int too large for a float raises OverflowError.
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(value)
    if not MIN_TIMESTAMP <= value <= MAX_TIMESTAMP:
        raise ValueError(value)
    return float(value)


def optional_timestamp(value: object) -> float | None:
    """:func:`timestamp`, or ``None``."""
    return None if value is None else timestamp(value)


def text(value: object) -> str:
    """A ``str``; ``TypeError`` otherwise (nothing is turned into text)."""
    if not isinstance(value, str):
        raise TypeError(value)
    return value


def optional_text(value: object) -> str | None:
    """:func:`text`, or ``None``."""
    return None if value is None else text(value)


def sequence(value: object, length: int | None = None) -> list[object] | tuple[object, ...]:
    """A list (or a tuple: some serializers return one), of ``length`` items if given."""
    if not isinstance(value, list | tuple):
        raise TypeError(value)
    if length is not None and len(value) != length:
        raise ValueError(value)
    return value


def text_pair(value: object) -> tuple[str, str] | None:
    """Two strings (a placeholder's colour and preview), or ``None``; ``TypeError`` otherwise."""
    if value is None:
        return None
    first, second = sequence(value, 2)
    return (text(first), text(second))
