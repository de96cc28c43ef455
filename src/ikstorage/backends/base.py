"""What ikstorage needs to know from a storage backend, and the budget for learning it.

An adapter knows a backend's cheapest way to answer "does this exist, how big
is it, and what are its image dimensions" in one go, and what identifies the
files it serves (so two storages never share cache records).
"""

from __future__ import annotations

import functools
import math
import os
import posixpath
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.core.files import File
from django.core.files.storage import Storage

from ikstorage import metrics
from ikstorage.backends.facts import Facts
from ikstorage.backends.stream import Later, Opened

#: First bytes read to learn an image's dimensions: enough for the header of
#: almost every PNG, GIF, WebP and JPEG (EXIF and ICC blocks included).
DEFAULT_PROBE_BYTES = 64 * 1024
#: Most bytes a dimension probe may read in total, follow-up ranges included.
DEFAULT_PROBE_LIMIT = 512 * 1024
#: What :meth:`Adapter.canonical` raises for a name the storage would refuse (``None``,
#: a traversal, a null byte, a type it does not take). The caller then hands the name
#: to the storage itself, so the error is the storage's own; anything else is a bug
#: and propagates.
REFUSED_NAME: tuple[type[Exception], ...] = (TypeError, ValueError, SuspiciousOperation)


class Adapter(ABC):
    """Backend-specific knowledge for :class:`ikstorage.CachedStorage`.

    Besides the probe, an adapter knows how the backend spells a name
    (:meth:`canonical`, so every spelling of one stored file shares one
    record), which records a write may change besides its own (:meth:`parents`),
    what size a save will store (:meth:`stored_size`) and how the backend turns
    a modified time into a ``datetime`` (:meth:`modified_from_plain`).
    """

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
        # Memoized: a page asks about the same few hundred names over and over.
        self.canonical: Callable[[Any], str] = functools.lru_cache(maxsize=4096)(self._canonical)

    @abstractmethod
    def identity(self) -> str | None:
        """What names this storage's records: the same in every process for the same
        configuration, different for any two storages whose answers differ; never a
        secret (see :mod:`ikstorage.backends.identity`).

        ``None`` when nothing can be derived that is the same in every process:
        the records are then the instance's own, and ``manage.py check`` says so.
        """

    @abstractmethod
    def probe(self, name: str) -> Facts:
        """Everything cacheable about ``name``, in as few backend calls as possible.

        Returns :data:`~ikstorage.backends.facts.MISSING` when the backend says the name does not
        exist; any other backend error propagates unchanged.
        """

    def probe_open(self, name: str) -> Opened:
        """:meth:`probe`, with the read of the file left open for the caller to finish.

        For a source whose renditions may be due (:mod:`.stream`): the caller
        reads the rest of the file or closes it, from what the header told. An
        adapter with a streamed read answers both from one request; this
        default probes, and reads the whole file with a second call if asked.
        """
        return Later(self.probe(name), lambda: self.read_file(name))

    def _canonical(self, name: Any) -> str:
        """The name the backend stores ``name`` under; raises for names it would refuse.

        A storage ikstorage knows nothing about may treat ``./x`` and ``x`` as two
        files, so the name is kept as spelled (``docs/differences.md``).
        Anything that is not a ``str`` or ``os.PathLike`` raises ``TypeError``:
        the caller then lets the wrapped storage answer (or raise) itself.
        """
        if isinstance(name, str | os.PathLike):
            return os.fspath(name)
        raise TypeError(f"not a file name: {name!r}")

    def relative(self, stored: str) -> str:
        """The name a model field holds for the file stored as ``stored`` (a canonical name).

        What a user's globs are written against (a spec's ``match``): the same
        as ``stored`` unless the backend's keys carry more than the name (S3's
        ``location``).
        """
        return stored

    def parents(self, name: str) -> list[str]:
        """Canonical names a write of ``name`` may bring into existence (its folders).

        A cached "missing" for ``photos`` must not outlive a save of
        ``photos/a.jpg`` on a storage with real directories.
        """
        found: list[str] = []
        parent = posixpath.dirname(name)
        while parent and parent not in (".", "/") and parent not in found:
            found.append(parent)
            parent = posixpath.dirname(parent)
        return found

    def deleted_with(self, name: str) -> list[str]:
        """Canonical names that ``delete(name)`` removes besides ``name`` itself.

        Empty for storages whose ``delete`` removes one file (or an empty
        folder); a storage that deletes a folder with its contents lists them,
        so their records go too. Asked before the delete.
        """
        return []

    def stored_size(self, name: str, content: File[Any], length: int | None) -> int | None:
        """Bytes the backend will store for ``content`` (``length`` bytes of binary
        data from its start), or ``None`` when that cannot be known before the write."""
        return length

    def modified_to_plain(self, modified: datetime) -> float | None:
        """A timestamp that :meth:`modified_from_plain` turns back into ``modified``.

        For a storage ikstorage does not know, only aware datetimes (an instant)
        are cached, and only while ``USE_TZ`` is on; a naive one is in a zone
        only the storage knows, so it is asked each time.
        """
        if modified.tzinfo is None or not settings.USE_TZ:
            return None
        return modified.timestamp()

    def modified_from_plain(self, timestamp: float) -> datetime | None:
        """The ``datetime`` the storage would return; ``None``: ask the storage."""
        if not settings.USE_TZ:
            return None
        return datetime.fromtimestamp(timestamp, tz=UTC)

    def store(self, name: str, content: File[Any]) -> str:
        """The wrapped storage's ``_save``: an adapter that knows the same write for
        fewer requests (no read first) does it instead. Returns the name stored."""
        with self.call("_save"):
            saved: str = self.storage._save(name, content)  # type: ignore[attr-defined]
        return saved

    def write_file(
        self, name: str, data: bytes, *, content_type: str, cache_control: str | None
    ) -> None:
        """Store a file ikstorage made itself (a rendition), in as few calls as possible.

        Rendition names are content-addressed: a file already under ``name``
        holds the same bytes, so it is kept rather than written under another
        name. ``cache_control`` is applied where the backend has such a thing.
        """
        from django.core.files.base import ContentFile

        with self.call("exists"):
            if self.storage.exists(name):
                return
        with self.call("_save"):
            saved = self.storage.save(name, ContentFile(data, name=name))
        if saved != name:  # the storage renamed it: a name nothing will ever look up
            self.storage.delete(saved)
            raise OSError(f"{type(self.storage).__name__} stored {name!r} as {saved!r}")

    def read_file(self, name: str) -> bytes:
        """The whole file, in as few calls as possible (a source to render)."""
        with self.call("open"), self.storage.open(name, "rb") as fh:
            data: bytes = fh.read()
        return data

    def delete_files(self, names: list[str]) -> None:
        """Delete files ikstorage made (renditions); a missing one is not an error."""
        for name in names:
            with self.call("delete"):
                self.storage.delete(name)

    def url_lifetime(self) -> int | None:
        """Seconds a URL from ``storage.url(name)`` stays valid; ``None`` if forever."""
        return None

    def url_expires(self, url: str, issued: float) -> float | None:
        """The POSIX time at which ``url``, made at ``issued``, stops working; ``None``: never.

        From the storage's settings (:meth:`url_lifetime`) where the adapter knows
        them; an adapter that does not reads the URL itself.
        """
        lifetime = self.url_lifetime()
        # Signers write the signing time in whole seconds, cut down (X-Amz-Date,
        # X-Goog-Date, a SAS's start): the URL expires up to a second before
        # ``issued + lifetime``, so it is counted from the whole second.
        return None if lifetime is None else math.floor(issued) + lifetime

    @contextmanager
    def call(self, method: str) -> Iterator[None]:
        """Mark one call that reaches the backend (for the profiler)."""
        metrics.storage_call(method)
        yield


def class_path(obj: object) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"
