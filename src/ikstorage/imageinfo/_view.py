"""The file object Pillow reads: a window onto a :class:`Source`, ending where Django stops.

Django feeds its parser growing prefixes of the file; each is one ``View``
over the same ``Source``, so bytes fetched for one prefix serve the next.
Kept apart from ``Source`` because it answers Pillow's file protocol (seek,
tell, short reads), not which bytes are fetched or skipped.
"""

from __future__ import annotations

import io

from ikstorage.imageinfo._source import Source, Unsure


class View:
    """A read-only binary file over ``source``, ending at ``limit`` (or the file's end).

    It behaves as ``io.BytesIO(first_limit_bytes)`` does for Pillow's plugins:
    short reads at the end, seeking anywhere, a negative position refused.
    """

    def __init__(self, source: Source, limit: int) -> None:
        self._source = source
        self._limit = limit
        self._position = 0
        self.closed = False

    def _end(self) -> int:
        """Where this view ends: its limit, or the end of the file if that comes first."""
        source = self._source
        if source.size is None and not source.real(self._limit - 1, 1) and source.size is None:
            # The file ends before the limit, and the reads so far do not say where.
            raise source.fail(Unsure("the end of a file of unknown size"))
        size = self._source.size
        return self._limit if size is None else min(self._limit, size)

    def read(self, size: int | None = -1) -> bytes:
        self._check()
        if size is None or size < 0:
            size = self._limit - self._position
        size = min(size, self._limit - self._position)
        if size <= 0:
            return b""
        data = self._source.serve(self._position, size)
        self._position += len(data)
        return data

    read1 = read

    def readline(self, size: int | None = -1) -> bytes:
        self._check()
        pieces: list[bytes] = []
        remaining = self._limit - self._position if size is None or size < 0 else size
        while remaining > 0:
            chunk = self.read(min(remaining, 256))
            if not chunk:
                break
            newline = chunk.find(b"\n")
            if newline >= 0:
                pieces.append(chunk[: newline + 1])
                self._position -= len(chunk) - newline - 1
                break
            pieces.append(chunk)
            remaining -= len(chunk)
        return b"".join(pieces)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._check()
        if whence == io.SEEK_SET:
            position = offset
        elif whence == io.SEEK_CUR:
            position = self._position + offset
        elif whence == io.SEEK_END:
            position = self._end() + offset
        else:
            raise ValueError(f"invalid whence ({whence}, should be 0, 1 or 2)")
        if position < 0:
            raise ValueError(f"negative seek value {position}")
        self._position = position
        return position

    def tell(self) -> int:
        self._check()
        return self._position

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def fileno(self) -> int:
        raise io.UnsupportedOperation("fileno")

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def _check(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file.")

    def __enter__(self) -> View:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()
