"""The same storage configured the same way in two processes shares its records (Redis).

Storages given as dicts (not ``STORAGES`` aliases), signing included: S3 with
signed URLs, S3 behind a CloudFront signer, a storage ikstorage knows only by
its ``deconstruct()``, and one named by ``OPTIONS["identity"]``. A new process
pays nothing for what this one cached; a storage that signs differently over
the same bucket pays for its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.core.files.base import ContentFile
from django.test import override_settings

from ikstorage import CachedStorage
from ikstorage.profiler import count_calls
from tests.child import run_module
from tests.images import image_bytes
from tests.renditions_storage.helpers import reset_moto
from tests.s3_settings import s3_options
from tests.servers import Server
from tests.test_identity_s3 import private_key

pytestmark = [pytest.mark.server, pytest.mark.slow]


def described(endpoint: str, tmp_path: Path) -> dict[str, dict[str, Any]]:
    """Each storage as ``CachedStorage`` keyword arguments a new process can rebuild."""

    def s3(**options: Any) -> dict[str, Any]:
        options = {**s3_options(endpoint), "signature_version": "s3v4", **options}
        return {"storage": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}}

    cdn = {
        "custom_domain": "cdn.example.com",
        "cloudfront_key_id": "K2JCJMDEHXQW5F",
        "cloudfront_key": private_key(1),
    }
    return {
        "signed": s3(querystring_auth=True, querystring_expire=900),
        "cdn": s3(querystring_auth=True, **cdn),
        "folder": {
            "storage": {
                "BACKEND": "tests.identity_storages.FolderStorage",
                "OPTIONS": {"location": str(tmp_path / "folder")},
            }
        },
        "named": {
            "storage": {
                "BACKEND": "tests.identity_storages.UnnamedStorage",
                "OPTIONS": {"location": str(tmp_path / "named")},
            },
            "identity": "photos",
        },
    }


@pytest.fixture
def bucket(moto_server: str) -> Iterator[str]:
    """The bucket ``media`` on moto, emptied afterwards (moto servers share their state)."""
    boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1").create_bucket(
        Bucket="media"
    )
    yield moto_server
    reset_moto(moto_server)


def test_a_new_process_shares_what_the_same_storage_cached(
    bucket: str, redis_server: Server, tmp_path: Path
) -> None:
    cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{redis_server.port}/0",
    }
    storages = described(bucket, tmp_path)
    content = image_bytes((30, 20))
    parent: dict[str, str] = {}
    with override_settings(CACHES={"default": cache}):
        for label, options in storages.items():
            storage = CachedStorage(**options)
            with count_calls() as calls:
                assert storage.save("a.jpg", ContentFile(content)) == "a.jpg"
                parent[label] = storage.url("a.jpg")
            assert calls.s3 == ({"PutObject": 1} if label in ("signed", "cdn") else {})
    # Over the same bucket, a storage whose URLs live 1800 s instead of 900 s.
    other = described(bucket, tmp_path)["signed"]
    other["storage"]["OPTIONS"]["querystring_expire"] = 1800
    config = {"cache": cache, "name": "a.jpg", "storages": {**storages, "other": other}}
    child = run_module("tests.scripts.identity_child", json.dumps(config))
    answers = {"exists": True, "size": len(content), "dimensions": [30, 20]}
    for label, url in parent.items():
        assert child[label] == {
            "url": url,
            **answers,
            "s3": {},
            "presigned": {},
            "storage": {},
        }, label
    assert child["other"]["url"] != parent["signed"]
    assert "X-Amz-Expires=1800" in child["other"]["url"]
    assert {k: child["other"][k] for k in ("s3", "presigned", "storage")} == {
        "s3": {"GetObject": 1},
        "presigned": {"GetObject": 1},
        "storage": {"probe": 1, "url": 1},
    }
