"""A rolling deploy: two processes with different specs over one bucket and one Redis.

The old code declares ``thumb`` (200x150) and ``large``; the new code
``thumb`` declared differently (100x100) and ``square``. They render their
pages in turns, three rounds each (:mod:`.deploy_pages`), each view served
as by a worker with nothing in memory yet. After the first
round, where each renders what it lacks, neither renders nor deletes
anything again. Then ``ikstorage_prune``, run with the new configuration,
removes exactly the old code's renditions, and the new code's page still
costs no S3 call.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.renditions_storage.helpers import SOURCE, listing, reset_moto
from tests.s3_settings import s3_alias
from tests.servers import Server

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["legacy/a.jpg", "legacy/b.jpg", "legacy/c.jpg"]
OLD = {"thumb": {"fill": [200, 150], "format": "webp"}, "large": {"fit": [800, 800]}}
NEW = {"thumb": {"fill": [100, 100], "format": "webp"}, "square": {"fill": [300, 300]}}
ROUNDS = 3


def run(configs: list[dict[str, Any]]) -> list[Any]:
    """Start one process per config at once; their JSON lines, in order."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")])}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.renditions_storage.deploy_pages", json.dumps(config)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for config in configs
    ]
    results = []
    try:
        for process in started:
            out, err = process.communicate(timeout=60)
            assert process.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
            process.wait()
    return results


def calls(view: dict[str, Any]) -> dict[str, int]:
    """What a page view cost in S3: downloads, renditions written, delete calls."""
    s3 = view["s3"]
    return {op: s3.get(op, 0) for op in ("GetObject", "PutObject", "DeleteObjects")}


@pytest.mark.server
@pytest.mark.redis
@pytest.mark.slow
def test_two_spec_sets_converge_and_prune_removes_the_old_ones(
    moto_server: str, redis_server: Server, tmp_path: Path
) -> None:
    reset_moto(moto_server)
    client = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")
    client.create_bucket(Bucket="media")
    for name in NAMES:
        client.put_object(Bucket="media", Key=name, Body=SOURCE)

    def config(specs: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "cache": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{redis_server.port}/0",
            },
            "storages": {
                "s3": s3_alias(moto_server),
                "default": {
                    "BACKEND": "ikstorage.CachedStorage",
                    "OPTIONS": {"storage": "s3", "specs": specs},
                },
            },
            "names": NAMES,
            "specs": list(specs),
            "folder": str(tmp_path),
            "rounds": ROUNDS,
            **extra,
        }

    old, new = run([config(OLD, mode="pages", me=0), config(NEW, mode="pages", me=1)])
    per_round = [(calls(o), calls(n)) for o, n in zip(old, new, strict=True)]
    # Round 1: the old code probes each source with one GET that reads on through it
    # and writes its 2 renditions of each; the new code finds the records in Redis,
    # downloads each source once and writes its own 2 of each. Nothing is deleted.
    assert per_round == [
        (
            {"GetObject": 3, "PutObject": 6, "DeleteObjects": 0},
            {"GetObject": 3, "PutObject": 6, "DeleteObjects": 0},
        ),
        *[({"GetObject": 0, "PutObject": 0, "DeleteObjects": 0},) * 2] * (ROUNDS - 1),
    ]
    assert [o["s3"] for o in old[1:]] == [n["s3"] for n in new[1:]] == [{}] * (ROUNDS - 1)
    assert [v["broken"] for v in [*old, *new]] == [[]] * (2 * ROUNDS)  # no image ever missing
    # Each shows its own thumbnail, whose spec has the same name on both sides.
    widths = {"old": {w for o in old for _, w in o["shown"]}, "new": set()}
    widths["new"] = {w for n in new for _, w in n["shown"]}
    assert widths == {"old": {"200", "800"}, "new": {"100", "300"}}
    assert len(listing(client)) == len(NAMES) * 5  # each source and its 4 renditions

    (pruned,) = run([config(NEW, mode="prune")])
    dry, done = pruned["dry_run"], pruned["delete"]
    assert dry["s3"] == {"ListObjectsV2": 1}
    assert (dry["with_undeclared"], dry["renditions"], dry["removed"]) == (3, 6, 0)
    assert done["s3"] == {"ListObjectsV2": 1, "DeleteObjects": 1}
    assert (done["renditions"], done["removed"]) == (6, 6)
    assert sorted(done["by_spec"].values()) == [3, 3]
    assert all(spec.startswith(("large ", "thumb ")) for spec in done["by_spec"])
    # Left: the sources and the new code's renditions, which its page shows at no S3 cost.
    left = listing(client)
    assert len(left) == len(NAMES) * 3
    assert not any(".large." in key for key in left)
    assert (pruned["page"]["s3"], pruned["page"]["broken"]) == ({}, [])
    shown = {url.rsplit("/", 1)[-1] for url, _ in pruned["page"]["shown"]}
    assert shown == {key.rsplit("/", 1)[-1] for key in left if key.startswith("renditions/")}
