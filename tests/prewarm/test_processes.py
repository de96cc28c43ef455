"""Real processes: shards run by task workers, Ctrl-C, and a page in a new process.

Every process here shares only what a deployment shares: the task queue (an
SQLite file for django-tasks-db, Redis for RQ), a file cache (the records) and
S3 (moto over HTTP). The test starts the engine's workers itself
(:mod:`tests.task_engines`).
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import boto3
import pytest

from tests.child import pythonpath, run_module
from tests.images import image_bytes
from tests.s3_settings import s3_alias
from tests.task_engines import Engine, worker_logs, workers

pytestmark = [pytest.mark.server, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
IMAGES = [f"g/{i:02d}.jpg" for i in range(30)]
DOCS = [f"g/docs/{i}.txt" for i in range(6)]
PAGE = (
    "{% for p in photos %}<img src='{{ p.image.url }}' width='{{ p.image.width }}' "
    "height='{{ p.image.height }}' data-bytes='{{ p.image.size }}'>{% endfor %}"
)


def environment(config: dict[str, Any], engine: Engine | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": pythonpath(), "IKSTORAGE_PREWARM_TEST": json.dumps(config)}
    env["DJANGO_SETTINGS_MODULE"] = "tests.prewarm.subprocess_settings"
    return {**env, **(engine.environ() if engine else {})}


def line_within(stream: IO[str], seconds: float) -> str:
    """The next line of a child's output, or ``""`` if none came in ``seconds``."""
    if not select.select([stream], [], [], seconds)[0]:
        return ""
    return stream.readline()


def manage(
    config: dict[str, Any], *args: str, check: bool = True, engine: Engine | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "django", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment(config, engine),
        timeout=180,
        check=False,
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


@pytest.fixture
def shared(moto_server: str, tmp_path: Path) -> dict[str, Any]:
    """A bucket with 30 images and 6 text files, a migrated SQLite file, an empty file cache."""
    client = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")
    client.create_bucket(Bucket="media")
    for i, name in enumerate(IMAGES):
        client.put_object(Bucket="media", Key=name, Body=image_bytes((20 + i, 10)))
    for name in DOCS:
        client.put_object(Bucket="media", Key=name, Body=b"doc")
    config = {
        "endpoint": moto_server,
        "database": str(tmp_path / "db.sqlite3"),
        "cache": str(tmp_path / "cache"),
    }
    manage(config, "migrate", "--run-syncdb", "-v", "0")
    return config


def test_enqueued_shards_run_on_the_workers_and_the_page_is_warm(
    shared: dict[str, Any], task_engine: Engine, tmp_path: Path
) -> None:
    with workers(task_engine, environment(shared), tmp_path) as names:
        task_engine.wait_for_workers(names)
        done = manage(
            shared,
            *("ikstorage_prewarm", "--prefix", "g/", "--enqueue", "3", "--wait", "--json"),
            engine=task_engine,
        )
    summary = json.loads(done.stdout)
    assert summary["shard"] == "1/3,2/3,3/3"
    # Each shard listed the prefix once; together they read each image once, and
    # took the text files' records from the listings.
    assert summary["s3"] == {"ListObjectsV2": 3, "GetObject": 30}
    assert summary["probed"] == 30
    assert summary["from_listing"] == 6
    assert summary["records_written"] == summary["files_seen"] == 36
    assert summary["errors"] == 0
    # The workers ran them, as the engine's own store says: three results, each
    # claimed by one of the test's workers and successful; with two workers
    # listening when the shards came, each worker ran at least one.
    outcomes = task_engine.outcomes(Path(shared["database"]))
    assert len(outcomes) == 3, worker_logs(tmp_path)
    for outcome in outcomes.values():
        assert outcome.task_path == "ikstorage.prewarm.tasks.prewarm_shard"
        assert outcome.status == "SUCCESSFUL"
        assert len(outcome.worker_ids) == 1
    ran_on = {w for outcome in outcomes.values() for w in outcome.worker_ids}
    assert ran_on == set(names), worker_logs(tmp_path)

    # A shard rerun is idempotent: everything is cached, only the listing is paid.
    again = manage(shared, "ikstorage_prewarm", "--prefix", "g/", "--json", "--progress", "none")
    assert json.loads(again.stdout)["s3"] == {"ListObjectsV2": 1}

    # A brand-new process renders the page from the file cache: no S3 call at all.
    result = run_module(
        "tests.scripts.render_page",
        json.dumps(
            {
                "cache": {
                    "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                    "LOCATION": shared["cache"],
                },
                "storages": {
                    "s3": s3_alias(shared["endpoint"]),
                    "default": {
                        "BACKEND": "ikstorage.CachedStorage",
                        "OPTIONS": {"storage": "s3"},
                    },
                },
                "names": IMAGES,
                "template": PAGE,
            }
        ),
        env={k: v for k, v in environment(shared).items() if k != "DJANGO_SETTINGS_MODULE"},
    )
    assert result["first"]["s3"] == {}
    assert result["second"]["s3"] == {}


def test_ctrl_c_then_rerun(shared: dict[str, Any], moto_server: str, tmp_path: Path) -> None:
    client = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")
    names = [f"slow/{i:02d}.jpg" for i in range(60)]
    for name in names:
        client.put_object(Bucket="media", Key=name, Body=image_bytes((12, 8)))
    # Ten images are done, both workers are inside the probe of the 11th and 12th, and
    # the main thread has listed a fifth page and waits for room to hand out more.
    hold = {"after": 10, "ready": {"GetObject": 12, "ListObjectsV2": 5}, "dir": str(tmp_path)}
    args = ["ikstorage_prewarm", "--prefix", "slow/", "--workers", "2", "--batch-size", "5"]
    # The with block closes the pipes even when the test fails: a failure here
    # must not leave open files for the next test's garbage collection to report.
    with subprocess.Popen(
        [sys.executable, "-m", "django", *args, "--json", "--progress", "none"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=environment({**shared, "hold": hold}),
    ) as process:
        assert process.stderr is not None
        try:
            deadline = time.monotonic() + 60
            while not (tmp_path / "ready").exists():
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline
                time.sleep(0.01)
            process.send_signal(signal.SIGINT)
            # The first Ctrl-C is a request: the two probes in flight finish first.
            assert line_within(process.stderr, 30) == (
                "Stopping: 2 files in progress finish first and the position is kept; "
                "press Ctrl-C again to stop at once.\n"
            )
            (tmp_path / "release").touch()
            out, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 130, err
    assert err == (
        "CommandError: Interrupted: what was written is kept; "
        "run the same command again to continue.\n"
    )
    first = json.loads(out)
    assert first["interrupted"] is True
    assert first["s3"] == {"ListObjectsV2": 5, "GetObject": 12}
    assert first["records_written"] == 12

    # Pages one and two are done; page three finished two of its names, so the rerun
    # lists from the end of page two and probes only the names not cached.
    rerun = manage(shared, *args, "--json", "--progress", "none")
    second = json.loads(rerun.stdout)
    assert list(second["resumed_after"].values()) == ["slow/09.jpg"]
    assert second["s3"] == {"ListObjectsV2": 10, "GetObject": 48}
    assert second["already_cached"] == 2
    assert second["records_written"] == 48
