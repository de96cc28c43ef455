"""Helpers of the newcomer test: the docs' code blocks, a scratch project, an S3 call counter.

The newcomer test follows the README and the quickstart word for word, so it
reads their code blocks out of the Markdown instead of copying them: when the
docs change, the test runs what they now say. A block that cannot be found
fails the test with the page, the heading and what was looked for.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

import ikstorage

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```(\w*)\s*$")


def section(page: Path, heading: str) -> list[str]:
    """The lines under ``heading`` (e.g. ``"## Use it"``), up to the next heading
    of the same or a higher level."""
    lines = page.read_text().splitlines()
    level = len(heading) - len(heading.lstrip("#"))
    starts = [i for i, line in enumerate(lines) if line.strip() == heading]
    if not starts:
        pytest.fail(f"{page.name}: no heading {heading!r}: the newcomer test follows it")
    out: list[str] = []
    fenced = False
    for line in lines[starts[0] + 1 :]:
        if line.startswith("```"):
            fenced = not fenced
        hashes = len(line) - len(line.lstrip("#"))
        if not fenced and 0 < hashes <= level and line[hashes : hashes + 1] == " ":
            break
        out.append(line)
    return out


def blocks(lines: Iterable[str], language: str) -> Iterator[str]:
    """Each fenced block of ``language`` in ``lines``, without its fences."""
    body: list[str] | None = None
    current = ""
    for line in lines:
        fence = FENCE.match(line)
        if body is None and fence:
            body, current = [], fence.group(1)
        elif body is not None and line.strip() == "```":
            if current == language:
                yield "\n".join(body) + "\n"
            body = None
        elif body is not None:
            body.append(line)


def block(page: Path, heading: str, language: str, contains: str = "", index: int = 0) -> str:
    """The ``index``-th ``language`` block under ``heading`` that contains ``contains``."""
    found = [b for b in blocks(section(page, heading), language) if contains in b]
    if len(found) <= index:
        pytest.fail(
            f"{page.name}: under {heading!r}, no ```{language} block #{index + 1}"
            f"{f' containing {contains!r}' if contains else ''}: the newcomer test runs it"
        )
    return found[index]


class CountingApp:
    """WSGI middleware in front of moto: every S3 request the server answers, counted."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.requests: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/moto-api"):
            with self.lock:
                ranged = "-ranged" if environ.get("HTTP_RANGE") else ""
                self.requests.append(f"{environ['REQUEST_METHOD']}{ranged} {path}")
        return self.app(environ, start_response)

    def take(self) -> list[str]:
        """The requests since the last call, and start counting again."""
        with self.lock:
            out, self.requests = self.requests, []
        return out


def counting_moto() -> Iterator[tuple[str, CountingApp]]:
    """moto's S3 over HTTP with a request counter; yields the endpoint and the counter."""
    from moto.server import ThreadedMotoServer

    from tests.servers import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    inner = server._server
    assert inner is not None
    counter = CountingApp(inner.app)
    inner.app = counter  # the request handler reads server.app for every request
    try:
        yield f"http://127.0.0.1:{port}", counter
    finally:
        server.stop()


def child_env() -> dict[str, str]:
    """The environment of the scratch project's commands: this ikstorage importable
    (a checkout's ``src`` or the installed package), no settings module inherited."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    src = str(Path(ikstorage.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    return env


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """A command of the scratch project, with this venv's Python; fails with its output."""
    if args[0] == "python":
        args = [sys.executable, *args[1:]]
    out = subprocess.run(
        args, cwd=cwd, env=child_env(), capture_output=True, text=True, timeout=120, check=False
    )
    said = f"{out.stdout}{out.stderr}"
    assert out.returncode == 0, f"{' '.join(args)} exited {out.returncode}:\n{said}"
    return out
