"""Random access to a file through ``read_at``, as Pillow's plugins see it.

Two things make a probe cheaper than Django's own read without changing its
answer: bytes are fetched only when a parser asks for them, and byte ranges
that the relevant parser provably never interprets (the inside of a JPEG EXIF
block, of an AVIF image payload) may be *skipped*: served as zeros without
being fetched. :class:`Source` keeps what was fetched, the skipped ranges and
what went wrong; the file object Pillow reads over it is
:class:`~ikstorage.imageinfo._view.View`.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

ReadAt = Callable[[int, int], bytes]

#: Bytes before this offset are never skipped: every plugin that Pillow may try
#: on a file before the one that claims it reads only inside them.
ALWAYS_REAL = 4096
#: Smallest read sent to ``read_at`` on a miss, so that a parser reading one
#: byte at a time (junk between JPEG segments) costs one call per block.
READ_AHEAD = 512
#: Most zero-filled bytes one probe may hand to Pillow (some plugins read the
#: whole file into memory; a sparse 2 GB file must not become 2 GB of zeros).
MAX_ZERO_FILL = 64 << 20


class ProbeLimitExceeded(Exception):
    """Raised by a reader whose byte budget is spent; the probe then answers "unknown"."""


class Unsure(Exception):
    """The answer would depend on something the probe cannot know (e.g. where the file ends)."""


class Source:
    """The file behind ``read_at``: a cache of fetched ranges plus ranges to skip.

    ``size`` may be ``None``; it is then learnt when a read comes back short and
    a one-byte read at that offset confirms the end (a reader whose budget cuts
    a read short raises on that confirmation instead).

    Errors raised by ``read_at`` are remembered in ``failure`` before they
    propagate, because Pillow's plugins catch broad exception classes (an
    ``OSError`` from the network would read as a truncated EXIF block): callers
    re-raise ``failure`` after every Pillow call.
    """

    def __init__(self, read_at: ReadAt, size: int | None) -> None:
        self._read_at = read_at
        self.size = size
        self._starts: list[int] = []  # sorted starts of cached, non-overlapping ranges
        self._data: list[bytes] = []
        self._skip_starts: list[int] = []
        self._skip_ends: list[int] = []
        self.zeros_served = 0
        self.failure: BaseException | None = None
        #: What a format's plan proved about the plugin that claims the file (see
        #: :mod:`._django`): the lengths of Django's prefixes on which it stops for
        #: want of bytes (a cut inside a segment), and the offset it never reads at or
        #: past. Only set when no other plugin reads past ``ALWAYS_REAL`` bytes.
        self.short_prefixes: set[int] = set()
        self.read_end: int | None = None

    # -- skipped ranges -----------------------------------------------------------

    def skip(self, start: int, end: int) -> None:
        """Mark ``[start, end)`` as never interpreted: it is served as zeros, not fetched.

        The range must lie inside the file; with an unknown size its last byte is
        read to prove it.
        """
        start = max(start, ALWAYS_REAL)
        if self.size is not None:
            end = min(end, self.size)
        if end <= start:
            return
        if self.size is None and len(self.real(end - 1, 1)) != 1:
            return  # the file ends inside: Pillow would see a truncated block
        starts, ends = self._skip_starts, self._skip_ends
        if not starts or start > ends[-1]:  # after every other: a plan walks forward
            starts.append(start)
            ends.append(end)
            return
        if start >= starts[-1]:  # overlaps or touches the last one
            ends[-1] = max(ends[-1], end)
            return
        index = bisect.bisect_left(starts, start)
        starts.insert(index, start)
        ends.insert(index, end)
        self._merge_skips()

    def keep(self, start: int, end: int) -> None:
        """Remove ``[start, end)`` from the skipped ranges (it must be read for real)."""
        starts: list[int] = []
        ends: list[int] = []
        for s, e in zip(self._skip_starts, self._skip_ends, strict=True):
            if e <= start or s >= end:
                starts.append(s)
                ends.append(e)
                continue
            if s < start:
                starts.append(s)
                ends.append(start)
            if e > end:
                starts.append(end)
                ends.append(e)
        self._skip_starts, self._skip_ends = starts, ends

    def _merge_skips(self) -> None:
        starts: list[int] = []
        ends: list[int] = []
        for s, e in zip(self._skip_starts, self._skip_ends, strict=True):
            if ends and s <= ends[-1]:
                ends[-1] = max(ends[-1], e)
            else:
                starts.append(s)
                ends.append(e)
        self._skip_starts, self._skip_ends = starts, ends

    def _next_skip(self, offset: int) -> tuple[int, int] | None:
        """The skipped range containing ``offset`` or, failing that, the next one after it."""
        index = bisect.bisect_right(self._skip_starts, offset) - 1
        if index >= 0 and offset < self._skip_ends[index]:
            return self._skip_starts[index], self._skip_ends[index]
        if index + 1 < len(self._skip_starts):
            return self._skip_starts[index + 1], self._skip_ends[index + 1]
        return None

    # -- real bytes ---------------------------------------------------------------

    def real(self, offset: int, length: int) -> bytes:
        """Up to ``length`` real bytes at ``offset``; fewer only at the end of the file."""
        pieces: list[bytes] = []
        position, end = offset, offset + length
        while True:
            if self.size is not None:
                end = min(end, self.size)
            if position >= end or position < 0:
                break
            index = bisect.bisect_right(self._starts, position) - 1
            if index >= 0:
                start, data = self._starts[index], self._data[index]
                if position < start + len(data):
                    piece = data[position - start : end - start]
                    pieces.append(piece)
                    position += len(piece)
                    continue
            following = self._starts[index + 1] if index + 1 < len(self._starts) else None
            if not self._fetch(position, end, following):
                break
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def _fetch(self, position: int, end: int, following: int | None) -> bool:
        """Read from ``position`` up to ``end`` (a little further when cheap) into the cache.

        The read stops at cached bytes and, when reading ahead, before a skipped
        range. Returns False at the end of the file.
        """
        need = end if following is None else min(end, following)
        ahead = position + READ_AHEAD
        if following is not None:
            ahead = min(ahead, following)
        skip = self._next_skip(position)
        if skip is not None:  # never read ahead into (or inside) a skipped range
            ahead = min(ahead, max(skip[0], position))
        stop = max(need, ahead)
        if self.size is not None:
            stop = min(stop, self.size)
        length = stop - position
        data = self._call(position, length)[:length]
        if data:
            self._store(position, data)
        if len(data) < length:
            self._found_end(position, len(data))
        return bool(data)

    def _call(self, offset: int, length: int) -> bytes:
        try:
            return self._read_at(offset, length)
        except BaseException as exc:
            self.fail(exc)
            raise

    def fail(self, exc: BaseException) -> BaseException:
        """Remember the first failure, so a plugin that swallows it cannot hide it."""
        if self.failure is None:
            self.failure = exc
        return exc

    def _found_end(self, position: int, received: int) -> None:
        """A read at ``position`` returned ``received`` bytes, fewer than asked for."""
        end = position + received
        if self.size is not None:
            if end < self.size:  # the reader returned less than the known size holds
                raise self.fail(Unsure(f"short read at {end} of {self.size} bytes"))
            return
        if received == 0 and end != self._known_end():
            return  # the file ends somewhere before ``position``: nothing more is learnt
        if self._call(end, 1):  # a budget cut, not the end: the reader cannot be trusted
            raise self.fail(Unsure(f"short read at {end} before the end of the file"))
        self.size = end

    def _known_end(self) -> int:
        """The end of the last fetched range: the file holds at least this many bytes."""
        return self._starts[-1] + len(self._data[-1]) if self._starts else 0

    def _store(self, offset: int, data: bytes) -> None:
        # Kept as fetched, not merged with their neighbours: a merge copies the bytes
        # before it, and a walk fetching 512 bytes at a time would copy the file once
        # per fetch. Ranges never overlap (a fetch stops at the next cached start).
        index = bisect.bisect_right(self._starts, offset)
        self._starts.insert(index, offset)
        self._data.insert(index, data)

    def around(self, offset: int) -> tuple[int, bytes]:
        """The cached range holding ``offset`` (fetched if needed): its start and its bytes.

        For a walk that reads byte by byte: it indexes the range itself instead of
        asking for each byte. ``(offset, b"")`` past the end of the file.
        """
        if not self.real(offset, 1):
            return offset, b""
        index = bisect.bisect_right(self._starts, offset) - 1
        return self._starts[index], self._data[index]

    def byte(self, offset: int) -> int | None:
        """The byte at ``offset``, or None past the end of the file."""
        data = self.real(offset, 1)
        return data[0] if data else None

    def whole(self) -> bytes:
        """Every byte of the file (the size must be known)."""
        assert self.size is not None
        data = self.real(0, self.size)
        if len(data) != self.size:
            raise self.fail(Unsure("the file is shorter than its size"))
        return data

    # -- what Pillow reads ----------------------------------------------------------

    def serve(self, offset: int, length: int) -> bytes:
        """Bytes as a parser reading the file sees them: real, or zeros where skipped."""
        if not self._skip_starts:
            return self.real(offset, length)
        pieces: list[bytes] = []
        position, end = offset, offset + length
        while position < end:
            skip = self._next_skip(position)
            if skip is None or skip[0] >= end:
                pieces.append(self.real(position, end - position))
                break
            start, stop = skip
            if start > position:
                chunk = self.real(position, start - position)
                pieces.append(chunk)
                if len(chunk) < start - position:
                    break
                position = start
            count = min(stop, end) - position
            self.zeros_served += count
            if self.zeros_served > MAX_ZERO_FILL:
                raise self.fail(ProbeLimitExceeded(f"over {MAX_ZERO_FILL} skipped bytes"))
            pieces.append(bytes(count))
            position += count
        return b"".join(pieces)
