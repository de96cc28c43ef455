"""``STORAGES`` entries for ``S3Storage`` on a moto server over HTTP.

Tests that start several processes sharing one bucket give each process the
same settings; this module imports nothing but the standard library, so a
settings module of a child process can use it too.
"""

from __future__ import annotations

from typing import Any


def s3_options(endpoint: str, bucket: str = "media") -> dict[str, Any]:
    """``S3Storage`` options for moto at ``endpoint`` (public URLs, moto's dummy keys)."""
    return {
        "bucket_name": bucket,
        "endpoint_url": endpoint,
        "querystring_auth": False,
        "access_key": "testing",
        "secret_key": "testing",
        "region_name": "us-east-1",
    }


def s3_alias(endpoint: str, bucket: str = "media") -> dict[str, Any]:
    """A ``STORAGES`` entry for ``S3Storage`` on moto at ``endpoint``."""
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": s3_options(endpoint, bucket)}
