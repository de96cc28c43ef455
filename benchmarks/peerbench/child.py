"""One process of one contender: ``first`` (upload, cold, warm) or ``new`` (a new process).

    python -m benchmarks.peerbench.child first|new --contender SLUG --endpoint URL
        --workdir DIR --photos DIR --images N --latency-ms MS --repeats N --out FILE

Django is configured here with ``settings.configure`` from the contender's
settings alone, so each process has one library, one bucket, one SQLite
database and one file cache (both in ``--workdir``). A ``new`` process shares
with the ``first`` only what survives a restart: the bucket, the database and
the file cache.

Each render is what a request does: ``request_started`` is sent (ikstorage
forgets the names a previous request noted; Django closes its database
connection), then the model's rows are fetched - fresh instances, as every
request makes - and the page is rendered. A render is timed from the query to
the last byte of HTML. Before anything is measured, once-per-process costs
that are no page's are paid (``warm_up``). Counts come from
``ikstorage.profiler.count_calls`` (S3 calls, bytes, ikstorage's own cache
round trips) and from :mod:`.counting` (every library's Django cache calls,
database queries).

The result is written as JSON to ``--out``; a page that shows a wrong size or
differs between renders is an error (exit status 1), not a number.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import botocore.handlers

from benchmarks.peerbench import counting, photos
from benchmarks.peerbench.contender import hook
from benchmarks.peerbench.contenders import (
    BY_SLUG,
    QUALITY,
    THUMB_SIZE,
    Contender,
    django_settings,
)

#: Every ``<img>`` of a page, and its attributes in whatever order the library writes them.
IMG_TAG = re.compile(r"<img\b([^>]*)>")
ATTRIBUTE = re.compile(r'([\w-]+)="([^"]*)"')


def install_latency(milliseconds: float) -> None:
    """Sleep before every HTTP request of every S3 client this process will create.

    An entry in ``botocore.handlers.BUILTIN_HANDLERS`` is registered by every
    botocore session made afterwards, so every library's client gets it,
    however it builds its storage. ``before-send`` fires once per HTTP attempt:
    exactly the requests the S3 counts count.
    """
    if milliseconds > 0:
        botocore.handlers.BUILTIN_HANDLERS.append(
            ("before-send.s3", partial(_sleep, milliseconds / 1000))
        )


def _sleep(seconds: float, **kwargs: Any) -> None:
    time.sleep(seconds)


def configure(contender: Contender, endpoint: str, workdir: Path) -> None:
    import django
    from django.conf import settings

    settings.configure(**django_settings(contender, endpoint=endpoint, workdir=workdir))
    django.setup()


def warm_up(contender: Contender, model: Any) -> Any:
    """Pay what every process pays once, before any page: returns the compiled template.

    Compiles the page (loading the tag libraries), pays the library's deferred
    imports where it names them (``Contender.prepare``), opens the database, builds
    the S3 client of each S3 storage (parsing botocore's service model, about
    0.2 s), signs one URL with it (the first ``S3Storage.url()`` of a client
    resolves its endpoint rules, about 0.1 s; later ones take 0.1 ms) and
    installs the profiler's hooks. Asks S3 and the cache nothing, which is
    checked: signing a URL is local.
    """
    from django.core.files.storage import storages
    from django.db import connection
    from django.template import Template
    from storages.backends.s3 import S3Storage

    from ikstorage.profiler import count_calls

    counting.reset()
    with count_calls() as calls:
        template = Template(contender.page)
        if contender.prepare:
            hook(contender.prepare)()
        connection.ensure_connection()
        model._default_manager.exists()
        for alias in ("s3", "default"):
            storage = storages[alias]
            if isinstance(storage, S3Storage):  # a CachedStorage passes attributes through
                storage.url("warm-up.jpg")
    if calls.s3_total or counting.snapshot():
        raise RuntimeError(f"warming up called S3 or the cache: {calls.s3} {counting.snapshot()}")
    return template


def measured(calls: Any, queries: int, seconds: list[float], html: str = "") -> dict[str, Any]:
    cache = counting.snapshot()
    return {
        "s3": dict(sorted(calls.s3.items())),
        "bytes_downloaded": calls.bytes_downloaded,
        "cache": cache,
        "cache_total": sum(cache.values()),
        "ik_round_trips": calls.round_trips_total,
        "queries": queries,
        "seconds": seconds,
        "html_sha256": hashlib.sha256(html.encode()).hexdigest() if html else "",
    }


def render(model: Any, template: Any, rows: Any = None, extra: Any = None) -> str:
    from django.template import Context

    query = rows(model) if rows else model._default_manager.all()
    photos_ = list(query.order_by("pk"))
    return str(template.render(Context({"photos": photos_, **(extra or {})})))


def images(html: str) -> list[tuple[str, int, int]]:
    """The ``(src, width, height)`` of each ``<img>`` of the page."""
    shown = []
    for attributes in IMG_TAG.findall(html):
        found = dict(ATTRIBUTE.findall(attributes))
        shown.append(
            (found.get("src", ""), int(found.get("width", 0)), int(found.get("height", 0)))
        )
    return shown


def start_request() -> None:
    from django.core.signals import request_started

    request_started.send(sender=None)
    counting.reset()


def page_of(contender: Contender, model: Any, template: Any) -> Callable[[], str]:
    """The page as one call: the contender's rows, its template and what the template needs."""
    rows = hook(contender.rows) if contender.rows else None
    extra = hook(contender.context)() if contender.context else None
    return partial(render, model, template, rows, extra)


def counted_render(page: Callable[[], str], expected: list[tuple[int, int]]) -> dict[str, Any]:
    """One render, counted and timed; the page is checked against ``expected`` sizes."""
    from ikstorage.profiler import count_calls

    start_request()
    with count_calls() as calls, counting.queries() as queries:
        started = time.perf_counter()
        html = page()
        seconds = time.perf_counter() - started
    check_page(html, expected)
    return measured(calls, queries[0], [seconds], html)


def timed_render(page: Callable[[], str]) -> float:
    """One render, timed only: the profiler's own bookkeeping is not in the time."""
    start_request()
    started = time.perf_counter()
    page()
    return time.perf_counter() - started


def check_page(html: str, expected: list[tuple[int, int]]) -> None:
    shown = [(width, height) for _, width, height in images(html)]
    if shown != expected:
        raise AssertionError(f"the page shows sizes {shown[:5]}..., expected {expected[:5]}...")
    urls = [src for src, _, _ in images(html)]
    if len(set(urls)) != len(urls) or not all(src.startswith("http") for src in urls):
        raise AssertionError(f"the page's URLs are not one absolute URL per photo: {urls[:3]}")


def upload(contender: Contender, model: Any, sources: list[tuple[str, bytes]]) -> dict[str, Any]:
    """Create every photo through the contender's model, counted and timed as one block."""
    from django.core.files.base import ContentFile

    from ikstorage.profiler import count_calls

    counting.reset()
    with count_calls() as calls, counting.queries() as queries:
        started = time.perf_counter()
        if contender.upload:
            hook(contender.upload)(model, sources)
        elif contender.slug == "row":
            for name, data in sources:
                upload_row(model, name, data)
        else:
            for name, data in sources:
                model._default_manager.create(image=ContentFile(data, name=name))
        seconds = time.perf_counter() - started
    return measured(calls, queries[0], [seconds])


def upload_row(model: Any, name: str, data: bytes) -> None:
    """The physical limit's upload: the source and its thumbnail, and every fact in the row."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import storages
    from PIL import Image, ImageOps

    storage = storages["default"]
    image = Image.open(io.BytesIO(data))
    width, height = image.size
    image.draft("RGB", (THUMB_SIZE[0] * 2, THUMB_SIZE[1] * 2))
    thumb = ImageOps.fit(image.convert("RGB"), THUMB_SIZE, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=QUALITY)
    saved = storage.save(f"photos/{name}", ContentFile(data))
    thumb_name = storage.save(f"thumbs/{name}", ContentFile(out.getvalue()))
    model._default_manager.create(
        name=saved,
        url=storage.url(saved),
        width=width,
        height=height,
        thumb_url=storage.url(thumb_name),
        thumb_width=thumb.width,
        thumb_height=thumb.height,
    )


def first(contender: Contender, model: Any, args: argparse.Namespace) -> dict[str, Any]:
    """Upload the photos, render the page cold, then warm: best of ``--repeats``."""
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0)
    template = warm_up(contender, model)
    sources = [
        (photos.name(i), (args.photos / photos.name(i)).read_bytes()) for i in range(args.images)
    ]
    expected = expected_sizes(contender, args.images)
    page = page_of(contender, model, template)
    phases = {"upload": upload(contender, model, sources)}
    phases["cold"] = counted_render(page, expected)
    warm = counted_render(page, expected)
    # A render that calls S3 spends its time in the latency model: once is enough.
    if warm["s3"] == {}:
        warm["seconds"] += [timed_render(page) for _ in range(args.repeats - 1)]
    phases["warm"] = warm
    return phases


def new(contender: Contender, model: Any, args: argparse.Namespace) -> dict[str, Any]:
    """The first page of a new process, whose only state is the bucket, database and cache."""
    template = warm_up(contender, model)
    page = page_of(contender, model, template)
    return {"new_process": counted_render(page, expected_sizes(contender, args.images))}


def expected_sizes(contender: Contender, images: int) -> list[tuple[int, int]]:
    if contender.thumbnails:
        return [THUMB_SIZE] * images
    return [photos.size(i) for i in range(images)]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("process", choices=("first", "new"))
    parser.add_argument("--contender", required=True, choices=sorted(BY_SLUG))
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--workdir", required=True, type=Path)
    parser.add_argument("--photos", required=True, type=Path)
    parser.add_argument("--images", required=True, type=int)
    parser.add_argument("--latency-ms", required=True, type=float)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    contender = BY_SLUG[args.contender]
    install_latency(args.latency_ms)
    configure(contender, args.endpoint, args.workdir)
    from django.apps import apps

    model = apps.get_model("peerbench", contender.model)
    phases = (first if args.process == "first" else new)(contender, model, args)
    args.out.write_text(json.dumps(phases, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
