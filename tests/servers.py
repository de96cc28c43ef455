"""Real servers the tests start and stop themselves: Redis, memcached, moto over HTTP.

Each test server runs on a free loopback port, owned by the test, so a test
can stop it mid-test (a cache outage) and start it again. Where the server
binary is not installed the test is skipped with the reason, except in CI
(``CI=true``), where a skipped service test would hide a broken set-up and
fails instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import pytest


def unavailable(reason: str) -> None:
    """Skip locally, fail in CI: CI promises every service tier runs."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: service tests must not be skipped)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(process: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``timeout`` (a loaded machine
    can keep a server's own shutdown past it); a test's teardown never hangs or fails here."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


class Server:
    """A server process on a fixed port that can be stopped and started again."""

    def __init__(self, binary: str, args: list[str], port: int) -> None:
        self.binary, self.args, self.port = binary, args, port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, *self.args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None


def _server(binary: str, args: Any, port: int, what: str) -> Iterator[Server]:
    path = shutil.which(binary)
    if path is None:
        unavailable(f"{what} tests need the {binary!r} binary on PATH")
        return
    server = Server(path, args, port)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_server() -> Iterator[Server]:
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="ikstorage-redis-")
    # Append-only persistence: a restart keeps the data, like a real outage and recovery.
    args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes"]
    yield from _server("redis-server", [*args, "--dir", workdir], port, "Redis")
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def memcached_server() -> Iterator[Server]:
    port = free_port()
    args = ["-p", str(port), "-l", "127.0.0.1", "-U", "0", "-m", "64"]
    if os.geteuid() == 0:
        args += ["-u", "root"]
    yield from _server("memcached", args, port, "Memcached")


@pytest.fixture
def moto_server() -> Iterator[str]:
    """moto's S3 over real HTTP; yields the endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
