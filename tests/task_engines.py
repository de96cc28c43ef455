"""The task engines the worker tests run on, their worker processes, and what they report.

``ikstorage_prewarm --enqueue`` and ``render="defer"`` only use Django's Tasks
API, so the same tests run on two engines with different machinery:

- ``django-tasks-db``: the queue is a table in the database, claimed with row
  locks by one ``db_worker`` process;
- ``rq``: the queue is a Redis list (``django-tasks-rq`` over ``django-rq``), taken
  by two ``rqworker`` processes, each running a task in a process it forks, so
  results come back pickled through Redis and two workers can run duplicates of
  one task at the same moment.

The RQ engine uses a Redis server of its own on a free port (the machine's Redis
may be shared). Where ``redis-server`` or ``django-tasks-rq`` is missing, or the
server does not answer, the RQ tests skip with the reason, and fail in CI
(:func:`tests.servers.unavailable`). Worker processes are stopped when the
test ends, pass or fail, and the test fails if any of them, or a task process
they forked, is still running after.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.child import ROOT, pythonpath
from tests.servers import Server, free_port, unavailable
from tests.task_settings import ENGINE_ENV

#: RQ's job states in the Tasks framework's words.
RQ_STATUS = {
    "finished": "SUCCESSFUL",
    "failed": "FAILED",
    "stopped": "FAILED",
    "canceled": "FAILED",
    "started": "RUNNING",
}


@dataclass(frozen=True)
class Outcome:
    """One task as its engine recorded it."""

    task_path: str
    status: str  # TaskResultStatus names: READY, RUNNING, SUCCESSFUL, FAILED
    return_value: Any
    worker_ids: list[str]

    @property
    def finished(self) -> bool:
        return self.status in ("SUCCESSFUL", "FAILED")


@dataclass(frozen=True)
class Engine:
    """A task engine: ``db`` (django-tasks-db) or ``rq`` (django-tasks-rq on ``redis``)."""

    name: str
    redis: str | None = None

    @property
    def workers(self) -> int:
        """How many worker processes a test starts: RQ's two race for the same queue."""
        return 2 if self.name == "rq" else 1

    def environ(self) -> dict[str, str]:
        """The environment variable that gives every process this engine's settings."""
        return {ENGINE_ENV: json.dumps({"engine": self.name, "redis": self.redis})}

    def worker_command(self, name: str) -> list[str]:
        """``manage.py`` arguments of one worker process named ``name``."""
        if self.name == "rq":
            return ["rqworker", "--job-class", "django_tasks_rq.Job", "--name", name, "default"]
        return [
            "db_worker",
            "--interval=0.05",
            "--no-startup-delay",
            "--no-reload",
            f"--worker-id={name}",
        ]

    def outcomes(self, database: Path, ids: list[str] | None = None) -> dict[str, Outcome]:
        """The tasks the engine holds (those of ``ids``, or all), by id.

        Read from the engine's own store (the SQLite table, or RQ's jobs in Redis),
        not through the process under test. ``database`` is the SQLite file the
        ``db`` engine queues in.
        """
        if self.name == "rq":
            return self._rq_outcomes(ids)
        with closing(sqlite3.connect(database)) as db:
            rows = db.execute(
                "SELECT id, task_path, status, return_value, worker_ids "
                "FROM django_tasks_database_dbtaskresult"
            ).fetchall()
        found = {
            str(row[0]).replace("-", ""): Outcome(
                row[1], row[2], json.loads(row[3] or "null"), json.loads(row[4] or "[]")
            )
            for row in rows
        }
        if ids is None:
            return found
        return {i: found[i.replace("-", "")] for i in ids if i.replace("-", "") in found}

    def _rq_outcomes(self, ids: list[str] | None) -> dict[str, Outcome]:
        from redis import Redis
        from rq.job import Job
        from rq.queue import Queue

        assert self.redis is not None
        with closing(Redis.from_url(self.redis)) as connection:
            if ids is None:
                queue = Queue("default", connection=connection)
                registries = (
                    queue.started_job_registry,
                    queue.finished_job_registry,
                    queue.failed_job_registry,
                )
                ids = queue.get_job_ids() + [i for r in registries for i in r.get_job_ids()]
            found = {}
            for job in Job.fetch_many(ids, connection=connection):
                if job is None:
                    continue
                found[job.id] = Outcome(
                    str(job.func_name),
                    RQ_STATUS.get(job.get_status(), "READY"),
                    job.return_value(),
                    [result.worker_name for result in job.results()],
                )
        return found

    def wait_for_workers(self, names: list[str], timeout: float = 60) -> None:
        """Return once every named RQ worker listens on the queue, so tasks enqueued
        from now on are shared among them (RQ hands each to a worker waiting in
        ``BLPOP``, the longest waiting first). A db_worker claims as it polls: no wait."""
        if self.name != "rq":
            return
        from redis import Redis
        from rq.worker import Worker

        assert self.redis is not None
        deadline = time.monotonic() + timeout
        with closing(Redis.from_url(self.redis)) as connection:
            while not set(names) <= {w.name for w in Worker.all(connection=connection)}:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"RQ workers {names} not listening after {timeout} s")
                time.sleep(0.05)

    def wait(self, database: Path, ids: list[str], timeout: float = 60) -> list[Outcome]:
        """The outcomes of ``ids``, once every one has finished."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.outcomes(database, ids)
            if all(i in found and found[i].finished for i in ids):
                return [found[i] for i in ids]
            if time.monotonic() > deadline:
                raise TimeoutError(f"tasks not done after {timeout} s: {found}")
            time.sleep(0.05)


@contextmanager
def workers(engine: Engine, env: dict[str, str], folder: Path) -> Iterator[list[str]]:
    """Start the engine's worker processes; yields their names (the tasks' worker ids).

    Each worker leads a process group of its own, so the processes it forks to run
    tasks can be found and checked for after it stopped: none may be left.
    """
    names = [f"ikstorage-{uuid.uuid4().hex[:8]}-{k}" for k in range(1, engine.workers + 1)]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for name in names:
            with (folder / f"{name}.log").open("wb") as log:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "django", *engine.worker_command(name)],
                        cwd=ROOT,
                        env={**env, "PYTHONPATH": pythonpath(), **engine.environ()},
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        yield names
    finally:
        left = _stop(processes)
    assert not left, f"worker process groups still running after the workers stopped: {left}"


def worker_logs(folder: Path) -> str:
    """What the workers printed, for assertion messages."""
    logs = sorted(folder.glob("ikstorage-*.log"))
    return "\n".join(f"--- {log.name}\n{log.read_text()}" for log in logs)


def _stop(processes: list[subprocess.Popen[bytes]]) -> list[int]:
    """Stop the workers; returns the process groups that had to be killed.

    SIGTERM is a warm shutdown on both engines (a task in hand finishes). An idle
    RQ 3.0 worker on redis-py 8 then sometimes waits up to 60 s for its pub/sub
    thread (``rq.worker.BaseWorker.unsubscribe`` joins a thread that sleeps in
    ``get_message(timeout=60)``), so a worker still running after 5 s gets a second
    SIGTERM: RQ's cold shutdown, which exits at once. Whatever still runs of a
    worker's process group after that is killed and reported.
    """
    for process in processes:
        if process.poll() is None:
            process.terminate()
    left = []
    for process in processes:
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                left.append(process.pid)
        deadline = time.monotonic() + 10
        while _group_alive(process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _group_alive(process.pid):
            left.append(process.pid)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    return sorted(set(left))


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module", params=["db", "rq"], ids=["django-tasks-db", "rq"])
def task_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """Each task engine in turn; RQ's with a Redis server of its own."""
    if request.param == "db":
        yield Engine("db")
        return
    if importlib.util.find_spec("django_tasks_rq") is None:
        unavailable("the RQ worker tests need django-tasks-rq: pip install django-tasks-rq")
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("the RQ worker tests need the 'redis-server' binary on PATH")
        return
    port = free_port()
    args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    server = Server(binary, args, port)
    try:
        server.start()
    except TimeoutError:
        server.stop()
        unavailable(f"the RQ worker tests' redis-server did not answer on 127.0.0.1:{port}")
    try:
        yield Engine("rq", redis=f"redis://127.0.0.1:{port}/0")
    finally:
        server.stop()
