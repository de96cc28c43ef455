"""What the storage says, and whether the shared cache (L2) agrees with it.

The oracle is always the wrapped storage itself, asked directly at the moment
of the check: a record in L2 is wrong when it claims a file that is not there,
misses one that is, or carries another size, other dimensions or another URL.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.cache import caches
from django.core.files.storage import Storage
from PIL import Image

from ikstorage import CachedStorage
from ikstorage.cache import BLOCKER
from ikstorage.records import Record, UrlEntry, decode


@dataclass(frozen=True)
class Fact:
    """One file as the storage has it (``exists=False``: not there)."""

    exists: bool
    size: int | None = None
    dimensions: tuple[int, int] | None = None
    url: str | None = None


def fact(storage: Storage, name: str) -> Fact:
    """Ask the storage (not the cache) about ``name``."""
    if not storage.exists(name):
        return Fact(False, url=storage.url(name))
    with storage.open(name, "rb") as file:
        data = file.read()
    with Image.open(io.BytesIO(data)) as image:
        dimensions = image.size
    return Fact(True, len(data), dimensions, storage.url(name))


@dataclass(frozen=True)
class Answer:
    """What a CachedStorage answered for one name."""

    exists: bool
    size: int | None = None
    dimensions: tuple[int | None, int | None] | None = None
    url: str | None = None

    def matches(self, truth: Fact) -> bool:
        if self.exists != truth.exists or self.url != truth.url:
            return False
        return not truth.exists or (self.size, self.dimensions) == (truth.size, truth.dimensions)


def answer(storage: CachedStorage, name: str) -> Answer:
    """``exists``, ``size``, dimensions and ``url`` of ``name`` through ikstorage."""
    url = storage.url(name)
    if not storage.exists(name):
        return Answer(False, url=url)
    return Answer(True, storage.size(name), storage.image_dimensions(name), url)


def l2_disagreements(storage: CachedStorage, names: Iterable[str]) -> list[str]:
    """Records and URLs in L2 that contradict the wrapped storage, described.

    An absent entry is never wrong (the next reader fills it); a present one
    must say what the storage says.
    """
    wrapped = storage.wrapped
    wrong: list[str] = []
    names = list(names)
    keys = {
        name: (storage.core.keys.record(storage.core.canonical(name)), storage.core.keys.url(name))
        for name in names
    }
    held: dict[str, Any] = caches[storage.options.cache].get_many(
        [key for pair in keys.values() for key in pair]
    )
    for name, (record_key, url_key) in keys.items():
        truth = fact(wrapped, name)
        if record_key in held and held[record_key] == BLOCKER:
            pass  # a record that changed during an outage: readers ask the storage
        elif record_key in held:
            record = decode(record_key, held[record_key])
            if not isinstance(record, Record):
                wrong.append(f"{name}: unreadable record {held[record_key]!r}")
            elif record.exists != truth.exists:
                wrong.append(f"{name}: L2 says exists={record.exists}, storage {truth.exists}")
            elif record.exists and record.size != truth.size:
                wrong.append(f"{name}: L2 size {record.size}, storage {truth.size}")
            elif (
                record.exists and record.dimensions_known and record.dimensions != truth.dimensions
            ):
                wrong.append(f"{name}: L2 {record.dimensions}, storage {truth.dimensions}")
        if url_key in held:
            entry = decode(url_key, held[url_key])
            if not isinstance(entry, UrlEntry) or entry.url != truth.url:
                wrong.append(f"{name}: L2 URL {held[url_key]!r}, storage {truth.url!r}")
    return wrong
