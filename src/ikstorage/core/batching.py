"""Names waiting to be looked up together: one cache round trip for a page.

A new process rendering a 100-image page would ask the shared cache once per
image. Instead, as model instances are loaded, the names in their file fields
are noted here (:mod:`ikstorage.patches.descriptor`), and the first lookup that
misses L1 fetches the records and URLs of every noted name of its storage in the
same ``get_many`` (:meth:`ikstorage.core.reads.Reads.record`). The view does not
change.

The notes live in a context variable, so one request (thread or asyncio task)
never sends another's names; they are bounded in count (``MAX_PENDING``) and
in age (``MAX_AGE`` seconds: names noted long ago by a worker that never asked
are dropped, not fetched), and cleared when a request starts.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import Any

__all__ = ["MAX_AGE", "MAX_PENDING", "clear", "note", "take"]

#: Most names waiting at once in one context: a page of 1,000 images, ~100 KB.
MAX_PENDING = 1000
#: Seconds after which waiting names are dropped rather than fetched.
MAX_AGE = 10.0


class _Pending:
    __slots__ = ("names", "since")

    def __init__(self) -> None:
        self.since = time.monotonic()
        self.names: list[tuple[Any, str]] = []


_pending: ContextVar[_Pending | None] = ContextVar("ikstorage_pending", default=None)


def note(storage: Any, name: str) -> None:
    """Remember that ``name`` on ``storage`` is likely to be asked about soon."""
    pending = _pending.get()
    if pending is None:
        pending = _Pending()
        _pending.set(pending)
    names = pending.names
    if len(names) < MAX_PENDING:
        names.append((storage, name))
    elif time.monotonic() - pending.since > MAX_AGE:  # full of names nobody asked about
        _pending.set(None)
        note(storage, name)


def take(storage: Any) -> list[str]:
    """The names noted for ``storage`` (each once), forgetting them; others stay noted."""
    pending = _pending.get()
    if pending is None or not pending.names:
        return []
    if time.monotonic() - pending.since > MAX_AGE:
        _pending.set(None)
        return []
    mine = list(dict.fromkeys(name for owner, name in pending.names if owner is storage))
    if mine:
        pending.names = [(owner, name) for owner, name in pending.names if owner is not storage]
    return mine


def clear(**_: Any) -> None:
    """Forget every noted name of this context (connected to ``request_started``)."""
    _pending.set(None)
