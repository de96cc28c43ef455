"""Where the names come from: the file fields of models, or a walk of the storage.

A source is a *stream* of batches. Each batch carries the names, any records
the source already knows for free (an S3 listing tells size, ETag and
modified time, which is the whole record of a file that is not an image), and
a *position*: where a rerun may continue once this batch and every earlier one
is done (see :mod:`ikstorage.prewarm.checkpoint`).

Model fields are read with keyset pagination on the primary key
(``values_list("pk", field)``, ``pk > last``, ``LIMIT batch``): no model
instances, one query per batch however deep into the table, and memory that
does not grow with the table.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.apps import apps
from django.core.files.storage import Storage, storages
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from ikstorage.core.core import core_of
from ikstorage.prewarm.target import Target
from ikstorage.records import Record


class SourceError(ValueError):
    """A field label or storage alias that does not name something prewarm can read."""


@dataclass
class Batch:
    """Up to ``batch_size`` names, in source order, without repeats."""

    names: list[str]
    #: Records the source learned without a backend call, by name (a subset of ``names``).
    listed: dict[str, Record] = field(default_factory=dict)
    #: Where to continue after this batch; ``None``: this source cannot resume mid-way.
    position: str | None = None
    #: Backend calls the source made to produce this batch (listing pages).
    calls: int = 0


class Stream(Protocol):
    """One source of names for one storage."""

    #: Stable and unique among the streams of a run: ``app.Model.field`` or ``prefix:...``.
    label: str
    #: The core of the storage whose cache is filled.
    target: Target

    def batches(self, after: str | None, size: int) -> Iterator[Batch]:
        """The names after ``after`` (a position from an earlier batch), in batches."""
        ...

    def total(self) -> int | None:
        """How many names there are, when that is cheap to know (for a progress bar)."""
        ...


class FieldStream:
    """The names held by one ``FileField`` of one model, by primary key."""

    def __init__(self, model: type[models.Model], file_field: models.FileField) -> None:
        self.model = model
        self.field = file_field
        self.label = f"{model._meta.label}.{file_field.name}"
        target = core_of(file_field.storage)
        if target is None:
            raise SourceError(f"{self.label}: its storage is not a CachedStorage.")
        self.target: Target = target

    def _rows(self) -> models.QuerySet[Any]:
        column = self.field.attname
        return (
            self.model._base_manager.exclude(**{f"{column}__isnull": True})
            .exclude(**{column: ""})
            .order_by("pk")
        )

    def total(self) -> int | None:
        return self._rows().count()

    def batches(self, after: str | None, size: int) -> Iterator[Batch]:
        rows = self._rows()
        last: Any = None if after is None else json.loads(after)
        while True:
            page = rows if last is None else rows.filter(pk__gt=last)
            found = list(page.values_list("pk", self.field.attname)[:size])
            if not found:
                return
            last = found[-1][0]
            names = list(dict.fromkeys(str(name) for _, name in found))
            yield Batch(names, position=json.dumps(last, cls=DjangoJSONEncoder))
            if len(found) < size:
                return


def cached_file_fields() -> list[tuple[type[models.Model], models.FileField]]:
    """Every file field of every installed model whose storage is a ``CachedStorage``.

    Only fields declared on the model's own table: a multi-table child does not
    repeat its parent's rows, and proxy and swapped-out models have none.
    """
    found = []
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or meta.swapped:
            continue
        for candidate in meta.local_concrete_fields:
            if isinstance(candidate, models.FileField) and core_of(candidate.storage):
                found.append((model, candidate))
    return found


def resolve_fields(labels: tuple[str, ...]) -> list[FieldStream]:
    """Streams for ``app_label.Model.field`` / ``app_label.Model`` labels (all when empty)."""
    if not labels:
        return [FieldStream(model, f) for model, f in cached_file_fields()]
    streams: dict[str, FieldStream] = {}
    for label in labels:
        for model, f in _fields_of(label):
            stream = FieldStream(model, f)
            streams.setdefault(stream.label, stream)
    return list(streams.values())


def _fields_of(label: str) -> list[tuple[type[models.Model], models.FileField]]:
    parts = label.split(".")
    if len(parts) not in (2, 3):
        raise SourceError(f"{label!r}: expected app_label.Model or app_label.Model.field")
    try:
        model = apps.get_model(parts[0], parts[1])
    except LookupError as exc:
        raise SourceError(f"{label!r}: {exc}") from None
    file_fields = [f for f in model._meta.local_concrete_fields if isinstance(f, models.FileField)]
    if len(parts) == 3:
        named = [f for f in file_fields if f.name == parts[2]]
        if not named:
            choices = ", ".join(f.name for f in file_fields) or "none"
            raise SourceError(
                f"{label!r}: {model._meta.label} has no file field {parts[2]!r} "
                f"(its file fields: {choices})."
            )
        file_fields = named
    cached = [f for f in file_fields if core_of(f.storage)]
    if len(parts) == 3 and not cached:
        storage = _built(file_fields[0].storage)
        raise SourceError(
            f"{label!r}: its storage is {type(storage).__name__}, not a CachedStorage; "
            "prewarm fills the cache of CachedStorage only."
        )
    if not cached:
        raise SourceError(
            f"{label!r}: no file field there is stored on a CachedStorage; prewarm fills "
            "the cache of CachedStorage only."
        )
    return [(model, f) for f in cached]


def named_storage(alias: str) -> Target:
    """The core of the ``CachedStorage`` a ``--storage`` alias names."""
    from django.core.files.storage import InvalidStorageError

    try:
        storage: Storage = storages[alias]
    except InvalidStorageError:
        raise SourceError(
            f"storage {alias!r} is not an alias in settings.STORAGES "
            f"(aliases: {', '.join(sorted(storages.backends))})."
        ) from None
    target = core_of(storage)
    if target is None:
        raise SourceError(
            f"storage {alias!r} is a {type(storage).__name__}, not a CachedStorage; "
            "prewarm fills the cache of CachedStorage only."
        )
    return target


def _built(storage: Any) -> Any:
    """The storage behind a ``LazyObject`` (``default_storage``), for its class name."""
    wrapped = getattr(storage, "_wrapped", None)
    return storage if wrapped is None else wrapped
