"""A simulated network distance to S3, so the table shows time saved as well as calls.

moto answers in well under a millisecond; a real S3 bucket is 10 to 50 ms away.
The delay is added before each HTTP request of the ``s3`` storage's boto3
client through botocore's public ``before-send`` event, so it applies to
exactly the requests that the table counts.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

UNIQUE_ID = "gallery-demo-latency"


def simulate(milliseconds: float) -> None:
    """Delay every request of ``STORAGES["s3"]`` by ``milliseconds`` (0 does nothing).

    S3Storage keeps one boto3 client per thread; this hooks the calling
    thread's, which is the one the test client renders pages in.
    """
    if milliseconds <= 0:
        return
    from django.core.files.storage import storages

    events = storages["s3"].connection.meta.client.meta.events  # type: ignore[attr-defined]
    events.register("before-send.s3", partial(_sleep, milliseconds / 1000), unique_id=UNIQUE_ID)


def _sleep(seconds: float, **kwargs: Any) -> None:
    time.sleep(seconds)
