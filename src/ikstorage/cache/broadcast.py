"""Writes announced to every process: ``OPTIONS["broadcast"]``, over the shared cache's Redis.

Without it, a process holding a record in L1 answers from it for up to
``local_timeout`` after another process deleted or overwrote the file
(``DESIGN.md``, invariant 3). With it, each write announces the keys it
changed on a Redis channel and every other process drops them from its L1
on receipt (:mod:`.subscriber`), within milliseconds.

It is a hint on top of that bound, never a dependency (invariant 5):

* the client is the cache's own (Django's ``RedisCache`` or django-redis):
  no new setting, no new server; any other cache cannot carry it
  (``ikstorage.E009``);
* one ``PUBLISH`` per write (a save, a delete, an invalidation: the keys of
  one write are gathered by :meth:`Broadcast.gathered` and sent together),
  skipped while the cache is known to be down; a failed one is counted and
  logged once, never raised;
* the channel is named after the cache's ``KEY_PREFIX`` and ``VERSION`` and
  the storage's identity (the namespace of its keys), so sites and storages
  sharing a Redis hear only their own;
* a message names keys, never values: a receiver reads the new record from
  L2 when next asked.

What is announced: records written (``set``) and every key deleted. Entries
derived from a record (URLs, modified times, dimensions read Django's way)
are set by readers too and are only believed beside their record's
generation, so announcing them would only cost other processes their L1.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.cache import caches
from django.utils.module_loading import import_string

from ikstorage import metrics
from ikstorage.cache.health import Health
from ikstorage.cache.local import LocalCache
from ikstorage.cache.subscriber import Subscriber

__all__ = [
    "BACKENDS",
    "Broadcast",
    "broadcast_for",
    "carries",
    "redis_client",
    "status",
    "stop_all",
]

logger = logging.getLogger("ikstorage.cache")

#: The cache backends whose Redis can carry the broadcast (and their subclasses).
BACKENDS = ("django.core.cache.backends.redis.RedisCache", "django_redis.cache.RedisCache")
#: Kinds of key L1 never holds (a lease), so never announced.
_SILENT_KINDS = frozenset("l")
#: Length of the part of a key after its storage's prefix: ``<kind>:<32 hex digits>``.
_TAIL = 34


def carries(backend: object) -> bool:
    """True if the cache class ``backend`` (or its dotted path) talks to Redis the way we know."""
    if isinstance(backend, str):
        try:
            backend = import_string(backend)
        except Exception:
            return False
    if not isinstance(backend, type):
        return False
    for path in BACKENDS:
        try:
            known = import_string(path)
        except ImportError:  # django-redis is not installed
            continue
        if issubclass(backend, known):
            return True
    return False


def redis_client(alias: str) -> Any:
    """The redis-py client of the cache ``alias``: the cache's own connection pool."""
    cache: Any = caches[alias]
    if type(cache).__module__.startswith("django_redis") or not hasattr(cache, "_cache"):
        return cache.client.get_client(write=True)
    return cache._cache.get_client(write=True)


class Broadcast:
    """Both halves of the broadcast for one cache alias in this process."""

    def __init__(self, alias: str, local: LocalCache[Any], health: Health) -> None:
        self.alias = alias
        self.local = local
        self.health = health
        self._sender = ("", 0)
        self._gathering = threading.local()
        self._channels: dict[str, str] = {}
        self.subscriber = Subscriber(alias, local, lambda: redis_client(alias), self.sender)
        self.published = 0
        self.publish_failures = 0
        self._failing = False
        # Writes made while the cache was down are announced once it has them, while
        # this broadcast is in use (a settings change stops it until its next use).
        self._settled = self.announce
        health.settled = self._settled

    def sender(self) -> str:
        """This process's name in messages (a new one after a fork)."""
        token, pid = self._sender
        if pid != os.getpid():
            token, pid = f"{os.getpid()}-{secrets.token_hex(4)}", os.getpid()
            self._sender = (token, pid)
        return token

    def channel(self, prefix: str) -> str:
        """The channel of the storage whose keys start with ``prefix``."""
        found = self._channels.get(prefix)
        if found is None:
            found = str(caches[self.alias].make_key(f"{prefix}broadcast"))
            self._channels = {**self._channels, prefix: found}
        return found

    # -- listening ---------------------------------------------------------------

    def listen(self, keys: Iterable[str]) -> None:
        """Hear the announcements about ``keys`` from now on (called before reading them)."""
        self.health.settled = self._settled
        for prefix in {key[:-_TAIL] for key in keys}:
            if prefix:
                self.subscriber.want(prefix, self.channel(prefix))

    # -- announcing --------------------------------------------------------------

    @contextmanager
    def gathered(self) -> Iterator[None]:
        """Announce every key changed inside the block in one message, at its end."""
        state = self._gathering
        outer = getattr(state, "keys", None)
        if outer is not None:
            yield
            return
        gathered: list[str] = []
        state.keys = gathered
        try:
            yield
        finally:
            state.keys = None
            self._publish(gathered)

    def announce(self, keys: Iterable[str]) -> None:
        """Tell the other processes ``keys`` changed (now, or at the end of :meth:`gathered`)."""
        self.health.settled = self._settled
        wanted = [k for k in keys if len(k) > _TAIL and k[-_TAIL] not in _SILENT_KINDS]
        if not wanted:
            return
        gathering: list[str] | None = getattr(self._gathering, "keys", None)
        if gathering is not None:
            gathering.extend(wanted)
        else:
            self._publish(wanted)

    def _publish(self, keys: list[str]) -> None:
        if not keys or time.monotonic() < self.health.down_until:
            return  # the write could not reach the cache either; readers start over after it
        groups: dict[str, list[str]] = {}
        for key in dict.fromkeys(keys):
            groups.setdefault(key[:-_TAIL], []).append(key[-_TAIL:])
        for prefix, tails in groups.items():
            try:
                channel = self.channel(prefix)
                self.subscriber.want(prefix, channel)  # a writer hears the others' writes too
                metrics.round_trip("publish")
                redis_client(self.alias).publish(channel, " ".join([self.sender(), *tails]))
            except Exception as exc:  # a hint: never fail the write that announced it
                self.publish_failures += 1
                if not self._failing:  # once until a publish succeeds again
                    self._failing = True
                    logger.warning(
                        "Broadcast on cache %r could not announce a write (%s: %s); other "
                        "processes see it within local_timeout. Further failures are counted "
                        "(ikstorage.cache.broadcast.status()), not logged.",
                        self.alias,
                        type(exc).__name__,
                        exc,
                    )
            else:
                self.published += 1
                self._failing = False

    def stop(self) -> None:
        """Stop listening and forget channel names (settings changed: tests)."""
        self.subscriber.stop()
        self._channels = {}
        if self.health.settled is self._settled:
            # The alias may now be another cache, used by storages without broadcast.
            self.health.settled = None

    def after_fork(self) -> None:
        """In a forked child: new locks, no thread, no L1 (announcements were missed)."""
        self._gathering = threading.local()
        self.subscriber.after_fork()
        self.local.after_fork()


_lock = threading.Lock()
_broadcasts: dict[str, Broadcast] = {}


def broadcast_for(alias: str, local: LocalCache[Any], health: Health) -> Broadcast:
    """The one :class:`Broadcast` of ``alias`` in this process."""
    with _lock:
        found = _broadcasts.get(alias)
        if found is None:
            found = _broadcasts[alias] = Broadcast(alias, local, health)
        return found


def stop_all() -> None:
    """Stop every subscriber thread; each starts again on its alias's next read or write."""
    with _lock:
        found = list(_broadcasts.values())
    for each in found:
        each.stop()


def status(alias: str) -> dict[str, Any]:
    """What the broadcast of ``alias`` did in this process (for a health page, and tests)."""
    found = _broadcasts.get(alias)
    if found is None:
        return {"enabled": False}
    sub = found.subscriber
    return {
        "enabled": True,
        "listening": sub.listening.is_set(),
        "channels": sorted(sub.channels),
        "received": sub.received,
        "connections": sub.connections,
        "failures": sub.failures,
        "published": found.published,
        "publish_failures": found.publish_failures,
    }


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.Lock()
    for found in _broadcasts.values():
        found.after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)
