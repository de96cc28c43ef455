"""Bad files are reported by name and reason, the rest completes, and the exit code says so."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

import botocore.handlers
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from django.test import override_settings

from ikstorage import CachedStorage
from ikstorage import cache as ik_cache
from ikstorage.prewarm.runner import ABORT_AFTER
from tests.prewarm.conftest import BUCKET, prewarm, put_images, s3_storages
from tests.s3_errors import error_response

pytestmark = pytest.mark.django_db

GOOD = [f"photos/{i}.jpg" for i in range(12)]
#: One attempt per call: botocore's retries (and their back-off sleeps) are not under test.
NO_RETRIES = Config(retries={"total_max_attempts": 1})


class InternalError:
    """S3 answers 500 to GetObject for keys in ``keys`` (``None``: every key)."""

    def __init__(self, keys: set[str] | None) -> None:
        self.keys = keys
        self.answered = 0

    def __call__(self, request: Any, **kwargs: Any) -> AWSResponse | None:
        url = urlsplit(request.url)
        key = unquote(url.path.lstrip("/"))
        if not url.hostname or not url.hostname.startswith(f"{BUCKET}."):
            key = key.removeprefix(f"{BUCKET}/")  # path-style addressing
        if self.keys is not None and key not in self.keys:
            return None
        self.answered += 1
        return error_response(
            request.url, 500, "InternalError", "We encountered an internal error. Please try again."
        )


@pytest.fixture
def fault() -> Iterator[Any]:
    """Install an ``InternalError`` on every boto3 session created from now on."""
    installed: list[tuple[str, Any]] = []

    def install(keys: set[str] | None) -> InternalError:
        handler = InternalError(keys)
        entry = ("before-send.s3.GetObject", handler)
        botocore.handlers.BUILTIN_HANDLERS.append(entry)
        installed.append(entry)
        return handler

    yield install
    for entry in installed:
        botocore.handlers.BUILTIN_HANDLERS.remove(entry)


@pytest.fixture
def storage(s3: Any) -> Iterator[CachedStorage]:
    from django.core.files.storage import storages

    with override_settings(STORAGES=s3_storages(client_config=NO_RETRIES)):
        yield storages["default"]


def test_problems_are_reported_and_the_rest_completes(
    storage: CachedStorage, s3: Any, fault: Any
) -> None:
    from tests.testapp.models import Photo

    put_images(s3, GOOD)
    s3.put_object(Bucket=BUCKET, Key="photos/corrupt.jpg", Body=b"\xff\xd8\xff\xe0 not a jpeg")
    put_images(s3, ["photos/flaky.jpg"])
    names = [*GOOD, "photos/gone.jpg", "photos/corrupt.jpg", "photos/flaky.jpg"]
    Photo.objects.bulk_create(Photo(image=name) for name in names)
    s500 = fault({"photos/flaky.jpg"})

    run = prewarm("testapp.Photo.image", "--workers", "4", "--batch-size", "5")

    assert run.returncode == 1
    assert "3 files had problems (1 not stored)" in str(run.error)
    assert s500.answered == 1
    assert run["s3"] == {"GetObject": 15}
    assert run["s3_attempts"] == 15
    assert run["files_seen"] == 15
    # Everything but the 500 is stored: the missing one as missing, the corrupt one as
    # Django sees it (no dimensions), so pages answer as the plain storage would.
    assert run["records_written"] == 14
    assert (run["errors"], run["failed"]) == (3, 1)
    reasons = {e["name"]: e["reason"] for e in run["error_samples"]}
    assert reasons["photos/gone.jpg"] == "missing: the storage has no file by this name"
    assert reasons["photos/corrupt.jpg"].startswith(
        "not a readable image: 15 bytes in which Django finds no dimensions"
    )
    assert reasons["photos/flaky.jpg"] == (
        "ClientError: An error occurred (InternalError) when calling the GetObject operation "
        "(reached max retries: 0): We encountered an internal error. Please try again."
    )
    lines = sorted(line for line in run.stderr.splitlines() if line.startswith("error: "))
    assert [line.split(":")[1].strip() for line in lines] == [
        "photos/corrupt.jpg",
        "photos/flaky.jpg",
        "photos/gone.jpg",
    ]
    records = storage.core.cached_records(names)
    assert set(records) == set(names) - {"photos/flaky.jpg"}
    assert not records["photos/gone.jpg"].exists
    assert records["photos/corrupt.jpg"].dimensions == (None, None)

    # S3 is well again: the next run retries what was not stored, and only that.
    s500.keys = set()
    ik_cache.clear_local()
    again = prewarm("testapp.Photo.image")
    assert again.returncode == 0, again.stderr
    assert again["s3"] == {"GetObject": 1}
    assert again["already_cached"] == 14
    assert again["records_written"] == 1


def test_every_file_failing_stops_the_run(storage: CachedStorage, s3: Any, fault: Any) -> None:
    names = [f"photos/{i}.jpg" for i in range(3 * ABORT_AFTER)]
    put_images(s3, names)
    fault(None)
    run = prewarm("--prefix", "photos/", "--workers", "1", "--batch-size", "1")
    assert run.returncode == 1
    assert "the first" in str(run.error)
    assert "configuration problem" in str(run.error)
    assert run["aborted"]
    # Stopped as the failures came in: the names handed out are at most one batch
    # window (two names here) past the limit, never the whole prefix.
    assert ABORT_AFTER <= run["s3"]["GetObject"] <= ABORT_AFTER + 2
    assert run["failed"] == run["s3"]["GetObject"]
