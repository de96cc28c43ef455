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
from ikstorage.records.plain import FORMAT, optional_whole
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
        url, expires = data.get("u"), data.get("x")
        if not isinstance(url, str) or not (expires is None or isinstance(expires, int | float)):
            return None
        return cls(url=url, expires=None if expires is None else float(expires))


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
        generation, modified = data.get("g"), data.get("m")
        if not isinstance(generation, str) or not isinstance(modified, int | float):
            return None
        return cls(generation=generation, modified=float(modified))


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
            return cls(str(data["g"]), optional_whole(data["w"]), optional_whole(data["h"]))
        except (KeyError, TypeError):
            return None


class Entry(Protocol):
    """What the cache stores: an object in L1, its plain form in L2."""

    def to_plain(self) -> dict[str, Any]: ...


def decode(key: str, value: object) -> Entry | None:
    """The entry a plain L2 value stands for, by the kind in its key; ``None`` if unreadable."""
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
