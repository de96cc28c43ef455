"""A Google Cloud Storage emulator in this process, counting the HTTP requests it serves.

``gcp-storage-emulator`` (pure Python) serves the JSON and upload APIs on a
loopback port; the client is pointed at it with ``STORAGE_EMULATOR_HOST``.
Requests are counted where a bill would count them: at the server, one per
HTTP request, by kind (``read`` for a GET, ``write`` for an upload, ``delete``,
``other``), whatever process sent them. Where the emulator or the Google
libraries are not installed the tests are skipped, except under ``CI=true``.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http import server as http_server
from typing import Any

from tests.servers import free_port, unavailable

#: The scopes the storage client asks for: credentials that already carry them are
#: used as given (not copied), so a token set on them is the one sent.
SCOPES = ["https://www.googleapis.com/auth/devstorage.full_control"]


@dataclass
class Emulator:
    """The running emulator: its address and its log of ``(method, path)``."""

    host: str
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    storage: Any = None

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
        self.storage.wipe(keep_buckets=True)


def kind(method: str, path: str) -> str:
    if method == "GET":
        return "read"
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
    emulator = Emulator(host=f"http://127.0.0.1:{port}")

    class Counting(RequestHandler):  # type: ignore[misc]
        def parse_request(self) -> bool:
            ok: bool = super().parse_request()
            if ok:
                emulator.log(self.command, self.path)
            return ok

    emulator.storage = Storage(use_memory_fs=True)
    buckets.create_bucket("media", emulator.storage)
    httpd = http_server.ThreadingHTTPServer(
        ("127.0.0.1", port), partial(Counting, emulator.storage)
    )
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    previous = os.environ.get("STORAGE_EMULATOR_HOST")
    os.environ["STORAGE_EMULATOR_HOST"] = emulator.host
    try:
        yield emulator
    finally:
        if previous is None:
            os.environ.pop("STORAGE_EMULATOR_HOST", None)
        else:
            os.environ["STORAGE_EMULATOR_HOST"] = previous
        httpd.shutdown()
        httpd.server_close()
