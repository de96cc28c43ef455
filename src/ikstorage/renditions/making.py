"""Renditions of a source saved without them: made once across processes, from one download.

A source saved before ikstorage (or before a spec was added, or with
``render="defer"``) lacks renditions. :func:`render_missing` makes every
missing one under the source's write lease (the one saves and deletes hold),
so no write of the source interleaves and the work is done once across
processes (``DESIGN.md``, invariant 12): one download, one decode, every spec.
On a first view, the download is the probe's own read of the file, gone on
with once the header said the renditions are due (:func:`render_opened`).

It only adds. The renditions the record lists for specs this process does
not declare stay listed and stored: during a rolling deploy they are the
other processes' (old code, new code, another storage over the same files),
and removing them would make both sides render and delete on every page
(invariant 15). ``ikstorage_prune`` removes those nobody declares any more.
"""

from __future__ import annotations

import dataclasses
import io
import logging
from collections.abc import Callable

from ikstorage.backends.stream import Opened
from ikstorage.lease import Lease, State
from ikstorage.records import Record, new_generation
from ikstorage.renditions import saving
from ikstorage.renditions.current import missing
from ikstorage.renditions.host import Host
from ikstorage.renditions.settings import Settings
from ikstorage.renditions.specs import Spec

__all__ = ["refused_unread", "render_missing", "render_opened"]

logger = logging.getLogger("ikstorage.renditions")


def render_missing(host: Host, settings: Settings, name: str, *, wait: float) -> Record | None:
    """Render every missing rendition of ``name`` from one download, once across processes.

    ``wait`` is how long to wait for the source's lease (``0`` for a page
    request: another process is already on it). Returns the record as it
    stands after (the shared cache's, when there was nothing left to do), or
    ``None`` when another holder has the lease.
    """
    stored = host.canonical(name)
    lease = host.lease(stored, wait=wait)
    if lease.state is State.TIMED_OUT:
        return None
    try:
        # What the shared cache holds now: another process may have rendered (or
        # saved a new version) before this one got the lease.
        record = host.fresh_metadata(name)
        download = lambda: host.files.read_file(name)  # noqa: E731
        return _make(host, settings, name, stored, record, lease, download)
    finally:
        lease.release()


def render_read(
    host: Host, settings: Settings, name: str, record: Record, source: Opened, *, wait: float
) -> Record | None:
    """:func:`render_opened` for a caller holding no lease: it is taken here, waiting
    up to ``wait`` seconds. ``None`` (the read closed) when another holder kept it,
    or when :func:`render_opened` found the shared cache moved on."""
    lease = host.lease(host.canonical(name), wait=wait)
    if lease.state is State.TIMED_OUT:
        source.close()
        return None
    return render_opened(host, settings, name, record, source, lease)


def render_opened(
    host: Host, settings: Settings, name: str, record: Record, source: Opened, lease: Lease
) -> Record | None:
    """Render the missing renditions of ``name`` from the probe's read, finished now.

    ``record`` is what that probe told (and was kept); ``lease`` the source's,
    taken when the header said the renditions were due. Both are released
    here, and the read closed. ``None`` when the shared cache no longer holds
    ``record`` (a write or a render came in between): nothing was read on,
    and the caller goes the usual way (:func:`render_missing`).
    """
    try:
        stored = host.canonical(name)
        shared = host.shared_record(stored)  # as render_missing: a lease holder looks first
        if shared is not None and shared != record:
            return None
        return _make(host, settings, name, stored, record, lease, source.read, source.head)
    finally:
        source.close()
        lease.release()


def _make(
    host: Host,
    settings: Settings,
    name: str,
    stored: str,
    record: Record,
    lease: Lease,
    read: Callable[[], bytes],
    head: bytes = b"",
) -> Record:
    """Under the lease: render what ``record`` lacks from ``read()``, and store the record.

    ``head``, the file's first bytes when they were read already, may refuse
    it before the rest is read (a header claiming more than ``max_pixels``).
    """
    wanted = settings.specs.values()
    todo = missing(wanted, host.files.relative(stored), record) if record.exists else []
    if not todo or record.rendition_error is not None:
        return record  # done already (by another process), or not to be retried
    refused = refused_unread(settings, record)
    if refused is None and head:
        from ikstorage.renditions.image.pipeline import refusal

        refused = refusal(head, settings.max_pixels)
    if refused is not None:  # known bad from the record or the header: no download
        logger.warning("No renditions for %r: its record or header says %s.", stored, refused)
        updated = dataclasses.replace(record, rendition_error=refused)
    else:
        updated = _render(host, settings, stored, record, todo, read())
    if lease.still_held or lease.state is State.UNAVAILABLE:
        host.store(name, updated, replace=True)
    return updated


def _render(
    host: Host,
    settings: Settings,
    stored: str,
    record: Record,
    todo: list[Spec],
    data: bytes,
) -> Record:
    """Render ``todo`` from the source's bytes (one download for every spec) and store
    them; the record listing them too.

    Every rendition the record listed is kept, whichever spec it was made for.
    """
    prepared = saving.prepare(settings, stored, io.BytesIO(data), todo)
    keep = record.renditions
    made = saving.write(host, settings, stored, prepared, keep=keep)
    error = prepared.error
    outputs = () if prepared.rendered is None else prepared.rendered.outputs
    if error is None and len(made) - len(keep) < len(outputs):
        error = "write-failed"  # not retried by every page; prewarm --refresh does
    return dataclasses.replace(
        record,
        renditions=made,
        placeholder=prepared.placeholder or record.placeholder,
        digest=prepared.digest,
        rendition_error=error,
        generation=record.generation or new_generation(),
    )


def refused_unread(settings: Settings, record: Record) -> str | None:
    """Why a source cannot be rendered, when its record already says so.

    Empty; no dimensions where Django finds none (not an image, or a header
    Pillow cannot read: the bytes would be refused after the download, and a
    300 MB video named ``.jpg`` is not downloaded to learn it); more pixels
    than ``max_pixels``.
    """
    if record.size == 0:
        return "empty"
    width, height = record.dimensions
    if record.dimensions_known and width is None and height is None:
        return "not-an-image"
    if record.dimensions_known and width and height and width * height > settings.max_pixels:
        return "too-many-pixels"
    return None
