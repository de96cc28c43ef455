"""The renditions of one storage: its specs bound to its core, and plugged into its writes.

:class:`Renditions` is what a ``CachedStorage`` builds from its
``OPTIONS["specs"]`` and plugs into its core's write path as the
:class:`~ikstorage.core.hook.WriteHook`: renditions are rendered from the
bytes of a save before the lease, written under it, and deleted with their
source. It is also what every rendition lookup goes through (the template
tags, ``ikstorage.rendition()``, the deferred task, ``ikstorage_prewarm``,
``ikstorage_prune``): :func:`renditions_of` finds it behind any storage object.

It reaches the core only through :class:`~.host.Host`, and the task queue
only through :class:`Queue` (given by the storage, so that Django's Tasks
framework is imported only where ``render="defer"`` is used).
"""

from __future__ import annotations

import os
from typing import IO, Any, Protocol, cast

from django.core.files import File

from ikstorage.backends.stream import Opened
from ikstorage.core.core import core_of
from ikstorage.core.uploads import Upload
from ikstorage.exceptions import ConfigurationError
from ikstorage.imageinfo import is_image_name
from ikstorage.records import Record, RenditionInfo
from ikstorage.renditions import making, pruning, saving
from ikstorage.renditions.current import missing, variants_for
from ikstorage.renditions.host import Host
from ikstorage.renditions.lookup import find, first_record
from ikstorage.renditions.settings import Settings
from ikstorage.renditions.shown import Rendition
from ikstorage.renditions.specs import Spec

__all__ = ["Queue", "Renditions", "located", "rendition", "renditions_of", "required"]


class Queue(Protocol):
    """Deferred rendering: tasks on the project's task backend (``render="defer"``)."""

    def check(self, renditions: Renditions) -> None:
        """Raise the configuration error a deferred render would meet (before any write)."""
        ...

    def enqueue(self, renditions: Renditions, name: str) -> None:
        """Queue the render of ``name`` once the current transaction commits."""
        ...

    def enqueue_once(self, renditions: Renditions, name: str) -> None:
        """Queue it unless one was queued recently (pages finding it missing)."""
        ...


class Renditions:
    """The specs of one storage, the core they reach, and the queue for deferred work."""

    def __init__(self, host: Host, settings: Settings, *, queue: Queue | None = None) -> None:
        self.host = host
        self.settings = settings
        self._queue = queue
        #: The ``STORAGES`` alias a task worker finds this storage under, once known.
        self.alias: str | None = None

    @property
    def queue(self) -> Queue:
        """Where ``render="defer"`` sends its work (given by the storage)."""
        if self._queue is None:
            raise ConfigurationError("Deferred renditions need a task queue; none was given.")
        return self._queue

    # -- lookups -------------------------------------------------------------------

    def find(self, name: str, spec: str, fmt: str | None = None) -> Rendition:
        """The rendition ``spec`` of ``name`` (in ``fmt``); see :mod:`.lookup`."""
        return find(
            self.host,
            self.settings,
            name,
            spec,
            fmt,
            queue=lambda n: self.queue.enqueue_once(self, n),
        )

    def record(self, name: str, spec: str) -> Record:
        """The record of ``name`` for a tag showing ``spec``: a first view reads the source
        once for the record and the renditions (see :func:`.lookup.first_record`)."""
        return first_record(self.host, self.settings, name, self.settings.spec(spec))[0]

    def missing(self, stored: str, record: Record) -> list[Spec]:
        """The spec variants ``record`` has no current rendition of (for the file ``stored``)."""
        return missing(self.settings.specs.values(), self.host.files.relative(stored), record)

    def due(self, stored: str) -> bool:
        """True when a spec applies to the file stored as ``stored`` (whatever its record)."""
        return bool(variants_for(self.settings.specs.values(), self.host.files.relative(stored)))

    def render_read(self, name: str, record: Record, source: Opened) -> Record | None:
        """Render what ``name`` lacks from ``source``, the read whose header told ``record``
        (kept by the caller), under the source's lease (waiting up to ``lease_wait``).

        The read is finished only if a rendition is due and the header allows it,
        and closed in any case. ``None`` when nothing could be made from it (the
        lease stayed busy, or the shared cache moved on): the caller renders the
        usual way (:meth:`make_missing`).
        """
        wait = self.settings.lease_wait
        return making.render_read(self.host, self.settings, name, record, source, wait=wait)

    def make_missing(self, name: str, *, wait: float | None = None) -> Record | None:
        """Render what ``name`` lacks, under its lease; the record after, ``None`` if busy."""
        timeout = self.settings.lease_wait if wait is None else wait
        return making.render_missing(self.host, self.settings, name, wait=timeout)

    def render_missing(self, name: str, *, wait: float | None = None) -> int:
        """Render what ``name`` lacks; how many renditions its record lists after."""
        record = self.make_missing(name, wait=wait)
        return len((record or self.host.metadata(name)).renditions)

    # -- pruning (ikstorage_prune) ---------------------------------------------------

    def undeclared(self, stored: str, record: Record) -> list[RenditionInfo]:
        """The renditions ``record`` lists that none of this storage's specs makes."""
        return pruning.undeclared_in(self.host, self.settings, stored, record)

    def drop_undeclared(self, name: str) -> list[RenditionInfo] | None:
        """Drop them from the record under its lease; ``None`` if the lease stayed busy."""
        return pruning.drop(self.host, self.settings, name, wait=self.settings.lease_wait)

    def delete_files(self, names: list[str]) -> None:
        """Delete rendition files no record lists any more; raises the backend's error."""
        pruning.delete_files(self.host, names)

    # -- the write hook ------------------------------------------------------------

    def prepare(self, stored: str, content: File[Any], upload: Upload) -> saving.Prepared | None:
        """Render the specs matching ``stored`` from ``content``, before anything is written.

        ``None`` when no spec applies or the content is not a seekable binary
        stream (then the first page asking renders them). With
        ``render="defer"`` only the source's digest is taken here, and the
        task's storage alias is checked before the source is written.
        """
        specs = self.settings.specs
        if not specs or upload.size is None:
            return None
        wanted = variants_for(specs.values(), self.host.files.relative(stored))
        if not wanted:
            return None
        stream = cast(IO[bytes], content)
        if self.settings.render == "defer":
            from ikstorage.renditions.naming import source_digest

            self.queue.check(self)  # a misconfiguration fails before any write
            return saving.Prepared(source_digest(stream), None)
        return saving.prepare(self.settings, stored, stream, wanted)

    def attach(
        self, stored: str, prepared: saving.Prepared, record: Record
    ) -> tuple[Record, list[str]]:
        """Under the lease: write the renditions; the record and the replaced files gone."""
        return saving.attach(self.host, self.settings, stored, prepared, record)

    def saved(self, name: str, prepared: saving.Prepared) -> None:
        """After the lease: queue the deferred render (an inline task takes the lease itself)."""
        if self.settings.render == "defer":
            self.queue.enqueue(self, name)

    def going(self, stored: str) -> list[str]:
        """Under a delete's lease: the renditions the source's record lists."""
        # Every rendition listed, whatever spec made it (this process's, another's during
        # a deploy, or one from before this storage declared any): none outlives its
        # source. Only image names ever get renditions: others cost no cache read.
        if not is_image_name(stored):
            return []
        known = self.host.shared_record(stored)
        return [] if known is None else [r.name for r in known.renditions]

    def gone(self, names: list[str]) -> None:
        """After the source was deleted: its renditions go too."""
        saving.remove(self.host, names)


def renditions_of(storage: object) -> Renditions | None:
    """The :class:`Renditions` behind ``storage`` (a ``CachedStorage``), or ``None``."""
    core = core_of(storage)
    hook = None if core is None else core.hook
    return hook if isinstance(hook, Renditions) else None


def rendition(
    source: Any, spec: str, fmt: str | None = None, *, storage: Any = None
) -> Rendition | None:
    """The rendition ``spec`` of a field file (or of a name on ``storage``).

    ``None`` for an empty field. The storage is the field file's own unless
    given; it must be a ``CachedStorage`` (``default_storage`` may wrap one).
    """
    found = located(source, storage)
    if found is None:
        return None
    name, where = found
    return required(name, where).find(name, spec, fmt)


def located(source: Any, storage: Any = None) -> tuple[str, Any] | None:
    """``(name, storage)`` of a field file or a name; ``None`` for an empty field."""
    if isinstance(source, str | os.PathLike):
        name: Any = source
    else:
        name = getattr(source, "name", None)
        storage = storage if storage is not None else getattr(source, "storage", None)
    if not name:
        return None
    if storage is None:
        from django.core.files.storage import default_storage

        storage = default_storage
    return str(name), storage


def required(name: str, storage: Any) -> Renditions:
    """The renditions of ``storage``; a :class:`ConfigurationError` if not a ``CachedStorage``."""
    found = renditions_of(storage)
    if found is None:
        raise ConfigurationError(
            f"Renditions need a CachedStorage; {name!r} is on {type(storage).__name__}. "
            "Wrap its storage: CachedStorage(storage=..., specs={...})."
        )
    return found
