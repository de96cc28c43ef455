"""Counts as text: the log line, the ``Server-Timing`` header and the command's table.

Plain functions of a ``Counts``, so each format is tested on its own and the
middleware, the command and the panel all say the same thing the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ikstorage.metrics import Counts


def by_count(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    """Most frequent first, then by name, so the costly operation leads."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def operations(counts: Mapping[str, int]) -> str:
    """``"HeadObject=2 GetObject=1"``."""
    return " ".join(f"{name}={n}" for name, n in by_count(counts))


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    return f"{n} {noun if n == 1 else nouns or noun + 's'}"


def server_timing(calls: Counts) -> str:
    """A ``Server-Timing`` value: browsers' network panels show it per request.

    Counts are not durations, so they go in ``desc``; only the time is ``dur``.
    """
    return ", ".join(
        [
            f'ikstorage-s3;desc="{plural(calls.s3_total, "S3 call")}"',
            f'ikstorage-storage;desc="{plural(calls.storage_total, "storage call")}"',
            f'ikstorage-cache;desc="{plural(calls.round_trips_total, "cache round trip")}"',
            f"ikstorage-time;dur={calls.duration * 1000:.1f}",
        ]
    )


def summary(calls: Counts) -> str:
    """Everything on one line, for the log."""
    s3 = plural(calls.s3_total, "S3 call")
    if calls.s3:
        s3 += f" ({operations(calls.s3)})"
    storage = plural(calls.storage_total, "storage call")
    if calls.storage:
        storage += f" ({operations(calls.storage)})"
    parts = [
        s3,
        plural(calls.retries, "retry", "retries"),
        plural(calls.presigned_total, "presigned URL"),
        storage,
        f"L1 {calls.l1_hits} hit/{calls.l1_misses} miss",
        f"L2 {calls.l2_hits} hit/{calls.l2_misses} miss",
        plural(calls.round_trips_total, "cache round trip"),
        plural(calls.bytes_downloaded, "byte") + " downloaded",
        f"{calls.duration * 1000:.1f} ms",
    ]
    return ", ".join(parts)


def table(runs: Sequence[tuple[str, Counts]]) -> str:
    """One column per run, one row per measure, S3 operations and storage methods broken out."""
    counts = [calls for _, calls in runs]

    def row(label: str, values: Sequence[object]) -> tuple[str, list[str]]:
        return label, [str(v) for v in values]

    rows = [row("S3 calls", [c.s3_total for c in counts])]
    for name in sorted({op for c in counts for op in c.s3}):
        rows.append(row(f"  {name}", [c.s3.get(name, 0) for c in counts]))
    rows += [
        row("S3 retries", [c.retries for c in counts]),
        row("presigned URLs", [c.presigned_total for c in counts]),
        row("bytes downloaded", [c.bytes_downloaded for c in counts]),
        row("storage calls", [c.storage_total for c in counts]),
    ]
    for name in sorted({method for c in counts for method in c.storage}):
        rows.append(row(f"  {name}", [c.storage.get(name, 0) for c in counts]))
    rows += [
        row("L1 hits/misses", [f"{c.l1_hits}/{c.l1_misses}" for c in counts]),
        row("L2 hits/misses", [f"{c.l2_hits}/{c.l2_misses}" for c in counts]),
        row("cache round trips", [c.round_trips_total for c in counts]),
        row("time (ms)", [f"{c.duration * 1000:.1f}" for c in counts]),
    ]
    headers = [label for label, _ in runs]
    label_width = max(len(label) for label, _ in rows)
    widths = [
        max(len(headers[i]), *(len(values[i]) for _, values in rows)) for i in range(len(runs))
    ]
    lines = [
        " ".join([" " * label_width, *(h.rjust(w) for h, w in zip(headers, widths, strict=True))])
    ]
    for label, values in rows:
        cells = (v.rjust(w) for v, w in zip(values, widths, strict=True))
        lines.append(" ".join([label.ljust(label_width), *cells]))
    return "\n".join(line.rstrip() for line in lines) + "\n"
