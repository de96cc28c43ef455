"""One page of a provider's own listing, made a batch: shared by the S3, Azure and GCS walks.

Each provider lists keys in lexicographic order, a page at a time, with each
key's size and version; what differs is only the client call and the shape
of an entry. A page becomes a batch the same way everywhere: folder markers
(keys ending in ``/``) and keys outside the storage's ``location`` are left
out, names already done by an earlier run (at or before ``after``) are
skipped, a file that is not an image gets its record from the listing (size,
version and modified time are its whole record), and the position is the
page's last key, so a rerun continues after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from ikstorage.imageinfo import is_image_name
from ikstorage.prewarm.sources import Batch
from ikstorage.prewarm.target import Target
from ikstorage.records import Record

__all__ = ["PrefixStream", "page_batch"]

Entry = TypeVar("Entry")


class PrefixStream:
    """What every provider's walk under a prefix holds: the object keys of the
    storage's names start with :attr:`base` (its ``location`` and a slash, or
    nothing), those under the prefix with :attr:`key_prefix`. Subclasses list."""

    def __init__(self, target: Target, prefix: str, alias: str) -> None:
        self.target = target
        self.prefix = prefix
        self.label = f"prefix:{alias}:{prefix}"
        self.base, self.key_prefix = self.keys(target, prefix)

    def keys(self, target: Target, prefix: str) -> tuple[str, str]:
        """:attr:`base` and :attr:`key_prefix`, as the adapter spells object keys."""
        base = target.canonical("")
        return base, target.canonical(prefix) if prefix else base

    def total(self) -> int | None:
        return None  # unknown until listed


def page_batch(
    page: Iterable[tuple[str, Entry]],
    base: str,
    after: str | None,
    record: Callable[[Entry], Record],
) -> Batch | None:
    """The batch of one listing page of ``(key, entry)``; ``None`` for an empty page.

    ``base`` is what every key of the storage's names starts with (its
    ``location`` and a slash, or nothing); ``record`` makes the record of a
    listed entry.
    """
    names: list[str] = []
    listed: dict[str, Record] = {}
    last: str | None = None
    for key, entry in page:
        last = key
        if key.endswith("/") or not key.startswith(base):
            continue  # a "folder" marker object, not a file
        name = key[len(base) :]
        if after is not None and name <= after:
            continue  # done by an earlier run
        names.append(name)
        if not is_image_name(name):
            listed[name] = record(entry)
    if last is None:
        return None
    return Batch(names, listed, position=last[len(base) :], calls=1)
