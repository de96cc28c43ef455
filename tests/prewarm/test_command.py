"""The command's options, its output for people and machines, and ``--enqueue``."""

from __future__ import annotations

import io
import re
from typing import Any

import django
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from ikstorage import CachedStorage
from ikstorage.prewarm import report
from ikstorage.prewarm.plan import Plan, default_workers
from ikstorage.prewarm.shards import Shard
from ikstorage.prewarm.stats import Summary
from tests.prewarm.conftest import prewarm, put_images

NAMES = [f"p/{i:02d}.jpg" for i in range(24)]
#: Runs each task as it is enqueued: the real task, in this process.
IMMEDIATE = {
    "default": {
        "BACKEND": "django.tasks.backends.immediate.ImmediateBackend"
        if django.VERSION >= (6, 0)
        else "django_tasks.backends.immediate.ImmediateBackend"
    }
}


@pytest.fixture
def bucket(cached: CachedStorage, s3: Any) -> CachedStorage:
    put_images(s3, NAMES)
    return cached


def run_text(*args: str) -> tuple[str, str, CommandError | None]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("ikstorage_prewarm", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


def test_summary_for_people(bucket: CachedStorage) -> None:
    out, _, error = run_text("--prefix", "p/", "--progress", "none")
    assert error is None
    head, *rows = out.splitlines()
    assert re.fullmatch(r"24 files in [\d.]+ s \([\d,]+ files/s\), shard 1/1", head)
    table = {row[:21].strip(): row[21:].strip() for row in rows}
    assert table["records written"] == "24"
    assert table["already cached"] == "0"
    assert table["errors"] == "0 (0 not stored)"
    assert table["S3 calls"] == "25 (GetObject 24, ListObjectsV2 1)"
    assert re.fullmatch(r"[\d,]+, [\d.]+ KiB per probe", table["bytes read"])
    assert table["cache round trips"] == "26 (add 24, get 1, get_many 1)"
    dry, _, _ = run_text("--prefix", "p/", "--dry-run", "--progress", "none")
    assert dry.startswith("dry run: 24 files")
    assert "would probe" in dry


def test_plain_progress_lines(bucket: CachedStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "LINE_INTERVAL", 0.001)
    _, err, error = run_text("--prefix", "p/", "--progress", "lines", "--workers", "1")
    assert error is None
    lines = err.splitlines()
    assert lines
    pattern = r"prewarm: [\d,]+ files done, [\d,]+ records written, 0 errors, [\d,]+ files/s"
    assert all(re.fullmatch(pattern, line) for line in lines), lines


def test_progress_bar(bucket: CachedStorage) -> None:
    _, err, error = run_text("--prefix", "p/", "--progress", "bar")
    assert error is None
    assert "24 files" in err
    assert "errors=0" in err


@pytest.mark.django_db
def test_progress_bar_counts_the_rows(bucket: CachedStorage) -> None:
    from tests.testapp.models import Photo

    Photo.objects.bulk_create(Photo(image=name) for name in NAMES)
    _, err, error = run_text("testapp.Photo.image", "--progress", "bar")
    assert error is None
    assert "24/24" in err


def test_auto_progress_is_lines_off_a_terminal(bucket: CachedStorage) -> None:
    assert isinstance(report.progress_for(io.StringIO(), mode="auto"), report.Lines)
    assert isinstance(report.progress_for(io.StringIO(), mode="none"), report.Quiet)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert isinstance(report.progress_for(Terminal(), mode="auto"), report.Bar)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shard", "0/4"], "need 1 <= K <= N"),
        (["--shard", "2"], "expected K/N"),
        (["testapp.Photo.image", "--prefix", "p/"], "name model fields or a prefix, not both"),
        (["--prefix", "p/", "--wait"], "--wait goes with --enqueue"),
        (["--prefix", "p/", "--enqueue", "2", "--shard", "1/2"], "leave out --shard"),
    ],
)
def test_option_errors(cached: CachedStorage, args: list[str], message: str) -> None:
    _, _, error = run_text(*args)
    assert error is not None
    assert message in str(error)


@pytest.mark.parametrize(
    "args", [["--workers", "0"], ["--batch-size", "-1"], ["--refresh", "--only-missing"]]
)
def test_argument_errors(cached: CachedStorage, args: list[str]) -> None:
    with pytest.raises(CommandError, match=r"argument|not allowed"):
        call_command("ikstorage_prewarm", "--prefix", "p/", *args)


def test_plan_round_trips_as_json() -> None:
    plan = Plan(fields=("a.B.c",), shard=Shard(3, 8), refresh=True, workers=5, batch_size=7)
    assert Plan.from_json(plan.to_json()) == plan
    assert Plan().workers == default_workers() <= 32


def test_enqueue_runs_every_shard_on_the_task_backend(bucket: CachedStorage) -> None:
    """The ImmediateBackend runs each task as it is enqueued: the real task, in process."""
    with override_settings(TASKS=IMMEDIATE):
        run = prewarm("--prefix", "p/", "--enqueue", "4", "--wait")
    assert run.returncode == 0, run.stderr
    assert run["shard"] == "1/4,2/4,3/4,4/4"
    # Each shard lists the prefix once; together they probe every image once.
    assert run["s3"] == {"ListObjectsV2": 4, "GetObject": 24}
    assert run["records_written"] == run["files_seen"] == 24
    assert set(bucket.core.cached_records(NAMES)) == set(NAMES)


def test_enqueue_without_wait_prints_the_ids(bucket: CachedStorage) -> None:
    with override_settings(TASKS=IMMEDIATE):
        run = prewarm("--prefix", "p/", "--enqueue", "3")
    assert run.returncode == 0
    assert len(run["enqueued"]) == 3


def test_combined_summary() -> None:
    one = Summary(shard="1/2", sources=["a"], dry_run=False, refresh=False, files_seen=3)
    one.s3, one.elapsed_s, one.errors = {"GetObject": 3}, 2.0, 1
    one.error_samples = [{"name": "x", "reason": "y"}]
    two = Summary(shard="2/2", sources=["a"], dry_run=False, refresh=False, files_seen=5)
    two.s3, two.elapsed_s, two.resumed_after = {"GetObject": 4, "ListObjectsV2": 1}, 4.0, {"a": "k"}
    total = Summary.combine([one.as_dict(), two.as_dict()])
    assert total["shard"] == "1/2,2/2"
    assert total["files_seen"] == 8
    assert total["s3"] == {"GetObject": 7, "ListObjectsV2": 1}
    assert total["errors"] == 1
    assert total["error_samples"] == [{"name": "x", "reason": "y"}]
    assert total["elapsed_s"] == 4.0
    assert total["files_per_second"] == 2.0
    assert total["resumed_after"] == {"a (shard 2/2)": "k"}
    assert report.text(total).startswith("8 files in 4.0 s (2 files/s), shard 1/2,2/2")


def run_as_own_process(*args: str) -> tuple[int, str, str]:
    """The command as ``manage.py ikstorage_prewarm`` runs it (``run_from_argv``)."""
    from ikstorage.management.commands.ikstorage_prewarm import Command

    out, err = io.StringIO(), io.StringIO()
    command = Command(stdout=out, stderr=err)
    try:
        command.run_from_argv(["manage.py", "ikstorage_prewarm", *args])
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_a_process_local_cache_is_refused_when_run_as_its_own_process(
    bucket: CachedStorage,
) -> None:
    # The suite's cache is LocMemCache: the records would die with the command.
    code, out, err = run_as_own_process("--prefix", "p/", "--progress", "none")
    assert code == 1
    assert out == ""
    # The system checks ran first and said why (W001), then the refusal.
    assert "(ikstorage.W001) The cache 'default' is process-local memory." in err
    assert "\nCommandError: prefix:default:p/: the cache 'default' is process-local memory" in err
    assert "gone when it exits" in err
    assert bucket.core.cached_records(NAMES) == {}  # nothing was written
    # A dry run writes nothing, so it may look at what a run would do.
    code, out, _ = run_as_own_process("--prefix", "p/", "--progress", "none", "--dry-run")
    assert code == 0
    assert out.startswith("dry run: 24 files")
    # In this process (call_command, as here) the records outlive the command.
    assert prewarm("--prefix", "p/")["records_written"] == 24


def test_enqueue_into_a_process_local_cache_is_refused_too(bucket: CachedStorage) -> None:
    with override_settings(TASKS=IMMEDIATE):
        code, out, err = run_as_own_process(
            "--prefix", "p/", "--enqueue", "2", "--wait", "--skip-checks"
        )
    assert code == 1
    assert out == ""
    assert err.startswith("CommandError: prefix:default:p/: the cache 'default' is process-local")
    assert bucket.core.cached_records(NAMES) == {}
