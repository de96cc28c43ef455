"""The adapter for any Django storage, through its public API only."""

from __future__ import annotations

from django.core.files.storage import FileSystemStorage

from ikstorage import metrics
from ikstorage.backends.base import Adapter, RangeReader, class_path
from ikstorage.imageinfo import is_image_name, read_dimensions
from ikstorage.records import Record, new_generation


class GenericAdapter(Adapter):
    """``exists`` + ``size`` (+ a bounded header read for image names).

    Cold, an image costs three backend calls and a non-image two; warm, none.
    The modified time is not fetched here: most pages never ask for it, and
    when one does it is fetched once and kept beside the record.
    """

    def identity(self) -> str:
        storage = self.storage
        parts = [class_path(storage)]
        if isinstance(storage, FileSystemStorage):
            parts += [str(storage.location), str(storage.base_url)]
        else:
            deconstruct = getattr(storage, "deconstruct", None)
            if callable(deconstruct):
                _path, args, kwargs = deconstruct()
                parts += [repr(args), repr(sorted(kwargs.items()))]
            else:
                parts.append(str(id(storage)))
        return "|".join(parts)

    def probe(self, name: str) -> Record:
        with self.call("exists"):
            exists = self.storage.exists(name)
        if not exists:
            return Record.missing()
        with self.call("size"):
            size = self.storage.size(name)
        width = height = None
        if is_image_name(name) and size:
            dims = self._read_dimensions(name, size)
            if dims:
                width, height = dims
        return Record(
            exists=True,
            size=size,
            width=width,
            height=height,
            dimensions_known=True,
            generation=new_generation(),
        )

    def _read_dimensions(self, name: str, size: int) -> tuple[int, int] | None:
        with self.call("open"), self.storage.open(name, "rb") as fh:

            def fetch(offset: int, length: int) -> bytes:
                fh.seek(offset)
                data: bytes = fh.read(length)
                metrics.probe_bytes(len(data))
                return data

            reader = RangeReader(fetch, size=size, first=self.probe_bytes, limit=self.probe_limit)
            return read_dimensions(reader.read_at)
