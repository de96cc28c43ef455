"""The plain form every cached value takes, and the checks it passes when read back.

Values in the shared cache are untrusted (``DESIGN.md``, invariant 16): another
release, another serializer or a corrupted entry may hand back anything. Every
reader therefore goes through these checks, and anything that fails them is a
miss, never an exception on a page. ``FORMAT`` is part of every key and every
value, so a record written by another release is ignored rather than misread.
"""

from __future__ import annotations

import secrets

#: Bumped whenever the stored shape or meaning changes; part of every key and every value.
#: 2: ``dimensions_known`` is False for "not determined yet" (read Django's way once).
#: 3: renditions, placeholder, source digest and a rendition failure in the record.
FORMAT = 3


def new_generation() -> str:
    """A token that tells one written version of a record from any other."""
    return secrets.token_hex(6)


def whole(value: object) -> int:
    """An ``int`` that is not a ``bool``; ``TypeError`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(value)
    return value


def optional_whole(value: object) -> int | None:
    """:func:`whole`, or ``None``."""
    return None if value is None else whole(value)


def text_pair(value: object) -> tuple[str, str] | None:
    """Two strings (a placeholder's colour and preview), or ``None``; ``TypeError`` otherwise."""
    if value is None:
        return None
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, str) for v in value)
    ):
        return (value[0], value[1])
    raise TypeError(value)
