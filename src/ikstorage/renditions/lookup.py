"""Showing a rendition: from the source's record, with no storage call.

``rendition(image, "thumb")`` reads the source's record (the same lookup as
``image.width``: L1, or one batched round trip in a new process) and returns
a :class:`Rendition` with its URL, width, height and placeholder. Public URLs
are kept in the record itself, so a page of thumbnails costs nothing more.

A rendition that does not exist yet — a source saved before ikstorage or
before the spec was added, or one whose renditions are deferred — is handled
as ``OPTIONS["missing_renditions"]`` says:

* ``"generate"`` (default): the first asker renders every missing spec of the
  source once, under the source's lease in the shared cache (one download,
  one decode, for the whole site); askers arriving meanwhile get the source
  instead (``Rendition.fallback``) rather than waiting;
* ``"fallback"``: the source's URL and size, marked ``fallback``;
* ``"error"``: :class:`~ikstorage.exceptions.MissingRenditionError`.

With ``render="defer"``, a missing rendition is queued (once) and the source
is shown meanwhile.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ikstorage.exceptions import ConfigurationError, MissingRenditionError
from ikstorage.lease import Lease, State
from ikstorage.records import Record, RenditionInfo, new_generation
from ikstorage.renditions import saving

if TYPE_CHECKING:
    from ikstorage.renditions.specs import Spec
    from ikstorage.storage import CachedStorage

__all__ = ["Rendition", "find", "render_missing", "rendition"]

logger = logging.getLogger("ikstorage.renditions")


@dataclass(frozen=True, slots=True)
class Rendition:
    """A rendition as a template shows it; ``str()`` is its URL."""

    name: str
    url: str
    width: int | None
    height: int | None
    spec: str
    format: str | None = None
    #: Dominant colour (``#rrggbb``) of the source, when known.
    color: str | None = None
    #: A tiny ``data:`` URI preview of the source, when known.
    lqip: str | None = None
    #: True when this is the source itself, shown because the rendition is missing.
    fallback: bool = False

    def __str__(self) -> str:
        return self.url

    @property
    def placeholder(self) -> dict[str, str] | None:
        """``{"color": ..., "lqip": ...}`` for templates, or ``None``."""
        if self.color is None or self.lqip is None:
            return None
        return {"color": self.color, "lqip": self.lqip}


def spec_named(storage: CachedStorage, spec: str) -> Spec:
    specs = storage.options.specs
    if spec not in specs:
        known = ", ".join(map(repr, specs)) or "none (OPTIONS 'specs' is empty)"
        raise ConfigurationError(
            f"No rendition spec {spec!r} on this storage; its specs are {known}."
        )
    found: Spec = specs[spec]
    return found


def find(storage: CachedStorage, name: str, spec: str, fmt: str | None = None) -> Rendition:
    """The rendition ``spec`` (in ``fmt``) of the file stored as ``name``."""
    wanted = spec_named(storage, spec)
    if fmt is not None and not _fingerprints(wanted, fmt):
        made = [v.format or "like the source" for v in wanted.variants()]
        raise ConfigurationError(
            f"Rendition spec {spec!r} makes {', '.join(map(str, made))}, not {fmt!r}."
        )
    record = storage.metadata(name)
    info = current(record, wanted, fmt)
    if info is not None:
        return _shown(storage, record, info)
    policy = storage.options.missing_renditions
    if record.exists and record.rendition_error is None and _applies(storage, name, wanted):
        if storage.options.render == "defer":
            from ikstorage.renditions import tasks

            tasks.enqueue_once(storage, name)
        elif policy == "generate":
            # This process's copy may predate another process's render: ask the
            # shared cache before rendering (one round trip, only when missing).
            record = storage.fresh_metadata(name)
            info = current(record, wanted, fmt)
            if info is None and record.rendition_error is None:
                record = render_missing(storage, name, wait=0.0) or record
                info = current(record, wanted, fmt)
            if info is not None:
                return _shown(storage, record, info)
    if policy == "error":
        why = record.rendition_error or ("missing source" if not record.exists else "not made yet")
        raise MissingRenditionError(
            f"Rendition {spec!r} of {name!r} does not exist ({why}).", reason=why
        )
    return _source(storage, name, record, spec)


def current(record: Record, spec: Spec, fmt: str | None = None) -> RenditionInfo | None:
    """The record's rendition of ``spec`` as the spec is declared now (fingerprints match)."""
    fingerprints = _fingerprints(spec, fmt)
    found = [r for r in record.renditions if r.spec == spec.name and r.fingerprint in fingerprints]
    if fmt is not None:
        found = [r for r in found if r.format == fmt]
    return found[-1] if found else None


@functools.lru_cache(maxsize=256)
def _fingerprints(spec: Spec, fmt: str | None) -> frozenset[str]:
    """Fingerprints of the variants of ``spec`` that can be in ``fmt`` (memoized: a page
    asks for each thumbnail, and a fingerprint is a JSON dump and a SHA-256)."""
    variants = spec.variants()
    if fmt is not None:
        variants = [v for v in variants if v.format in (fmt, None)]
    return frozenset(v.fingerprint() for v in variants)


def missing(storage: CachedStorage, name: str, record: Record) -> list[Spec]:
    """The spec variants that apply to ``name`` and have no current rendition in ``record``."""
    have = {(r.spec, r.fingerprint) for r in record.renditions}
    variants = saving.variants_for(storage.options.specs.values(), name)
    return [v for v in variants if (v.name, v.fingerprint()) not in have]


def render_missing(storage: CachedStorage, name: str, *, wait: float) -> Record | None:
    """Render every missing rendition of ``name`` from one download, once across processes.

    Holds the source's write lease (the one saves and deletes hold), so no
    write of the source interleaves; ``wait`` is how long to wait for it
    (``0`` for a page request: another process is already on it). Returns
    the record as it stands after (the shared cache's, when there was
    nothing left to do), or ``None`` when another holder has the lease.
    """
    stored = storage.adapter.canonical(name)
    lease = Lease(
        storage.cache, storage.keys.lease(stored), ttl=storage.options.write_lease_timeout
    )
    if lease.acquire(wait=wait) is State.TIMED_OUT:
        return None
    stale: list[str] = []
    try:
        # What the shared cache holds now: another process may have rendered (or
        # saved a new version) before this one got the lease.
        record = storage.fresh_metadata(name)
        todo = missing(storage, stored, record) if record.exists else []
        if not todo or record.rendition_error is not None:
            return record  # done already (by another process), or not to be retried
        refused = _refused_unread(storage, record)
        if refused is not None:  # known bad from the record: no download
            logger.warning("No renditions for %r: its record says %s.", stored, refused)
            updated = dataclasses.replace(record, rendition_error=refused)
        else:
            data = storage.adapter.read_file(name)  # one download for every spec
            prepared = saving.prepare(storage, stored, io.BytesIO(data), todo)
            declared = _declared(storage)
            keep = [r for r in record.renditions if (r.spec, r.fingerprint) in declared]
            made = saving.write(storage, stored, prepared, keep=keep)
            error = prepared.error
            outputs = () if prepared.rendered is None else prepared.rendered.outputs
            if error is None and len(made) - len(keep) < len(outputs):
                error = "write-failed"  # not retried by every page; prewarm --refresh does
            # Renditions of a spec declared differently now: their files go.
            dropped = saving.obsolete(record.renditions, made)
            saving.remove(storage, dropped)
            stale = storage._facts_of(dropped)
            updated = dataclasses.replace(
                record,
                renditions=made,
                placeholder=prepared.placeholder or record.placeholder,
                digest=prepared.digest,
                rendition_error=error,
                generation=record.generation or new_generation(),
            )
        if lease.still_held or lease.state is State.UNAVAILABLE:
            storage.store(name, updated, replace=True)
        return updated
    finally:
        lease.release(also=stale)


def _refused_unread(storage: CachedStorage, record: Record) -> str | None:
    """Why a source cannot be rendered, when its record already says so (empty, too big)."""
    if record.size == 0:
        return "empty"
    width, height = record.dimensions
    if record.dimensions_known and width and height and width * height > storage.options.max_pixels:
        return "too-many-pixels"
    return None


def _declared(storage: CachedStorage) -> set[tuple[str, str]]:
    return {
        (variant.name, variant.fingerprint())
        for spec in storage.options.specs.values()
        for variant in spec.variants()
    }


def _applies(storage: CachedStorage, name: str, spec: Spec) -> bool:
    stored = storage.adapter.canonical(name)
    return any(v.name == spec.name for v in saving.variants_for([spec], stored))


def _shown(storage: CachedStorage, record: Record, info: RenditionInfo) -> Rendition:
    placeholder = record.placeholder or (None, None)
    return Rendition(
        name=info.name,
        url=info.url if info.url is not None else storage.url(info.name),
        width=info.width,
        height=info.height,
        spec=info.spec,
        format=info.format,
        color=placeholder[0],
        lqip=placeholder[1],
    )


def _source(storage: CachedStorage, name: str, record: Record, spec: str) -> Rendition:
    width, height = record.dimensions if record.dimensions_known else (None, None)
    placeholder = record.placeholder or (None, None)
    return Rendition(
        name=name,
        url=storage.url(name),
        width=width,
        height=height,
        spec=spec,
        color=placeholder[0],
        lqip=placeholder[1],
        fallback=True,
    )


def rendition(
    source: Any, spec: str, fmt: str | None = None, *, storage: Any = None
) -> Rendition | None:
    """The rendition ``spec`` of a field file (or of a name on ``storage``).

    ``None`` for an empty field. The storage is the field file's own unless
    given; it must be a ``CachedStorage`` (``default_storage`` may wrap one).
    """
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
    find_rendition = getattr(storage, "rendition", None)
    if not callable(find_rendition) or getattr(storage, "ikstorage_batches", False) is not True:
        raise ConfigurationError(
            f"Renditions need a CachedStorage; {name!r} is on {type(storage).__name__}. "
            "Wrap its storage: CachedStorage(storage=..., specs={...})."
        )
    found: Rendition = find_rendition(str(name), spec, fmt)
    return found
