"""The benchmark against the thumbnail libraries: one command, one run, every contender.

A page of photos, each shown with a 200x150 thumbnail and its URL, width and
height, on moto S3 with a latency model, rendered by: plain ``S3Storage``;
django-imagekit (default and Optimistic), sorl-thumbnail, easy-thumbnails,
django-pictures, Wagtail's images and django-easy-images, each alone and on
top of ikstorage; ikstorage's renditions; and the physical
limit (the facts in the model's row), the denominator of every time ratio.
Each contender runs in processes of its own (``benchmarks/peerbench/``):
upload, a cold render, warm renders, and a new process sharing only the
bucket, the database and the file cache.

Prints S3 calls per photo by operation, cache round trips and database
queries per page, and times as multiples of the physical limit. With
``--write-docs``, writes ``docs/benchmark.md`` and ``docs/images/benchmark.png``.
Exit status 1 when ikstorage misses a target of its design, 2 when a
contender fails (a wrong page, a crashed process). ``--json FILE`` keeps every
number; ``--from-json FILE`` prints and writes them again without measuring.

    .devenv/bin/python benchmarks/peers.py [--images 100] [--latency-ms 20] [--write-docs]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: Distributions whose versions the docs page records.
DISTRIBUTIONS = (
    "Django",
    "django-storages",
    "boto3",
    "moto",
    "Pillow",
    "django-imagekit",
    "pilkit",
    "sorl-thumbnail",
    "easy-thumbnails",
    "django-pictures",
    "wagtail",
    "Willow",
    "django-easy-images",
    "pyvips",
    "pyvips-binary",
)


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100, help="photos per page (100)")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="S3 latency model (20)")
    parser.add_argument("--repeats", type=int, default=5, help="warm renders timed (5)")
    parser.add_argument(
        "--new-processes", type=int, default=2, help="new processes timed, at most (2)"
    )
    parser.add_argument(
        "--contenders", help="comma-separated slugs (default: all whose library is installed)"
    )
    parser.add_argument("--write-docs", action="store_true", help="write the page and the chart")
    parser.add_argument(
        "--docs-dir", type=Path, default=ROOT / "docs", help="where --write-docs writes (docs/)"
    )
    parser.add_argument("--json", type=Path, help="also write every number measured here")
    parser.add_argument(
        "--from-json",
        type=Path,
        help="measure nothing: print (and with --write-docs write) the results of a --json file",
    )
    parser.add_argument(
        "--no-time-target",
        action="store_true",
        help="check counts only (time ratios mean little on a page of a few photos)",
    )
    return parser.parse_args(argv)


def chosen(spec: str | None) -> tuple[list[Any], list[str]]:
    """The contenders to run (the physical limit always: it is the denominator), and skipped."""
    from benchmarks.peerbench.contenders import BY_SLUG, CONTENDERS, LIMIT

    if spec:
        unknown = sorted(set(spec.split(",")) - set(BY_SLUG))
        if unknown:
            raise SystemExit(f"unknown contender(s) {unknown}; known: {sorted(BY_SLUG)}")
        wanted = [c for c in CONTENDERS if c.slug in spec.split(",") or c.slug == LIMIT]
    else:
        wanted = list(CONTENDERS)
    skipped = [f"{c.label} ({c.module} is not installed)" for c in wanted if not c.installed]
    return [c for c in wanted if c.installed], skipped


def versions() -> dict[str, str]:
    import ikstorage

    found = {"Python": platform.python_version(), "ikstorage": ikstorage.__version__}
    for name in DISTRIBUTIONS:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def measure(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Run every chosen contender; ``None`` when one of them failed (reported on stderr)."""
    from benchmarks.peerbench import photos, runner

    started = time.perf_counter()
    load = os.getloadavg()[0]
    contenders, skipped = chosen(args.contenders)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="ikstorage-peers-") as scratch:
        workdir = Path(scratch)
        photos.write(workdir / "photos", args.images)
        with runner.s3_server() as endpoint:
            for contender in contenders:
                print(f"{contender.slug}...", end=" ", file=sys.stderr, flush=True)
                try:
                    results[contender.slug] = runner.run(
                        contender,
                        endpoint=endpoint,
                        workdir=workdir,
                        photos=workdir / "photos",
                        images=args.images,
                        latency_ms=args.latency_ms,
                        repeats=args.repeats,
                        new_processes=args.new_processes,
                    )
                except runner.ContenderFailed as failure:
                    print(f"\n{failure}", file=sys.stderr)
                    return None
    print(file=sys.stderr)
    meta = {
        "images": args.images,
        "latency_ms": args.latency_ms,
        "repeats": args.repeats,
        "new_processes": args.new_processes,
        "cpus": os.cpu_count(),
        "load": load,
        "run_seconds": time.perf_counter() - started,
        "s3_calls": sum(
            sum(phases[phase]["s3"].values())
            for phases in results.values()
            for phase in ("upload", "cold", "warm", "new_process")
        ),
        "versions": versions(),
        "skipped": skipped,
    }
    return results, meta


def main(argv: list[str]) -> int:
    args = arguments(argv)
    sys.path.insert(0, str(ROOT))
    from benchmarks.peerbench import report, targets

    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        results, meta = saved["results"], saved["meta"]
    else:
        measured = measure(args)
        if measured is None:
            return 2
        results, meta = measured
    meta["missed"] = targets.missed(results, images=meta["images"], time=not args.no_time_target)
    print(report.tables(results, meta))
    print(
        f"\nrun time {meta['run_seconds']:.0f} s; skipped: {', '.join(meta['skipped']) or 'none'}"
    )
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    if args.write_docs:
        chart, page = args.docs_dir / "images" / "benchmark.png", args.docs_dir / "benchmark.md"
        report.chart(results, meta, chart)
        page.write_text(report.page(results, meta))
        print(f"wrote {page} and {chart}")
    for problem in meta["missed"]:
        print(f"MISSED {problem}")
    return 1 if meta["missed"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
