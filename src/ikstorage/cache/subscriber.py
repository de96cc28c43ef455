"""The listening half of the broadcast: one daemon thread per process and cache alias.

It subscribes to the channel of every storage identity this process has read
through the alias (:mod:`.broadcast` names them) and drops the keys each
message names from L1. A message is a hint, never trusted further than that:
anything that is not a list of well-formed keys is ignored.

What it cannot hear it cannot act on, so it assumes the worst whenever it may
have missed something: every subscription confirmed (the first one, one for a
storage used later, the ones redis-py makes again after reconnecting by
itself) clears the alias's L1. A dropped connection, a Redis restart or a
silent one (no answer to a ``PING``) makes it start over with a new
connection, after a pause that doubles up to :data:`LONGEST_PAUSE`; until then
L1 entries live ``local_timeout`` at most, as without the broadcast. Nothing
here runs on a request's thread, and nothing it does can fail one.

The thread is started lazily, by the first read or write that needs it, and
again in a forked child (threads do not survive ``fork``), which also clears
the L1 it inherited.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from ikstorage.cache.local import LocalCache

__all__ = ["Subscriber"]

logger = logging.getLogger("ikstorage.cache")

#: Seconds one wait for a message lasts: how soon a new channel is subscribed.
POLL = 0.1
#: Seconds of silence before a ``PING``, and then before the connection is given up.
PING_AFTER = 5.0
#: First and longest pause before connecting again (seconds).
FIRST_PAUSE = 0.1
LONGEST_PAUSE = 5.0
#: One key of a message: the kind letter and the name's digest (see ``records.keys``).
_KEY = re.compile(r"[a-z]:[0-9a-f]{32}")


class _Silent(ConnectionError):
    """The server did not answer a ``PING``: the connection is dead without saying so."""


class Subscriber:
    """Listens on one alias's channels and drops what they name from ``local``.

    ``client`` returns the cache's redis-py client (called on the thread);
    ``sender`` is this process's own sender token (its own messages are skipped:
    its L1 already holds what it wrote).
    """

    def __init__(
        self,
        alias: str,
        local: LocalCache[Any],
        client: Callable[[], Any],
        sender: Callable[[], str],
    ) -> None:
        self.alias = alias
        self.local = local
        self._client = client
        self._sender = sender
        #: channel -> the key prefix of the storage identity it announces.
        self.channels: dict[str, str] = {}
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.pid = 0
        #: Set while a subscription is confirmed (tests and ``status()`` wait for it).
        self.listening = threading.Event()
        self.received = 0
        self.connections = 0
        self.failures = 0

    def want(self, prefix: str, channel: str) -> None:
        """Listen on ``channel`` (keys starting with ``prefix``); start the thread if needed."""
        if channel not in self.channels:
            with self.lock:
                self.channels = {**self.channels, channel: prefix}
        if self.thread is None or self.pid != os.getpid():
            self._start()

    def stop(self) -> None:
        """Stop listening (settings changed); the next read or write starts again."""
        with self.lock:
            self._stop.set()
            self.thread = None
            self.failures = 0
            self.channels = {}
            self.listening.clear()

    def after_fork(self) -> None:
        """In a forked child: the parent's thread is not here; the next read starts one."""
        self.lock = threading.Lock()
        self.thread = None
        self.listening = threading.Event()

    def _start(self) -> None:
        with self.lock:
            if self.thread is not None and self.pid == os.getpid():
                return
            self.pid = os.getpid()
            self._stop = threading.Event()
            self.thread = threading.Thread(
                target=self._run,
                args=(self._stop,),
                name=f"ikstorage-broadcast-{self.alias}",
                daemon=True,
            )
            self.thread.start()

    def _run(self, stop: threading.Event) -> None:
        pause = FIRST_PAUSE
        while not stop.is_set() and self.pid == os.getpid():
            connections = self.connections
            try:
                self._listen(stop)
            except Exception as exc:  # a hint: whatever failed, listen again later
                if stop.is_set():  # stopped meanwhile: the state is the next thread's
                    return
                self.listening.clear()
                self.failures += 1
                if self.failures == 1:  # once per outage; the recovery is logged too
                    logger.warning(
                        "Broadcast on cache %r lost its connection (%s: %s); other "
                        "processes' writes reach this one within local_timeout until it "
                        "is back. Reconnecting by itself.",
                        self.alias,
                        type(exc).__name__,
                        exc,
                    )
            if self.connections != connections:  # it was connected: start the pauses over
                pause = FIRST_PAUSE
            stop.wait(pause)
            pause = min(pause * 2, LONGEST_PAUSE)

    def _listen(self, stop: threading.Event) -> None:
        """Subscribe and hand messages on until the connection fails (by raising)."""
        pubsub = self._client().pubsub()
        try:
            subscribed: set[str] = set()
            heard = time.monotonic()
            pinged = 0.0
            while not stop.is_set() and self.pid == os.getpid():
                wanted = [c for c in self.channels if c not in subscribed]
                if wanted:
                    pubsub.subscribe(*wanted)
                    subscribed.update(wanted)
                now = time.monotonic()
                if now - heard > PING_AFTER:
                    if pinged and now - pinged > PING_AFTER:
                        raise _Silent(f"no answer to PING in {PING_AFTER:g}s")
                    if not pinged:
                        pubsub.ping()
                        pinged = now
                message = pubsub.get_message(timeout=POLL)
                if message is None:
                    continue
                heard, pinged = time.monotonic(), 0.0
                if not stop.is_set():
                    self._handle(message)
        finally:
            with contextlib.suppress(Exception):  # a broken connection: nothing left to close
                pubsub.close()

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "subscribe":
            # Anything announced before this moment was not heard: start from L2 again.
            self.local.clear()
            self.connections += 1
            if self.failures:
                logger.warning(
                    "Broadcast on cache %r is back after %d failed attempt(s); this "
                    "process's L1 was cleared (announcements may have been missed).",
                    self.alias,
                    self.failures,
                )
                self.failures = 0
            self.listening.set()
        elif kind == "message":
            self._receive(message.get("channel"), message.get("data"))

    def _receive(self, channel: Any, data: Any) -> None:
        if isinstance(channel, bytes):
            channel = channel.decode("utf-8", "replace")
        prefix = self.channels.get(channel) if isinstance(channel, str) else None
        if prefix is None or not isinstance(data, bytes | str):
            return
        text = data.decode("ascii", "replace") if isinstance(data, bytes) else data
        sender, _, rest = text.partition(" ")
        if sender == self._sender():
            return
        keys = [prefix + part for part in rest.split(" ") if _KEY.fullmatch(part)]
        if keys:
            self.received += 1
            self.local.drop(keys)
