"""What ikstorage needs to know from a storage backend, and the budget for learning it.

An adapter knows a backend's cheapest way to answer "does this exist, how big
is it, and what are its image dimensions" in one go, and what identifies the
files it serves (so two storages never share cache records).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.files import File
from django.core.files.storage import Storage

from ikstorage import metrics
from ikstorage.records import Record

#: First bytes read to learn an image's dimensions: enough for the header of
#: almost every PNG, GIF, WebP and JPEG (EXIF and ICC blocks included).
DEFAULT_PROBE_BYTES = 64 * 1024
#: Most bytes a dimension probe may read in total, follow-up ranges included.
DEFAULT_PROBE_LIMIT = 512 * 1024
#: Size of a follow-up read when the header goes on past what was read (large EXIF).
FOLLOW_UP_BYTES = 16 * 1024


class Adapter(ABC):
    """Backend-specific knowledge for :class:`ikstorage.CachedStorage`."""

    def __init__(
        self,
        storage: Storage,
        *,
        probe_bytes: int = DEFAULT_PROBE_BYTES,
        probe_limit: int = DEFAULT_PROBE_LIMIT,
    ) -> None:
        self.storage = storage
        self.probe_bytes = probe_bytes
        self.probe_limit = max(probe_limit, probe_bytes)

    @abstractmethod
    def identity(self) -> str:
        """A string that differs for any two storages that hold different files."""

    @abstractmethod
    def probe(self, name: str) -> Record:
        """Everything cacheable about ``name``, in as few backend calls as possible.

        Returns :meth:`Record.missing` when the backend says the name does not
        exist; any other backend error propagates unchanged.
        """

    def saved_size(self, name: str, content: File[Any]) -> int | None:
        """Size the backend will report for ``content`` once saved, if knowable up front."""
        try:
            return int(content.size)
        except (AttributeError, TypeError, ValueError, OSError):
            return None

    def url_lifetime(self) -> int | None:
        """Seconds a URL from ``storage.url(name)`` stays valid; ``None`` if forever."""
        return None

    @contextmanager
    def call(self, method: str) -> Iterator[None]:
        """Mark one call that reaches the backend (for the profiler)."""
        metrics.storage_call(method)
        yield


def class_path(obj: object) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


class RangeReader:
    """Serves the image parser's many small reads from a few bounded backend reads.

    ``fetch(offset, length)`` is one backend request. The first request reads
    ``first`` bytes from the start; a read the cached bytes cannot answer
    fetches ``FOLLOW_UP_BYTES`` from where it is needed, which lets the parser
    jump over a large EXIF block instead of downloading it. Once ``limit``
    bytes were fetched, a further read raises ``ProbeLimitExceeded``.
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
        if initial is not None:
            self._keep(0, initial)

    def _keep(self, offset: int, data: bytes) -> None:
        self._chunks.append((offset, data))
        self._budget -= len(data)
        self.fetched += len(data)

    def read_at(self, offset: int, length: int) -> bytes:
        from ikstorage.imageinfo import ProbeLimitExceeded

        if self._size is not None:
            length = min(length, self._size - offset)
        if length <= 0:
            return b""
        for start, data in self._chunks:
            if start <= offset and offset + length <= start + len(data):
                return data[offset - start : offset - start + length]
        if self._budget <= 0:
            raise ProbeLimitExceeded(offset)
        want = self._first if not self._chunks else max(length, FOLLOW_UP_BYTES)
        want = min(want, self._budget)
        if self._size is not None:
            want = min(want, self._size - offset)
        data = self._fetch(offset, want)
        self._keep(offset, data)
        return data[:length]
