"""A page of 100 thumbnails in a brand-new process costs no S3 call (moto over HTTP).

The renditions were made when the photos were saved; their names, sizes and
public URLs sit in the sources' records in the shared cache. The new process
fetches the whole page's records in one round trip (the names noted as the
model instances were built), then none once its L1 holds them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.core.files.base import ContentFile
from django.test import override_settings

from ikstorage import rendition
from ikstorage.profiler import count_calls
from tests.child import run_module
from tests.images import image_bytes
from tests.renditions_storage.helpers import reset_moto
from tests.s3_settings import s3_alias
from tests.testapp.models import Photo

pytestmark = [pytest.mark.server, pytest.mark.slow]

PHOTOS = 100


def storages(endpoint: str) -> dict[str, Any]:
    return {
        "s3": s3_alias(endpoint),
        "default": {
            "BACKEND": "ikstorage.CachedStorage",
            "OPTIONS": {
                "storage": "s3",
                "specs": {"thumb": {"fill": [40, 30], "format": "webp"}},
            },
        },
    }


def test_a_page_of_100_thumbnails_in_a_new_process_costs_no_s3_call(
    moto_server: str, tmp_path: Path
) -> None:
    reset_moto(moto_server)  # moto servers started earlier in this process share its state
    boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1").create_bucket(
        Bucket="media"
    )
    cache = {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(tmp_path / "cache"),
    }
    config = {"cache": cache, "storages": storages(moto_server)}
    with override_settings(STORAGES=config["storages"], CACHES={"default": cache}):
        from django.core.files.storage import default_storage

        with count_calls() as calls:
            names = [
                default_storage.save(f"g/{i}.jpg", ContentFile(image_bytes((80 + i, 60))))
                for i in range(PHOTOS)
            ]
        assert calls.s3 == {"PutObject": 2 * PHOTOS}  # each source and its thumbnail
        shown = [rendition(Photo(id=i, image=n).image, "thumb") for i, n in enumerate(names, 1)]
    page = json.dumps([[r.url, r.width, r.height, r.fallback] for r in shown if r])
    assert {(r.width, r.height, r.fallback) for r in shown if r} == {(40, 30, False)}
    assert len({r.url for r in shown if r}) == PHOTOS

    result = run_module(
        "tests.renditions_storage.thumbnail_page", json.dumps({**config, "names": names})
    )
    digest = hashlib.sha256(page.encode()).hexdigest()
    assert result["first"] == {
        "s3": {},
        "storage": {},
        "round_trips": {"get_many": 1},
        "page": digest,
    }
    assert result["second"] == {"s3": {}, "storage": {}, "round_trips": {}, "page": digest}
