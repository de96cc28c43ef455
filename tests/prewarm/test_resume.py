"""Ctrl-C keeps what was written, and a rerun continues where the run stopped."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from typing import Any

import pytest

from ikstorage import CachedStorage
from ikstorage import cache as ik_cache
from ikstorage.prewarm import runner
from ikstorage.prewarm.checkpoint import Checkpoint
from ikstorage.prewarm.listing import prefix_stream
from ikstorage.prewarm.plan import Plan
from ikstorage.prewarm.sources import Batch, Stream, resolve_fields
from ikstorage.profiler import count_calls
from tests.prewarm.conftest import prewarm, put_images

NAMES = [f"p/{i:02d}.jpg" for i in range(50)]
BATCH = 10


class Interrupting:
    """A stream that hits Ctrl-C when asked for batch ``at`` (0-based).

    Before that it waits until the first batch's records are written, so the
    interrupted run has a position to save.
    """

    def __init__(self, stream: Stream, at: int) -> None:
        self.stream, self.at = stream, at
        self.label, self.target = stream.label, stream.target

    def total(self) -> int | None:
        return None

    def batches(self, after: str | None, size: int) -> Iterator[Batch]:
        first: list[str] = []
        for i, batch in enumerate(self.stream.batches(after, size)):
            if i == self.at:
                deadline = time.monotonic() + 10
                while len(self.target.cached_records(first)) < len(first):
                    assert time.monotonic() < deadline, "the first batch never finished"
                    time.sleep(0.01)
                raise KeyboardInterrupt
            first = first or batch.names
            yield batch


@pytest.fixture
def bucket(cached: CachedStorage, s3: Any) -> CachedStorage:
    put_images(s3, NAMES)
    return cached


def interrupted_run(storage: CachedStorage, plan: Plan) -> tuple[int, str]:
    """Run ``plan`` until Ctrl-C at the fourth batch; (records written, checkpoint)."""
    stream = Interrupting(prefix_stream(storage.core, "p/", "default"), at=3)
    summary = runner.run(plan, streams=[stream])
    assert summary.interrupted
    assert summary.errors == 0
    # The checkpoint: looked for once, saved once (when the run stopped; it was shorter
    # than CHECKPOINT_INTERVAL), and counted with the run's other round trips.
    assert summary.cache_round_trips["get"] == 1
    assert summary.cache_round_trips["set"] == 1
    written = set(storage.core.cached_records(NAMES))
    assert summary.records_written == len(written)
    position = Checkpoint(
        storage.core, f"{stream.label}|shard=1/1|{'refresh' if plan.refresh else 'fill'}"
    ).load()
    assert position is not None
    done = NAMES.index(position) + 1
    # Every name up to the checkpoint is written; none after the third batch was handed out.
    assert set(NAMES[:done]) <= written <= set(NAMES[: 3 * BATCH])
    assert done % BATCH == 0
    return len(written), position


def test_rerun_continues_after_ctrl_c(bucket: CachedStorage) -> None:
    plan = Plan(prefix="p/", workers=1, batch_size=BATCH)
    written, position = interrupted_run(bucket, plan)
    done = NAMES.index(position) + 1
    ik_cache.clear_local()
    with count_calls() as calls:
        rerun = runner.run(plan)
    assert rerun.resumed_after == {"prefix:default:p/": position}
    # Only the pages after the checkpoint are listed, only the names not written probed.
    assert calls.s3 == {
        "ListObjectsV2": math.ceil((50 - done) / BATCH),
        "GetObject": 50 - written,
    }
    assert rerun.files_seen == 50 - done
    assert rerun.already_cached == written - done
    assert set(bucket.core.cached_records(NAMES)) == set(NAMES)
    # The source completed: its checkpoint is gone and the next run walks it all.
    again = runner.run(plan)
    assert again.resumed_after == {}
    assert again.s3 == {"ListObjectsV2": 5}


def test_restart_ignores_the_checkpoint(bucket: CachedStorage) -> None:
    plan = Plan(prefix="p/", workers=1, batch_size=BATCH)
    written, _ = interrupted_run(bucket, plan)
    ik_cache.clear_local()
    rerun = runner.run(Plan(prefix="p/", workers=1, batch_size=BATCH, restart=True))
    assert rerun.resumed_after == {}
    assert rerun.s3 == {"ListObjectsV2": 5, "GetObject": 50 - written}


def test_refresh_resumes_without_rereading(bucket: CachedStorage) -> None:
    plan = Plan(prefix="p/", workers=1, batch_size=BATCH, refresh=True)
    _, position = interrupted_run(bucket, plan)
    done = NAMES.index(position) + 1
    rerun = runner.run(plan)
    assert rerun.resumed_after == {"prefix:default:p/": position}
    assert rerun.s3 == {"ListObjectsV2": math.ceil((50 - done) / BATCH), "GetObject": 50 - done}
    # A fill's checkpoint is another one: it was never written.
    assert runner.run(Plan(prefix="p/", batch_size=BATCH)).resumed_after == {}


@pytest.mark.django_db
def test_model_source_resumes_by_primary_key(bucket: CachedStorage) -> None:
    from tests.testapp.models import Photo

    Photo.objects.bulk_create(Photo(image=name) for name in NAMES)
    pks = list(Photo.objects.order_by("pk").values_list("pk", flat=True))
    plan = Plan(fields=("testapp.Photo.image",), workers=1, batch_size=BATCH)
    (stream,) = resolve_fields(plan.fields)
    first = runner.run(plan, streams=[Interrupting(stream, at=3)])
    assert first.interrupted
    written = len(bucket.core.cached_records(NAMES))
    rerun = runner.run(plan)
    (position,) = rerun.resumed_after.values()
    done = pks.index(json.loads(position)) + 1
    assert done % BATCH == 0
    assert done >= BATCH
    assert rerun.files_seen == 50 - done
    assert rerun.s3 == {"GetObject": 50 - written}


def test_command_exits_130_and_keeps_the_records(
    bucket: CachedStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = runner.streams_for
    monkeypatch.setattr(runner, "streams_for", lambda plan: [Interrupting(real(plan)[0], at=2)])
    run = prewarm("--prefix", "p/", "--batch-size", "10", "--workers", "2")
    assert run.returncode == 130
    assert "Interrupted: what was written is kept" in str(run.error)
    assert run["interrupted"] is True
    assert run["records_written"] == len(bucket.core.cached_records(NAMES)) >= BATCH
    monkeypatch.setattr(runner, "streams_for", real)
    ik_cache.clear_local()
    rerun = prewarm("--prefix", "p/", "--batch-size", "10")
    assert rerun.returncode == 0
    assert rerun["records_written"] == 50 - run["records_written"]


def test_the_checkpoint_is_saved_every_interval_and_when_the_run_stops(
    bucket: CachedStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkpoint = Checkpoint(bucket.core, "cadence")
    with count_calls() as calls:
        assert checkpoint.load() is None
        checkpoint.clear()  # none found, none saved: nothing to delete
    assert calls.round_trips == {"get": 1}

    tracker = runner._Tracker(checkpoint)
    first, second = tracker.add("p/09.jpg", 1), tracker.add("p/19.jpg", 1)
    tracker.finish(first, complete=True)
    with count_calls() as calls:
        tracker.advance()  # within CHECKPOINT_INTERVAL of the start: not due
        assert checkpoint.load() is None
        tracker.advance(stopping=True)
        assert checkpoint.load() == "p/09.jpg"
    assert calls.round_trips == {"get": 2, "set": 1}

    monkeypatch.setattr(runner, "CHECKPOINT_INTERVAL", 0.0)
    tracker.finish(second, complete=True)
    with count_calls() as calls:
        tracker.advance()
        tracker.advance()  # the same position again: no write
        checkpoint.clear()
        assert checkpoint.load() is None
    assert calls.round_trips == {"set": 1, "delete_many": 1, "get": 1}


def test_a_checkpoint_not_looked_at_in_an_outage_is_still_deleted(bucket: CachedStorage) -> None:
    earlier = Checkpoint(bucket.core, "outage")
    earlier.save("p/09.jpg")
    checkpoint = Checkpoint(bucket.core, "outage")
    # The cache is down when the run starts (the breaker holds: no call is made)...
    checkpoint.cache._health.down_until = time.monotonic() + 60
    with count_calls() as calls:
        assert checkpoint.load() is None
    assert calls.round_trips == {}
    # ...and back when the source is finished: the old position must not outlive it.
    ik_cache.clear_local()
    with count_calls() as calls:
        checkpoint.clear()
    assert calls.round_trips == {"delete_many": 1}
    assert Checkpoint(bucket.core, "outage").load() is None
