"""Fixtures for the profiler tests: fake AWS, moto in-process and over real HTTP."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer

BUCKET = "photos"
BODY = bytes(range(256)) * 4  # 1024 bytes
GALLERY_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "gallery": {
        "BACKEND": "ikstorage.CachedStorage",
        "OPTIONS": {
            "storage": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {"bucket_name": BUCKET, "querystring_auth": False},
            }
        },
    },
}


def pytest_configure(config: pytest.Config) -> None:
    # ``pytest_plugins`` is refused in a conftest below the top level; registering
    # pytester here (pytest_configure is replayed for late conftests) works in
    # both ``pytest tests/profiler`` and a run of the whole suite.
    if not config.pluginmanager.has_plugin("pytester"):
        config.pluginmanager.import_plugin("pytester")


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, so no test can reach a real AWS account."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SECURITY_TOKEN", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def photos(settings: Any) -> Iterator[Any]:
    """Moto in-process: bucket ``photos`` with ``blob.bin`` (1024 bytes) and three JPEGs.

    The ``gallery`` storage is a CachedStorage over S3Storage on that bucket.
    """
    from tests.images import image_bytes
    from tests.profiler.views import NAMES

    settings.STORAGES = GALLERY_STORAGES
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        client.put_object(Bucket=BUCKET, Key="blob.bin", Body=BODY)
        for name in NAMES:
            client.put_object(Bucket=BUCKET, Key=name, Body=image_bytes((64, 48)))
        yield client


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    """A moto server on a free port; yields its endpoint URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(params=["in-process", pytest.param("server", marks=pytest.mark.server)])
def make_client(request: pytest.FixtureRequest) -> Iterator[MakeClient]:
    """Makes S3 clients, each from a new session, on moto in-process or over HTTP.

    The bucket ``photos`` exists and is empty when the test starts.
    """
    if request.param == "in-process":
        with mock_aws():
            yield _factory(None)
    else:
        endpoint = request.getfixturevalue("moto_server")
        reset = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
        urllib.request.urlopen(reset, timeout=10).close()
        yield _factory(endpoint)


class MakeClient:
    """Makes a client for S3 (or ``service``) from a new session, on the moto under test."""

    def __init__(self, endpoint: str | None) -> None:
        self.endpoint = endpoint

    def __call__(self, service: str = "s3") -> Any:
        session = boto3.session.Session()
        name: Any = service  # the stubs type each service name as its own literal
        return session.client(name, region_name="us-east-1", endpoint_url=self.endpoint)


def _factory(endpoint: str | None) -> MakeClient:
    make = MakeClient(endpoint)
    make().create_bucket(Bucket=BUCKET)
    return make
