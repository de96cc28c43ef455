"""The broadcast's subscriber thread: in a forked child, and on a server gone silent.

Threads do not survive ``fork``: a forked child (gunicorn's ``--preload``) must
subscribe on its own, and clear the L1 it inherited (announcements between
the fork and its subscription were not heard by anyone in it). A server that
stops answering without closing the connection (hung, or cut off by the
network) is noticed by an unanswered ``PING``.
"""

from __future__ import annotations

import multiprocessing
import signal
import time
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.test import override_settings

from ikstorage import CachedStorage
from ikstorage.cache import broadcast, subscriber
from ikstorage.profiler import count_calls
from tests.broadcast_peers import ALIAS
from tests.resilience.caches import locmem
from tests.resilience.caches import redis as redis_config
from tests.servers import Server

pytestmark = [pytest.mark.server, pytest.mark.slow]

TARGET = 1.0


def _forked(storage: CachedStorage, name: str, conn: Any) -> None:
    """In a forked child: what it inherited, then its own subscription and what it hears."""
    from ikstorage.cache.levels import _local

    found = broadcast._broadcasts[ALIAS]
    inherited = {"l1": len(_local[ALIAS]), "thread": found.subscriber.thread is not None}
    assert storage.size(name) == 3  # a read: starts this process's own subscriber
    listening = found.subscriber.listening.wait(10)
    assert storage.size(name) == 3
    conn.send({**inherited, "listening": listening, "own_thread": found.subscriber.thread.ident})
    conn.recv()  # the parent deletes the file now
    deadline = time.monotonic() + 5
    while storage.exists(name) and time.monotonic() < deadline:
        time.sleep(0.001)
    conn.send({"seen": None if storage.exists(name) else time.time()})


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_starts_its_own_subscriber(redis_server: Server, tmp_path: Any) -> None:
    with override_settings(CACHES={"default": locmem(), ALIAS: redis_config(redis_server.port)}):
        storage = CachedStorage(
            storage=FileSystemStorage(location=str(tmp_path)), cache=ALIAS, broadcast=True
        )
        storage.save("f.txt", ContentFile(b"abc"))
        assert storage.size("f.txt") == 3
        parent = broadcast._broadcasts[ALIAS].subscriber
        assert parent.listening.wait(10)
        here, there = multiprocessing.get_context("fork").Pipe()
        child = multiprocessing.get_context("fork").Process(
            target=_forked, args=(storage, "f.txt", there)
        )
        child.start()
        try:
            report = here.recv()
            # The parent's L1 and thread did not come along: the child listens on its own.
            assert report == {
                "l1": 0,
                "thread": False,
                "listening": True,
                "own_thread": report["own_thread"],
            }
            here.send("go")
            storage.delete("f.txt")
            deleted = time.time()
            seen = here.recv()["seen"]
            assert seen is not None
            assert seen - deleted < TARGET
        finally:
            child.join(10)
        assert child.exitcode == 0
        assert parent.thread is not None  # the parent's own goes on
        assert parent.thread.is_alive()


def test_a_silent_server_is_noticed_and_left(
    redis_server: Server, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(subscriber, "PING_AFTER", 0.5)
    with override_settings(CACHES={"default": locmem(), ALIAS: redis_config(redis_server.port)}):
        storage = CachedStorage(
            storage=FileSystemStorage(location=str(tmp_path)), cache=ALIAS, broadcast=True
        )
        storage.save("s.txt", ContentFile(b"abc"))
        assert storage.size("s.txt") == 3
        listening = broadcast._broadcasts[ALIAS].subscriber.listening
        assert listening.wait(10)
        assert storage.size("s.txt") == 3  # in L1 again (the subscription cleared it)
        connections = broadcast.status(ALIAS)["connections"]
        assert redis_server.process is not None
        redis_server.process.send_signal(signal.SIGSTOP)  # hung: the socket stays open
        try:
            deadline = time.monotonic() + 10
            while listening.is_set() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not listening.is_set()  # a PING went unanswered: the connection was left
            with count_calls() as calls:
                assert storage.size("s.txt") == 3  # from L1, meanwhile
            assert calls.round_trips == {}
        finally:
            redis_server.process.send_signal(signal.SIGCONT)
        assert listening.wait(15)
        assert broadcast.status(ALIAS)["connections"] == connections + 1
