"""What a save tells us before the backend is called: bytes stored, and dimensions.

The record of a file saved through ikstorage is written from the content in
hand, so the upload costs no extra backend call. Both facts are measured, not
trusted: a declared ``size`` that differs from the bytes is ignored (the
backend stores the bytes, from the start of the stream to its end), and text
content, whose stored size depends on the backend's encoding, is left for the
first reader to learn from the backend.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from django.core.files import File

from ikstorage.backends.base import Adapter
from ikstorage.imageinfo import Dimensions, dimensions_from_file, is_image_name
from ikstorage.records import Record

__all__ = ["Upload", "inspect"]


@dataclass(frozen=True, slots=True)
class Upload:
    """Facts about content about to be saved; ``None`` where they cannot be known up front."""

    size: int | None
    dimensions: Dimensions | None

    def record(self) -> Record | None:
        """The record to write once the backend has stored the content, if complete."""
        if self.size is None:
            return None
        return Record.found(self.size, self.dimensions)


def inspect(adapter: Adapter, name: str, content: File[Any], *, probe_limit: int) -> Upload:
    """Size and dimensions of ``content`` as the backend will store it; the position is kept."""
    length = binary_length(content)
    size = None if length is None else adapter.stored_size(name, content, length)
    dims = None
    if length is not None and is_image_name(os.fspath(name)):
        dims = dimensions_from_file(content, limit=probe_limit)
    return Upload(size=size, dimensions=dims)


def binary_length(content: Any) -> int | None:
    """Bytes from the start of a seekable binary stream to its end; ``None`` otherwise.

    Storages write a file from its first byte (``chunks()`` and S3Storage both
    seek to 0) to the end, whatever ``content.size`` claims.
    """
    try:
        if not content.seekable():
            return None
        position = content.tell()
        try:
            if not isinstance(content.read(0), bytes):  # text: the encoding is the backend's
                return None
            end = content.seek(0, os.SEEK_END)
            return int(end if end is not None else content.tell())
        finally:
            content.seek(position)
    except (AttributeError, OSError, TypeError, ValueError):
        return None
