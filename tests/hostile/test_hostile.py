"""The hostile-file tier: each crafted file stored byte for byte, within a time and memory bound.

Each file of :data:`~tests.hostile.corpus.CORPUS` is saved through
``CachedStorage`` over moto's S3 with the tier's specs (one like the source,
which keeps a GIF animated, and one WebP, which animates every animated
source), in a process of its own whose address space is capped at
:data:`ADDRESS_SPACE` (``zygote.py``). For each file:

* the object S3 holds under the name is the file, byte for byte, and the
  name is the one asked for;
* the record says what the corpus expects: the reason nothing was rendered,
  or each rendition's format, size and frame count;
* the save returns within :data:`SECONDS`, a bound on a loaded two-core CI
  machine, not a benchmark (the slowest file, 300 frames in the budget,
  takes about 5 s);
* the process's peak resident set stays within the documented budget: the
  peak of the same process saving a small photo, plus
  :data:`BYTES_PER_PIXEL` bytes per pixel of ``max_pixels``
  (``docs/limits.md``).

The files are built here and saved two at a time; the whole tier takes
about 30 s on two cores.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.child import ROOT
from tests.hostile.corpus import BASELINE, CORPUS, SPECS, Hostile

pytestmark = [pytest.mark.heavy, pytest.mark.slow]

#: ``max_pixels``'s default: the files are saved with the default options.
MAX_PIXELS = 50_000_000
#: Memory a save may add to the baseline, per pixel ``max_pixels`` allows.
BYTES_PER_PIXEL = 12
#: The save of one file returns within this many seconds.
SECONDS = 20.0
#: The address space of each child: a file that asks for more fails there, not in CI.
ADDRESS_SPACE = 3 << 29  # 1.5 GiB
#: Children at once (CI has two cores).
WORKERS = 2


class Zygote:
    """One ``tests.hostile.zygote`` process: jobs in on stdin, reports out on stdout."""

    def __init__(self, log: Path) -> None:
        self.log = log.open("w")
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.hostile.zygote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            cwd=ROOT,
            env={**env, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")])},
        )
        self.ready = json.loads(self._line())

    def save(self, path: Path, hostile: Hostile, *, legacy: bool = False) -> dict[str, Any]:
        job = {
            "path": str(path),
            "name": f"uploads/{hostile.name}",
            "specs": SPECS,
            "address_space": ADDRESS_SPACE,
            "timeout": 3 * SECONDS,
            "legacy": legacy,
            "spec": "thumb",
        }
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        report: dict[str, Any] = json.loads(self._line())
        return report

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, f"the zygote exited; see {self.log.name}"
        return line

    def close(self) -> None:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)
        self.process.stdout.close()
        self.log.close()


def run_corpus(folder: Path, *, legacy: bool = False) -> dict[str, dict[str, Any]]:
    """Every file of the corpus saved (or shown as a legacy file), the baseline first."""
    todo: queue.Queue[Hostile] = queue.Queue()
    # The costliest first, so the two workers finish together.
    for hostile in (BASELINE, *sorted(CORPUS, key=lambda h: not h.at_limit)):
        todo.put(hostile)
    found: dict[str, dict[str, Any]] = {}
    zygotes = [Zygote(folder / f"zygote-{n}.log") for n in range(WORKERS)]

    def work(zygote: Zygote) -> None:
        while True:
            try:
                hostile = todo.get_nowait()
            except queue.Empty:
                return
            path = folder / hostile.name
            path.write_bytes(hostile.build())
            found[hostile.name] = zygote.save(path, hostile, legacy=legacy)

    threads = [threading.Thread(target=work, args=(z,)) for z in zygotes]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for zygote in zygotes:
            zygote.close()
    artifacts = os.environ.get("IKSTORAGE_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        which = "hostile-legacy.json" if legacy else "hostile.json"
        (Path(artifacts) / which).write_text(json.dumps(found, indent=1))
    return found


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every file of the corpus saved, the baseline first: its report by name."""
    return run_corpus(tmp_path_factory.mktemp("hostile"))


def budget_kib(reports: dict[str, dict[str, Any]]) -> int:
    """The peak resident set a save may reach, in KiB."""
    return int(reports[BASELINE.name]["peak_kib"]) + BYTES_PER_PIXEL * MAX_PIXELS // 1024


def check(hostile: Hostile, report: dict[str, Any], budget: int) -> None:
    assert set(report) >= {"same_bytes", "peak_kib"}, report  # not a timeout, a crash
    assert report["stored"] == f"uploads/{hostile.name}"
    assert report["same_bytes"] is True
    assert (report["error"], [tuple(r) for r in report["shown"]]) == (
        hostile.error,
        list(hostile.shown),
    )
    assert report["seconds"] <= SECONDS, report
    assert report["peak_kib"] <= budget, (report["peak_kib"], budget)


def test_the_baseline_renders_a_small_photo(reports: dict[str, dict[str, Any]]) -> None:
    check(BASELINE, reports[BASELINE.name], budget_kib(reports))


@pytest.mark.parametrize("hostile", CORPUS, ids=[h.name for h in CORPUS])
def test_a_hostile_file_is_stored_whole_within_the_bounds(
    reports: dict[str, dict[str, Any]], hostile: Hostile
) -> None:
    check(hostile, reports[hostile.name], budget_kib(reports))
