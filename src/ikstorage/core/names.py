"""Names: how a caller's spelling of a file name becomes its stored name and cache keys.

One stored file has one record however its name is spelled (``DESIGN.md``,
invariant 9): the record key is made from the name the wrapped storage stores
the file under (:meth:`~ikstorage.backends.base.Adapter.canonical`), while
the URL key is made from the spelling, since a URL depends on it. A warm page
asks about each name three times, so what a ``str`` spelling resolves to is
memoized; the memo is a plain dictionary the facade's warm paths read
directly.

A name the storage would refuse (``None``, a traversal, a type it does not
take) resolves to ``None``: the caller hands it to the wrapped storage, so the
answer or the error is exactly the storage's own. Only the errors a storage
raises for such a name are caught (:data:`~ikstorage.backends.base.REFUSED_NAME`);
anything else is a bug and propagates.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from ikstorage.backends.base import REFUSED_NAME, Adapter
from ikstorage.records import Keys

__all__ = ["Name", "Names", "spelling"]


class Name(NamedTuple):
    """What one spelling resolves to."""

    #: The name the storage stores the file under; ``None`` when it refuses the name.
    stored: str | None
    #: The record key (of ``stored``), ``None`` with it.
    record: str | None
    #: The URL key (of the spelling: URLs depend on it).
    url: str


def spelling(name: Any) -> str:
    """The name as the caller spelled it (URLs depend on the spelling, not the file)."""
    return str(os.fspath(name))


class Names:
    """Spellings → stored names and keys, memoized per storage.

    ``adapter`` and ``keys`` are read through callables because both are
    rebuilt when settings change (:meth:`forget`).
    """

    def __init__(
        self, adapter: Callable[[], Adapter], keys: Callable[[], Keys], *, maxsize: int
    ) -> None:
        self._adapter = adapter
        self._keys = keys
        self._maxsize = maxsize
        #: ``str`` spelling → :class:`Name`; read directly by the warm paths.
        self.memo: dict[str, Name] = {}

    def forget(self) -> None:
        """Drop the memo in place (a setting changed what names resolve to)."""
        self.memo.clear()

    def of(self, name: str) -> Name:
        """The memoized resolution of a ``str`` spelling."""
        known = self.memo.get(name)
        if known is not None:
            return known
        try:
            stored: str | None = self._adapter().canonical(name)
        except REFUSED_NAME:
            stored = None
        keys = self._keys()
        known = Name(stored, None if stored is None else keys.record(stored), keys.url(name))
        memo = self.memo
        if len(memo) >= 4 * self._maxsize:
            memo.clear()  # a bound on memory; the next lookups rebuild what is still asked
        memo[name] = known
        return known

    def stored(self, name: Any) -> str | None:
        """The stored name of any spelling; ``None`` when the wrapped storage must answer."""
        if type(name) is str:
            return self.of(name).stored
        try:
            return self._adapter().canonical(name)
        except REFUSED_NAME:
            return None

    def canonical(self, name: Any) -> str:
        """The stored name of ``name``; the storage's own error for a name it refuses."""
        return self._adapter().canonical(name)

    def record_key(self, name: Any) -> list[str]:
        """The record key of ``name`` as a list (empty for a name the storage refuses)."""
        stored = self.stored(name)
        return [] if stored is None else [self._keys().record(stored)]

    def facts_of(self, names: Iterable[str]) -> list[str]:
        """Every fact key of the files stored under ``names`` (about to change or go)."""
        keys = self._keys()
        found: list[str] = []
        for name in names:
            stored = self.stored(name)
            if stored is not None:
                found += keys.facts(stored)
        return found
