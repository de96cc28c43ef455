"""1,000 page renders and 200 saves while the cache server is stopped and restarted twice.

Two "processes" share one real Redis (append-only persistence: it comes back
with its data) or memcached (it comes back empty): alias ``a`` with the
default L1, alias ``b`` with a 0.25 s L1 so its pages go to L2 all the time.
Each has two reader threads rendering pages of 20 images out of 60 that
nobody writes, checked against the storage's own answer, and one writer
thread that saves (and deletes every other) file of its own, checking each
write through its storage at once and every earlier one again every ten
saves. The names read and the names written never overlap, so every answer
has exactly one right value at the moment it is given.

The server is stopped (Redis) or killed (memcached) twice for 1.5 s.
Asserted exactly: 1,000 renders, 200 saves, 0 errors, 0 wrong answers, one
"unavailable" warning per process per outage (the rest rate-limited), and
afterwards no record in L2 that disagrees with the storage. Measured: L2
attempts and renders during each outage, and the seconds from the server's
return to the first L2 hit.
"""

from __future__ import annotations

import random
import re
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.cache import close_caches
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.test import override_settings

from ikstorage import CachedStorage, metrics
from tests.images import image_bytes
from tests.resilience import caches as configs
from tests.resilience.conftest import Record, Warnings
from tests.resilience.truth import answer, fact, l2_disagreements
from tests.servers import Server

pytestmark = pytest.mark.slow

RENDERS = 1000
SAVES = 200
READERS_PER_PROCESS = 2
PROCESSES = ("a", "b")
IMAGES = 60
PAGE = 20
#: Pacing: the run lasts at least this long, so the outages fall in its middle.
RUN_SECONDS = 14.0
#: When each outage begins (seconds after the threads start), and how long the
#: server stays down once it has stopped.
OUTAGE_STARTS = (1.0, 9.0)
DOWN_SECONDS = 1.5
#: The longest a stop takes here, and the longest failures go on after the server is
#: back (the breaker's pause plus pymemcache's dead_timeout).
STOP_SECONDS = 1.2
RETRY_AFTER = 0.5
FAILURE_TAIL = RETRY_AFTER + configs.MEMCACHED_DEAD_TIMEOUT
#: Longer than one outage's failures last, shorter than the gap to the next outage:
#: exactly one warning per process per outage.
WARNING_INTERVAL = 6.0


class Timeline:
    """A metrics sink keeping when L2 answered a hit and when an L2 call was attempted."""

    def __init__(self) -> None:
        self.l2_hits: list[float] = []
        self.round_trips: list[tuple[float, str]] = []

    def on_cache(self, level: str, hits: int, misses: int) -> None:
        if level == "l2" and hits:
            self.l2_hits.append(time.monotonic())

    def on_round_trip(self, operation: str) -> None:
        self.round_trips.append((time.monotonic(), operation))

    def on_storage_call(self, method: str) -> None:
        pass

    def on_probe_bytes(self, count: int) -> None:
        pass


class Run:
    """What the threads saw: renders, saves, errors and wrong answers, with times."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.renders: list[float] = []
        self.saves: list[float] = []
        self.deletes = 0
        self.checks = 0
        self.errors: list[str] = []
        self.wrong: list[str] = []

    def guard(self, work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                work()
            except BaseException:
                with self.lock:
                    self.errors.append(traceback.format_exc())
            finally:
                close_caches()  # as Django does when a request ends

        return run

    def check(self, what: str, ok: bool) -> None:
        with self.lock:
            self.checks += 1
            if not ok:
                self.wrong.append(what)


def crash(server: Server) -> None:
    """Kill the server at once (memcached's graceful stop serves on for about a second)."""
    if server.process is not None:
        server.process.kill()
        server.process.wait(timeout=10)
        server.process = None


def pace(started: float, index: int, count: int) -> None:
    """Sleep until the ``index``-th of ``count`` evenly spaced moments of the run."""
    delay = started + RUN_SECONDS * index / count - time.monotonic()
    if delay > 0:
        time.sleep(delay)


@pytest.mark.parametrize(
    "server_name",
    [
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("memcached", marks=pytest.mark.memcached),
    ],
)
def test_renders_and_saves_through_two_cache_outages(
    server_name: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    cache_warnings: Warnings,
    figures: Record,
) -> None:
    server: Server = request.getfixturevalue(f"{server_name}_server")
    stop: Callable[[Server], None]
    if server_name == "redis":
        # A clean stop: Redis writes its append-only file and comes back with its data.
        config, stop = configs.redis(server.port), Server.stop
    else:
        # memcached comes back empty either way: a crash is the quicker outage.
        config, stop = configs.memcached(server.port), crash
    fs = FileSystemStorage(location=str(tmp_path / "media"), base_url="/media/")
    static = []
    for i in range(IMAGES):
        static.append(fs.save(f"static/{i:02d}.jpg", ContentFile(image_bytes((16 + i, 9 + i % 7)))))
    truth = {name: fact(fs, name) for name in static}

    run = Run()
    timeline = Timeline()
    written: dict[str, list[str]] = {process: [] for process in PROCESSES}
    readers = READERS_PER_PROCESS * len(PROCESSES)

    with override_settings(
        CACHES={"default": configs.locmem(), "a": config, "b": config, "check": config},
        IKSTORAGE_CACHE_RETRY_AFTER=RETRY_AFTER,
        IKSTORAGE_WARNING_INTERVAL=WARNING_INTERVAL,
    ):
        storages = {
            "a": CachedStorage(storage=fs, cache="a"),
            "b": CachedStorage(storage=fs, cache="b", local_timeout=0.25),
        }
        start_gate = threading.Barrier(readers + len(PROCESSES) + 1)
        started = 0.0

        def reader(storage: CachedStorage, seed: int) -> None:
            rng = random.Random(seed)
            start_gate.wait()
            count = RENDERS // readers
            for i in range(count):
                pace(started, i, count)
                page = rng.sample(static, PAGE)
                with run.lock:
                    run.renders.append(time.monotonic())
                storage.prefetch(page)
                for name in page:
                    got = answer(storage, name)
                    run.check(f"render {name}: {got}", got.matches(truth[name]))

        def writer(process: str) -> None:
            storage = storages[process]
            mine = written[process]
            start_gate.wait()
            count = SAVES // len(PROCESSES)
            for k in range(count):
                pace(started, k, count)
                data = image_bytes((k + 1, len(mine) % 9 + 1), fmt="PNG")
                name = storage.save(f"{process}/{k:03d}.png", ContentFile(data))
                with run.lock:
                    run.saves.append(time.monotonic())
                mine.append(name)
                got = answer(storage, name)
                run.check(f"after save {name}: {got}", got.matches(fact(fs, name)))
                if k % 2:
                    previous = mine[-2]
                    storage.delete(previous)
                    with run.lock:
                        run.deletes += 1
                    got = answer(storage, previous)
                    run.check(f"after delete {previous}: {got}", not got.exists)
                if k % 10 == 9:  # earlier writes again, now through L2 (or the storage)
                    for old in mine:
                        got = answer(storage, old)
                        run.check(f"re-read {old}: {got}", got.matches(fact(fs, old)))

        threads = [
            threading.Thread(target=run.guard(lambda p=process: writer(p))) for process in PROCESSES
        ]
        threads += [
            threading.Thread(
                target=run.guard(lambda s=storages[process], seed=i * 10 + j: reader(s, seed))
            )
            for i, process in enumerate(PROCESSES)
            for j in range(READERS_PER_PROCESS)
        ]
        metrics.add_sink(timeline)
        try:
            for thread in threads:
                thread.start()
            started = time.monotonic() + 0.05
            start_gate.wait()
            windows: list[tuple[float, float]] = []
            stops: list[float] = []
            for stop_at in OUTAGE_STARTS:
                time.sleep(max(0.0, started + stop_at - time.monotonic()))
                stopping = time.monotonic()
                stop(server)  # returns once the process has exited
                stopped = time.monotonic()
                stops.append(stopped - stopping)
                time.sleep(DOWN_SECONDS)
                server.start()  # returns once the port accepts connections
                windows.append((stopped, time.monotonic()))
            for thread in threads:
                thread.join(timeout=60)
            assert not any(thread.is_alive() for thread in threads)
        finally:
            metrics.remove_sink(timeline)
        duration = time.monotonic() - started

        # Quiet now, the cache back: every record in L2 agrees with the storage, and
        # a process that never saw the files gets the storage's answers.
        names = static + [name for process in PROCESSES for name in written[process]]
        checker = CachedStorage(storage=fs, cache="check", local_timeout=0)
        disagreements = l2_disagreements(checker, names)
        final_wrong = [name for name in names if not answer(checker, name).matches(fact(fs, name))]
        close_caches()

    recovery = [
        min((t for t in timeline.l2_hits if t > back), default=float("inf")) - back
        for _, back in windows
    ]
    suppressed = [
        int(found.group(1))
        for message in cache_warnings.messages()
        if (found := re.search(r"\((\d+) similar warning", message))
    ]
    figures(
        renders=len(run.renders),
        saves=len(run.saves),
        deletes=run.deletes,
        answers_checked=run.checks,
        errors=len(run.errors),
        wrong_answers=len(run.wrong),
        seconds=duration,
        stop_seconds=[round(t, 3) for t in stops],
        outage_seconds=[round(back - down, 3) for down, back in windows],
        renders_during_outages=[
            sum(down <= t <= back for t in run.renders) for down, back in windows
        ],
        saves_during_outages=[sum(down <= t <= back for t in run.saves) for down, back in windows],
        l2_attempts_during_outages=[
            dict(Counter(op for t, op in timeline.round_trips if down <= t <= back))
            for down, back in windows
        ],
        recovery_seconds=[round(r, 3) for r in recovery],
        unavailable_warnings=cache_warnings.unavailable,
        suppressed_in_later_warnings=suppressed,
        back_warnings=cache_warnings.back,
        l2_records_checked=len(names),
        l2_disagreements=len(disagreements),
    )
    assert run.errors == []
    assert run.wrong == []
    assert len(run.renders) == RENDERS
    assert len(run.saves) == SAVES
    assert disagreements == []
    assert final_wrong == []
    # Both processes noticed each outage, and said so once each.
    assert cache_warnings.unavailable == len(PROCESSES) * len(OUTAGE_STARTS)
    assert cache_warnings.back >= 1
    # Back within seconds: the breaker's pause and the client's own, plus scheduling
    # noise on a busy machine (the first L2 hit is usually within a page or two).
    assert max(recovery) < FAILURE_TAIL + 2.5
    assert max(stops) < STOP_SECONDS
    assert duration < 40


def test_the_timeline_gives_one_warning_per_process_per_outage() -> None:
    """The soak's exact warning count follows from its constants; keep them consistent."""
    first, second = OUTAGE_STARTS
    # Failures of one outage, from the stop to the end of the recovery, fit in one interval...
    assert STOP_SECONDS + DOWN_SECONDS + FAILURE_TAIL < WARNING_INTERVAL
    # ...and the next outage begins an interval after the latest first warning of this one.
    assert second - (first + STOP_SECONDS) > WARNING_INTERVAL
    assert second + STOP_SECONDS + DOWN_SECONDS + FAILURE_TAIL < RUN_SECONDS
