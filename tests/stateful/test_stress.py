"""Writers in several processes leave a shared cache that agrees with the files.

Invariants 1 and 10 of ``DESIGN.md`` under real concurrency: two Python
processes (:mod:`tests.stateful.stress_worker`) with four threads each share
one Redis (``RedisCache``) and one ``FileSystemStorage`` directory.

* Churn: random saves, deletes and reads of four names (in several spellings)
  for ``IKSTORAGE_STRESS_SECONDS`` (default 25). Now and then every writer
  goes quiet and the test reads each name the way a new process would (a
  fresh ``CachedStorage``, L1 dropped) and compares with the disk: a cached
  answer saying exists or size differently from the file is a contradiction.
* Race: with overwrite off, eight threads save to one name at once; every
  save must land in a file of its own holding its own bytes.

``IKSTORAGE_STRESS_SPELLINGS=0`` makes the churn use one spelling per name,
which separates ordering bugs from spelling bugs.
"""

from __future__ import annotations

import json
import os
import queue
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from ikstorage import CachedStorage, metrics
from ikstorage.cache import clear_local
from tests.child import pythonpath
from tests.servers import Server
from tests.stateful.stress_worker import whole

pytestmark = [pytest.mark.redis, pytest.mark.slow, pytest.mark.stress]

ROOT = Path(__file__).resolve().parents[2]
SECONDS = float(os.environ.get("IKSTORAGE_STRESS_SECONDS", "25"))
SPELLINGS = os.environ.get("IKSTORAGE_STRESS_SPELLINGS", "1") != "0"
PROCESSES = 2
THREADS = 4
#: Each stored name and the spellings the writers use for it.
NAMES = {
    "a.txt": ["a.txt", "./a.txt"],
    "d/b.txt": ["d/b.txt", "d//b.txt", "d/./b.txt"],
    "c.png": ["c.png"],
    "d/e.bin": ["d/e.bin"],
}
RACE_SAVES = 10  # per thread


class Worker:
    """A ``stress_worker`` process and a thread that collects what it prints."""

    def __init__(self, config: dict[str, Any], log: Path) -> None:
        env = {**os.environ, "PYTHONPATH": pythonpath()}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        self.log = log
        self._stderr = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.stateful.stress_worker", json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=ROOT,
            env=env,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def send(self, command: str) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(command + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            raise AssertionError(f"the worker exited: {self.errors()}") from None

    def expect(self, word: str, timeout: float = 60) -> str:
        """The rest of the next line, which must start with ``word``."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(
                f"no {word!r} from the worker in {timeout}s: {self.errors()}"
            ) from None
        head, _, rest = line.partition(" ")
        assert head == word, f"worker said {line!r}, expected {word!r}: {self.errors()}"
        return rest

    def errors(self) -> str:
        self._stderr.flush()
        return self.log.read_text(errors="replace")[-3000:]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        self._stderr.close()


@contextmanager
def workers(configs: list[dict[str, Any]], logs: Path) -> Iterator[list[Worker]]:
    started = [Worker(config, logs / f"worker-{i}.log") for i, config in enumerate(configs)]
    try:
        for worker in started:
            worker.expect("ready", timeout=120)
        yield started
    finally:
        for worker in started:
            worker.close()


def redis_cache(server: Server) -> dict[str, str]:
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{server.port}/0",
    }


def options(media: Path, *, overwrite: bool) -> dict[str, Any]:
    """``CachedStorage`` OPTIONS, the same in every process (so the same cache keys)."""
    backend = "django.core.files.storage.FileSystemStorage"
    location = {"location": str(media), "base_url": "/media/", "allow_overwrite": overwrite}
    return {"storage": {"BACKEND": backend, "OPTIONS": location}, "cache": "default"}


class BackendCalls:
    """A metrics sink counting calls that reached the wrapped storage."""

    def __init__(self) -> None:
        self.count = 0

    def on_storage_call(self, method: str) -> None:
        self.count += 1

    def on_cache(self, level: str, hits: int, misses: int) -> None:
        pass

    def on_round_trip(self, operation: str) -> None:
        pass

    def on_probe_bytes(self, count: int) -> None:
        pass


class Checker:
    """Reads every name as a new process would and compares with the disk."""

    def __init__(self, storage: CachedStorage, media: Path) -> None:
        self.storage, self.media = storage, media
        self.contradictions: list[str] = []
        self.windows = 0
        self.windows_contradicting = 0
        self.records_read = 0  # answers that came from the shared cache, not the disk
        self.torn: Counter[str] = Counter()

    def check(self, names: dict[str, list[str]]) -> None:
        self.windows += 1
        before = len(self.contradictions)
        for stored, spellings in names.items():
            path = self.media / stored
            data = path.read_bytes() if path.exists() else None
            if data is not None and not whole(data):
                self.torn[stored] += 1  # two writes interleaved in the file itself
            for spelling in spellings:
                self._compare(spelling, data)
        if len(self.contradictions) > before:
            self.windows_contradicting += 1

    def _compare(self, name: str, data: bytes | None) -> None:
        clear_local()  # L1 dropped: the answer comes from L2, or from the disk if L2 has none
        calls = BackendCalls()
        metrics.add_sink(calls)
        try:
            exists = self.storage.exists(name)
            size = self.storage.size(name) if exists and data is not None else None
        finally:
            metrics.remove_sink(calls)
        self.records_read += calls.count == 0
        torn = "" if data is None or whole(data) else " (the file is torn)"
        if exists != (data is not None):
            self.contradictions.append(
                f"window {self.windows}: {name!r}: cached exists={exists}, "
                f"on disk exists={data is not None}{torn}"
            )
        elif data is not None and size != len(data):
            self.contradictions.append(
                f"window {self.windows}: {name!r}: cached size={size}, on disk {len(data)}{torn}"
            )


def test_writers_in_two_processes_leave_a_cache_that_agrees_with_the_files(
    redis_server: Server, tmp_path: Path
) -> None:
    media = tmp_path / "media"
    media.mkdir()
    cache = redis_cache(redis_server)
    opts = options(media, overwrite=True)
    names = NAMES if SPELLINGS else {stored: [stored] for stored in NAMES}
    spellings = [spelling for group in names.values() for spelling in group]
    configs = [
        {
            "mode": "churn",
            "cache": cache,
            "options": opts,
            "spellings": spellings,
            "threads": THREADS,
            "seed": 1000 * i + random.randrange(1000),
            "sizes": [24, 4096],
        }
        for i in range(PROCESSES)
    ]
    rnd = random.Random()
    started = time.monotonic()
    with override_settings(CACHES={"default": cache}), workers(configs, tmp_path) as procs:
        checker = Checker(CachedStorage(**opts), media)
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline:
            for worker in procs:
                worker.send("run")
            time.sleep(rnd.uniform(0.2, 0.8))
            for worker in procs:
                worker.send("quiet")
            for worker in procs:
                worker.expect("quiet")
            checker.check(names)
        for worker in procs:
            worker.send("stop")
        reports = [json.loads(worker.expect("done")) for worker in procs]
    ops: Counter[str] = sum((Counter(r["ops"]) for r in reports), Counter())
    racy: Counter[str] = sum((Counter(r["racy"]) for r in reports), Counter())
    errors = [error for r in reports for error in r["errors"]]
    summary = "\n  ".join(
        [
            f"churn: {time.monotonic() - started:.1f}s, {sum(ops.values())} operations "
            f"{dict(ops)}, the storage's own race errors {dict(racy)}; {checker.windows} quiet "
            f"windows, {checker.windows_contradicting} with a contradiction, "
            f"{len(checker.contradictions)} contradictions; {checker.records_read} answers "
            f"from cached records; torn files {dict(checker.torn)}; spellings={SPELLINGS}; "
            f"{len(errors)} unexpected errors",
            *errors,
            *checker.contradictions[:40],
        ]
    )
    print("\n" + summary)
    assert checker.windows >= 1
    assert sum(ops.values()) >= 100 * checker.windows
    assert (errors, checker.contradictions) == ([], []), summary


def test_concurrent_saves_without_overwrite_lose_nothing(
    redis_server: Server, tmp_path: Path
) -> None:
    media = tmp_path / "media"
    media.mkdir()
    cache = redis_cache(redis_server)
    opts = options(media, overwrite=False)
    configs = [
        {
            "mode": "race",
            "cache": cache,
            "options": opts,
            "name": "same.txt",
            "saves": RACE_SAVES,
            "threads": THREADS,
            "worker": i,
        }
        for i in range(PROCESSES)
    ]
    with override_settings(CACHES={"default": cache}), workers(configs, tmp_path) as procs:
        for worker in procs:
            worker.send("run")
        saved = [pair for worker in procs for pair in json.loads(worker.expect("done", 120))]
        checker = Checker(CachedStorage(**opts), media)
        checker.check({name: [name] for _token, name in saved})

    names = [name for _token, name in saved]
    lost = [
        (token, name)
        for token, name in saved
        if not (
            (media / name).exists()
            and whole(data := (media / name).read_bytes())
            and data.startswith(f"<{token}:".encode())
        )
    ]
    on_disk = sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file())
    print(
        f"\nrace: {len(saved)} saves to 'same.txt', {len(set(names))} distinct names, "
        f"{len(lost)} lost, {len(on_disk)} files, {len(checker.contradictions)} contradictions"
    )
    assert len(saved) == PROCESSES * THREADS * RACE_SAVES
    assert len(set(names)) == len(names)
    assert lost == []
    assert on_disk == sorted(names)
    assert checker.contradictions == []
