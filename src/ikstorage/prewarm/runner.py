"""Runs a plan: batches from the sources, names to worker threads, totals and checkpoints.

The main thread reads the sources a batch at a time (a query or a listing
page), drops names of other shards, asks the cache in one ``get_many`` which
names it already holds, and hands the rest to a pool of threads; each thread
runs the steps for a name (:mod:`ikstorage.prewarm.steps`). At most two
batches' worth of names wait in the pool, so memory does not grow with the
number of files, and the next batch is read while the threads work.

A file that fails is reported with its name and reason and the run goes on.
Ctrl-C stops handing out names, lets the calls in flight finish (each is one
request), saves the checkpoint and returns with ``interrupted`` set: what was
written stays written, and a rerun continues from there. The first Ctrl-C is
noticed between names (:mod:`ikstorage.prewarm.interrupt` says why); a second
one raises at once.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from ikstorage.metrics import count_calls
from ikstorage.prewarm.checkpoint import Checkpoint
from ikstorage.prewarm.clients import ThreadClients
from ikstorage.prewarm.interrupt import first_ctrl_c_sets
from ikstorage.prewarm.listing import prefix_stream
from ikstorage.prewarm.plan import Plan
from ikstorage.prewarm.report import Progress, Silent
from ikstorage.prewarm.sources import Batch, Stream, resolve_fields, storage_alias
from ikstorage.prewarm.stats import Summary, Tally
from ikstorage.prewarm.steps import Item, Step, steps_for

#: The run stops when this many files failed before any succeeded: that is a wrong
#: credential, endpoint or bucket, not a bad file, and it would fail every file.
ABORT_AFTER = 50
#: Seconds between two looks at the stop request while the main thread waits for
#: the workers: how long a Ctrl-C can go unnoticed.
POLL = 0.1
#: Seconds between two saves of the checkpoint while a run goes on (it is saved
#: too when the run stops): a run killed outright (SIGKILL, a lost machine) is
#: resumed from at most this long before, and a run shorter than this writes no
#: checkpoint at all, so a small prewarm pays one cache read for it.
CHECKPOINT_INTERVAL = 10.0


class Aborted(Exception):
    """Every file so far failed: stop instead of reporting the same failure a million times."""


class Stopped(Exception):
    """Ctrl-C was pressed: hand out no more names."""


def streams_for(plan: Plan) -> list[Stream]:
    """The sources a plan names (raises ``SourceError`` for a bad label or alias)."""
    if plan.prefix is not None:
        return [prefix_stream(storage_alias(plan.storage), plan.prefix, plan.storage)]
    return list(resolve_fields(plan.fields))


def run(
    plan: Plan, *, progress: Progress | None = None, streams: list[Stream] | None = None
) -> Summary:
    """Carry out ``plan`` and return what it did; Ctrl-C returns early, ``interrupted`` set."""
    progress = progress or Silent()
    streams = streams_for(plan) if streams is None else streams
    summary = Summary(
        shard=str(plan.shard),
        sources=[s.label for s in streams],
        dry_run=plan.dry_run,
        refresh=plan.refresh,
    )
    tally = Tally()
    started = time.perf_counter()
    with count_calls() as calls:
        total = _total(streams) if progress.wants_total and plan.shard.count == 1 else None
        progress.start(tally, total)
        try:
            if plan.dry_run:
                _count(plan, streams, tally)
            else:
                stop = threading.Event()
                with first_ctrl_c_sets(stop):
                    _Fill(plan, streams, tally, progress, summary, stop).run()
        except (KeyboardInterrupt, Stopped):
            summary.interrupted = True
        except Aborted as exc:
            summary.aborted = str(exc)
        finally:
            progress.stop()
    elapsed = time.perf_counter() - started
    counts, samples = tally.snapshot()
    for key in (
        "files_seen",
        "already_cached",
        "probed",
        "from_listing",
        "records_written",
        "records_kept",
        "renditions_made",
        "errors",
        "failed",
        "would_probe",
        "would_use_listing",
    ):
        setattr(summary, key, counts.get(key, 0))
    summary.error_samples = samples
    summary.s3 = calls.s3
    summary.s3_total = calls.s3_total
    summary.s3_attempts = calls.s3_attempts
    summary.bytes_downloaded = calls.bytes_downloaded
    summary.probe_bytes = calls.probe_bytes
    summary.cache_round_trips = calls.round_trips
    summary.elapsed_s = round(elapsed, 3)
    summary.files_per_second = round(summary.files_seen / elapsed, 1) if elapsed else 0.0
    return summary


def _total(streams: list[Stream]) -> int | None:
    counts = [s.total() for s in streams]
    return None if any(c is None for c in counts) else sum(c for c in counts if c is not None)


def _scope(stream: Stream, plan: Plan) -> str:
    return f"{stream.label}|shard={plan.shard}|{'refresh' if plan.refresh else 'fill'}"


def _select(
    stream: Stream, batch: Batch, plan: Plan, steps: tuple[Step, ...], tally: Tally
) -> list[Item]:
    """This shard's names of ``batch`` that some step still has work for (one ``get_many``)."""
    names = [name for name in batch.names if name in plan.shard]
    tally.add("files_seen", len(names))
    storage = stream.storage
    # With --refresh too: a file that did not change keeps the renditions its record lists.
    cached = storage.cached_records(names) if names else {}
    items = [
        Item(storage, name, cached=cached.get(name), listed=batch.listed.get(name))
        for name in names
    ]
    todo = [item for item in items if any(step.pending(item) for step in steps)]
    tally.add("already_cached", len(items) - len(todo))
    return todo


def _count(plan: Plan, streams: list[Stream], tally: Tally) -> None:
    """``--dry-run``: what a run would do, from the sources and the cache only."""
    steps = steps_for(refresh=plan.refresh, renditions=plan.renditions)
    for stream in streams:
        for batch in stream.batches(None, plan.batch_size):
            for item in _select(stream, batch, plan, steps, tally):
                tally.count("would_use_listing" if item.listed is not None else "would_probe")


@dataclass
class _Batch:
    position: str | None
    remaining: int
    incomplete: bool = False


@dataclass
class _Tracker:
    """The checkpoint's low-water mark: the end of the finished, failure-free prefix of batches."""

    checkpoint: Checkpoint
    lock: threading.Lock = field(default_factory=threading.Lock)
    open: deque[_Batch] = field(default_factory=deque)
    pinned: bool = False
    #: The low-water mark reached, and the one last saved.
    reached: str | None = None
    saved: str | None = None
    saved_at: float = field(default_factory=time.monotonic)

    def add(self, position: str | None, count: int) -> _Batch:
        batch = _Batch(position, count)
        with self.lock:
            self.open.append(batch)
        return batch

    def finish(self, batch: _Batch, *, complete: bool) -> None:
        with self.lock:
            batch.remaining -= 1
            batch.incomplete |= not complete

    def advance(self, *, stopping: bool = False) -> None:
        """Move the mark past every batch finished so far; save it when due (main thread only).

        It is due every ``CHECKPOINT_INTERVAL`` seconds, and when the run stops.
        """
        with self.lock:
            while self.open and not self.pinned and self.open[0].remaining == 0:
                head = self.open.popleft()
                if head.incomplete:
                    self.pinned = True  # a failed name: resume from here to retry it
                    break
                if head.position is not None:
                    self.reached = head.position
        now = time.monotonic()
        due = stopping or now - self.saved_at >= CHECKPOINT_INTERVAL
        if due and self.reached is not None and self.reached != self.saved:
            self.checkpoint.save(self.reached)
            self.saved, self.saved_at = self.reached, now


class _Fill:
    """One real run: the thread pool, the in-flight window and the per-source checkpoints."""

    def __init__(
        self,
        plan: Plan,
        streams: list[Stream],
        tally: Tally,
        progress: Progress,
        summary: Summary,
        stop: threading.Event,
    ) -> None:
        self.plan, self.streams, self.tally = plan, streams, tally
        self.progress, self.summary, self.stop = progress, summary, stop
        self.steps = steps_for(refresh=plan.refresh, renditions=plan.renditions)
        self.window = threading.BoundedSemaphore(max(2 * plan.batch_size, 2 * plan.workers))
        self.outstanding: set[Future[Item]] = set()
        self.lock = threading.Lock()
        #: The tracker of the source being read.
        self.current: _Tracker | None = None

    def run(self) -> None:
        clients = ThreadClients([s.storage.wrapped for s in self.streams], self.plan.workers)
        pool = ThreadPoolExecutor(
            self.plan.workers, thread_name_prefix="ikstorage-prewarm", initializer=clients.install
        )
        try:
            for stream in self.streams:
                self._stream(stream, pool)
        except BaseException as exc:
            # Ctrl-C or an abort: hand out nothing more, let the calls in flight end,
            # and keep the position reached so far.
            pool.shutdown(wait=False, cancel_futures=True)
            if isinstance(exc, Stopped):
                with self.lock:
                    in_flight = sum(not future.done() for future in self.outstanding)
                self.progress.stopping(in_flight)
            pool.shutdown(wait=True)
            if self.current is not None:
                self.current.advance(stopping=True)
            raise
        pool.shutdown(wait=True)

    def _stream(self, stream: Stream, pool: ThreadPoolExecutor) -> None:
        checkpoint = Checkpoint(stream.storage, _scope(stream, self.plan))
        if self.plan.restart:
            checkpoint.clear()
            after = None
        else:
            after = checkpoint.load()
        if after is not None:
            self.summary.resumed_after[stream.label] = after
        tracker = self.current = _Tracker(checkpoint)
        for batch in stream.batches(after, self.plan.batch_size):
            self._check_stop()
            items = _select(stream, batch, self.plan, self.steps, self.tally)
            entry = tracker.add(batch.position, len(items))
            for item in items:
                while not self.window.acquire(timeout=POLL):
                    self._check_stop()
                self._check_stop()
                future = pool.submit(self._work, item)
                with self.lock:
                    self.outstanding.add(future)
                future.add_done_callback(self._finished(item, tracker, entry))
                self._check_abort()
            tracker.advance()
        with self.lock:
            pending = list(self.outstanding)
        while wait(pending, timeout=POLL).not_done:
            self._check_stop()
        # The source is done: the next run walks all of it again (names that failed are
        # not cached, so a fill retries them; names that succeeded cost a get_many).
        checkpoint.clear()

    def _work(self, item: Item) -> Item:
        for step in self.steps:
            if step.pending(item):
                step.run(item)
        return item

    def _finished(
        self, item: Item, tracker: _Tracker, entry: _Batch
    ) -> Callable[[Future[Item]], None]:
        def done(future: Future[Item]) -> None:
            self.window.release()
            with self.lock:
                self.outstanding.discard(future)
            if future.cancelled():
                tracker.finish(entry, complete=False)
                return
            exc = future.exception()
            if exc is not None:
                reason = f"{type(exc).__name__}: {exc}"
                self.tally.problem(item.name, reason, failed=True)
                self.progress.error(item.name, reason)
                tracker.finish(entry, complete=False)
                return
            self.tally.count(*item.events, "succeeded")
            for reason in item.problems:
                self.tally.problem(item.name, reason, failed=False)
                self.progress.error(item.name, reason)
            tracker.finish(entry, complete=True)

        return done

    def _check_stop(self) -> None:
        if self.stop.is_set():
            raise Stopped

    def _check_abort(self) -> None:
        failed = self.tally["failed"]
        if failed >= ABORT_AFTER and not self.tally["succeeded"]:
            raise Aborted(
                f"the first {failed} files all failed; this looks like a configuration "
                "problem (credentials, endpoint, bucket), not a problem with the files. "
                "See the errors above."
            )
