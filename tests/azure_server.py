"""Azurite (Azure Blob Storage's emulator) behind a forwarder that counts HTTP requests.

Azurite is a Node.js program, installed with npm into
``$IKSTORAGE_TEST_DATA/azurite`` (default ``~/.cache/ikstorage-test-data``;
``.ci/run`` installs it there) or found on ``PATH``. It is started once per
session, in memory, on a free loopback port. The storages under test talk to
a forwarder in this process instead (``tests/forwarder.py``), which passes
each request on unchanged and logs it: one entry per HTTP request, by kind
(``get``, ``head``, ``write`` for a PUT, ``list``, ``delete``, ``other``),
whichever process sent it. Where node or Azurite are missing the tests are
skipped, except under ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.forwarder import forwarding
from tests.servers import free_port, stop_process, unavailable, wait_for_port

#: Azurite's well-known development account (its key is public, in Azure's docs).
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
CONTAINER = "media"


def azurite_binary() -> str | None:
    """``azurite-blob`` from the test-data directory, else from ``PATH``."""
    root = Path(os.environ.get("IKSTORAGE_TEST_DATA") or "~/.cache/ikstorage-test-data")
    local = root.expanduser() / "azurite" / "node_modules" / ".bin" / "azurite-blob"
    if local.exists():
        return str(local)
    return shutil.which("azurite-blob")


@dataclass
class Azurite:
    """The forwarder's address and its log of ``(method, path)``."""

    endpoint: str
    upstream: int
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
            f"BlobEndpoint={self.endpoint};"
        )

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
        """An empty container ``media`` (talking to Azurite directly: not counted)."""
        from azure.storage.blob import BlobServiceClient

        direct = self.connection_string.replace(
            self.endpoint, f"http://127.0.0.1:{self.upstream}/{ACCOUNT}"
        )
        container = BlobServiceClient.from_connection_string(direct).get_container_client(CONTAINER)
        if not container.exists():
            container.create_container()
        for blob in container.list_blobs():
            container.delete_blob(blob.name)


def kind(method: str, path: str) -> str:
    if method == "GET":
        return "list" if "comp=list" in path else "get"
    return {"HEAD": "head", "PUT": "write", "DELETE": "delete"}.get(method, "other")


def start_azurite() -> Iterator[Azurite]:
    """Azurite on a free port, with the forwarder in front, for the whole session."""
    binary = azurite_binary()
    try:
        from azure.storage import blob as _blob  # noqa: F401
        from storages.backends import azure_storage as _azure  # noqa: F401
    except ImportError as err:
        unavailable(f"Azure tests need django-storages[azure] ({err})")
        return
    if binary is None or shutil.which("node") is None:
        unavailable(
            "Azure tests need node and Azurite: npm install --prefix "
            "$IKSTORAGE_TEST_DATA/azurite azurite@3 (see .ci/run)"
        )
        return
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="ikstorage-azurite-")
    args = [
        binary,
        "--silent",
        "--inMemoryPersistence",
        "--skipApiVersionCheck",
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        str(port),
    ]
    # Its working directory takes what little it writes besides the in-memory data.
    process = subprocess.Popen(
        args, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(port, timeout=30)
        front = free_port()
        azurite = Azurite(endpoint=f"http://127.0.0.1:{front}/{ACCOUNT}", upstream=port)
        with forwarding(port, front, lambda request: azurite.log(request.command, request.path)):
            azurite.wipe()
            yield azurite
    finally:
        stop_process(process)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def azurite_session() -> Iterator[Azurite]:
    yield from start_azurite()


@pytest.fixture
def azurite(azurite_session: Azurite) -> Azurite:
    """Azurite with an empty container ``media``."""
    azurite_session.wipe()
    return azurite_session
