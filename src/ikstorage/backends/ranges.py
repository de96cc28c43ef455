"""Bounded ranged reads for the header parsers: a few backend requests, however the parser reads.

Its own module because it is the one piece every adapter with ranged reads
(S3, GCS, Azure, the generic one) shares, and it knows nothing of storages.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["FOLLOW_UP_BYTES", "RangeReader"]

#: Size of a follow-up read when the header goes on past what was read (large EXIF).
FOLLOW_UP_BYTES = 16 * 1024


class RangeReader:
    """Serves the image parser's many small reads from a few bounded backend reads.

    ``fetch(offset, length)`` is one backend request. The first request reads
    ``first`` bytes from the start; a read the cached bytes cannot answer
    fetches ``FOLLOW_UP_BYTES`` from where it is needed, which lets the parser
    jump over a large EXIF block instead of downloading it. A follow-up that
    starts where the previous one ended (a parser walking on, through a long
    header of small segments) fetches twice as much as that one did: a header
    of ``n`` bytes costs about ``log2(n / FOLLOW_UP_BYTES)`` requests, not
    ``n / FOLLOW_UP_BYTES``, and never more than twice the bytes walked. Once
    ``limit`` bytes were fetched, a further read raises ``ProbeLimitExceeded``.
    """

    def __init__(
        self,
        fetch: Callable[[int, int], bytes],
        *,
        size: int | None,
        first: int,
        limit: int,
        initial: bytes | None = None,
    ) -> None:
        self._fetch = fetch
        self._size = size
        self._first = first
        self._budget = limit
        self._chunks: list[tuple[int, bytes]] = []
        self.fetched = 0
        #: Where the last fetch ended, and what the next one reads if it starts there.
        self._last_end = -1
        self._follow = FOLLOW_UP_BYTES
        if initial is not None:
            self._keep(0, initial)

    def _keep(self, offset: int, data: bytes) -> None:
        self._chunks.append((offset, data))
        self._budget -= len(data)
        self.fetched += len(data)
        if offset == self._last_end:
            self._follow *= 2  # walking on: the next one reads twice as much
        self._last_end = offset + len(data)

    def read_at(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes at ``offset``: fewer only at the end of the file.

        Bytes already held are served from memory, also when a read straddles
        two earlier reads; only the gaps are fetched. A gap the budget cannot
        pay for raises ``ProbeLimitExceeded`` (never a short read that would
        look like the end of the file).
        """
        from ikstorage.imageinfo import ProbeLimitExceeded

        if self._size is not None:
            length = min(length, self._size - offset)
        if length <= 0:
            return b""
        end = offset + length
        parts: list[bytes] = []
        pos = offset
        while pos < end:
            piece = self._held(pos, end)
            if piece:
                parts.append(piece)
                pos += len(piece)
                continue
            if self._budget <= 0:
                raise ProbeLimitExceeded(pos)
            if pos != self._last_end:
                self._follow = FOLLOW_UP_BYTES  # a jump: small again
            want = self._first if not self._chunks else max(end - pos, self._follow)
            want = min(want, self._budget, self._next_start(pos) - pos)
            if self._size is not None:
                want = min(want, self._size - pos)
            data = self._fetch(pos, want)
            if not data:
                break  # the end of the file
            self._keep(pos, data)
            if len(data) < want and pos + len(data) < end:
                parts.append(data)
                break  # a short answer: the end of the file
        return b"".join(parts)

    def _held(self, pos: int, end: int) -> bytes:
        for start, data in self._chunks:
            if start <= pos < start + len(data):
                return data[pos - start : min(end, start + len(data)) - start]
        return b""

    def _next_start(self, pos: int) -> int:
        """Where the next held bytes after ``pos`` begin (a fetch stops there)."""
        later = [start for start, _ in self._chunks if start > pos]
        return min(later) if later else 1 << 62
