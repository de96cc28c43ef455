"""A probe that may go on reading: the facts from a file's header, then the rest on demand.

A source saved before ikstorage, shown as a thumbnail for the first time,
needs both its record (from the header) and its whole bytes (to render).
Two requests — a ranged probe, then a download — pay the latency and the
header bytes twice. :meth:`Adapter.probe_open <ikstorage.backends.base.Adapter.probe_open>`
answers with an :class:`Opened`: the facts, learned from the first bytes of
one read of the whole file, and that read still open. The caller decides from
the record (renditions due, within ``max_pixels``, the source's lease held)
whether to :meth:`~Opened.read` the rest or :meth:`~Opened.close` it after
the header.

:class:`Later` is the fallback for a backend that has no such read: the
ordinary probe, and the whole file read by a second call when asked.
:class:`StreamedFile` is the building block of the adapters that have one:
it serves the header parser's reads from one sequential stream.
"""

from __future__ import annotations

from collections.abc import Callable

from ikstorage import metrics
from ikstorage.backends.facts import Facts
from ikstorage.exceptions import SourceReadError

__all__ = ["Later", "Opened", "Streamed", "StreamedFile"]

#: Least a refill of the header buffer reads from the stream (no round trip is
#: saved by reading less: the bytes come down the same connection).
_REFILL = 16 * 1024


class Opened:
    """The facts of one probe and, until closed, the rest of the file.

    Close it in every case (``with`` does): a backend read left open holds a
    connection. :meth:`read` may be called once; it closes the read too.
    """

    def __init__(self, facts: Facts) -> None:
        self.facts = facts

    @property
    def head(self) -> bytes:
        """The first bytes of the file, already read for the header (empty if none are held)."""
        return b""

    def read(self) -> bytes:
        """The whole file, byte for byte (the header already read is not read again).

        Raises :class:`~ikstorage.exceptions.SourceReadError` when the read
        stops before the end of the file.
        """
        raise NotImplementedError

    def close(self) -> None:
        """Stop reading: nothing more of the file is downloaded."""

    def __enter__(self) -> Opened:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Later(Opened):
    """The probe's facts, and the file read by a second call if it is wanted.

    What an adapter without a streamed probe gives (``Adapter.probe_open``'s
    default): the same requests as before, a probe then a download.
    """

    def __init__(self, facts: Facts, read: Callable[[], bytes]) -> None:
        super().__init__(facts)
        self._read = read

    def read(self) -> bytes:
        return self._read()


class Streamed(Opened):
    """A backend's read of the whole file, read as far as the header; :meth:`read` finishes it.

    ``close`` ends the backend's response (the download stops there);
    ``errors`` are the backend's errors for a read that breaks off, raised
    again as :class:`SourceReadError`.
    """

    def __init__(
        self,
        facts: Facts,
        stream: StreamedFile,
        close: Callable[[], None],
        errors: tuple[type[BaseException], ...],
    ) -> None:
        super().__init__(facts)
        self._stream = stream
        self._close = close
        self._errors = errors

    @property
    def head(self) -> bytes:
        return self._stream.head

    def read(self) -> bytes:
        try:
            return self._stream.rest()
        except self._errors as exc:
            raise self._stream.stopped(f"{type(exc).__name__}: {exc}") from exc
        finally:
            self.close()

    def close(self) -> None:
        self._close()


class StreamedFile:
    """One sequential read of a whole file, serving reads at any offset from memory.

    ``read(n)`` returns up to ``n`` more bytes of the stream (fewer only at its
    end). The header parser's :meth:`read_at` reads the stream on as far as it
    needs, at least ``first`` bytes the first time; once ``limit`` bytes were
    read for the header, a read past them raises ``ProbeLimitExceeded`` (the
    dimensions are then unknown, as with the ranged probe). Every byte read is
    kept: :meth:`rest` hands over the whole file without reading any of it twice.
    """

    def __init__(
        self, read: Callable[[int], bytes], *, name: str, size: int, first: int, limit: int
    ) -> None:
        self._read = read
        self._name = name
        self._size = size
        self._first = first
        self._limit = max(limit, first)
        self._held = bytearray()

    @property
    def head(self) -> bytes:
        """The bytes read from the stream so far, from the start of the file."""
        return bytes(self._held)

    def read_at(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes at ``offset``: fewer only at the end of the file."""
        from ikstorage.imageinfo import ProbeLimitExceeded

        end = min(offset + length, self._size)
        if end <= offset:
            return b""
        if end > len(self._held):
            want = max(end, len(self._held) + _REFILL, self._first)
            self._fill(min(want, self._limit, self._size))
            if end > len(self._held):
                if len(self._held) >= self._limit:
                    raise ProbeLimitExceeded(len(self._held))
                end = len(self._held)  # the stream ended early: the file is shorter
        return bytes(self._held[offset:end])

    def _fill(self, upto: int) -> None:
        before = len(self._held)
        while len(self._held) < upto:
            data = self._read(upto - len(self._held))
            if not data:
                break
            self._held += data
        metrics.probe_bytes(len(self._held) - before)

    def rest(self) -> bytes:
        """The whole file: the bytes held and the rest of the stream.

        Raises :class:`SourceReadError` when the stream ends before ``size``
        bytes (the caller catches the backend's own read errors and raises it too).
        """
        parts = [bytes(self._held)]
        got = len(self._held)
        while got < self._size:
            data = self._read(self._size - got)
            if not data:
                break
            parts.append(data)
            got += len(data)
        if got != self._size:
            raise self.stopped(f"the stream ended after {got:,} of {self._size:,} bytes")
        return b"".join(parts)

    def stopped(self, why: str) -> SourceReadError:
        """The error for a read of the whole file that stopped midway."""
        return SourceReadError(
            f"Reading {self._name!r} stopped before its end ({why}). Its record is "
            "unchanged and lists no renditions: the next request that wants them reads it again."
        )
