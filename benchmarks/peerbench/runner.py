"""Run every contender: one moto S3 server, a process per contender, a new process after it.

The S3 server is moto's, over HTTP on a free loopback port, in this process's
threads; each contender's processes are this interpreter running
:mod:`benchmarks.peerbench.child`, one at a time, so no two compete for the
CPU. Each contender gets a bucket, a database and a file cache of its own.

The ``new process`` phase is run again (up to ``new_processes`` times in
all, best time kept) when its render made no S3 call: its time is then all
CPU, which a busy machine disturbs; a render that calls S3 spends its time in
the latency model and is run once. Every run of it must count the same calls.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.peerbench.contenders import REGION, Contender, bucket

ROOT = Path(__file__).resolve().parents[2]
#: What every run of the new-process phase must agree on.
COUNTED = ("s3", "cache", "queries", "ik_round_trips", "html_sha256")


class ContenderFailed(RuntimeError):
    """A contender's process failed, or its pages disagree: no number to report."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def s3_server() -> Iterator[str]:
    """moto's S3 over HTTP; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def client(endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def child_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    env["AWS_DEFAULT_REGION"] = REGION
    return env


def run_child(process: str, contender: Contender, out: Path, options: list[str]) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.peerbench.child", process]
    command += ["--contender", contender.slug, "--out", str(out), *options]
    done = subprocess.run(
        command, cwd=ROOT, env=child_env(), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise ContenderFailed(
            f"{contender.slug} ({process} process) exited {done.returncode}:\n{done.stderr[-4000:]}"
        )
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def run(
    contender: Contender,
    *,
    endpoint: str,
    workdir: Path,
    photos: Path,
    images: int,
    latency_ms: float,
    repeats: int,
    new_processes: int,
) -> dict[str, Any]:
    """Every phase of one contender, with what it left in its cache and bucket."""
    home = workdir / contender.slug
    home.mkdir(parents=True)
    s3 = client(endpoint)
    s3.create_bucket(Bucket=bucket(contender))
    options = ["--endpoint", endpoint, "--workdir", str(home), "--photos", str(photos)]
    options += ["--images", str(images), "--latency-ms", str(latency_ms)]
    options += ["--repeats", str(repeats)]
    phases = run_child("first", contender, home / "first.json", options)
    runs = [run_child("new", contender, home / "new-1.json", options)["new_process"]]
    while runs[0]["s3"] == {} and len(runs) < new_processes:
        out = home / f"new-{len(runs) + 1}.json"
        runs.append(run_child("new", contender, out, options)["new_process"])
    for other in runs[1:]:
        differs = [key for key in COUNTED if other[key] != runs[0][key]]
        if differs:
            raise ContenderFailed(f"{contender.slug}: new processes disagree on {differs}")
    phases["new_process"] = {**runs[0], "seconds": [run["seconds"][0] for run in runs]}
    pages = {name: phases[name]["html_sha256"] for name in ("cold", "warm", "new_process")}
    if len(set(pages.values())) != 1:
        raise ContenderFailed(f"{contender.slug}: the page differs between phases {pages}")
    listed = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket(contender))
    return {
        **phases,
        "cache_entries": sum(1 for _ in (home / "cache").rglob("*.djcache")),
        "objects": sum(page.get("KeyCount", 0) for page in listed),
    }
