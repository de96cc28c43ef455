"""A cache that is down does not stop a prewarm: the files are probed, nothing is lost."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import override_settings

from ikstorage import cache as ik_cache
from tests.prewarm.conftest import prewarm, put_images, s3_storages
from tests.servers import free_port

NAMES = [f"down/{i}.jpg" for i in range(3)]


def test_a_cache_outage_is_ridden_out(s3: Any, caplog: pytest.LogCaptureFixture) -> None:
    put_images(s3, NAMES)
    # Nothing listens on the port: every connection is refused at once.
    dead = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    with override_settings(STORAGES=s3_storages(), CACHES=dead):
        ik_cache.clear_local()
        with caplog.at_level(logging.WARNING, logger="ikstorage"):
            run = prewarm("--prefix", "down/")
    assert run.returncode == 0
    assert run["s3"] == {"ListObjectsV2": 1, "GetObject": 3}
    assert run["probed"] == 3
    # The checkpoint's lookup meets the outage first; then the cache is left alone.
    assert run["cache_round_trips"] == {"get": 1}
    (warning,) = [r.getMessage() for r in caplog.records if "unavailable" in r.getMessage()]
    assert warning.startswith("Cache 'default' unavailable (get: ConnectionError")
