"""Finding a rendition: in the source's record, with no storage call.

:func:`find` reads the source's record (the same lookup as ``image.width``:
L1, or one batched round trip in a new process) and returns a
:class:`~.shown.Rendition` with its URL, width, height and placeholder.

A rendition that does not exist yet — a source saved before ikstorage or
before the spec was added, or one whose renditions are deferred — is handled
as ``OPTIONS["missing_renditions"]`` says:

* ``"generate"`` (default): the first asker renders every missing spec of the
  source once, under the source's lease in the shared cache (one download,
  one decode, for the whole site); askers arriving meanwhile get the source
  instead (``Rendition.fallback``) rather than waiting. A source nobody has
  a record of costs one read in all: the probe that learns its record reads
  on through the whole file when the header says its renditions are due;
* ``"fallback"``: the source's URL and size, marked ``fallback``;
* ``"error"``: :class:`~ikstorage.exceptions.MissingRenditionError`.

With ``render="defer"``, a missing rendition is queued (once) and the source
is shown meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable

from ikstorage.exceptions import ConfigurationError, MissingRenditionError
from ikstorage.lease import Lease, State
from ikstorage.records import Record
from ikstorage.renditions.current import current, fingerprints, variants_for
from ikstorage.renditions.host import Host
from ikstorage.renditions.making import refused_unread, render_missing, render_opened
from ikstorage.renditions.settings import Settings
from ikstorage.renditions.shown import Rendition, shown, source
from ikstorage.renditions.specs import Spec

__all__ = ["find", "first_record"]


def find(
    host: Host,
    settings: Settings,
    name: str,
    spec: str,
    fmt: str | None = None,
    *,
    queue: Callable[[str], None],
) -> Rendition:
    """The rendition ``spec`` (in ``fmt``) of the file stored as ``name``.

    ``queue`` asks a task worker for the missing renditions of a name (used
    with ``render="defer"``).
    """
    wanted = settings.spec(spec)
    if fmt is not None and not fingerprints(wanted, fmt):
        made = [v.format or "like the source" for v in wanted.variants()]
        raise ConfigurationError(
            f"Rendition spec {spec!r} makes {', '.join(map(str, made))}, not {fmt!r}."
        )
    record, busy = first_record(host, settings, name, wanted)
    info = current(record, wanted, fmt)
    if info is not None:
        return shown(host, record, info)
    usable = record.exists and record.rendition_error is None
    if usable and not busy and _applies(host, name, wanted):
        if settings.render == "defer":
            queue(name)
        elif settings.missing == "generate":
            # This process's copy may predate another process's render: ask the
            # shared cache before rendering (one round trip, only when missing).
            record = host.fresh_metadata(name)
            info = current(record, wanted, fmt)
            if info is None and record.rendition_error is None:
                record = render_missing(host, settings, name, wait=0.0) or record
                info = current(record, wanted, fmt)
            if info is not None:
                return shown(host, record, info)
    if settings.missing == "error":
        why = record.rendition_error or ("missing source" if not record.exists else "not made yet")
        raise MissingRenditionError(
            f"Rendition {spec!r} of {name!r} does not exist ({why}).", reason=why
        )
    return source(host, name, record, spec)


def first_record(host: Host, settings: Settings, name: str, spec: Spec) -> tuple[Record, bool]:
    """The record of ``name`` for a page that shows ``spec``; with its renditions made,
    when this is the source's first view and they are due.

    A source nobody has a record of yet is probed with one read of the whole
    file, gone on with only if its renditions are due (one GET on S3, not
    two). The second item is ``True`` when another holder of the source's
    lease is rendering (or writing) it: the page shows the source.
    """
    if settings.missing != "generate" or settings.render == "defer":
        return host.metadata(name), False
    first = _FirstRead(host, settings, name, spec)
    record, opened = host.metadata_reading(name, first)
    if opened is not None:
        if first.lease is None:  # never so: wanting the read takes the lease
            opened.close()
        else:
            record = render_opened(host, settings, name, record, opened, first.lease) or record
    return record, first.busy


class _FirstRead:
    """Given the record a probe just kept, whether the rest of the source is to be read.

    Yes when ``spec`` applies to the source (asked before the probe: if not,
    the probe is the ordinary ranged one), nothing in the record refuses it
    (empty, not an image, more than ``max_pixels``: those are recorded from
    the record, with no download) and this request got the source's lease (at
    once: another holder is rendering it, or writing it). The lease is kept
    in :attr:`lease` for the render. The read is closed after the header
    otherwise (a source over ``max_pixels`` is never downloaded whole).
    """

    __slots__ = ("busy", "host", "lease", "name", "settings", "spec")

    def __init__(self, host: Host, settings: Settings, name: str, spec: Spec) -> None:
        self.host, self.settings, self.name, self.spec = host, settings, name, spec
        self.lease: Lease | None = None
        #: The lease was another's: the request is shown the source, with no second try.
        self.busy = False

    def __call__(self, record: Record | None) -> bool:
        if record is None:  # before the probe: a spec that does not apply wants no bytes
            return _applies(self.host, self.name, self.spec)
        if not record.exists or record.rendition_error is not None:
            return False
        if refused_unread(self.settings, record) is not None:
            return False
        lease = self.host.lease(self.host.canonical(self.name), wait=0.0)
        if lease.state is State.TIMED_OUT:
            self.busy = True
            return False
        self.lease = lease
        return True


def _applies(host: Host, name: str, spec: Spec) -> bool:
    """True when ``spec`` is made for ``name`` (its ``match`` globs, on the field's name)."""
    matched = host.files.relative(host.canonical(name))
    return any(v.name == spec.name for v in variants_for([spec], matched))
