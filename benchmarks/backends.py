"""Requests per image on S3, GCS and Azure Blob Storage: the bare storage, and ikstorage on it.

The emulators the test suite uses, started the same way (``tests/gcs_server.py``:
gcp-storage-emulator in this process; ``tests/azure_server.py``: Azurite from
npm behind a forwarder), count every HTTP request they serve, whichever
process sent it: what a bill counts. For each backend, photos are uploaded
with the bare storage (files that were there before ikstorage), then a page
that prints each photo's ``url``, ``width`` and ``height`` through a plain
``ImageField`` is rendered by the bare storage and by a ``CachedStorage``
wrapping it: cold, warm (same process, fresh field files, as a new request's
model instances are) and in a new process that shares only the bucket and the
file cache. Last, as many photos are uploaded through ikstorage. Every page
must show the same URLs and sizes as the bare storage's.

Prints one table: requests per image by kind, and ikstorage's cache round
trips per page. Exit status 1 when ikstorage misses a target of its design
(cold: 1 request per image; warm and new process: none; upload: 1 write per
image), 2 when a page shows a wrong answer. A backend whose emulator is not
installed is left out (see ``.ci/run``).

    .devenv/bin/python benchmarks/backends.py [--images 20] [--backends s3,gcs,azure] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LABELS = {"s3": "`S3Storage`", "gcs": "`GoogleCloudStorage`", "azure": "`AzureStorage`"}
PHASES = ("upload", "cold", "warm", "new_process")


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20, help="photos per page (20)")
    parser.add_argument("--backends", default="s3,gcs,azure", help="comma-separated (s3,gcs,azure)")
    parser.add_argument("--json", type=Path, help="also write every number measured here")
    return parser.parse_args(argv)


def new_process(config: dict[str, Any]) -> tuple[Any, int]:
    """The page in a new Python process (:mod:`benchmarks.backendbench.page`)."""
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.backendbench.page", json.dumps(config)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the new process exited {done.returncode}:\n{done.stderr[-4000:]}")
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    return answer["page"], answer["round_trips"]


class WrongPage(AssertionError):
    """A page that differs from the bare storage's or from the photos' real sizes."""


def contender(server: Any, config: dict[str, Any], photos: dict[str, bytes]) -> dict[str, Any]:
    """Every phase of one storage (bare or cached) against files the bare storage uploaded."""
    from django.core.cache import cache
    from django.core.files.base import ContentFile

    from benchmarks.backendbench.page import bare, render, storage_for
    from benchmarks.backendbench.servers import counted
    from ikstorage.cache import clear_local

    server.wipe()
    cache.clear()
    clear_local()
    names = sorted(photos)
    loader = bare(config)
    for name in names:
        loader.save(name, ContentFile(photos[name], name=name))
    storage = storage_for(config)
    phases: dict[str, Any] = {}
    pages = {}
    for phase in ("cold", "warm"):
        with counted(server) as requests:
            pages[phase], trips = render(storage, names)
        phases[phase] = {"requests": dict(requests), "round_trips": trips}
    with counted(server) as requests:
        pages["new_process"], trips = new_process({**config, "names": names})
    phases["new_process"] = {"requests": dict(requests), "round_trips": trips}
    with counted(server) as requests:
        for name in names:
            storage.save(f"up/{name}", ContentFile(photos[name], name=name))
    phases["upload"] = {"requests": dict(requests), "round_trips": 0}
    phases["page"] = pages["cold"]
    for phase, page in pages.items():
        if page != pages["cold"]:
            raise WrongPage(f"{config['backend']}: the {phase} page differs from the cold one")
    return phases


def backend(
    slug: str, start: Iterator[Any], config: Callable[[Any], dict[str, Any]], **common: Any
) -> Any:
    """Both contenders on one backend, its emulator started for them and stopped after."""
    server = next(start)
    try:
        base = {"backend": slug, "cache_dir": common["cache_dir"], **config(server)}
        plain = contender(server, {**base, "cached": False}, common["photos"])
        cached = contender(server, {**base, "cached": True}, common["photos"])
    finally:
        start.close()
    if plain["page"] != cached["page"]:
        raise WrongPage(f"{slug}: ikstorage's page differs from the bare storage's")
    return {"bare": plain, "ikstorage": cached}


def measure(args: argparse.Namespace, workdir: Path) -> tuple[dict[str, Any], list[str]]:
    import pytest

    from benchmarks.backendbench import servers
    from benchmarks.peerbench import photos as samples

    # google-cloud-storage 3.x fetches a bucket's metadata once per client in a
    # background thread, for its tracing spans: per process, not per file, and
    # racing the counts, so it is off here as in the tests.
    os.environ["DISABLE_GCS_PYTHON_CLIENT_OTEL_BUCKET_METADATA"] = "true"
    photos = {samples.name(i): samples.photo(i) for i in range(args.images)}
    sizes = [samples.size(i) for i in range(args.images)]
    common = {"photos": photos, "cache_dir": str(workdir / "cache")}
    results: dict[str, Any] = {}
    left_out = []
    for slug in args.backends.split(","):
        print(f"{slug}...", end=" ", file=sys.stderr, flush=True)
        if slug not in LABELS:
            raise SystemExit(f"unknown backend {slug!r}: s3, gcs or azure")
        start, config = servers.start(slug)
        try:
            found = backend(slug, start, config, **common)
        except (pytest.skip.Exception, pytest.fail.Exception) as missing:
            left_out.append(f"{LABELS[slug]} ({missing.msg})")
            continue
        shown = [(w, h) for _, w, h in found["bare"]["page"]]
        if shown != sizes:
            raise WrongPage(f"{slug}: the page shows {shown[:3]}..., expected {sizes[:3]}...")
        for kind in found.values():
            kind.pop("page")
        results[slug] = found
    print(file=sys.stderr)
    return results, left_out


def per_image(requests: dict[str, int], images: int) -> str:
    total = sum(requests.values())
    if not total:
        return "0"
    kinds = ", ".join(f"{n / images:g} {kind}" for kind, n in sorted(Counter(requests).items()))
    return f"{total / images:g} ({kinds})"


def table(results: dict[str, Any], images: int) -> str:
    lines = [
        f"HTTP requests per image ({images} photos), by kind; "
        "ikstorage's cache round trips per page:",
        "",
        "| storage | upload | cold | warm | new process | cache: cold / warm / new |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for slug, kinds in results.items():
        for kind, phases in kinds.items():
            label = LABELS[slug] if kind == "bare" else f"ikstorage on {LABELS[slug]}"
            cells = [per_image(phases[phase]["requests"], images) for phase in PHASES]
            trips = " / ".join(str(phases[p]["round_trips"]) for p in PHASES[1:])
            trips = trips if kind == "ikstorage" else "-"
            lines.append(f"| {label} | {' | '.join(cells)} | {trips} |")
    return "\n".join(lines)


def missed(results: dict[str, Any], images: int) -> list[str]:
    problems = []
    for slug, kinds in results.items():
        phases = kinds["ikstorage"]
        name = f"ikstorage on {LABELS[slug]}"
        cold = phases["cold"]["requests"]
        if sum(cold.values()) != images:
            problems.append(f"{name}: cold page made {cold}, not 1 request per image")
        for phase in ("warm", "new_process"):
            if phases[phase]["requests"]:
                problems.append(f"{name}: {phase} made requests {phases[phase]['requests']}")
        if phases["upload"]["requests"] != {"write": images}:
            problems.append(f"{name}: upload made {phases['upload']['requests']}, not 1 write each")
    return problems


def main(argv: list[str]) -> int:
    args = arguments(argv)
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="ikstorage-backends-") as scratch:
        from benchmarks.backendbench.page import configure

        configure(str(Path(scratch) / "cache"))
        try:
            results, left_out = measure(args, Path(scratch))
        except WrongPage as wrong:
            print(f"\n{wrong}", file=sys.stderr)
            return 2
    print(table(results, args.images))
    print(f"\nleft out: {', '.join(left_out) or 'none'}")
    if args.json:
        args.json.write_text(json.dumps({"images": args.images, "results": results}, indent=1))
    problems = missed(results, args.images)
    for problem in problems:
        print(f"MISSED {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
