"""The servers the backend benchmark counts requests at: the test suite's own.

GCS and Azure are started by ``tests/gcs_server.py`` and ``tests/azure_server.py``
as the tests start them; S3 is moto's server (as the peer benchmark starts it)
behind the forwarder that counts Azurite's requests, which passes any HTTP
request on unchanged. Each yields an object with ``counting``'s log
(``requests``, ``lock``), ``wipe()`` and the address the storage is given.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


def start(slug: str) -> tuple[Iterator[Any], Callable[[Any], dict[str, Any]]]:
    """The server of backend ``slug`` (started by ``next()``, stopped by ``close()``),
    and what a storage's settings need from it."""
    if slug == "s3":
        return s3_server(), lambda server: {"endpoint": server.endpoint}
    if slug == "gcs":  # the client finds it through STORAGE_EMULATOR_HOST, which it sets
        from tests.gcs_server import start_emulator

        return start_emulator(), lambda server: {}
    from tests.azure_server import start_azurite

    return start_azurite(), lambda server: {"connection_string": server.connection_string}


def s3_server() -> Iterator[Any]:
    """moto's S3 server with a bucket ``media``, behind the counting forwarder."""
    import boto3

    from benchmarks.peerbench.runner import s3_server as moto
    from tests import azure_server
    from tests.forwarder import forwarding
    from tests.servers import free_port

    with moto() as endpoint:
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        client.create_bucket(Bucket="media")
        front, upstream = free_port(), int(endpoint.rsplit(":", 1)[1])
        log = azure_server.Azurite(endpoint=f"http://127.0.0.1:{front}", upstream=upstream)

        def wipe() -> None:
            listed = client.list_objects_v2(Bucket="media").get("Contents", [])
            for item in listed:
                client.delete_object(Bucket="media", Key=item["Key"])

        log.wipe = wipe  # type: ignore[method-assign]
        with forwarding(upstream, front, lambda request: log.log(request.command, request.path)):
            yield log


@contextmanager
def counted(server: Any) -> Iterator[Counter[str]]:
    """The requests the emulator served inside the block, by kind (filled in on exit).

    The test suite's kinds, except that a GCS ``read`` is told apart: a
    ``download`` (``alt=media``: the file's bytes) or a ``metadata`` GET.
    """
    module = sys.modules[type(server).__module__]
    with server.lock:
        start = len(server.requests)
    counts: Counter[str] = Counter()
    yield counts
    with server.lock:
        served = server.requests[start:]
    for method, path in served:
        kind = module.kind(method, path)
        if kind == "read":
            kind = "download" if "alt=media" in path else "metadata"
        counts[kind] += 1
