"""Per-image render cost of a warm page, as a ratio against the physical limit.

The baseline is the physical limit: the same template reading plain
in-memory attributes (``url``, ``width``, ``height``, ``size`` on a simple
object) — no storage, no cache, nothing to look up. Both sides build the same
fresh model instances per render, as every request does, so the ratio shows
what the storage lookups add, not what Django's ORM costs. The measured page
is 100 unchanged ``ImageField`` instances on ``CachedStorage`` over
``S3Storage`` (moto in-process), every record warm in L1. Both are timed in
the same run, best of several repeats; the target is a ratio of at most 1.5.

    python3 dev.py bench
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.5
IMAGES = 100
REPEATS = 30


def main() -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(key, "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    import django

    django.setup()
    import boto3
    from django.core.files.base import ContentFile
    from django.template import Context, Template
    from moto import mock_aws
    from storages.backends.s3 import S3Storage

    from ikstorage import CachedStorage
    from ikstorage.profiler import count_calls
    from tests.images import image_bytes
    from tests.testapp.models import Photo

    page = Template(
        "{% for p in photos %}<img src='{{ p.image.url }}' width='{{ p.image.width }}' "
        "height='{{ p.image.height }}' data-bytes='{{ p.image.size }}'>{% endfor %}"
    )

    def best(render: object) -> float:
        times = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            render()  # type: ignore[operator]
            times.append(time.perf_counter() - started)
        return min(times)

    with mock_aws():
        boto3.client("s3").create_bucket(Bucket="media")
        storage = CachedStorage(storage=S3Storage(bucket_name="media", querystring_auth=False))
        field = Photo._meta.get_field("image")
        field.storage = storage  # type: ignore[attr-defined]
        names = [
            storage.save(f"b/{i}.jpg", ContentFile(image_bytes((40 + i, 30))))
            for i in range(IMAGES)
        ]
        plain = [
            SimpleNamespace(
                image=SimpleNamespace(
                    url=storage.url(n), width=40 + i, height=30, size=storage.size(n)
                )
            )
            for i, n in enumerate(names)
        ]

        def cached_page() -> str:
            photos = [Photo(id=i, image=n) for i, n in enumerate(names, 1)]
            return page.render(Context({"photos": photos}))

        def plain_page() -> str:
            built = [Photo(id=i, image=n) for i, n in enumerate(names, 1)]
            assert len(built) == len(plain)
            return page.render(Context({"photos": plain}))

        assert cached_page() == plain_page(), "the two pages must render the same HTML"
        with count_calls() as calls:
            cached_page()
        baseline = best(plain_page)
        measured = best(cached_page)
    ratio = measured / baseline
    print(f"images per page           {IMAGES}")
    print(f"S3 calls, warm render     {calls.s3_total}")
    print(f"in-memory attributes      {baseline / IMAGES * 1e6:8.1f} µs per image (baseline)")
    print(f"ikstorage, L1 warm        {measured / IMAGES * 1e6:8.1f} µs per image")
    print(f"ratio                     {ratio:8.2f}x   (target ≤ {TARGET}x)")
    return 0 if ratio <= TARGET and calls.s3_total == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
