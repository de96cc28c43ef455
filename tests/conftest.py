"""Fixtures shared by every tier: isolated caches, fake AWS, storages that count calls."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.core.cache import caches
from django.core.files.storage import FileSystemStorage

from ikstorage import cache as ik_cache
from ikstorage import metrics
from tests.azure_server import azurite, azurite_session
from tests.gcs_server import gcs, gcs_emulator
from tests.seaweedfs_server import seaweedfs, seaweedfs_session
from tests.servers import memcached_server, moto_server, redis_server
from tests.task_engines import task_engine

__all__ = [
    "azurite",
    "azurite_session",
    "gcs",
    "gcs_emulator",
    "memcached_server",
    "moto_server",
    "redis_server",
    "seaweedfs",
    "seaweedfs_session",
    "task_engine",
]


#: Test files of the long tiers: run by the README's test command and one tox env,
#: not by every Python x Django pair (see tox.ini). Paths relative to tests/.
HEAVY = (
    "stateful/",
    "resilience/test_soak.py",
    "test_image_corpus.py",
    "test_imageinfo_fuzz.py",
    "renditions/test_corpus.py",
    "test_browser.py",
)


#: Test files whose every test is slow (servers started and stopped, subprocesses,
#: a docs build): run once per Django version in CI, not in every tox env.
SLOW = (
    "resilience/",
    "renditions_storage/",
    "conformance/",
    "prewarm/test_processes.py",
    "test_docs.py",
    "test_example.py",
    "test_new_process.py",
    "test_services.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = Path(__file__).parent
    for item in items:
        where = Path(str(item.path)).relative_to(root).as_posix()
        if where.startswith(HEAVY):
            item.add_marker(pytest.mark.heavy)
        if where.startswith(SLOW):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with empty L1 and L2 and fake AWS credentials."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    ik_cache.clear_local()
    caches["default"].clear()
    yield
    ik_cache.clear_local()


class CountingStorage(FileSystemStorage):
    """A FileSystemStorage that counts the calls that reach it, by method."""

    counted = (
        "exists",
        "size",
        "open",
        "_save",
        "delete",
        "url",
        "listdir",
        "get_modified_time",
        "get_available_name",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: Counter[str] = Counter()
        self._counting = True

    def __getattribute__(self, name: str) -> Any:
        attr = super().__getattribute__(name)
        if name in CountingStorage.counted and callable(attr):
            calls = super().__getattribute__("calls")

            def counted(*args: Any, **kwargs: Any) -> Any:
                calls[name] += 1
                return attr(*args, **kwargs)

            return counted
        return attr


@pytest.fixture
def fs(tmp_path: Path) -> CountingStorage:
    return CountingStorage(location=str(tmp_path / "media"), base_url="/media/")


class Events:
    """A metrics sink: L2 round trips by operation, cache hits/misses, probe bytes."""

    def __init__(self) -> None:
        self.round_trips: Counter[str] = Counter()
        self.storage: Counter[str] = Counter()
        self.cache: Counter[str] = Counter()
        self.probe_bytes = 0

    def on_storage_call(self, method: str) -> None:
        self.storage[method] += 1

    def on_cache(self, level: str, hits: int, misses: int) -> None:
        self.cache[f"{level}_hits"] += hits
        self.cache[f"{level}_misses"] += misses

    def on_round_trip(self, operation: str) -> None:
        self.round_trips[operation] += 1

    def on_probe_bytes(self, count: int) -> None:
        self.probe_bytes += count


@pytest.fixture
def events() -> Iterator[Events]:
    sink = Events()
    metrics.add_sink(sink)
    yield sink
    metrics.remove_sink(sink)


@pytest.fixture
def s3() -> Iterator[Any]:
    """Moto S3 in-process with an empty bucket ``media``."""
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="media")
        yield client


@pytest.fixture
def s3_storage(s3: Any) -> Any:
    from storages.backends.s3 import S3Storage

    return S3Storage(bucket_name="media", querystring_auth=False)
