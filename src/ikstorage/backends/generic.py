"""The adapter for any Django storage, through its public API only."""

from __future__ import annotations

from ikstorage import metrics
from ikstorage.backends.base import Adapter, class_path
from ikstorage.backends.facts import MISSING, Facts, found
from ikstorage.backends.identity import digest, stable
from ikstorage.backends.ranges import RangeReader
from ikstorage.backends.url_expiry import url_expires
from ikstorage.imageinfo import Dimensions, is_image_name, read_dimensions


class GenericAdapter(Adapter):
    """``exists`` + ``size`` (+ a bounded header read for image names).

    Cold, an image costs three backend calls and a non-image two; warm, none.
    The modified time is not fetched here: most pages never ask for it, and
    when one does it is fetched once and kept beside the record. Nothing in
    the storage's settings says whether its URLs expire, so each URL says it
    itself (:mod:`ikstorage.backends.url_expiry`).
    """

    def identity(self) -> str | None:
        """The class and a digest of the constructor arguments (``deconstruct()``).

        ``None`` when the storage has no ``deconstruct()`` or its arguments hold
        something known only by its address. Arguments are digested whole: they
        may hold a password.
        """
        storage = self.storage
        deconstruct = getattr(storage, "deconstruct", None)
        if not callable(deconstruct):
            return None
        arguments = stable(storage)
        if arguments is None:
            return None
        return f"{class_path(storage)}|arguments={digest(arguments)}"

    def url_expires(self, url: str, issued: float) -> float | None:
        """From the URL's query string: a signed URL is memoized only until its expiry's margin."""
        return url_expires(url, issued)

    def probe(self, name: str) -> Facts:
        with self.call("exists"):
            exists = self.storage.exists(name)
        if not exists:
            return MISSING
        try:
            with self.call("size"):
                size: int | None = self.storage.size(name)
        except FileNotFoundError:  # deleted between the two calls: the later answer wins
            return MISSING
        except OSError:
            # It exists but has no size to tell (a folder on InMemoryStorage): the
            # record keeps "exists" and ``size()`` asks the storage, error and all.
            size = None
        # Names that are not images are never opened (a video has no width to
        # learn); their dimensions stay unknown until someone asks Django's way.
        dims = None
        if size is not None and is_image_name(str(name)):
            dims = self._read_dimensions(name, size)
        return found(size, dims)

    def _read_dimensions(self, name: str, size: int) -> Dimensions | None:
        if not size:  # Django finds no dimensions in an empty file either
            return (None, None)
        with self.call("open"), self.storage.open(name, "rb") as fh:

            def fetch(offset: int, length: int) -> bytes:
                fh.seek(offset)
                data: bytes = fh.read(length)
                metrics.probe_bytes(len(data))
                return data

            reader = RangeReader(fetch, size=size, first=self.probe_bytes, limit=self.probe_limit)
            return read_dimensions(reader.read_at, size)
