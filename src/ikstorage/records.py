"""What ikstorage remembers about a file, and the cache keys it lives under.

A record holds plain values only (bools, ints, floats, strings, ``None``) so
that every Django cache serializer — pickle, JSON, msgpack — can store it, and
carries a format version so a record written by another release is ignored
rather than misread. Each record also carries a *generation*: a random token
minted whenever the record is written from new knowledge (a save, a delete, a
backend probe). Facts learned later about the same file version (its modified
time, or its dimensions when the header alone could not tell them) are stored
beside the record tagged with its generation, so they are only believed while
that exact version of the record is current.

Keys are made for the name the wrapped storage actually uses (its *canonical*
name, see :meth:`ikstorage.backends.base.Adapter.canonical`), so ``x.txt``,
``./x.txt`` and ``Path("x.txt")`` share one record.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

#: Bumped whenever the stored shape or meaning changes; part of every key and every value.
#: 2: ``dimensions_known`` is False for "not determined yet" (read Django's way once).
#: 3: renditions, placeholder, source digest and a rendition failure in the record.
FORMAT = 3


def new_generation() -> str:
    """A token that tells one written version of a record from any other."""
    return secrets.token_hex(6)


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
        if not isinstance(data, list) or len(data) != 8:
            raise TypeError(data)
        spec, fingerprint, fmt, name, width, height, size, url = data
        if not all(isinstance(v, str) for v in (spec, fingerprint, fmt, name)):
            raise TypeError(data)
        if url is not None and not isinstance(url, str):
            raise TypeError(data)
        return cls(spec, fingerprint, fmt, name, _int(width), _int(height), _int(size), url)


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
        """Read a cached value back; anything of another format or shape is a miss."""
        if not isinstance(data, dict) or data.get("v") != FORMAT:
            return None
        try:
            return cls(
                exists=bool(data["e"]),
                size=_opt_int(data["s"]),
                width=_opt_int(data["w"]),
                height=_opt_int(data["h"]),
                dimensions_known=bool(data["d"]),
                modified=None if data["m"] is None else float(data["m"]),
                etag=None if data["t"] is None else str(data["t"]),
                generation=str(data["g"]),
                renditions=tuple(RenditionInfo.from_plain(r) for r in data["r"]),
                placeholder=_placeholder(data["p"]),
                digest=None if data["x"] is None else str(data["x"]),
                rendition_error=None if data["f"] is None else str(data["f"]),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def rendition(self, spec: str, fmt: str | None = None) -> RenditionInfo | None:
        """The rendition of ``spec`` (in ``fmt``, or the spec's last-listed format)."""
        found = [r for r in self.renditions if r.spec == spec and (fmt is None or r.format == fmt)]
        return found[-1] if found else None


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
            return cls(str(data["g"]), _opt_int(data["w"]), _opt_int(data["h"]))
        except (KeyError, TypeError):
            return None


class Entry(Protocol):
    """What the cache stores: an object in L1, its plain form in L2."""

    def to_plain(self) -> dict[str, Any]: ...


def is_record_key(key: str) -> bool:
    """True for the key of a :class:`Record` (the kind letter sits before the digest)."""
    return key[-34:-33] == "r"


def decode(key: str, value: object) -> Entry | None:
    """The entry a plain L2 value stands for, by the kind in its key; ``None`` if unreadable."""
    kind = key[-34]  # keys end in "<kind>:<32 hex digits>"
    if kind == "r":
        return Record.from_plain(value)
    if kind == "u":
        return UrlEntry.from_plain(value)
    if kind == "m":
        return ModifiedEntry.from_plain(value)
    if kind == "d":
        return DimensionsEntry.from_plain(value)
    return None


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(value)
    return value


def _placeholder(value: object) -> tuple[str, str] | None:
    if value is None:
        return None
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, str) for v in value)
    ):
        return (value[0], value[1])
    raise TypeError(value)


def _opt_int(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(value)
    return value


class Keys:
    """Cache keys for one storage identity.

    Keys are ``ik:<format>:<namespace>:<kind>:<digest>`` — hex only, about 70
    bytes, so they are valid on memcached (≤ 250 bytes, no spaces or control
    characters) and every other backend, whatever the file name holds.
    """

    __slots__ = ("_prefix",)

    def __init__(self, identity: str) -> None:
        namespace = hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        self._prefix = f"ik:{FORMAT}:{namespace}:"

    def _key(self, kind: str, name: str) -> str:
        return f"{self._prefix}{kind}:{_digest(name)}"

    def record(self, name: str) -> str:
        return self._key("r", name)

    def url(self, name: str) -> str:
        return self._key("u", name)

    def modified(self, name: str) -> str:
        return self._key("m", name)

    def dimensions(self, name: str) -> str:
        return self._key("d", name)

    def lease(self, name: str) -> str:
        """The per-name write lease (see :mod:`ikstorage.lease`); never holds an entry."""
        return self._key("l", name)

    def queued(self, name: str) -> str:
        """Marks a deferred rendering task as queued for ``name``; never holds an entry."""
        return self._key("q", name)

    def facts(self, name: str) -> list[str]:
        """Every key holding a fact about the file stored as ``name`` (canonical)."""
        return [self.record(name), self.modified(name), self.dimensions(name)]


@lru_cache(maxsize=4096)
def _digest(name: str) -> str:
    """Hex digest of a name; memoized because a page asks about the same names repeatedly."""
    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:32]
