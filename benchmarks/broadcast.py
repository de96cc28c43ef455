"""How long another process answers from its L1 after a write, with and without ``broadcast``.

Two processes share one bucket (moto over HTTP) and one Redis cache (a
``redis-server`` started here): this one writes, a peer
(``tests/scripts/broadcast_peer.py``) holds the files' records in its L1 and
asks the storage about them every millisecond. For each of 10 deletes and 10
overwrites, the staleness is the time from the write's return until the peer
answers as the storage does; the worst of 10 is reported. Without the
broadcast the peer answers from L1 until ``local_timeout`` (60 s): those
writes are watched for :data:`WITHOUT_CAP` seconds, all at once, and counted
as still stale. Also measured: the peer's cache round trips for a page of
names nobody wrote (the target: none), and what a write costs the writer.
The target: within 1 s, worst of 10.

    python3 dev.py bench
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.0
WRITES = 10
WITHOUT_CAP = 5.0
ALIAS = "shared"


def main() -> int:
    sys.path.insert(0, str(ROOT))
    redis = shutil.which("redis-server")
    if redis is None:
        print("broadcast: skipped, needs redis-server on PATH")
        return 0
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(key, "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    import logging

    from moto.server import ThreadedMotoServer

    from tests.servers import free_port, wait_for_port

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port, redis_port = free_port(), free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    server = subprocess.Popen(
        [redis, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(redis_port)
        return measure(f"http://127.0.0.1:{port}", redis_port)
    finally:
        from ikstorage.cache.broadcast import stop_all

        stop_all()  # this process's subscriber, before its server goes
        server.terminate()
        server.wait(timeout=30)
        moto.stop()


def measure(endpoint: str, redis_port: int) -> int:
    import boto3
    import django
    from django.conf import settings

    from tests.resilience.caches import redis as redis_config
    from tests.s3_settings import s3_options

    cache = redis_config(redis_port)
    settings.configure(
        INSTALLED_APPS=["ikstorage"],
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        USE_TZ=True,
    )
    settings.CACHES[ALIAS] = cache
    django.setup()
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="media")
    storage = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": s3_options(endpoint)}
    without = run(cache, {"storage": storage, "broadcast": False}, "off", WITHOUT_CAP, True)
    with_ = run(cache, {"storage": storage, "broadcast": True}, "on", 5.0, False)

    def show(seen: list[float | None]) -> str:
        stale = sum(s is None for s in seen)
        if stale:
            return f"> {WITHOUT_CAP:g} s ({stale} of {len(seen)} still stale)"
        return f"{max(s for s in seen if s is not None) * 1000:7.1f} ms"

    print(f"staleness in another process after a write (worst of {WRITES}), same run:")
    print(f"  {'':20} {'delete':>28} {'overwrite':>28}")
    for label, found in (("without broadcast", without), ("with broadcast", with_)):
        seen = found["seen"]
        print(f"  {label:20} {show(seen[:WRITES]):>28} {show(seen[WRITES:]):>28}")
    print(f"  target: with broadcast < {TARGET:g} s")
    print("cache round trips: the peer reading 100 names nobody wrote; the writer, one write:")
    for label, found in (("without broadcast", without), ("with broadcast", with_)):
        print(
            f"  {label:20} peer {sum(found['warm'].values())}; overwrite {trips(found['save'])}; "
            f"delete {trips(found['delete'])}"
        )
    seen = with_["seen"]
    ok = all(s is not None and s < TARGET for s in seen) and with_["warm"] == {}
    return 0 if ok else 1


def trips(counted: dict[str, int]) -> str:
    return ", ".join(f"{n} {op}" for op, n in sorted(counted.items()))


def run(
    cache: dict[str, Any], options: dict[str, Any], tag: str, cap: float, together: bool
) -> Any:
    from django.core.files.base import ContentFile

    from ikstorage import CachedStorage
    from ikstorage.profiler import count_calls
    from tests.broadcast_peers import Peer, staleness

    writer = CachedStorage(cache=ALIAS, **options)
    peer = Peer(cache, options)
    try:
        names = [writer.save(f"{tag}/{i}.txt", ContentFile(b"x" * (10 + i))) for i in range(120)]
        written, others = names[: 2 * WRITES], names[2 * WRITES :]
        peer.answers(names)
        if options["broadcast"]:
            assert peer.listening()
        peer.answers(names)
        writes: list[Any] = [
            (n, lambda n=n: writer.delete(n), [False, None]) for n in written[:WRITES]
        ]
        writes += [
            (n, lambda n=n: writer.save(n, ContentFile(b"new")), [True, 3])
            for n in written[WRITES:]
        ]
        seen = staleness(peer, writes, timeout=cap, together=together)
        warm = peer.answers(others)["round_trips"]
        with count_calls() as save:
            writer.save(others[0], ContentFile(b"again"))
        with count_calls() as delete:
            writer.delete(others[1])
        return {"seen": seen, "warm": warm, "save": save.round_trips, "delete": delete.round_trips}
    finally:
        peer.close()


if __name__ == "__main__":
    sys.exit(main())
