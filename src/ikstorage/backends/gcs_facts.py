"""What Google Cloud Storage's answers tell about an object: a download's headers, its metadata.

Kept apart from the adapter so the listing of ``ikstorage_prewarm --prefix``
makes the very record the adapter's metadata request would
(:func:`blob_facts`), and so each server's way of answering a range is read
in one place: the total size in ``Content-Range`` (or not, for an empty
object on some servers), objects stored gzipped served as stored or
decompressed, and the version as a generation rather than an ETag.
"""

from __future__ import annotations

import re
from typing import Any

from ikstorage.backends.facts import Facts, found
from ikstorage.imageinfo import Dimensions

__all__ = ["blob_facts", "compressed", "headers_facts", "total_size", "version"]

#: The total in ``bytes 0-65535/1234567``, in a 416's ``bytes */0`` (and in the
#: ``bytes 0--1/0`` some servers answer for an empty object).
_TOTAL = re.compile(r"bytes [^/]*/(\d+)$")


def blob_facts(blob: Any) -> Facts:
    """What an object's metadata tells (from ``get_blob`` or a listing): dimensions
    are not among it, except that an empty object has none."""
    updated = blob.updated
    return found(
        int(blob.size or 0),
        (None, None) if not blob.size else None,
        modified=updated.timestamp() if updated is not None else None,
        etag=version(blob.generation, blob.etag),
    )


def total_size(status: int, headers: Any) -> int | None:
    """The object's stored size from an answer to a range from byte 0; ``None`` when
    it does not say.

    A 416 to a range from byte 0 says the object has no byte 0: it is empty,
    whether or not the server adds ``Content-Range: bytes */0``.
    """
    match = _TOTAL.match(headers.get("Content-Range") or "")
    if match:
        return int(match.group(1))
    if status == 416:
        return 0
    stored = headers.get("x-goog-stored-content-length")
    if stored is not None:
        return int(stored)
    if status == 200 and not compressed(headers):
        length = headers.get("Content-Length")
        return int(length) if length is not None else None
    return None


def compressed(headers: Any) -> bool:
    """Whether the object is stored compressed: served as stored (``Content-Encoding``)
    or decompressed on the way (``x-goog-stored-content-encoding``, range ignored)."""
    stored = headers.get("x-goog-stored-content-encoding") or "identity"
    return bool(headers.get("Content-Encoding")) or stored != "identity"


def version(generation: Any, etag: str | None) -> str | None:
    """What tells one version of an object from another: its generation, else its ETag.

    GCS gives a new generation to every write of an object, in the metadata,
    the listing and a download's ``x-goog-generation`` alike; its ETag is
    spelled differently in each (unquoted in the metadata, quoted in a
    download, an MD5 on some servers and an opaque token on others), so
    records from a probe and from a listing would never agree on it.
    """
    if generation:
        return f"g{generation}"
    return etag or None


def headers_facts(headers: Any, size: int, dims: Dimensions | None) -> Facts:
    """The facts of an object from a download's headers, its ``size`` and ``dims``."""
    etag = version(headers.get("x-goog-generation"), headers.get("ETag"))
    return found(size, (None, None) if size == 0 else dims, etag=etag)
