"""What a prewarm reads in a record: the same file as the cache's, and whether it looks broken.

Pure functions of records, for the steps (:mod:`.steps`): whether a listing
describes the file a cached record does, whether a re-read file is the same
bytes (so it keeps its renditions), and what to report about a record.
"""

from __future__ import annotations

import dataclasses

from ikstorage.imageinfo import is_image_name
from ikstorage.records import Record

__all__ = ["agree", "problem_with", "same_file_keeps_renditions"]


def agree(listed: Record, current: Record) -> bool:
    """True when a listing describes the very file the cached record does (same ETag, size)."""
    return (
        current.exists
        and listed.etag is not None
        and listed.etag == current.etag
        and listed.size == current.size
    )


def same_file_keeps_renditions(old: Record | None, new: Record) -> Record:
    """``new``, listing the renditions ``old`` listed when both describe the same bytes.

    ``--refresh`` re-reads every record. A file that did not change keeps the
    renditions its record listed (they are named by its bytes): dropping them
    would make every page, or ``--renditions``, download the source and write
    them again. Same bytes: the same size and the same ETag, or, where the
    backend gives none, the same modified time. A record that has neither (a
    file saved through ikstorage, whose write returns neither) cannot be
    compared, and is re-read as before.
    """
    if old is None or not (old.exists and new.exists) or old.size != new.size:
        return new
    if old.etag is not None and new.etag is not None:
        same = old.etag == new.etag
    elif old.modified is not None and new.modified is not None:
        same = old.modified == new.modified
    else:
        same = False
    if not same:
        return new
    return dataclasses.replace(
        new, renditions=old.renditions, placeholder=old.placeholder, digest=old.digest
    )


def problem_with(name: str, record: Record) -> str | None:
    """Why a stored record points at a broken file, or ``None`` when it looks right."""
    if not record.exists:
        return "missing: the storage has no file by this name"
    if (
        is_image_name(name)
        and record.dimensions_known
        and record.width is None
        and record.height is None
    ):
        return (
            f"not a readable image: {record.size} bytes in which Django finds no dimensions "
            "(corrupt, truncated or not an image)"
        )
    return None
