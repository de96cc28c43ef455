"""Facts kept beside a record, and the decoding of whatever the shared cache hands back.

A URL is memoized apart from the record because it depends on the name as
spelled (and a signed one expires); a modified time or dimensions learned
after the record was written are kept apart, tagged with the record's
generation, so they are believed only beside that version of the file.

:func:`decode` turns a plain value read from the shared cache back into the
entry its key's kind says it is; anything unreadable is a miss (``None``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ikstorage.records.keys import kind_of
from ikstorage.records.plain import FORMAT, optional_count, optional_timestamp, text, timestamp
from ikstorage.records.record import Record

__all__ = ["DimensionsEntry", "Entry", "ModifiedEntry", "UrlEntry", "decode"]


@dataclass(frozen=True, slots=True)
class UrlEntry:
    """A memoized URL; ``expires`` is a POSIX time for signed URLs, ``None`` for public ones."""

    url: str
    expires: float | None

    def to_plain(self) -> dict[str, Any]:
        return {"v": FORMAT, "u": self.url, "x": self.expires}

    @classmethod
    def from_plain(cls, data: object) -> UrlEntry | None:
        if not isinstance(data, dict) or data.get("v") != FORMAT:
            return None
        try:
            return cls(url=text(data["u"]), expires=optional_timestamp(data["x"]))
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True, slots=True)
class ModifiedEntry:
    """A modified time learned after the record was written, valid for one generation."""

    generation: str
    modified: float

    def to_plain(self) -> dict[str, Any]:
        return {"v": FORMAT, "g": self.generation, "m": self.modified}

    @classmethod
    def from_plain(cls, data: object) -> ModifiedEntry | None:
        if not isinstance(data, dict) or data.get("v") != FORMAT:
            return None
        try:
            return cls(generation=text(data["g"]), modified=timestamp(data["m"]))
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True, slots=True)
class DimensionsEntry:
    """Dimensions read Django's way after the record was written, valid for one generation.

    Written when a record says "dimensions unknown" (a header the parser could
    not read within its byte budget) and the first asker read the file.
    """

    generation: str
    width: int | None
    height: int | None

    @property
    def dimensions(self) -> tuple[int | None, int | None]:
        return (self.width, self.height)

    def to_plain(self) -> dict[str, Any]:
        return {"v": FORMAT, "g": self.generation, "w": self.width, "h": self.height}

    @classmethod
    def from_plain(cls, data: object) -> DimensionsEntry | None:
        if not isinstance(data, dict) or data.get("v") != FORMAT:
            return None
        try:
            return cls(text(data["g"]), optional_count(data["w"]), optional_count(data["h"]))
        except (KeyError, TypeError, ValueError):
            return None


class Entry(Protocol):
    """What the cache stores: an object in L1, its plain form in L2."""

    def to_plain(self) -> dict[str, Any]: ...


def decode(key: str, value: object) -> Entry | None:
    """The entry a plain L2 value stands for, by the kind in its key; ``None`` if unreadable.

    Each ``from_plain`` checks every field; the catch-all here is the last line of
    invariant 16: whatever the shared cache handed back, a page gets a miss.
    """
    try:
        return _decode(key, value)
    except Exception:  # an untrusted value: anything unreadable is a miss
        return None


def _decode(key: str, value: object) -> Entry | None:
    kind = kind_of(key)
    if kind == "r":
        return Record.from_plain(value)
    if kind == "u":
        return UrlEntry.from_plain(value)
    if kind == "m":
        return ModifiedEntry.from_plain(value)
    if kind == "d":
        return DimensionsEntry.from_plain(value)
    return None
