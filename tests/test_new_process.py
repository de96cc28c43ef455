"""A brand-new process that shares only the Django cache pays no S3 call (moto over HTTP)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.core.files.base import ContentFile
from django.template import Context, Template
from django.test import override_settings

from ikstorage import CachedStorage
from ikstorage.profiler import count_calls
from tests.child import run_module
from tests.images import image_bytes
from tests.s3_settings import s3_alias
from tests.servers import Server
from tests.testapp.models import Photo

pytestmark = [pytest.mark.server, pytest.mark.slow]

TEMPLATE = (
    "{% for p in photos %}<img src='{{ p.image.url }}' width='{{ p.image.width }}' "
    "height='{{ p.image.height }}' data-bytes='{{ p.image.size }}'>{% endfor %}"
)


def storages(endpoint: str) -> dict[str, Any]:
    return {
        "s3": s3_alias(endpoint),
        "default": {"BACKEND": "ikstorage.CachedStorage", "OPTIONS": {"storage": "s3"}},
    }


def run_new_process(config: dict[str, Any]) -> dict[str, Any]:
    return run_module("tests.scripts.render_page", json.dumps(config))  # type: ignore[no-any-return]


def save_gallery(endpoint: str, cache: dict[str, Any], count: int) -> tuple[list[str], str]:
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="media")
    with override_settings(STORAGES=storages(endpoint), CACHES={"default": cache}):
        from django.core.files.storage import default_storage

        with count_calls() as calls:
            names = [
                default_storage.save(f"g/{i}.jpg", ContentFile(image_bytes((50 + i, 30))))
                for i in range(count)
            ]
        assert calls.s3 == {"PutObject": count}
        photos = [Photo(id=i, image=name) for i, name in enumerate(names, 1)]
        html = Template(TEMPLATE).render(Context({"photos": photos}))
    return names, hashlib.sha256(html.encode()).hexdigest()


def test_redis_shared_by_a_new_process(moto_server: str, redis_server: Server) -> None:
    cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{redis_server.port}/0",
    }
    names, html_sha = save_gallery(moto_server, cache, 100)
    result = run_new_process(
        {"cache": cache, "storages": storages(moto_server), "names": names, "template": TEMPLATE}
    )
    assert result["first"]["s3"] == {}
    assert result["first"]["html_sha"] == html_sha
    # No prefetch() in the view: the names noted as the instances were built go in
    # the first lookup's get_many, so the whole page is one L2 round trip...
    assert result["first"]["round_trips"] == {"get_many": 1}
    # ...and none once this process's L1 holds them.
    assert result["second"] == {"s3": {}, "round_trips": {}, "html_sha": html_sha}


def test_memcached_with_prefetch_is_one_round_trip(
    moto_server: str, memcached_server: Server
) -> None:
    cache = {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": f"127.0.0.1:{memcached_server.port}",
    }
    names, html_sha = save_gallery(moto_server, cache, 100)
    result = run_new_process(
        {
            "cache": cache,
            "storages": storages(moto_server),
            "names": names,
            "template": TEMPLATE,
            "prefetch": True,
        }
    )
    assert result["first"] == {"s3": {}, "round_trips": {}, "html_sha": html_sha}


def test_file_cache_shared_by_a_new_process(moto_server: str, tmp_path: Path) -> None:
    cache = {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(tmp_path / "cache"),
    }
    names, html_sha = save_gallery(moto_server, cache, 20)
    result = run_new_process(
        {"cache": cache, "storages": storages(moto_server), "names": names, "template": TEMPLATE}
    )
    assert result["first"]["s3"] == {}
    assert result["first"]["html_sha"] == html_sha


def test_cold_fill_over_http_is_one_get_per_image(moto_server: str) -> None:
    from storages.backends.s3 import S3Storage

    client = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")
    client.create_bucket(Bucket="media")
    for i in range(10):
        client.put_object(Bucket="media", Key=f"c{i}.jpg", Body=image_bytes((10 + i, 9)))
    storage = CachedStorage(
        storage=S3Storage(bucket_name="media", endpoint_url=moto_server, querystring_auth=False)
    )
    with count_calls() as calls:
        dims = [storage.image_dimensions(f"c{i}.jpg") for i in range(10)]
    assert dims == [(10 + i, 9) for i in range(10)]
    assert calls.s3 == {"GetObject": 10}
    assert calls.s3_attempts == 10
