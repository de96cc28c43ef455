"""What ikstorage remembers about a file: its record, and the renditions the record lists.

A record holds plain values only (bools, ints, floats, strings, ``None``) so
that every Django cache serializer — pickle, JSON, msgpack — can store it, and
carries a format version so a record written by another release is ignored
rather than misread. Each record also carries a *generation*: a random token
minted whenever the record is written from new knowledge (a save, a delete, a
backend probe). Facts learned later about the same file version (its modified
time, or its dimensions when the header alone could not tell them) are stored
beside the record tagged with its generation (:mod:`.entries`), so they are
only believed while that exact version of the record is current.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ikstorage.backends.facts import Facts
from ikstorage.records.plain import (
    FORMAT,
    count,
    flag,
    new_generation,
    optional_count,
    optional_text,
    optional_timestamp,
    sequence,
    text,
    text_pair,
)

__all__ = ["Record", "RenditionInfo"]


@dataclass(frozen=True, slots=True)
class RenditionInfo:
    """One rendition of a source, as its record lists it: a page showing it needs no call."""

    spec: str
    #: The spec variant's fingerprint: a changed spec is a missing rendition.
    fingerprint: str
    format: str
    name: str
    width: int
    height: int
    size: int
    #: Its URL when the storage's URLs never expire (no call, no lookup to show it).
    url: str | None = None

    def to_plain(self) -> list[Any]:
        return [
            self.spec,
            self.fingerprint,
            self.format,
            self.name,
            self.width,
            self.height,
            self.size,
            self.url,
        ]

    @classmethod
    def from_plain(cls, data: object) -> RenditionInfo:
        """Read one listed rendition back; ``TypeError``/``ValueError`` for anything else."""
        spec, fingerprint, fmt, name, width, height, size, url = sequence(data, 8)
        return cls(
            text(spec),
            text(fingerprint),
            text(fmt),
            text(name),
            count(width),
            count(height),
            count(size),
            optional_text(url),
        )


@dataclass(frozen=True, slots=True)
class Record:
    """Metadata of one name on one storage."""

    exists: bool
    size: int | None = None
    width: int | None = None
    height: int | None = None
    #: True once dimensions were determined; ``width is None`` then means Django, too,
    #: finds no dimensions. False: not determined yet (see :class:`DimensionsEntry`).
    dimensions_known: bool = False
    #: POSIX timestamp of the last modification, when the backend told us.
    modified: float | None = None
    etag: str | None = None
    generation: str = ""
    #: Renditions written for this version of the file (see :mod:`ikstorage.renditions`).
    renditions: tuple[RenditionInfo, ...] = ()
    #: ``(dominant colour, tiny data-URI preview)``, computed when the renditions were.
    placeholder: tuple[str, str] | None = None
    #: SHA-256 of the file's bytes, when ikstorage saw them (renditions are named by it).
    digest: str | None = None
    #: Why rendering failed for this version (``"not-an-image"``...): not retried.
    rendition_error: str | None = None

    @classmethod
    def missing(cls) -> Record:
        """A record saying the name does not exist (a probe miss or a tombstone)."""
        return cls(exists=False, generation=new_generation())

    @classmethod
    def found(
        cls,
        size: int | None,
        dims: tuple[int | None, int | None] | None,
        *,
        modified: float | None = None,
        etag: str | None = None,
    ) -> Record:
        """A record of a file that exists; ``dims`` None means "not determined yet"."""
        return cls(
            exists=True,
            size=size,
            width=dims[0] if dims else None,
            height=dims[1] if dims else None,
            dimensions_known=dims is not None,
            modified=modified,
            etag=etag,
            generation=new_generation(),
        )

    @classmethod
    def of(cls, facts: Facts) -> Record:
        """The record of what a backend probe told (a new generation)."""
        if not facts.exists:
            return cls.missing()
        return cls.found(facts.size, facts.dimensions, modified=facts.modified, etag=facts.etag)

    @property
    def dimensions(self) -> tuple[int | None, int | None]:
        return (self.width, self.height)

    def to_plain(self) -> dict[str, Any]:
        """The cacheable form: a flat dict with short keys."""
        return {
            "v": FORMAT,
            "e": self.exists,
            "s": self.size,
            "w": self.width,
            "h": self.height,
            "d": self.dimensions_known,
            "m": self.modified,
            "t": self.etag,
            "g": self.generation,
            "r": [r.to_plain() for r in self.renditions],
            "p": None if self.placeholder is None else list(self.placeholder),
            "x": self.digest,
            "f": self.rendition_error,
        }

    @classmethod
    def from_plain(cls, data: object) -> Record | None:
        """Read a cached value back; anything of another format or shape is a miss.

        Every field is checked (:mod:`.plain`), so a record read back can be
        answered from without raising: a modified time converts to a ``datetime``,
        a size is a whole number, each listed rendition is complete.
        """
        if not isinstance(data, dict) or data.get("v") != FORMAT:
            return None
        try:
            return cls(
                exists=flag(data["e"]),
                size=optional_count(data["s"]),
                width=optional_count(data["w"]),
                height=optional_count(data["h"]),
                dimensions_known=flag(data["d"]),
                modified=optional_timestamp(data["m"]),
                etag=optional_text(data["t"]),
                generation=text(data["g"]),
                renditions=tuple(RenditionInfo.from_plain(r) for r in sequence(data["r"])),
                placeholder=text_pair(data["p"]),
                digest=optional_text(data["x"]),
                rendition_error=optional_text(data["f"]),
            )
        except (KeyError, TypeError, ValueError):
            return None
