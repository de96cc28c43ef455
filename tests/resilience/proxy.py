"""A TCP proxy in front of a real server, with network faults on demand.

The cache server itself stays healthy and keeps its data; what breaks is the
path to it, as in production: a partition (connections refused), a hung
server (connections accepted, requests swallowed, nothing answered) or a slow
one (every answer arrives ``delay`` seconds late, on the same connection, so a
client that gave up and reused the connection would read a stale answer).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from typing import Literal

Mode = Literal["pass", "hang", "delay"]


class TcpProxy:
    """Listens on a free loopback port and forwards to ``upstream_port``."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.mode: Mode = "pass"
        self.delay = 0.0
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        #: Connections accepted since start (a client that reconnects shows here).
        self.accepted = 0

    # -- control -----------------------------------------------------------------

    def start(self) -> None:
        """Listen (on the same port as before after a partition)."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self.port = int(listener.getsockname()[1])
        self._listener = listener
        self._spawn(self._accept, listener)

    def partition(self) -> None:
        """Refuse new connections and cut the open ones: the server is unreachable."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        self._cut_all()

    def heal(self) -> None:
        """Back to a plain pass-through on the same port."""
        self.mode, self.delay = "pass", 0.0
        if self._listener is None:
            self.start()

    def hang(self) -> None:
        """Accept and read, never answer (also on connections already open)."""
        self.mode = "hang"

    def slow(self, delay: float) -> None:
        """Every answer from the server arrives ``delay`` seconds late."""
        self.mode, self.delay = "delay", delay

    def stop(self) -> None:
        self.partition()
        for thread in self._threads:
            thread.join(timeout=5)

    # -- plumbing -----------------------------------------------------------------

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _cut_all(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # partitioned or stopped
            self.accepted += 1
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            self._track(client)
            self._track(upstream)
            self._spawn(self._pump, client, upstream, False)
            self._spawn(self._pump, upstream, client, True)

    def _pump(self, source: socket.socket, target: socket.socket, answers: bool) -> None:
        """Copy bytes one way; ``answers`` is the server-to-client direction."""
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if not answers and self.mode == "hang":
                    continue  # the request is swallowed: no answer will come
                if answers and self.mode == "delay":
                    time.sleep(self.delay)
                target.sendall(data)
        except OSError:
            pass
        finally:
            # Each socket is the source of exactly one pump, which closes it.
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            with self._lock:
                self._sockets.discard(source)
            source.close()
