"""Records: what ikstorage remembers about a file, in a form any cache can hold.

* :mod:`.record` — :class:`Record` (exists, size, dimensions, modified time,
  renditions...) and :class:`RenditionInfo`;
* :mod:`.entries` — facts kept beside a record (URL, modified time,
  dimensions) and :func:`decode` for values read back from the shared cache;
* :mod:`.keys` — :class:`Keys`, the cache keys of one storage identity;
* :mod:`.plain` — the format version and the checks every value read passes.

A building block: it knows nothing of caches, storages or renditions' making.
"""

from __future__ import annotations

from ikstorage.records.entries import DimensionsEntry, Entry, ModifiedEntry, UrlEntry, decode
from ikstorage.records.keys import Keys, is_record_key
from ikstorage.records.plain import FORMAT, new_generation
from ikstorage.records.record import Record, RenditionInfo

__all__ = [
    "FORMAT",
    "DimensionsEntry",
    "Entry",
    "Keys",
    "ModifiedEntry",
    "Record",
    "RenditionInfo",
    "UrlEntry",
    "decode",
    "is_record_key",
    "new_generation",
]
