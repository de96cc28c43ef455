"""Cache tiers under test, each with a way to take it down and bring it back.

An outage is simulated the way it happens to that kind of cache, and the data
the cache held before it survives the outage wherever that is realistic (a
Redis with append-only persistence restarted, a memcached cut off by a
network partition, a database connection lost, a disk that filled up), so a
record that changed during the outage and was not invalidated afterwards
would be served stale: exactly what the tests look for.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.db import OperationalError, connection

from tests.resilience import caches as configs
from tests.resilience.proxy import TcpProxy
from tests.servers import Server

ALIAS = "shared"
DB_TABLE = "ikstorage_resilience_cache"


class Tier:
    """A cache configuration and its outage."""

    #: Seconds the client library itself needs, after ``up()``, before it uses the
    #: server again (on top of ikstorage's own ``IKSTORAGE_CACHE_RETRY_AFTER``).
    client_recovery = 0.0

    def __init__(self, name: str, config: dict[str, Any]) -> None:
        self.name = name
        self.config = config

    def prepare(self) -> None:
        """Called once the cache settings are in place."""

    def down(self) -> None:
        raise NotImplementedError

    def up(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the tier holds (always called)."""


class ServerTier(Tier):
    """The server process is stopped and started again (Redis keeps its data: AOF)."""

    def __init__(self, name: str, config: dict[str, Any], server: Server) -> None:
        super().__init__(name, config)
        self.server = server

    def down(self) -> None:
        self.server.stop()

    def up(self) -> None:
        self.server.start()


class PartitionTier(Tier):
    """The network path to a healthy server is cut and restored (the server keeps its data)."""

    client_recovery = configs.MEMCACHED_DEAD_TIMEOUT

    def __init__(self, name: str, config: dict[str, Any], proxy: TcpProxy) -> None:
        super().__init__(name, config)
        self.proxy = proxy

    def down(self) -> None:
        self.proxy.partition()

    def up(self) -> None:
        self.proxy.heal()

    def close(self) -> None:
        self.proxy.stop()


class DatabaseTier(Tier):
    """The database cache's queries fail as on a lost connection (Django's execute_wrapper)."""

    def __init__(self) -> None:
        super().__init__("db", configs.database(DB_TABLE))
        self._fault: contextlib.ExitStack | None = None

    def prepare(self) -> None:
        call_command("createcachetable", verbosity=0)

    def down(self) -> None:
        def lost(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
            if DB_TABLE in sql:
                raise OperationalError("server closed the connection unexpectedly")
            return execute(sql, *args)

        self._fault = contextlib.ExitStack()
        self._fault.enter_context(connection.execute_wrapper(lost))

    def up(self) -> None:
        if self._fault is not None:
            self._fault.close()
            self._fault = None

    close = up


class FileTier(Tier):
    """The cache directory goes away (a volume unmounted) and comes back with its data."""

    def __init__(self, directory: Path) -> None:
        super().__init__("file", configs.filebased(str(directory)))
        self.directory = directory
        self.away = directory.with_name(directory.name + ".away")

    def down(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.rename(self.away)
        self.directory.write_bytes(b"")  # in the way of every path below it

    def up(self) -> None:
        if self.away.exists():
            self.directory.unlink()
            self.away.rename(self.directory)

    close = up


class DiskcacheTier(Tier):
    """diskcache's SQLite shards hit a full disk (SQLITE_FULL), then get space again.

    The full disk is SQLite's own ``max_page_count`` set to the pages in use,
    after the free space inside them is used up: every insert then fails with
    "database or disk is full", as it does on a full file system, while reads
    and deletes still work.
    """

    def __init__(self, directory: Path) -> None:
        super().__init__("diskcache", configs.diskcache(str(directory)))

    def _shards(self) -> list[Any]:
        return list(caches[ALIAS]._cache._shards)

    def down(self) -> None:
        filler = 0
        for shard in self._shards():
            pages = shard._sql("PRAGMA page_count").fetchone()[0]
            shard._sql(f"PRAGMA max_page_count = {pages}")
            for size in (4096, 512, 64, 1):
                with contextlib.suppress(sqlite3.OperationalError):
                    while True:
                        filler += 1
                        shard.set(f"filler-{filler}", b"x" * size)

    def up(self) -> None:
        for shard in self._shards():
            shard._sql("PRAGMA max_page_count = 1073741823")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.up()
        with contextlib.suppress(Exception):
            caches[ALIAS].close()


#: Tier names, with the marks their tests need.
PARAMS = [
    pytest.param("redis", marks=pytest.mark.redis),
    pytest.param("django-redis", marks=pytest.mark.redis),
    pytest.param("django-redis-ignore", marks=pytest.mark.redis),
    pytest.param("memcached", marks=pytest.mark.memcached),
    pytest.param("db", marks=pytest.mark.django_db),
    pytest.param("file"),
    pytest.param("diskcache"),
]


def make(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Tier]:
    """Build tier ``name`` (starting its server when it has one); closes it afterwards."""
    tier: Tier
    if name in ("redis", "django-redis", "django-redis-ignore"):
        server: Server = request.getfixturevalue("redis_server")
        if name == "redis":
            config = configs.redis(server.port)
        else:
            config = configs.django_redis(
                server.port, ignore_exceptions=name == "django-redis-ignore"
            )
        tier = ServerTier(name, config, server)
    elif name == "memcached":
        server = request.getfixturevalue("memcached_server")
        proxy = TcpProxy(server.port)
        proxy.start()
        tier = PartitionTier(name, configs.memcached(proxy.port), proxy)
    elif name == "db":
        tier = DatabaseTier()
    elif name == "file":
        tier = FileTier(tmp_path / "file-cache")
    elif name == "diskcache":
        tier = DiskcacheTier(tmp_path / "diskcache")
    else:  # pragma: no cover - a typo in a parametrize list
        raise ValueError(name)
    try:
        yield tier
    finally:
        tier.close()
        if isinstance(tier, FileTier) and tier.away.exists():
            shutil.rmtree(tier.away, ignore_errors=True)
