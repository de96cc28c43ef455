"""Fixtures for the prewarm tests: a bucket with files put behind ikstorage's back."""

from __future__ import annotations

import functools
import io
import json
from collections.abc import Iterator
from typing import Any

import botocore.loaders
import botocore.session
import pytest
from django.core.files.storage import storages
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from ikstorage import CachedStorage
from tests.images import image_bytes

BUCKET = "media"

_shared_loader = functools.lru_cache(maxsize=None)(botocore.loaders.create_loader)


@pytest.fixture(autouse=True)
def _one_botocore_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every boto3 session made by these tests shares one botocore data loader.

    Each run builds its storages afresh, and each new boto3 session would parse
    S3's service model again (about 0.15 s). The model is read-only data:
    sharing it changes no S3 call, only the time the tests take.
    """
    monkeypatch.setattr(botocore.session, "create_loader", _shared_loader)


def s3_storages(**s3_options: Any) -> dict[str, Any]:
    return {
        "s3": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {"bucket_name": BUCKET, "querystring_auth": False, **s3_options},
        },
        "default": {"BACKEND": "ikstorage.CachedStorage", "OPTIONS": {"storage": "s3"}},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def cached(s3: Any) -> Iterator[CachedStorage]:
    """``STORAGES["default"]``: a CachedStorage over S3 (moto in-process), cache empty."""
    with override_settings(STORAGES=s3_storages()):
        storage = storages["default"]
        assert isinstance(storage, CachedStorage)
        yield storage


def put_images(s3: Any, names: list[str], size: tuple[int, int] = (40, 30)) -> None:
    body = image_bytes(size)
    for name in names:
        s3.put_object(Bucket=BUCKET, Key=name, Body=body)


class Run:
    """One ``ikstorage_prewarm`` call: its JSON summary, stderr, and the error it ended with."""

    def __init__(self, summary: dict[str, Any], stderr: str, error: CommandError | None) -> None:
        self.summary, self.stderr, self.error = summary, stderr, error

    @property
    def returncode(self) -> int:
        return 0 if self.error is None else self.error.returncode

    def __getitem__(self, key: str) -> Any:
        return self.summary[key]


def prewarm(*args: str) -> Run:
    """Run the command with ``--json`` and no progress; never raises ``CommandError``."""
    out, err = io.StringIO(), io.StringIO()
    error = None
    try:
        call_command("ikstorage_prewarm", *args, "--json", stdout=out, stderr=err)
    except CommandError as exc:
        error = exc
    text = out.getvalue()
    summary = json.loads(text) if text.strip() else {}
    return Run(summary, err.getvalue(), error)
