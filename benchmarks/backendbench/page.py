"""One page of photos on one storage, bare or through ikstorage; run alone, a new process's page.

    python -m benchmarks.backendbench.page CONFIG_JSON

prints the page's answers and ikstorage's cache round trips as one JSON line.
A new process shares with the one that started it only the bucket (the
emulator) and the file cache (``cache_dir``).
"""

from __future__ import annotations

import json
import sys
from typing import Any

Page = list[list[Any]]


def configure(cache_dir: str) -> None:
    """Django with ikstorage and a file cache in ``cache_dir`` (what a new process shares)."""
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["ikstorage"],
        USE_TZ=True,
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": cache_dir,
                "OPTIONS": {"MAX_ENTRIES": 10_000},
            }
        },
    )
    django.setup()


def bare(config: dict[str, Any]) -> Any:
    """The storage as its users configure it; the emulator's address comes from ``config``
    (Azure) or from ``STORAGE_EMULATOR_HOST``, which the emulator sets (GCS)."""
    if config["backend"] == "s3":
        from storages.backends.s3 import S3Storage

        return S3Storage(
            bucket_name="media",
            endpoint_url=config["endpoint"],
            region_name="us-east-1",
            access_key="testing",
            secret_key="testing",
            querystring_auth=False,
        )
    if config["backend"] == "gcs":
        from google.auth.credentials import AnonymousCredentials
        from storages.backends.gcloud import GoogleCloudStorage

        return GoogleCloudStorage(
            bucket_name="media",
            project_id="bench",
            credentials=AnonymousCredentials(),
            querystring_auth=False,
        )
    from storages.backends.azure_storage import AzureStorage

    return AzureStorage(
        connection_string=config["connection_string"],
        azure_container="media",
        overwrite_files=True,
    )


def storage_for(config: dict[str, Any]) -> Any:
    if not config["cached"]:
        return bare(config)
    from ikstorage import CachedStorage

    return CachedStorage(storage=bare(config), cache="default")


_MODEL: list[Any] = []


def photo_model() -> Any:
    """A model with a plain ``ImageField``, as a project has; never saved (no database)."""
    if not _MODEL:
        from django.db import models

        class Photo(models.Model):
            image = models.ImageField(upload_to="photos/", max_length=255)

            class Meta:
                app_label = "backendbench"

        _MODEL.append(Photo)
    return _MODEL[0]


def render(storage: Any, names: list[str]) -> tuple[Page, int]:
    """One request's page: fresh model instances, each image asked ``url``, ``width``, ``height``.

    The instances are made as a queryset makes them (one ``__init__`` each), so
    ikstorage batches their lookups as on a real page. Returns the answers and
    ikstorage's cache round trips.
    """
    from django.core.signals import request_started

    from ikstorage.profiler import count_calls

    model = photo_model()
    model._meta.get_field("image").storage = storage
    request_started.send(sender=None)
    with count_calls() as calls:
        page = []
        for row in [model(pk=pk, image=name) for pk, name in enumerate(names, 1)]:
            page.append([row.image.url, row.image.width, row.image.height])
            row.image.close()
    return page, calls.round_trips_total


def child(config: dict[str, Any]) -> None:
    """The page in a new process; prints its answers and round trips as JSON."""
    configure(config["cache_dir"])
    page, trips = render(storage_for(config), config["names"])
    print(json.dumps({"page": page, "round_trips": trips}))


if __name__ == "__main__":
    child(json.loads(sys.argv[1]))
