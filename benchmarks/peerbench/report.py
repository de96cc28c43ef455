"""The tables, the chart and ``docs/benchmark.md``, from the results of one run.

``results`` maps a contender's slug to its phases (``upload``, ``cold``,
``warm``, ``new_process``, as :mod:`.child` measured them, counts for the
whole page) and to what it left behind (``cache_entries``, ``objects``).
``meta`` says how the run was made. Nothing here measures; everything
printed comes from those two, so the page and the chart change only when
the numbers do.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from benchmarks.peerbench.contenders import CONTENDERS, LIMIT, MAX_ENTRIES, STRENGTHS, Contender

Results = Mapping[str, Mapping[str, Any]]

RENDERS = ("cold", "warm", "new_process")
PHASES = ("upload", *RENDERS)
TITLES = {"upload": "upload", "cold": "cold", "warm": "warm", "new_process": "new process"}
ABBREVIATIONS = {"HeadObject": "H", "GetObject": "G", "PutObject": "P", "DeleteObject": "D"}
COLOURS = {"cold": "#4c72b0", "warm": "#dd8452", "new_process": "#55a868"}
#: The sign after a ratio (spelled by name: ruff takes it for the letter x).
TIMES = "\N{MULTIPLICATION SIGN}"
#: Django's default ``MAX_ENTRIES`` for its file-based and local-memory caches.
DJANGO_MAX_ENTRIES = 300


def ordered(results: Results) -> list[Contender]:
    return [contender for contender in CONTENDERS if contender.slug in results]


def number(value: float) -> str:
    """``3``, ``0.5``, ``1.02``: whole numbers without decimals, others with at most two."""
    if value == int(value):
        return str(int(value))
    return f"{value:.2f}".rstrip("0")


def per_photo(operations: Mapping[str, int], images: int) -> str:
    """``11 (7 H, 3 G, P)``: S3 calls per photo, then by operation (H = HeadObject...)."""
    total = sum(operations.values())
    if total == 0:
        return "0"
    parts = []
    for operation, count in sorted(operations.items(), key=lambda item: (-item[1], item[0])):
        short = ABBREVIATIONS.get(operation, operation)
        parts.append(short if count == images else f"{number(count / images)} {short}")
    return f"{number(total / images)} ({', '.join(parts)})"


def best(phase: Mapping[str, Any]) -> float:
    return float(min(phase["seconds"]))


def ratio(results: Results, slug: str, phase: str) -> float | None:
    """The phase's best time over the physical limit's in the same phase."""
    if LIMIT not in results:
        return None
    return best(results[slug][phase]) / best(results[LIMIT][phase])


def times(value: float) -> str:
    if value < 10:
        return f"{value:.2f}{TIMES}"
    if value < 100:
        return f"{value:.1f}{TIMES}"
    return f"{value:,.0f}{TIMES}"


def milliseconds(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:.1f} ms" if ms < 100 else f"{ms:,.0f} ms"


def table(header: list[str], rows: list[list[str]], right_from: int = 1) -> str:
    align = ["---" if i < right_from else "---:" for i in range(len(header))]
    lines = [header, align, *rows]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def s3_table(results: Results, images: int) -> str:
    rows = [
        [c.label, *(per_photo(results[c.slug][phase]["s3"], images) for phase in PHASES)]
        for c in ordered(results)
    ]
    return table(["contender", *(TITLES[p] for p in PHASES)], rows)


def trips_table(results: Results) -> str:
    rows = []
    for c in ordered(results):
        phases = results[c.slug]
        rows.append(
            [
                c.label,
                *(str(phases[p]["cache_total"]) for p in RENDERS),
                *(str(phases[p]["queries"]) for p in RENDERS),
            ]
        )
    header = ["contender", *(f"cache: {TITLES[p]}" for p in RENDERS)]
    header += [f"queries: {TITLES[p]}" for p in RENDERS]
    return table(header, rows)


def per_image(seconds: float, images: int) -> str:
    """A warm page's time per photo: ``0.044 ms``, three significant figures."""
    return f"{seconds / images * 1000:.3g} ms"


def time_table(results: Results, images: int) -> str:
    rows = []
    for c in ordered(results):
        cells = [c.label]
        for phase in PHASES:
            seconds = best(results[c.slug][phase])
            shown = milliseconds(seconds / images if phase == "upload" else seconds)
            found = ratio(results, c.slug, phase)
            cells.append(shown if found is None else f"{times(found)} ({shown})")
        cells.append(per_image(best(results[c.slug]["warm"]), images))
        rows.append(cells)
    header = ["contender", "upload, per photo", *(TITLES[p] for p in RENDERS)]
    return table([*header, "warm, per photo"], rows)


def entries_table(results: Results) -> str:
    rows = [
        [c.label, str(results[c.slug]["cache_entries"]), str(results[c.slug]["objects"])]
        for c in ordered(results)
    ]
    return table(["contender", "cache entries", "objects in the bucket"], rows)


def tables(results: Results, meta: Mapping[str, Any]) -> str:
    """The three result tables, each under a line saying what it counts."""
    images = meta["images"]
    return "\n\n".join(
        [
            f"S3 calls per photo (H = HeadObject, G = GetObject, P = PutObject, "
            f"D = DeleteObject), {images} photos:",
            s3_table(results, images),
            "Cache round trips and database queries per page:",
            trips_table(results),
            "Time: best render as a multiple of the physical limit's in the same phase "
            "(milliseconds per page; upload: per photo; last, a warm page's time per photo):",
            time_table(results, images),
        ]
    )


def chart(results: Results, meta: Mapping[str, Any], path: Path) -> None:
    """Two panels: S3 calls per photo per render, and render time over the physical limit.

    Agg, a fixed size and resolution, and no ``Software`` entry in the PNG's
    metadata: the same numbers give the same bytes.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = ordered(results)
    images = meta["images"]
    positions = list(range(len(order)))
    height = 0.27
    figure, (calls, speed) = plt.subplots(1, 2, figsize=(12, 1.6 + 0.42 * len(order)), sharey=True)
    for index, phase in enumerate(RENDERS):
        offsets = [y + (index - 1) * height for y in positions]
        per_photo_calls = [sum(results[c.slug][phase]["s3"].values()) / images for c in order]
        bars = calls.barh(
            offsets, per_photo_calls, height, label=TITLES[phase], color=COLOURS[phase]
        )
        calls.bar_label(bars, labels=[number(round(v, 2)) for v in per_photo_calls], fontsize=7)
        if LIMIT in results:
            ratios = [ratio(results, c.slug, phase) or 0.0 for c in order]
            bars = speed.barh(offsets, ratios, height, label=TITLES[phase], color=COLOURS[phase])
            speed.bar_label(bars, labels=[times(v) for v in ratios], fontsize=7, padding=2)
    calls.set_yticks(positions, [c.short for c in order])
    calls.invert_yaxis()
    calls.set_xlabel("S3 calls per photo, per render")
    calls.legend(loc="lower right")
    calls.grid(axis="x", alpha=0.3)
    speed.set_xscale("log")
    if LIMIT in results:  # room for the labels of the longest bars
        longest = max(ratio(results, c.slug, p) or 1.0 for c in order for p in RENDERS)
        speed.set_xlim(0.5, longest * 6)
    speed.axvline(1, color="#555555", linewidth=0.8)
    speed.set_xlabel("render time ÷ physical limit (log scale; 1 = the limit)")
    speed.grid(axis="x", alpha=0.3, which="both")
    figure.suptitle(
        f"{images} photos per page, each with its URL, width and height; "
        f"S3 {number(meta['latency_ms'])} ms away"
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(figure)


def contenders_table(results: Results) -> str:
    rows = [[c.label, c.about, c.model_change] for c in ordered(results)]
    return table(["contender", "the page", "model change"], rows, 99)


def settings_table(meta: Mapping[str, Any]) -> str:
    rows = [
        ["photos per page", str(meta["images"])],
        ["S3 latency model", f"{number(meta['latency_ms'])} ms before every S3 HTTP request"],
        ["warm render", f"best of {meta['repeats']} (once when it calls S3)"],
        [
            "new process",
            f"best first page of {meta['new_processes']} processes (one when it calls S3)",
        ],
        ["file cache", f"`FileBasedCache`, `MAX_ENTRIES = {MAX_ENTRIES:_}`"],
        ["machine", f"{meta['cpus']} CPUs, load average {meta['load']:.1f} at the start"],
        [
            "run time",
            f"{meta['run_seconds'] / 60:.1f} min, of which {meta['s3_calls']:,} S3 calls spent "
            f"{meta['s3_calls'] * meta['latency_ms'] / 60_000:.1f} min in the latency model",
        ],
        *([name, version] for name, version in meta["versions"].items()),
    ]
    return table(["setting", "value"], rows, 99)


def strengths(results: Results) -> str:
    """The paragraphs on the newer libraries run here: what the tables do not show."""
    found = [text for slug, text in STRENGTHS.items() if slug in results]
    if not found:
        return "None of them ran here."
    return "\n\n".join(found)


def _listing(labels: list[str]) -> str:
    if not labels:
        return "no contender at this page size"
    return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} and {labels[-1]}"


def page(results: Results, meta: Mapping[str, Any]) -> str:
    """``docs/benchmark.md``."""
    images = meta["images"]
    latency = number(meta["latency_ms"])
    skipped = ", ".join(meta.get("skipped", [])) or "none"
    most = max((r["cache_entries"] for r in results.values()), default=0)
    full = [
        c.label for c in ordered(results) if results[c.slug]["cache_entries"] >= DJANGO_MAX_ENTRIES
    ]
    return f"""# Benchmark against the thumbnail libraries

<!-- Written by `python benchmarks/peers.py --write-docs` from one run; change
benchmarks/peerbench/report.py and run it again rather than editing this page. -->

One page, shown every way a Django project shows it, measured in one run: {images}
photos, each with a 200{TIMES}150 thumbnail and its URL, width and height, on S3
{latency} ms away (the two `ImageField` pages show the photo itself, as a project
without a thumbnail library does, and django-pictures' `<picture>` shows the
source in its `<img>`). Plain django-storages `S3Storage`; django-imagekit
(default and Optimistic), sorl-thumbnail, easy-thumbnails, django-pictures,
Wagtail's images and django-easy-images, each alone and on top of ikstorage;
ikstorage's own renditions; and the physical limit, the same facts read from
the model's own database row, the denominator of every time below. The
"model change" column of [the contenders](#the-contenders) says what a project
changes in its models to adopt each one.
The same `ImageField` page on Google Cloud Storage and Azure Blob Storage
(and S3 again, files uploaded before ikstorage), requests counted at each
emulator: `benchmarks/backends.py`, on each [backend's page](backends/s3.md).

![S3 calls per photo and render time over the physical limit, per contender](images/benchmark.png)

## Run it

```sh
.devenv/bin/python benchmarks/peers.py --write-docs
```

This page and `docs/images/benchmark.png` are written by that command; without
`--write-docs` it prints the tables only. `--images` (default 100) and
`--latency-ms` (default 20) change the page and the latency model;
`--contenders kit,kit-ik` runs some contenders only (and the physical limit);
`--json FILE` keeps every number measured, and `--from-json FILE` writes this
page again from them without measuring. The exit status is 1 when ikstorage misses a target of
its design (0 S3 calls warm and in a new process, at most 2 cache round trips
for a new process's page, a warm page within 1.25{TIMES} of the physical limit, an
upload of one `PutObject` per file written), and 2 when a contender's page
shows a wrong size or differs between renders.

The thumbnail libraries and matplotlib are dependencies of the benchmark only:
django-imagekit, sorl-thumbnail and easy-thumbnails in the `test` dependency
group, django-pictures, Wagtail, django-easy-images (with `pyvips-binary`) and
matplotlib in the `bench` group (`python3 dev.py bench` installs both); a
contender whose library is not installed is left out. Left out of this run:
{skipped}.

## How it is measured

* **S3**: one moto server over HTTP on the loopback, and a latency model: every
  S3 client of every contender sleeps {latency} ms before each HTTP request
  (botocore's `before-send` event), about what a request to S3 takes from a
  server in the same region.
* **One process per contender**, started fresh, with its own bucket, SQLite
  database and file cache, and Django configured for that contender alone.
  Once-per-process costs that are no page's are paid before anything is
  measured: imports, compiling the template, building each S3 client and
  signing one URL with it.
* **Phases**: *upload* creates the photos through the contender's model;
  *cold* is the first render (thumbnails are made now, except where a
  library or ikstorage made them at upload); *warm* renders again in the same
  process; *new process* is the first render of another process, which
  shares only the bucket, the database and the file cache.
* **A render** is one request's work: `request_started` is sent, the rows are
  fetched (fresh model instances) and the template rendered, timed from the
  query to the last byte of HTML. Every render of a contender must give the
  same HTML, with the right width and height for every photo.
* **Counts**: S3 calls by operation from `ikstorage.profiler.count_calls()`
  (every botocore client in the process); cache round trips are every public
  call any library makes on the Django cache (`get`, `get_many`, `add`,
  `set_many`...: django-imagekit and sorl-thumbnail use it too), counted by a
  subclass of the file-based backend; database queries by Django's
  `execute_wrapper`.
* **Time**: a render that calls S3 spends its time in the latency model and
  is timed once; one that does not is all CPU, which a busy machine disturbs,
  so the best of several is kept. Each phase is compared with the physical
  limit's same phase.

## The contenders

{contenders_table(results)}

"On ikstorage" changes `STORAGES["default"]` to a `CachedStorage` wrapping the
same `S3Storage`, nothing else: each library keeps its thumbnails in the
default storage. Why each library makes the calls it makes is explained in
[Thumbnail libraries](integrations.md).

## Results

{tables(results, meta)}

## What the newer libraries do better

The tables count one thing: a page of the same 200{TIMES}150 thumbnail. The
newer libraries are built for more than that, and some of it is worth its cost.

{strengths(results)}

## Why the file cache has `MAX_ENTRIES = {MAX_ENTRIES:_}`

Django's file-based cache keeps at most `MAX_ENTRIES` files, 300 unless told
otherwise. When a `set` finds that many, it deletes a third of them, chosen at
random. One page of {images} photos leaves this many entries (at most {most}):

{entries_table(results)}

With the default, the cache of {_listing(full)} would be culling at random
from this page on, and the next page would pay again for what the lost entries
held (S3 calls for ikstorage's records and imagekit's existence checks, a
database query for sorl-thumbnail's key-value store): a cost of the cache's
size, not of the library. Redis and Memcached evict by memory instead; a file
cache needs a `MAX_ENTRIES` above what the site's pages keep:

<!-- run: settings -->
```python
CACHES = {{
    "default": {{
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": "/var/tmp/django_cache",
        "OPTIONS": {{"MAX_ENTRIES": 10_000}},
    }},
}}
```

## This run

{settings_table(meta)}

Targets of ikstorage's design missed in this run: {_missed(meta)}
"""


def _missed(meta: Mapping[str, Any]) -> str:
    missed = meta.get("missed", [])
    if not missed:
        return "none."
    return "\n\n" + "\n".join(f"* {line}" for line in missed)
