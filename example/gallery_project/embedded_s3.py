"""The S3 the example runs against: a configured endpoint, or moto started in this process.

``IKSTORAGE_EXAMPLE_S3_ENDPOINT`` names an S3-compatible endpoint to use. When
it is not set, :func:`endpoint_url` starts moto's ``ThreadedMotoServer`` on a
loopback port (real HTTP, no AWS account) and sets the variable, so processes
started from this one (the demo's new-process render) talk to the same server.

moto keeps objects in memory, so a server started later is empty. The demo
(and ``gallery_serve`` when it stops) copies the whole bucket, photos and
renditions, to ``var/s3-snapshot/``, and a server started on demand (for
``manage.py ikstorage_profile /gallery/``, ``gallery_serve`` or ``runserver``)
restores it, on the port the last one used when it is free: the endpoint is
part of ikstorage's cache keys, so the same port finds the same cache records
(and the rendition URLs they hold still point at this server), as a real
bucket with a stable endpoint would.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
from pathlib import Path
from typing import Any

import boto3
from django.core.exceptions import ImproperlyConfigured

ENDPOINT_ENV = "IKSTORAGE_EXAMPLE_S3_ENDPOINT"
BUCKET = "gallery"
REGION = "us-east-1"
SNAPSHOT_DIR = "s3-snapshot"
#: In the snapshot: each object's key, content type and cache control.
SNAPSHOT_INDEX = "objects.json"
PORT_FILE = "s3-port"

_server: Any = None  # the ThreadedMotoServer this process started, if any


def credentials() -> dict[str, str]:
    """Credentials for S3Storage's OPTIONS: the environment's, or fake ones moto accepts."""
    return {
        "access_key": os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        "secret_key": os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
        "region_name": os.environ.get("AWS_DEFAULT_REGION", REGION),
    }


def client(endpoint: str) -> Any:
    """A boto3 S3 client for ``endpoint`` with the example's credentials."""
    creds = credentials()
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=creds["access_key"],
        aws_secret_access_key=creds["secret_key"],
        region_name=creds["region_name"],
    )


def endpoint_url(var_dir: Path) -> str:
    """The configured endpoint, or the URL of an embedded S3 started now (once per process)."""
    configured = os.environ.get(ENDPOINT_ENV)
    if configured:
        return configured
    url = _start(var_dir)
    os.environ[ENDPOINT_ENV] = url
    return url


def is_embedded() -> bool:
    """Whether this process runs the S3 server itself (and may fill it freely)."""
    return _server is not None


def _start(var_dir: Path) -> str:
    global _server
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"The example needs an S3 endpoint: set {ENDPOINT_ENV} to one (for example "
            "http://127.0.0.1:5000 for a running moto_server), or install moto[server] "
            "(pip install 'moto[server]') so the example starts its own."
        ) from exc
    # werkzeug logs every request at INFO to stderr unless told otherwise.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    var_dir.mkdir(parents=True, exist_ok=True)
    server = ThreadedMotoServer(
        ip_address="127.0.0.1", port=_preferred_port(var_dir), verbose=False
    )
    server.start()
    port = server.get_host_and_port()[1]
    (var_dir / PORT_FILE).write_text(f"{port}\n")
    _server = server
    url = f"http://127.0.0.1:{port}"
    s3 = client(url)
    s3.create_bucket(Bucket=BUCKET)
    _restore(s3, var_dir / SNAPSHOT_DIR)
    return url


def _preferred_port(var_dir: Path) -> int:
    """The port the previous embedded server used if it is free now, else 0 (any free port)."""
    try:
        port = int((var_dir / PORT_FILE).read_text())
    except (OSError, ValueError):
        return 0
    with socket.socket() as sock:
        # As werkzeug binds: connections the last server closed may linger in
        # TIME_WAIT for a minute, which must not count as "taken".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return 0
    return port


def _restore(s3: Any, snapshot: Path) -> None:
    """Put back the copy of the bucket, so the photos in the database and the
    rendition URLs in the cache records have their objects again."""
    try:
        objects = json.loads((snapshot / SNAPSHOT_INDEX).read_text())
    except (OSError, ValueError):
        return  # no snapshot yet (or one from an older version of the example)
    for key, meta in objects.items():
        extra = {"CacheControl": meta["cache_control"]} if meta.get("cache_control") else {}
        s3.put_object(
            Bucket=BUCKET,
            Key=key,
            Body=(snapshot / "objects" / key).read_bytes(),
            ContentType=meta["content_type"],
            ACL="public-read",  # as S3Storage's default_acl in settings
            **extra,
        )


def save_snapshot(var_dir: Path, endpoint: str) -> int:
    """Copy every object of the bucket to ``var/s3-snapshot/``; returns how many.

    Replaces the previous copy. Reads the bucket with its own client, outside
    anything the demo counts.
    """
    s3 = client(endpoint)
    snapshot = var_dir / SNAPSHOT_DIR
    staging = var_dir / f"{SNAPSHOT_DIR}.new"
    shutil.rmtree(staging, ignore_errors=True)
    objects: dict[str, dict[str, str]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            key = item["Key"]
            got = s3.get_object(Bucket=BUCKET, Key=key)
            path = staging / "objects" / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(got["Body"].read())
            objects[key] = {
                "content_type": got.get("ContentType") or "application/octet-stream",
                "cache_control": got.get("CacheControl") or "",
            }
    staging.mkdir(parents=True, exist_ok=True)
    (staging / SNAPSHOT_INDEX).write_text(json.dumps(objects, indent=1, sort_keys=True))
    # Swap in the complete copy only, so an interrupted save keeps the last one.
    shutil.rmtree(snapshot, ignore_errors=True)
    staging.rename(snapshot)
    return len(objects)
