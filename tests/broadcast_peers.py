"""Other processes for the broadcast tests and benchmark: a peer to command, staleness measured.

A :class:`Peer` is a separate Python process (``tests/scripts/broadcast_peer.py``)
with a ``CachedStorage`` over the same bucket and the same Redis cache as the
process that writes; :func:`staleness` measures, for each write, how long after
the write returned the peer still answered what it knew before.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from tests.child import ROOT, pythonpath

#: The cache alias both sides use.
ALIAS = "shared"


class Peer:
    """One peer process; :meth:`ask` sends a command and returns its JSON answer."""

    def __init__(self, cache: dict[str, Any], options: dict[str, Any]) -> None:
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        env["PYTHONPATH"] = pythonpath()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.scripts.broadcast_peer",
                json.dumps({"cache": cache, "options": options}),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        assert self.read() == {"ready": True}

    def read(self) -> Any:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, f"the peer exited ({self.process.poll()})"
        return json.loads(line)

    def send(self, op: str, **args: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.process.stdin.flush()

    def ask(self, op: str, **args: Any) -> Any:
        self.send(op, **args)
        return self.read()

    def answers(self, names: list[str]) -> dict[str, Any]:
        """The peer's ``[exists, size]`` per name, and what asking cost it."""
        return self.ask("read", names=names)  # type: ignore[no-any-return]

    def listening(self, timeout: float = 10.0) -> bool:
        return bool(self.ask("listening", timeout=timeout)["listening"])

    def close(self) -> None:
        if self.process.poll() is None:
            self.send("quit")
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


def staleness(
    peer: Peer,
    writes: list[tuple[str, Callable[[], None], list[Any]]],
    *,
    timeout: float,
    together: bool = False,
) -> list[float | None]:
    """Seconds from each write's return until ``peer`` answered as the storage does.

    ``writes`` are ``(name, write, expected answer after it)``; the peer is
    asked about the names first (so it holds them in L1), then watches while
    each write runs. One write at a time, or all of them back to back with
    ``together`` (a baseline whose staleness is the L1 timeout need not wait
    for it once per write). ``None``: still the old answer after ``timeout``.
    """
    names = [name for name, _, _ in writes]
    groups = [writes] if together else [[w] for w in writes]
    found: list[float | None] = []
    for group in groups:
        peer.answers([name for name, _, _ in group])
        peer.send("watch", expect={name: expected for name, _, expected in group}, timeout=timeout)
        assert peer.read() == {"watching": True}
        done: dict[str, float] = {}
        for name, write, _ in group:
            write()
            done[name] = time.time()
        seen = peer.read()["seen"]
        for name, _, _ in group:
            at = seen[name]
            found.append(None if at is None else max(0.0, at - done[name]))
    assert len(found) == len(names)
    return found
