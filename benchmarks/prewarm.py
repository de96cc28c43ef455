"""``ikstorage_prewarm`` against a naive loop, with S3 20 ms away; and its memory at scale.

S3 is moto's server in a process of its own (so its CPU is not ours), over
HTTP, with a latency model: a botocore ``before-send`` handler sleeps 20 ms
before every S3 request of every client. The shared cache is a Redis server
started here (a file cache when ``redis-server`` is not installed).

The bucket holds 2,000 photo-like JPEGs of 75 to 250 KB (web-sized
photographs, each larger than the 64 KiB a probe reads). Measured in one run:

* **naive** - what a site without a prewarm does to learn the same facts: a
  sequential loop over unchanged ``ImageField`` files on a plain
  ``S3Storage`` touching ``.size``, ``.width`` and ``.height`` of each;
* **prewarm** - ``ikstorage_prewarm --prefix`` on an empty cache, default
  workers, then again with 1, 4, 8, 16 and 32 workers (cache emptied before
  each) for the per-worker rate.

Reported: the time ratio (target >= 50x), S3 calls per image (target: 1 plus
one listing call per 1,000 keys), bytes read per image (target <= 64 KiB),
and the peak resident memory of a prewarm of 2,000 and of 20,000 names, each
measured in a fresh process (small objects there: the memory of a run does not
depend on the files' sizes, and 20,000 large objects would not fit in moto).
From the per-worker rate, the time and S3 request cost of two million images.
Exit status 1 when a target is missed.

    .devenv/bin/python benchmarks/prewarm.py [--images 2000] [--rss 2000,20000]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "media"
LATENCY_MS = 20.0
RATIO_TARGET = 50.0
PROBE_BYTES_TARGET = 64 * 1024
SWEEP = (1, 4, 8, 16, 32)
#: Assumed S3 Standard request prices, us-east-1 (see docs/prewarm.md for the source).
PRICE_PER_1000_GET = 0.0004
PRICE_PER_1000_LIST = 0.005


# -- services --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on port {port}")


def serve_s3(port: int) -> int:
    """moto's S3 over HTTP/1.1 with keep-alive, as S3 itself serves it.

    ``moto_server`` runs on werkzeug's development server, which closes the
    connection after every response: each request would then pay a TCP
    connection (and the server a thread) that no S3 client pays, and the
    benchmark would measure that. This is a plain ``http.server`` calling
    moto's WSGI application, reading request bodies by ``Content-Length``
    and keeping connections open.
    """
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import unquote_to_bytes

    from moto.server import DomainDispatcherApplication, create_backend_app

    app = DomainDispatcherApplication(create_backend_app)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            path, _, query = self.path.partition("?")
            environ: dict[str, Any] = {
                "REQUEST_METHOD": self.command,
                "SCRIPT_NAME": "",
                "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
                "QUERY_STRING": query,
                "RAW_URI": self.path,
                "REQUEST_URI": self.path,
                "SERVER_NAME": "127.0.0.1",
                "SERVER_PORT": str(port),
                "SERVER_PROTOCOL": "HTTP/1.1",
                "REMOTE_ADDR": self.client_address[0],
                "CONTENT_LENGTH": str(length),
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "wsgi.version": (1, 0),
                "wsgi.url_scheme": "http",
                "wsgi.input": io.BytesIO(body),
                "wsgi.errors": sys.stderr,
                "wsgi.multithread": True,
                "wsgi.multiprocess": False,
                "wsgi.run_once": False,
            }
            for key, value in self.headers.items():
                name = key.upper().replace("-", "_")
                if name not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                    environ["HTTP_" + name] = value
            started: list[Any] = []

            def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
                started[:] = [status, headers]

            result = app(environ, start_response)
            try:
                data = b"".join(result)
            finally:
                getattr(result, "close", lambda: None)()
            status, headers = started
            code, _, reason = status.partition(" ")
            self.send_response(int(code), reason)
            declared = "0"
            for key, value in headers:
                low = key.lower()
                if low == "content-length":
                    declared = value
                elif low not in ("connection", "transfer-encoding", "server", "date"):
                    self.send_header(key, value)
            # A HEAD response declares the object's length and sends no body.
            self.send_header(
                "Content-Length", declared if self.command == "HEAD" else str(len(data))
            )
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = serve

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()
    return 0


@contextlib.contextmanager
def services(workdir: Path) -> Iterator[tuple[str, dict[str, Any], int]]:
    """moto's S3 (see ``serve_s3``) and Redis (or a file cache), each in its own process."""
    processes = []
    try:
        port = free_port()
        processes.append(
            subprocess.Popen(
                [sys.executable, __file__, "--serve-s3", str(port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        wait_for_port(port)
        endpoint = f"http://127.0.0.1:{port}"
        redis = shutil.which("redis-server")
        if redis:
            redis_port = free_port()
            processes.append(
                subprocess.Popen(
                    [redis, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", ""],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            wait_for_port(redis_port)
            cache = {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{redis_port}/0",
            }
        else:
            cache = {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(workdir / "cache"),
                "OPTIONS": {"MAX_ENTRIES": 10_000_000},
            }
        yield endpoint, cache, processes[0].pid
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


def configure(endpoint: str, cache: dict[str, Any], latency_ms: float) -> None:
    """Django settings for this process, and the latency model on every future S3 client."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(key, "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    sys.path.insert(0, str(ROOT))
    import django
    from django.conf import settings

    s3 = {
        "bucket_name": BUCKET,
        "endpoint_url": endpoint,
        "querystring_auth": False,
        "region_name": "us-east-1",
    }
    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "ikstorage", "tests.testapp"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        CACHES={"default": cache},
        STORAGES={
            "s3": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": s3},
            "default": {"BACKEND": "ikstorage.CachedStorage", "OPTIONS": {"storage": "s3"}},
        },
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()
    if latency_ms > 0:
        import botocore.handlers

        seconds = latency_ms / 1000

        def latency(**kwargs: Any) -> None:
            time.sleep(seconds)

        # Every botocore session created from now on registers it, so every client
        # (one per worker thread) pays the same distance to S3.
        botocore.handlers.BUILTIN_HANDLERS.append(("before-send.s3", latency))


# -- the bucket ------------------------------------------------------------------------


def photo_jpegs() -> list[tuple[bytes, tuple[int, int]]]:
    """Eight web-sized photo-like JPEGs (gradients and grain) of 75 to 250 KB."""
    from PIL import Image, ImageChops

    made = []
    for i, size in enumerate(
        [(1280, 853), (1024, 768), (1200, 1200), (800, 1200), (1600, 900), (1080, 1350),
         (960, 640), (1400, 933)]
    ):  # fmt: skip
        base = Image.linear_gradient("L").resize(size).convert("RGB")
        noise = Image.effect_noise(size, 10 + 2 * i).convert("RGB")
        blend = ImageChops.add(base, noise, scale=2.0)
        out = io.BytesIO()
        blend.save(out, "JPEG", quality=70)
        made.append((out.getvalue(), size))
    return made


def upload(endpoint: str, keys: list[str], bodies: list[bytes]) -> None:
    """Put ``keys`` (body ``bodies[i % len(bodies)]``) with 16 threads, no latency model."""
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket=BUCKET)

    def put(i: int) -> None:
        client.put_object(Bucket=BUCKET, Key=keys[i], Body=bodies[i % len(bodies)])

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, range(len(keys))))


# -- measurements ----------------------------------------------------------------------


def naive(names: list[str]) -> tuple[float, Any]:
    """``.size``, ``.width``, ``.height`` of unchanged ImageFields on a plain S3Storage."""
    from django.core.files.storage import storages

    from ikstorage.profiler import count_calls
    from tests.testapp.models import Photo

    field = Photo._meta.get_field("image")
    field.storage = storages["s3"]  # type: ignore[attr-defined]
    started = time.perf_counter()
    with count_calls() as calls:
        for name in names:
            image = Photo(image=name).image
            assert image.size > 0
            assert image.width
            assert image.height
    return time.perf_counter() - started, calls


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def prewarm(prefix: str, workers: int, server: int | None = None) -> dict[str, Any]:
    """One prewarm of ``prefix`` on an empty cache: its summary, and the CPU it cost."""
    from django.core.cache import caches

    from ikstorage import cache as ik_cache
    from ikstorage.prewarm.plan import Plan
    from ikstorage.prewarm.runner import run

    caches["default"].clear()
    ik_cache.clear_local()
    ours, theirs = time.process_time(), cpu_seconds(server) if server else 0.0
    summary = run(Plan(prefix=prefix, workers=workers)).as_dict()
    summary["cpu_s"] = time.process_time() - ours
    summary["server_cpu_s"] = cpu_seconds(server) - theirs if server else 0.0
    assert summary["errors"] == 0, summary["error_samples"]
    return summary


def peak_rss(endpoint: str, cache: dict[str, Any], prefix: str) -> dict[str, Any]:
    """A prewarm of ``prefix`` in a fresh process: its peak resident set, in MiB."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps([endpoint, cache, prefix])],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if done.returncode:
        raise RuntimeError(done.stderr)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def child(argument: str) -> int:
    endpoint, cache, prefix = json.loads(argument)
    configure(endpoint, cache, latency_ms=0)
    from ikstorage.profiler import count_calls

    with count_calls():  # hook botocore now: its one-time scan is not the run's memory
        pass
    before = _status_kib("VmRSS")
    summary = prewarm(prefix, workers=_default_workers())
    print(
        json.dumps(
            {
                "files": summary["files_seen"],
                "s3": summary["s3"],
                "before_mib": before / 1024,
                "peak_mib": _status_kib("VmHWM") / 1024,
            }
        )
    )
    return 0


def _default_workers() -> int:
    from ikstorage.prewarm.plan import default_workers

    return default_workers()


# -- the report ------------------------------------------------------------------------


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--rss", default="2000,20000", help="sizes for peak RSS ('' to skip)")
    parser.add_argument("--latency-ms", type=float, default=LATENCY_MS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--serve-s3", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child)
    if args.serve_s3:
        return serve_s3(args.serve_s3)

    with (
        tempfile.TemporaryDirectory(prefix="ikstorage-bench-") as tmp,
        services(Path(tmp)) as (endpoint, cache, server),
    ):
        photos = photo_jpegs()
        names = [f"bench/{i:05d}.jpg" for i in range(args.images)]
        upload(endpoint, names, [body for body, _ in photos])
        sizes = [s for s in (int(x) for x in args.rss.split(",") if x) if s]
        small = photo_jpegs_small()
        for size in sizes:
            upload(endpoint, [f"rss{size}/{i:06d}.jpg" for i in range(size)], small)

        configure(endpoint, cache, args.latency_ms)
        from ikstorage.profiler import count_calls

        with count_calls():
            pass  # install the profiler's hooks before anything is timed

        naive_seconds, naive_calls = naive(names)
        default = _default_workers()
        runs = {default: prewarm("bench/", default, server)}
        for workers in SWEEP:
            if workers not in runs:
                runs[workers] = prewarm("bench/", workers, server)
        rss = {size: peak_rss(endpoint, cache, f"rss{size}/") for size in sizes}

    n = args.images
    best = runs[default]
    ratio = naive_seconds / best["elapsed_s"]
    probes = best["s3"].get("GetObject", 0)
    listings = best["s3"].get("ListObjectsV2", 0)
    per_image_bytes = best["probe_bytes"] / n
    print(
        f"images                      {n:,} ({min(len(b) for b, _ in photos) // 1024}-"
        f"{max(len(b) for b, _ in photos) // 1024} KB JPEGs), S3 latency {args.latency_ms:g} ms,"
        f" cache {cache['BACKEND'].rsplit('.', 1)[-1]}"
    )
    print(
        f"naive loop                  {naive_seconds:8.1f} s   {naive_calls.s3_total / n:.2f} S3 "
        f"calls/image {dict(sorted(naive_calls.s3.items()))}, "
        f"{naive_calls.bytes_downloaded / n / 1024:,.1f} KiB/image"
    )
    print(
        f"prewarm ({default} workers)         {best['elapsed_s']:8.2f} s   "
        f"{best['s3_total'] / n:.4f} S3 calls/image {dict(sorted(best['s3'].items()))}, "
        f"{per_image_bytes / 1024:,.1f} KiB/image read by probes, "
        f"{best['bytes_downloaded'] / 1024:,.0f} KiB in all with the listings"
    )
    print(f"ratio                       {ratio:8.1f}x   (target >= {RATIO_TARGET:g}x)")
    print("workers  seconds  files/s  per worker  CPU ms/image: ours, S3 server (moto)")
    for workers in sorted(runs):
        r = runs[workers]
        rate = n / r["elapsed_s"]
        print(
            f"{workers:7d}  {r['elapsed_s']:7.2f}  {rate:7.0f}  {rate / workers:10.1f}  "
            f"{r['cpu_s'] / n * 1000:5.2f}, {r['server_cpu_s'] / n * 1000:5.2f}"
        )
    for size, result in rss.items():
        print(
            f"peak RSS, {size:>6,} names     {result['peak_mib']:6.1f} MiB "
            f"(before the run {result['before_mib']:.1f} MiB; S3 {result['s3']})"
        )
    from ikstorage.prewarm.report import text

    print(f"summary of the {default}-worker run:")
    print(text(best), end="")
    one = n / runs[1]["elapsed_s"]
    print(f"2,000,000 images at the 1-worker rate ({one:.1f} files/s per worker):")
    gets = 2_000_000 * PRICE_PER_1000_GET / 1000
    lists = 2_000_000 / 1000 * PRICE_PER_1000_LIST / 1000
    for workers in (1, 8, 64):
        print(f"  {workers:3d} workers: {duration(2_000_000 / (one * workers)):>8}")
    print(f"  requests: 2,000,000 GET ${gets:.2f} + 2,000 LIST ${lists:.2f} per listing pass")

    ok = (
        ratio >= RATIO_TARGET
        and probes == n
        and listings == -(-n // 1000)
        and per_image_bytes <= PROBE_BYTES_TARGET
        and all(r["files"] == s for s, r in rss.items())
    )
    return 0 if ok else 1


def photo_jpegs_small() -> list[bytes]:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 120, 200)).save(out, "JPEG")
    return [out.getvalue()]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
