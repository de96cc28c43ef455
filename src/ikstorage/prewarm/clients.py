"""One boto3 client per worker thread, made cheaply.

``S3Storage`` keeps one boto3 resource per thread and builds it on first use
from a *new* boto3 session, which loads botocore's service models again:
about 130 ms of CPU per thread, or four seconds before a 32-thread prewarm
makes its first call. Resources made from one session share those models
and cost about 6 ms each. So before the threads start, the main thread makes
one session with the storage's own ``_create_session()`` and, from it, one
resource per thread with exactly the arguments ``S3Storage.connection`` uses;
each worker thread installs its own in the storage's thread-local slot
(``S3Storage._connections``, stable since django-storages 1.10). The session
is used by the main thread only, as boto3 asks; each resource by one thread.

Any other storage, or an ``S3Storage`` without those internals, is left to
build its connections itself.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from typing import Any

from django.core.files.storage import Storage


def _s3_storages(storages: list[Storage]) -> list[Any]:
    try:
        from storages.backends.s3 import S3Storage
    except ImportError:  # pragma: no cover - boto3 is a core dependency
        return []
    found: dict[int, Any] = {}
    for storage in storages:
        if (
            isinstance(storage, S3Storage)
            and isinstance(getattr(storage, "_connections", None), threading.local)
            and callable(getattr(storage, "_create_session", None))
        ):
            found.setdefault(id(storage), storage)
    return list(found.values())


class ThreadClients:
    """Resources made up front for ``threads`` worker threads; ``install`` in each thread."""

    def __init__(self, storages: list[Storage], threads: int) -> None:
        self._ready: list[tuple[Any, queue.SimpleQueue[Any]]] = []
        for storage in _s3_storages(storages):
            session = storage._create_session()
            made: queue.SimpleQueue[Any] = queue.SimpleQueue()
            for _ in range(threads):
                made.put(_resource(storage, session))
            self._ready.append((storage, made))
            if getattr(storage._connections, "connection", None) is None:
                storage._connections.connection = _resource(storage, session)  # this thread's

    def install(self) -> None:
        """Give the calling thread its own resource on each S3 storage (a pool initializer)."""
        for storage, made in self._ready:
            # More threads than made: S3Storage builds its own.
            with contextlib.suppress(queue.Empty):
                storage._connections.connection = made.get_nowait()


def _resource(storage: Any, session: Any) -> Any:
    """What ``S3Storage.connection`` builds, from a shared session."""
    return session.resource(
        "s3",
        region_name=storage.region_name,
        use_ssl=storage.use_ssl,
        endpoint_url=storage.endpoint_url,
        config=storage.client_config,
        verify=storage.verify,
    )
