"""Runs a plan: batches from the sources, names to worker threads, totals and checkpoints.

The main thread reads the sources a batch at a time (a query or a listing
page), drops names of other shards, asks the cache in one ``get_many`` which
names it already holds (:mod:`ikstorage.prewarm.selection`), and hands the
rest to a pool of threads (:mod:`ikstorage.prewarm.workers`); each thread
runs the steps for a name (:mod:`ikstorage.prewarm.steps`). This module
holds the run's outline: the sources, the counting, the summary.

A file that fails is reported with its name and reason and the run goes on.
Ctrl-C stops handing out names, lets the calls in flight finish (each is one
request), saves the checkpoint (:mod:`ikstorage.prewarm.position`) and
returns with ``interrupted`` set: what was written stays written, and a rerun
continues from there. The first Ctrl-C is noticed between names
(:mod:`ikstorage.prewarm.interrupt` says why); a second one raises at once.
"""

from __future__ import annotations

import threading
import time
from functools import partial

from ikstorage.metrics import count_calls
from ikstorage.prewarm.interrupt import first_ctrl_c_sets
from ikstorage.prewarm.listing import prefix_stream
from ikstorage.prewarm.plan import Plan
from ikstorage.prewarm.position import Tracker
from ikstorage.prewarm.report import Progress, Silent
from ikstorage.prewarm.selection import dry_run
from ikstorage.prewarm.sources import Stream, named_storage, resolve_fields
from ikstorage.prewarm.stats import Summary, Tally
from ikstorage.prewarm.workers import ABORT_AFTER, POLL, Aborted, Fill, Stopped

# ABORT_AFTER and POLL are the workers' (read there); they are named here too,
# with the run's other limits.
__all__ = ["ABORT_AFTER", "CHECKPOINT_INTERVAL", "POLL", "run", "streams_for"]

#: Seconds between two saves of the checkpoint while a run goes on (it is saved
#: too when the run stops): a run killed outright (SIGKILL, a lost machine) is
#: resumed from at most this long before, and a run shorter than this writes no
#: checkpoint at all, so a small prewarm pays one cache read for it.
CHECKPOINT_INTERVAL = 10.0

#: The tracker of one source's checkpoint, saving every ``CHECKPOINT_INTERVAL``
#: seconds as this module says at the time of each look.
_Tracker = partial(Tracker, interval=lambda: CHECKPOINT_INTERVAL)


def streams_for(plan: Plan) -> list[Stream]:
    """The sources a plan names (raises ``SourceError`` for a bad label or alias)."""
    if plan.prefix is not None:
        return [prefix_stream(named_storage(plan.storage), plan.prefix, plan.storage)]
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
                dry_run(plan, streams, tally)
            else:
                stop = threading.Event()
                with first_ctrl_c_sets(stop):
                    Fill(plan, streams, tally, progress, summary, stop, _Tracker).run()
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
        "would_render",
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
