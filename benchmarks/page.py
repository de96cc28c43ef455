"""A warm 100-image page through ikstorage against the physical limit, as a ratio.

The physical limit is the same page whose model row already holds the URL,
width and height (``PhotoRow``): one query, no storage, no cache — the
fastest any Django page printing those facts can be. The measured page is
the same query shape on ``Photo`` (a plain, unchanged ``ImageField`` on
``CachedStorage`` over ``S3Storage``, moto in-process) printing
``image.url``, ``image.width`` and ``image.height``, every record warm in L1.
Both pages run the ORM query and render the template inside the timed
function, best of several interleaved repeats in one run; the target is a
ratio of at most 1.25.

A third page shows what Django itself costs: the same ``Photo`` page on a
storage that answers ``url`` and dimensions instantly from a Python function
(no cache, no lookup at all). What separates it from the row page is Django's
own ``FieldFile`` machinery (building an ``ImageFieldFile`` per row, the
descriptor, the ``url``/``width`` properties, one more template lookup per
value); what separates ikstorage from it is ikstorage's own cost.

    python3 dev.py bench
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.25
IMAGES = 100
REPEATS = 40


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
    from django.core.files.storage import Storage
    from django.core.management import call_command
    from django.template import Context, Template
    from moto import mock_aws
    from storages.backends.s3 import S3Storage

    from ikstorage import CachedStorage
    from ikstorage.profiler import count_calls
    from tests.images import image_bytes
    from tests.testapp.models import Photo, PhotoRow

    call_command("migrate", run_syncdb=True, verbosity=0)
    cached_page = Template(
        "{% for p in photos %}<img src='{{ p.image.url }}' width='{{ p.image.width }}' "
        "height='{{ p.image.height }}' alt='{{ p.title }}'>{% endfor %}"
    )
    row_page = Template(
        "{% for p in photos %}<img src='{{ p.url }}' width='{{ p.width }}' "
        "height='{{ p.height }}' alt='{{ p.title }}'>{% endfor %}"
    )

    def best(renders: dict[str, Callable[[], str]]) -> dict[str, float]:
        times: dict[str, list[float]] = {name: [] for name in renders}
        for _ in range(REPEATS):
            for name, render in renders.items():
                started = time.perf_counter()
                render()
                times[name].append(time.perf_counter() - started)
        return {name: min(values) for name, values in times.items()}

    with mock_aws():
        boto3.client("s3").create_bucket(Bucket="media")
        storage = CachedStorage(storage=S3Storage(bucket_name="media", querystring_auth=False))
        field = Photo._meta.get_field("image")
        field.storage = storage  # type: ignore[attr-defined]
        for i in range(IMAGES):
            name = storage.save(f"p/{i}.jpg", ContentFile(image_bytes((40 + i, 30))))
            Photo.objects.create(title=f"photo {i}", image=name)
            PhotoRow.objects.create(
                title=f"photo {i}", url=storage.url(name), width=40 + i, height=30
            )

        def through_ikstorage() -> str:
            return cached_page.render(Context({"photos": Photo.objects.all()}))

        def from_the_row() -> str:
            return row_page.render(Context({"photos": PhotoRow.objects.all()}))

        class Instant(Storage):
            """Answers instantly: the floor of any storage behind an ImageField."""

            def url(self, name: str | None) -> str:
                return f"https://media.s3.amazonaws.com/{name}"

            def image_dimensions(self, name: str) -> tuple[int, int]:
                return (40 + int(name.rsplit("/", 1)[1].split(".")[0]), 30)

        instant = Instant()

        def django_floor() -> str:
            field.storage = instant  # type: ignore[attr-defined]
            try:
                return cached_page.render(Context({"photos": Photo.objects.all()}))
            finally:
                field.storage = storage  # type: ignore[attr-defined]

        assert through_ikstorage() == from_the_row(), "both pages must render the same HTML"
        assert django_floor() == from_the_row(), "both pages must render the same HTML"
        with count_calls() as calls:
            through_ikstorage()
        measured = best(
            {"row": from_the_row, "ikstorage": through_ikstorage, "floor": django_floor}
        )
    ratio = measured["ikstorage"] / measured["row"]
    per_image = {key: value / IMAGES * 1e6 for key, value in measured.items()}
    print(f"images per page             {IMAGES}")
    print(f"S3 calls, warm render       {calls.s3_total}")
    print(f"model row holds the facts   {per_image['row']:8.1f} µs per image (limit)")
    print(
        f"ImageField, instant storage {per_image['floor']:8.1f} µs per image "
        f"({measured['floor'] / measured['row']:.2f}x: Django's FieldFile path)"
    )
    print(f"ikstorage, L1 warm          {per_image['ikstorage']:8.1f} µs per image")
    print(
        f"ikstorage's own cost        {per_image['ikstorage'] - per_image['floor']:8.1f} µs per "
        f"image ({measured['ikstorage'] / measured['floor']:.2f}x the instant storage)"
    )
    print(f"ratio                       {ratio:8.2f}x   (target ≤ {TARGET}x)")
    return 0 if ratio <= TARGET and calls.s3_total == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
