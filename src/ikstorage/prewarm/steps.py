"""What is done for one name, as a sequence of steps.

The runner hands each name that some step still has work for to a worker
thread, which runs the steps in order. A step says from the cached record
whether it has work (so ``--only-missing`` skips a name only when no step
has any), and does it: the metadata fill (or, with ``--refresh``, the
record re-read and overwritten under the name's write lease), then
the renditions the name is missing (on storages that declare specs, unless
``--no-renditions``), made from one download of the source. A source nobody
has a record of, whose renditions are due, is read once for both: the probe
is a read of the whole file, gone on with after the header only if the
record is kept and the header allows a render (:class:`FillReading`).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Protocol

from ikstorage.lease import State
from ikstorage.prewarm.target import Target
from ikstorage.prewarm.verdicts import agree, problem_with, same_file_keeps_renditions
from ikstorage.records import Record
from ikstorage.renditions.binding import Renditions, renditions_of


@dataclass
class Item:
    """One name on its way through the steps."""

    target: Target
    name: str
    #: What the cache held before the run (``None``: nothing).
    cached: Record | None = None
    #: What the source learned for free (an S3 listing's record of a non-image).
    listed: Record | None = None
    #: The record as known after the steps so far (the metadata step sets it).
    record: Record | None = None
    #: Problems worth reporting that did not stop the work (the record was stored).
    problems: list[str] = field(default_factory=list)
    #: What happened, named as the summary's totals (``probed``, ``records_written``...).
    events: list[str] = field(default_factory=list)
    #: Its renditions were made from the metadata step's read (:class:`FillReading`).
    rendered: bool = False


class Step(Protocol):
    """One piece of work per name."""

    def pending(self, item: Item) -> bool:
        """True when this step has work for ``item`` (``item.cached`` is the cache's record)."""
        ...

    def run(self, item: Item) -> None:
        """Do it; raise to report the name as failed (nothing stored for it by this step)."""
        ...


class FillRecord:
    """Learn the record with the backend's cheapest call, and ``add`` it.

    A fill never overwrites a record a save or delete wrote meanwhile
    (invariant 2); ``--refresh`` overwrites, with :class:`RefreshRecord`.
    """

    def pending(self, item: Item) -> bool:
        return item.cached is None

    def run(self, item: Item) -> None:
        if item.listed is not None:
            record = item.listed
            item.events.append("from_listing")
        else:
            record = item.target.probe(item.name)
            item.events.append("probed")
        self.keep(item, record)

    @staticmethod
    def keep(item: Item, record: Record) -> bool:
        """``add`` the record found for ``item``; ``True`` if it was stored."""
        item.record = record
        stored = item.target.store(item.name, record)
        item.events.append("records_written" if stored else "records_kept")
        _report(item, record)
        return stored


class FillReading(FillRecord):
    """:class:`FillRecord` for a run that renders: one read for a record and its renditions.

    A source nobody has a record of (and no listing described), with a spec
    that applies to it, is probed with one read of the whole file
    (``Adapter.probe_open``: on S3 and GCS one GET, stopped after the header).
    The record is kept first; the read goes on only when it was kept and
    :meth:`Renditions.render_read` finds renditions due and the header within
    ``max_pixels``, on the render pool (see :class:`RenderMissing`). Otherwise
    the read is closed and :class:`RenderMissing` does what it always does.
    """

    def __init__(self, render: RenderMissing) -> None:
        self.render = render

    def run(self, item: Item) -> None:
        renditions = _renditions(item)
        if (
            item.listed is not None
            or renditions is None
            or not renditions.due(item.target.canonical(item.name))
        ):
            super().run(item)
            return
        source = item.target.probe_open(item.name)
        try:
            record = Record.of(source.facts)
            item.events.append("probed")
            kept = self.keep(item, record)
        except BaseException:
            source.close()
            raise
        if not (kept and record.exists and record.rendition_error is None):
            source.close()
            return
        after = self.render.on_pool(renditions.render_read, item.name, record, source)
        if after is not None:
            item.rendered = True
            self.render.report(item, len(record.renditions), after)


class RefreshRecord:
    """Re-read every record and overwrite it, under the name's write lease (``--refresh``).

    A save or a delete holds that lease around its backend write and its record
    write (invariant 10). Under it, nothing they write can land between what
    the refresh reads and what it writes: the record the shared cache holds is
    read, then the file's facts (one probe; the listing's, when they agree with
    that record), then the record is written. A save waiting for the lease
    writes its own record after, so an older fact never overwrites a newer
    save, nor lists renditions the save deleted.

    Facts from a listing made before the lease was taken are only ``add``-ed
    when the cache holds no record (what a fill does). Without a cache
    (``UNAVAILABLE``) nothing is ordered and nothing overwritten; a lease held
    by another process past ``write_lease_timeout`` fails the name (the next
    run retries it).
    """

    def pending(self, item: Item) -> bool:
        return True

    def run(self, item: Item) -> None:
        target = item.target
        stored = target.canonical(item.name)
        lease = target.lease(stored)
        if lease.state is State.TIMED_OUT:
            raise RuntimeError("another process kept the file's lease past write_lease_timeout")
        try:
            held = lease.state is State.HELD
            current = target.shared_record(stored) if held else item.cached
            listed = item.listed
            if listed is not None and (current is None or agree(listed, current)):
                record, probed = listed, False
                item.events.append("from_listing")
            else:
                record, probed = target.probe(item.name), True
                item.events.append("probed")
            record = item.record = same_file_keeps_renditions(current, record)
            overwrite = held and (probed or current is not None)
            if overwrite and not lease.still_held:
                raise RuntimeError("the file's lease expired before its record was written")
            written = target.store(item.name, record, replace=overwrite)
        finally:
            lease.release()
        item.events.append("records_written" if written else "records_kept")
        _report(item, record)


def _report(item: Item, record: Record) -> None:
    problem = problem_with(item.name, record)
    if problem is not None:
        item.problems.append(problem)


class RenderMissing:
    """Render the renditions a source lacks: one download, one decode, every missing spec.

    Done under the source's lease (``Renditions.make_missing``), so a page
    or another prewarm rendering the same source at the same moment does not
    do it twice. A source the record says cannot be rendered (not an image,
    too many pixels) is skipped unless ``refresh``, whose fresh probe clears
    that verdict.

    Rendering is CPU work, and each render holds a decoded source (up to the
    ``max_pixels`` budget): renders run on ``renders``, a pool of as many
    threads as renders may run at once (``--render-workers``), whatever the
    number of probing threads. A pool of their own rather than a semaphore
    around the render: the allocator keeps the peak of every thread that
    decoded an image (one malloc arena each), so memory follows the number
    of threads that ever rendered, not of renders at once. The probing thread
    waits for the result; the lease is taken on the render thread, so none is
    held while waiting. Without a pool (a dry run never renders) the render
    runs on the calling thread.
    """

    def __init__(self, *, refresh: bool, renders: Executor | None = None) -> None:
        self.refresh = refresh
        self.renders = renders

    def pending(self, item: Item) -> bool:
        renditions = _renditions(item)
        if renditions is None:
            return False
        record = item.cached
        if record is None or self.refresh:
            return True
        stored = item.target.canonical(item.name)
        return (
            record.exists
            and record.rendition_error is None
            and bool(renditions.missing(stored, record))
        )

    def run(self, item: Item) -> None:
        renditions = _renditions(item)
        record = item.record or item.cached
        if item.rendered or renditions is None or record is None or not record.exists:
            return
        stored = item.target.canonical(item.name)
        if not renditions.missing(stored, record):
            return
        after = self.on_pool(renditions.make_missing, item.name)
        if after is None:
            raise RuntimeError("another process kept the file's lease past write_lease_timeout")
        self.report(item, len(record.renditions), after)

    def on_pool(self, render: Callable[..., Record | None], *args: Any) -> Record | None:
        """``render(*args)`` on the render pool, waited for (here, without one)."""
        if self.renders is None:
            return render(*args)
        return self.renders.submit(render, *args).result()

    @staticmethod
    def report(item: Item, before: int, after: Record) -> None:
        """Count the renditions made (``after`` lists them) and report a refusal."""
        made = len(after.renditions) - before
        item.events.extend(["renditions_made"] * max(made, 0))
        if after.rendition_error is not None:
            item.problems.append(f"no renditions: {after.rendition_error}")


def _renditions(item: Item) -> Renditions | None:
    """The renditions of the item's storage, when it declares specs."""
    found = renditions_of(item.target)
    return found if found is not None and found.settings.specs else None


def steps_for(
    *, refresh: bool, renditions: bool = False, renders: Executor | None = None
) -> tuple[Step, ...]:
    """The steps of a run, in order; renders run on ``renders`` (see ``RenderMissing``)."""
    if not renditions:
        return (RefreshRecord() if refresh else FillRecord(),)
    render = RenderMissing(refresh=refresh, renders=renders)
    return (RefreshRecord() if refresh else FillReading(render), render)
