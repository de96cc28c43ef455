"""Real processes: shards run by a task worker, Ctrl-C, and a page in a new process.

Every process here shares only what a deployment shares: an SQLite file (the
task queue), a file cache (the records) and S3 (moto over HTTP). The test
starts django-tasks-db's worker (``db_worker``) itself.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.child import run_module
from tests.images import image_bytes
from tests.s3_settings import s3_alias

pytestmark = [pytest.mark.server, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
IMAGES = [f"g/{i:02d}.jpg" for i in range(30)]
DOCS = [f"g/docs/{i}.txt" for i in range(6)]
PAGE = (
    "{% for p in photos %}<img src='{{ p.image.url }}' width='{{ p.image.width }}' "
    "height='{{ p.image.height }}' data-bytes='{{ p.image.size }}'>{% endfor %}"
)


def environment(config: dict[str, Any]) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "IKSTORAGE_PREWARM_TEST": json.dumps(config)}
    env["DJANGO_SETTINGS_MODULE"] = "tests.prewarm.subprocess_settings"
    return env


def manage(
    config: dict[str, Any], *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "django", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment(config),
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


def test_enqueued_shards_run_on_a_worker_and_the_page_is_warm(
    shared: dict[str, Any], tmp_path: Path
) -> None:
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "django", "db_worker", "--interval", "0.1", "--no-startup-delay"],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        env=environment(shared),
    )
    try:
        done = manage(
            shared, "ikstorage_prewarm", "--prefix", "g/", "--enqueue", "3", "--wait", "--json"
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        log.close()
    summary = json.loads(done.stdout)
    assert summary["shard"] == "1/3,2/3,3/3"
    # Each shard listed the prefix once; together they read each image once, and
    # took the text files' records from the listings.
    assert summary["s3"] == {"ListObjectsV2": 3, "GetObject": 30}
    assert summary["probed"] == 30
    assert summary["from_listing"] == 6
    assert summary["records_written"] == summary["files_seen"] == 36
    assert summary["errors"] == 0
    # The worker ran them (its log format differs between django.tasks and the
    # backport; the database says it the same way): three results, each claimed by
    # the worker process and successful.
    with closing(sqlite3.connect(shared["database"])) as db:
        rows = db.execute(
            "SELECT task_path, status, worker_ids FROM django_tasks_database_dbtaskresult"
        ).fetchall()
    worker_log = (tmp_path / "worker.log").read_text()
    assert len(rows) == 3, worker_log
    for task_path, status, worker_ids in rows:
        assert task_path == "ikstorage.prewarm.tasks.prewarm_shard"
        assert status == "SUCCESSFUL"
        assert len(json.loads(worker_ids)) == 1

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


def test_ctrl_c_then_rerun(shared: dict[str, Any], moto_server: str) -> None:
    client = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")
    names = [f"slow/{i:02d}.jpg" for i in range(60)]
    for name in names:
        client.put_object(Bucket="media", Key=name, Body=image_bytes((12, 8)))
    slow = {**shared, "latency_ms": 40}
    args = ["ikstorage_prewarm", "--prefix", "slow/", "--workers", "2", "--batch-size", "5"]
    process = subprocess.Popen(
        [sys.executable, "-m", "django", *args, "--json", "--progress", "none"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=environment(slow),
    )
    try:
        # Interrupt once a few records are in the cache (each is a file there).
        cache = Path(shared["cache"])
        deadline = time.monotonic() + 60
        while len(list(cache.glob("*.djcache"))) < 8:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.01)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, err
    assert "Interrupted: what was written is kept" in err
    first = json.loads(out)
    assert first["interrupted"] is True
    written = first["records_written"]
    assert 5 <= written < 60

    rerun = manage(shared, *args, "--json", "--progress", "none")
    second = json.loads(rerun.stdout)
    (position,) = second["resumed_after"].values()
    done = names.index(position) + 1
    assert done % 5 == 0
    assert done <= written
    assert second["s3"] == {
        "ListObjectsV2": math.ceil((60 - done) / 5),
        "GetObject": 60 - written,
    }
    assert second["records_written"] == 60 - written
