"""A real run's worker threads: the pool, the in-flight window, each source's checkpoint.

The main thread reads a batch, keeps what it still needs
(:mod:`ikstorage.prewarm.selection`) and hands those names to the pool; each
thread runs the steps for a name, handing a render to a second pool of
``--render-workers`` threads (renders are CPU and memory, probes are waits).
At most two batches' worth of names wait in the pool, so memory does not
grow with the number of files, and the next batch is read while the threads
work. Failures are tallied as they come in,
from the threads' callbacks; the main thread alone decides to stop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

from ikstorage.prewarm.checkpoint import Checkpoint
from ikstorage.prewarm.clients import ThreadClients
from ikstorage.prewarm.plan import Plan
from ikstorage.prewarm.position import OpenBatch, Tracker
from ikstorage.prewarm.report import Progress
from ikstorage.prewarm.selection import select
from ikstorage.prewarm.sources import Stream
from ikstorage.prewarm.stats import Summary, Tally
from ikstorage.prewarm.steps import Item, Step, steps_for

#: The run stops when this many files failed before any succeeded: that is a wrong
#: credential, endpoint or bucket, not a bad file, and it would fail every file.
ABORT_AFTER = 50
#: Seconds between two looks at the stop request while the main thread waits for
#: the workers: how long a Ctrl-C can go unnoticed.
POLL = 0.1


class Aborted(Exception):
    """Every file so far failed: stop instead of reporting the same failure a million times."""


class Stopped(Exception):
    """Ctrl-C was pressed: hand out no more names."""


def _scope(stream: Stream, plan: Plan) -> str:
    return f"{stream.label}|shard={plan.shard}|{'refresh' if plan.refresh else 'fill'}"


class Fill:
    """One real run: the thread pool, the in-flight window and the per-source checkpoints.

    ``track`` makes the tracker of a source's checkpoint (the runner's, which
    knows how often to save).
    """

    def __init__(
        self,
        plan: Plan,
        streams: list[Stream],
        tally: Tally,
        progress: Progress,
        summary: Summary,
        stop: threading.Event,
        track: Callable[[Checkpoint], Tracker],
    ) -> None:
        self.plan, self.streams, self.tally = plan, streams, tally
        self.progress, self.summary, self.stop = progress, summary, stop
        self.track = track
        self.steps: tuple[Step, ...] = ()
        self.window = threading.BoundedSemaphore(max(2 * plan.batch_size, 2 * plan.workers))
        self.outstanding: set[Future[Item]] = set()
        self.lock = threading.Lock()
        #: The tracker of the source being read.
        self.current: Tracker | None = None

    def run(self) -> None:
        plan = self.plan
        renders = plan.render_slots if plan.renditions else 0
        clients = ThreadClients([s.target.wrapped for s in self.streams], plan.workers + renders)
        pool = ThreadPoolExecutor(
            plan.workers, thread_name_prefix="ikstorage-prewarm", initializer=clients.install
        )
        # Renders on threads of their own, as many as may run at once (RenderMissing says why).
        render_pool = ThreadPoolExecutor(
            max(renders, 1), thread_name_prefix="ikstorage-render", initializer=clients.install
        )
        self.steps = steps_for(
            refresh=plan.refresh, renditions=plan.renditions, renders=render_pool
        )
        try:
            self._run(pool)
        finally:
            # The probing threads wait for their renders: they end first.
            render_pool.shutdown(wait=True)

    def _run(self, pool: ThreadPoolExecutor) -> None:
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
        checkpoint = Checkpoint(stream.target, _scope(stream, self.plan))
        if self.plan.restart:
            checkpoint.clear()
            after = None
        else:
            after = checkpoint.load()
        if after is not None:
            self.summary.resumed_after[stream.label] = after
        tracker = self.current = self.track(checkpoint)
        for batch in stream.batches(after, self.plan.batch_size):
            self._check_stop()
            items = select(stream, batch, self.plan, self.steps, self.tally)
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
        self, item: Item, tracker: Tracker, entry: OpenBatch
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
