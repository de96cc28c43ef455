"""The demo's table and summary, as plain functions of the measurements.

One row per render, one column per S3 operation seen, so the reader sees at
a glance which calls disappear. Everything but the time column is the same
on every run.
"""

from __future__ import annotations

from collections.abc import Sequence

from gallery.demo.measure import Measurement


def table(rows: Sequence[tuple[str, Measurement]], images: int) -> str:
    """Rows of counts, right-aligned under their headers."""
    operations = sorted({op for _, m in rows for op in m.s3})
    headers = [
        "S3 calls",
        *operations,
        "per image",
        "bytes from S3",
        "L2 round trips",
        "time (ms)",
    ]
    body = [
        [
            str(m.s3_total),
            *(str(m.s3.get(op, 0)) for op in operations),
            f"{m.s3_total / images:.2f}",
            f"{m.bytes_downloaded:,}",
            str(m.round_trips),
            f"{m.duration_ms:.1f}",
        ]
        for _, m in rows
    ]
    labels = [label for label, _ in rows]
    label_width = max(len(label) for label in labels)
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(headers)]

    def line(first: str, cells: Sequence[str]) -> str:
        aligned = (cell.rjust(width) for cell, width in zip(cells, widths, strict=True))
        return "  ".join([first.ljust(label_width), *aligned])

    lines = [line("", headers), *(line(lb, cells) for lb, cells in zip(labels, body, strict=True))]
    return "\n".join(lines) + "\n"


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def summary(
    images: int,
    plain: Measurement,
    cold: Measurement,
    warm: Measurement,
    new_process: Measurement,
) -> str:
    """The headline, then one line each for the cold cache and the new process."""
    saved = plain.s3_total - warm.s3_total
    return "\n".join(
        [
            f"ikstorage saved {saved} of {plain.s3_total} S3 calls on a warm render "
            f"({plural(images, 'image')}).",
            f"Cold cache: {plural(cold.s3_total, 'S3 call')} "
            f"({cold.s3_total / images:.2f} per image) instead of {plain.s3_total}, "
            f"{cold.bytes_downloaded:,} bytes downloaded instead of {plain.bytes_downloaded:,}.",
            f"New process sharing only the cache: {plural(new_process.s3_total, 'S3 call')}, "
            f"{plural(new_process.round_trips, 'cache round trip')} for the whole page "
            f"(the view has no ikstorage code).",
        ]
    )


def thumbnail_summary(
    images: int, cold: Measurement, warm: Measurement, new_process: Measurement
) -> str:
    """What the thumbnail page costs: nothing once the renditions are recorded."""
    ops = ", ".join(f"{op}={n}" for op, n in sorted(cold.s3.items(), key=lambda i: (-i[1], i[0])))
    return "\n".join(
        [
            "The upload recorded each photo's renditions: the first view in a new process made "
            f"{plural(new_process.s3_total, 'S3 call')} "
            f"({plural(new_process.round_trips, 'cache round trip')}), "
            f"a warm view {plural(warm.s3_total, 'S3 call')}.",
            f"Cold cache (photos uploaded without ikstorage): "
            f"{plural(cold.s3_total, 'S3 call')} ({ops}), "
            f"{cold.s3_total / images:.2f} per photo, on the first view only: one GET of each "
            "photo, read as far as its header for its record and then on through the whole "
            "photo, from which all its renditions are made and stored.",
        ]
    )
