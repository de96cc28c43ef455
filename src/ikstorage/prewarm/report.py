"""What a run tells as it goes (progress, each problem) and when it ends (the summary).

On a terminal a tqdm bar (when tqdm is installed); otherwise, in a log or a
CI job, one plain line every ``LINE_INTERVAL`` seconds; with ``--progress
none`` only the problems; inside a task, nothing but a log record per
problem. Each problem names the file and the reason the moment it is known.
Progress is drawn by its own thread from the totals, so the threads doing
the work never wait on the terminal.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Protocol, TextIO

from ikstorage.prewarm.stats import Tally

logger = logging.getLogger("ikstorage.prewarm")

#: Seconds between two plain progress lines.
LINE_INTERVAL = 10.0
#: Seconds between two redraws of the bar.
BAR_INTERVAL = 0.25


class Progress(Protocol):
    #: True when a total (a ``COUNT`` query per model field) is worth its cost.
    wants_total: bool

    def start(self, tally: Tally, total: int | None) -> None: ...

    def error(self, name: str, reason: str) -> None:
        """A problem with one file (called from any thread)."""

    def stopping(self, in_flight: int) -> None:
        """Ctrl-C was pressed; ``in_flight`` files are finishing first (main thread)."""

    def stop(self) -> None: ...


def stopping_line(in_flight: int) -> str:
    """What a stop request tells the user, who may not want to wait."""
    files = "file" if in_flight == 1 else "files"
    return (
        f"Stopping: {in_flight} {files} in progress finish first and the position is kept; "
        "press Ctrl-C again to stop at once."
    )


def done(tally: Tally) -> int:
    """Names finished: skipped as cached, or through the steps (well or not)."""
    return tally["already_cached"] + tally["succeeded"] + tally["failed"]


class Silent:
    """No progress; problems go to the ``ikstorage.prewarm`` logger (a task's output)."""

    wants_total = False

    def start(self, tally: Tally, total: int | None) -> None:
        pass

    def error(self, name: str, reason: str) -> None:
        logger.warning("prewarm: %s: %s", name, reason)

    def stopping(self, in_flight: int) -> None:
        logger.warning("prewarm: %s", stopping_line(in_flight))

    def stop(self) -> None:
        pass


class Quiet:
    """No progress, but each problem as a line (``--progress none``, ``-v 0``)."""

    wants_total = False

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._lock = threading.Lock()

    def start(self, tally: Tally, total: int | None) -> None:
        pass

    def error(self, name: str, reason: str) -> None:
        self._write(f"error: {name}: {reason}")

    def stopping(self, in_flight: int) -> None:
        self._write(stopping_line(in_flight))

    def _write(self, line: str) -> None:
        with self._lock:
            self.out.write(line + "\n")
            self.out.flush()

    def stop(self) -> None:
        pass


class _Ticker:
    """Calls ``tick`` every ``interval`` seconds on its own thread until stopped."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def begin(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="ikstorage-prewarm-progress")
        self._thread.daemon = True
        self._thread.start()

    def end(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.tick()

    def tick(self) -> None:
        raise NotImplementedError


class Lines(Quiet, _Ticker):
    """A plain line every ``interval`` seconds, and one per problem (logs, CI)."""

    wants_total = False

    def __init__(self, out: TextIO, interval: float | None = None) -> None:
        Quiet.__init__(self, out)
        _Ticker.__init__(self, LINE_INTERVAL if interval is None else interval)
        self._tally: Tally | None = None
        self._started = 0.0

    def start(self, tally: Tally, total: int | None) -> None:
        self._tally, self._started = tally, time.perf_counter()
        self.begin()

    def stop(self) -> None:
        self.end()

    def tick(self) -> None:
        tally = self._tally
        if tally is None:
            return
        elapsed = time.perf_counter() - self._started
        finished = done(tally)
        rate = finished / elapsed if elapsed else 0.0
        self._write(
            f"prewarm: {finished:,} files done, {tally['records_written']:,} records written, "
            f"{tally['errors']:,} errors, {rate:,.0f} files/s"
        )


class Bar(_Ticker):
    """A tqdm bar on a terminal; problems print above it."""

    wants_total = True

    def __init__(self, out: TextIO) -> None:
        super().__init__(BAR_INTERVAL)
        self.out = out
        self._bar: Any = None
        self._tally: Tally | None = None

    def start(self, tally: Tally, total: int | None) -> None:
        from tqdm import tqdm

        self._tally = tally
        self._bar = tqdm(total=total, unit=" files", file=self.out, dynamic_ncols=True)
        self.begin()

    def error(self, name: str, reason: str) -> None:
        self._bar.write(f"error: {name}: {reason}", file=self.out)

    def stopping(self, in_flight: int) -> None:
        self._bar.write(stopping_line(in_flight), file=self.out)

    def stop(self) -> None:
        self.end()
        self.tick()
        self._bar.close()

    def tick(self) -> None:
        if self._tally is None or self._bar is None:
            return
        self._bar.n = done(self._tally)
        self._bar.set_postfix(written=self._tally["records_written"], errors=self._tally["errors"])


def progress_for(out: TextIO, *, mode: str) -> Progress:
    """The progress for ``mode``: ``bar``, ``lines``, ``none``, or ``auto``.

    ``auto`` draws a bar on a terminal when tqdm is installed, and plain lines otherwise.
    """
    if mode == "none":
        return Quiet(out)
    if mode == "lines":
        return Lines(out)
    has_tqdm = _has_tqdm()
    if mode == "bar" and not has_tqdm:
        raise ValueError("--progress bar needs tqdm: pip install 'ikstorage[progress]'")
    if mode == "bar" or (has_tqdm and _isatty(out)):
        return Bar(out)
    return Lines(out)


def _has_tqdm() -> bool:
    import importlib.util

    return importlib.util.find_spec("tqdm") is not None


def _isatty(out: TextIO) -> bool:
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty())


def text(summary: dict[str, Any]) -> str:
    """The closing summary, for people."""
    seconds = summary["elapsed_s"]
    head = (
        f"{summary['files_seen']:,} files in {seconds:,.1f} s "
        f"({summary['files_per_second']:,.0f} files/s), shard {summary['shard']}"
    )
    if summary["dry_run"]:
        head = "dry run: " + head
    if summary["interrupted"]:
        head += " - interrupted; rerun to continue"
    rows: list[tuple[str, str]] = []
    if summary["dry_run"]:
        rows += [
            ("already cached", f"{summary['already_cached']:,}"),
            ("would probe", f"{summary['would_probe']:,}"),
            ("would take from listing", f"{summary['would_use_listing']:,}"),
            ("would render", f"{summary['would_render']:,}"),
        ]
    else:
        rows += [
            ("records written", f"{summary['records_written']:,}"),
            ("already cached", f"{summary['already_cached']:,}"),
            ("kept (newer record)", f"{summary['records_kept']:,}"),
            ("probed", f"{summary['probed']:,}"),
            ("from the listing", f"{summary['from_listing']:,}"),
            ("renditions made", f"{summary['renditions_made']:,}"),
        ]
    rows.append(("errors", f"{summary['errors']:,} ({summary['failed']:,} not stored)"))
    s3 = ", ".join(f"{op} {n:,}" for op, n in sorted(summary["s3"].items()))
    rows.append(("S3 calls", f"{summary['s3_total']:,}" + (f" ({s3})" if s3 else "")))
    probes = summary["probed"]
    per = f", {summary['probe_bytes'] / probes / 1024:,.1f} KiB per probe" if probes else ""
    rows.append(("bytes read", f"{summary['bytes_downloaded']:,}{per}"))
    trips = ", ".join(f"{op} {n:,}" for op, n in sorted(summary["cache_round_trips"].items()))
    total_trips = sum(summary["cache_round_trips"].values())
    rows.append(("cache round trips", f"{total_trips:,}" + (f" ({trips})" if trips else "")))
    for label, position in summary["resumed_after"].items():
        rows.append(("resumed", f"{label} after {position}"))
    if summary["aborted"]:
        rows.append(("stopped", summary["aborted"]))
    width = max(len(label) for label, _ in rows)
    return "\n".join([head, *(f"  {label.ljust(width)}  {value}" for label, value in rows)]) + "\n"
