"""The cache keys of one storage's records, and the kind of record a key holds.

Keys are made for the name the wrapped storage actually uses (its *canonical*
name, see :meth:`ikstorage.backends.base.Adapter.canonical`), so ``x.txt``,
``./x.txt`` and ``Path("x.txt")`` share one record, under a namespace derived
from the storage's identity, so two storages never share one.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from ikstorage.records.plain import FORMAT

__all__ = ["Keys", "is_record_key", "kind_of"]


def kind_of(key: str) -> str:
    """The kind letter of a key (``"r"`` record, ``"u"`` URL...).

    Keys end in ``<kind>:<32 hex digits>``.
    """
    return key[-34]


def is_record_key(key: str) -> bool:
    """True for the key of a :class:`~ikstorage.records.Record`."""
    return key[-34:-33] == "r"


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
