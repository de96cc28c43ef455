"""A legacy photo's first thumbnail view: GETs and bytes per photo, one read against two.

Twenty photos (about 0.9 MB each, 2048x1536 JPEGs with gradients and grain)
are put in the bucket behind ikstorage's back, as a site's photos uploaded
before it. Each is then shown as a thumbnail for the first time
(``storage.rendition(name, "thumb")``, what ``{{ photo.image|rendition:"thumb" }}``
calls), measured in one run:

* **two reads** (the baseline): the adapter's probe and download as two
  requests (``Adapter.probe_open``'s fallback, which every adapter without a
  streamed probe uses): a ranged ``GetObject`` of 64 KiB for the record,
  then a ``GetObject`` of the whole photo for its renditions;
* **one read**: ``S3Adapter.probe_open``, one ``GetObject`` that reads the
  header, decides, and reads on through the photo;
* **record only**: ``.width`` of twenty more legacy photos, no rendition
  asked: the ranged probe, which must stay at 64 KiB.

S3 is moto's server over HTTP on the loopback, with a latency model (every S3
request waits ``--latency-ms``, default 20, before it is sent); the cache is
local memory, emptied before each phase, and each phase has photos of its
own. Counts come from ``ikstorage.profiler.count_calls()``: ``GetObject``
calls and the bytes S3 sent (``Content-Length``). Exit status 1 when the one
read misses its target (1 ``GetObject`` per photo, bytes no more than the
photos' size) or the record-only path reads more than 64 KiB a photo.

    .devenv/bin/python benchmarks/legacy.py [--photos 20] [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PROBE_BYTES = 64 * 1024
LATENCY_MS = 20.0


def setup(endpoint: str, latency_ms: float) -> None:
    """Django settings for this process, and the latency model on every future S3 client."""
    sys.path.insert(0, str(ROOT))
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ[key] = "testing"
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    import botocore.handlers
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "ikstorage"],
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        USE_TZ=True,
    )
    django.setup()
    seconds = latency_ms / 1000

    def latency(**kwargs: Any) -> None:
        time.sleep(seconds)

    if seconds > 0:
        botocore.handlers.BUILTIN_HANDLERS.append(("before-send.s3", latency))


def storage_for(endpoint: str) -> Any:
    from storages.backends.s3 import S3Storage

    from ikstorage import CachedStorage

    s3 = S3Storage(bucket_name="media", endpoint_url=endpoint, querystring_auth=False)
    specs = {"thumb": {"fill": [200, 150], "format": "webp", "quality": 80}}
    return CachedStorage(storage=s3, specs=specs)


def phase(storage: Any, names: list[str], ask: str) -> dict[str, Any]:
    """Each name asked once, as a first view; what it cost."""
    from django.core.cache import cache

    from ikstorage import cache as ik_cache
    from ikstorage.profiler import count_calls

    cache.clear()
    ik_cache.clear_local()
    with count_calls() as calls:
        started = time.perf_counter()
        for name in names:
            if ask == "thumb":
                shown = storage.rendition(name, "thumb")
                assert (shown.width, shown.height, shown.fallback) == (200, 150, False), shown
            else:
                assert storage.metadata(name).width is not None
        seconds = time.perf_counter() - started
    return {
        "gets": calls.s3.get("GetObject", 0),
        "bytes": calls.bytes_downloaded,
        "s3": calls.s3,
        "seconds": seconds,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--photos", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=LATENCY_MS)
    args = parser.parse_args(argv)
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    sys.path.insert(0, str(ROOT))
    from tests.servers import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        setup(endpoint, args.latency_ms)
        return measure(endpoint, args.photos, args.latency_ms)
    finally:
        server.stop()


def measure(endpoint: str, count: int, latency_ms: float) -> int:
    import boto3

    from ikstorage.backends.base import Adapter
    from ikstorage.backends.s3 import S3Adapter
    from tests.renditions.sources import photo

    photos = [photo((2048 + 8 * i, 1536)) for i in range(count)]
    size = sum(len(data) for data in photos)
    client = boto3.client("s3", endpoint_url=endpoint)
    client.create_bucket(Bucket="media")
    names: dict[str, list[str]] = {}
    for folder in ("two", "one", "record"):
        names[folder] = [f"{folder}/{i}.jpg" for i in range(count)]
        for name, data in zip(names[folder], photos, strict=True):
            client.put_object(Bucket="media", Key=name, Body=data)
    storage = storage_for(endpoint)
    storage.wrapped.connection  # noqa: B018  (the client is built before anything is timed)

    streamed = S3Adapter.probe_open
    S3Adapter.probe_open = Adapter.probe_open  # type: ignore[method-assign]
    try:
        two = phase(storage, names["two"], "thumb")
    finally:
        S3Adapter.probe_open = streamed  # type: ignore[method-assign]
    one = phase(storage, names["one"], "thumb")
    record = phase(storage, names["record"], "width")

    print(
        f"{count} legacy photos, {size / 1e6:.2f} MB ({size / count / 1e6:.2f} MB each), "
        f"S3 latency {latency_ms:g} ms; first thumbnail view of each"
    )
    heads = ("GetObject", "per photo", "MB read", "per photo", "time")
    print(f"{'':32} {heads[0]:>10} {heads[1]:>10} {heads[2]:>9} {heads[3]:>10} {heads[4]:>8}")
    for label, found in (
        ("two reads (probe, then download)", two),
        ("one read (streamed probe)", one),
        ("record only (.width)", record),
    ):
        print(
            f"{label:32} {found['gets']:>10} {found['gets'] / count:>10.2f} "
            f"{found['bytes'] / 1e6:>9.2f} {found['bytes'] / count / 1024:>8.1f} K "
            f"{found['seconds']:>7.2f}s"
        )
    print(
        f"one read against two: {one['gets'] / two['gets']:.2f}x the GETs, "
        f"{one['bytes'] / two['bytes']:.3f}x the bytes, "
        f"{one['seconds'] / two['seconds']:.2f}x the time; "
        f"bytes read / photos' size: {two['bytes'] / size:.3f} -> {one['bytes'] / size:.3f}"
    )
    ok = one["gets"] == count and one["bytes"] <= size
    ok &= record["gets"] == count and record["bytes"] <= count * PROBE_BYTES
    if not ok:
        print("TARGET MISSED: 1 GetObject per photo, bytes <= its size; record only <= 64 KiB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
