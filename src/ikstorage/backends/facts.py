"""What one probe of a name tells: the adapters' answer, before it becomes a record.

Adapters sit below the records and the cache: they report what the backend
said, and the core turns it into a :class:`~ikstorage.records.Record` (with a
generation, renditions and the rest that only ikstorage knows).
"""

from __future__ import annotations

from dataclasses import dataclass

from ikstorage.imageinfo import Dimensions

__all__ = ["MISSING", "Facts", "found"]


@dataclass(frozen=True, slots=True)
class Facts:
    """A file's facts as the backend told them; ``exists`` False: no such file."""

    exists: bool
    size: int | None = None
    #: ``None``: not determined; ``(None, None)``: Django finds no dimensions either.
    dimensions: Dimensions | None = None
    #: POSIX timestamp of the last modification, when the backend told it.
    modified: float | None = None
    etag: str | None = None


#: The backend says the name does not exist.
MISSING = Facts(exists=False)


def found(
    size: int | None,
    dimensions: Dimensions | None,
    *,
    modified: float | None = None,
    etag: str | None = None,
) -> Facts:
    """The facts of a file that exists."""
    return Facts(True, size, dimensions, modified, etag)
