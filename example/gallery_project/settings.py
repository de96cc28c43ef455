"""Settings of the example gallery: photos on S3, behind ``ikstorage.CachedStorage``.

The ``STORAGES`` and ``CACHES`` entries below are the whole of what a project
changes for ikstorage to answer ``url``, ``width``, ``height`` and ``size``
from its cache; the model and the plain page (``/gallery/plain/``) stay as
they were. ``specs`` adds renditions, which the thumbnail page
(``/gallery/``) shows with ``{% load ikstorage %}``, and ``MIDDLEWARE`` adds
the profiler whose numbers the page's footer prints.

Everything the example writes (SQLite database, file cache, the copy of the
bucket) goes to ``example/var/``, or to ``IKSTORAGE_EXAMPLE_VAR_DIR`` if set
(the tests use a temporary directory). The S3 endpoint comes from
``IKSTORAGE_EXAMPLE_S3_ENDPOINT``; without it an embedded moto S3 is started
(see ``gallery_project.embedded_s3``).
"""

from __future__ import annotations

import os
from pathlib import Path

from gallery_project import embedded_s3

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("IKSTORAGE_EXAMPLE_VAR_DIR") or BASE_DIR / "var").resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = "ikstorage-example-not-secret"
DEBUG = True
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
ROOT_URLCONF = "gallery_project.urls"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "ikstorage",
    "gallery",
]

MIDDLEWARE = [
    # Outermost, so they count everything below: a Server-Timing header (the
    # browser's network panel, "Timing") and a log line per request...
    "ikstorage.profiler.StorageProfilerMiddleware",
    # ...and the same counts for the page's footer (see gallery/profiling.py).
    "gallery.profiling.PageCostMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csrf",
                "gallery.profiling.page_cost",
            ],
        },
    }
]

DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": VAR_DIR / "gallery.sqlite3"},
}

# A file-based cache, so a new process shares what an earlier one learned;
# Redis or Memcached do the same across machines. MAX_ENTRIES is raised
# because ikstorage keeps two entries per file (metadata and URL) and the
# default of 300 would start evicting at 150 photos.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": VAR_DIR / "cache",
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    },
}

S3_ENDPOINT = embedded_s3.endpoint_url(VAR_DIR)

STORAGES = {
    # The storage that holds the files: django-storages' S3Storage, as is.
    "s3": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "endpoint_url": S3_ENDPOINT,
            "bucket_name": embedded_s3.BUCKET,
            # Public objects and plain URLs, as for most media buckets; such URLs
            # never expire, so ikstorage memoizes them for good.
            "default_acl": "public-read",
            "querystring_auth": False,
            # S3Storage's default, spelled out: a rerun of the demo replaces
            # photos/photo-001.jpg instead of saving photo-001_a8Xk2.jpg, and an
            # upload costs one PutObject with no HeadObject to find a free name.
            "file_overwrite": True,
            **embedded_s3.credentials(),
        },
    },
    # What models use: the same files, with their metadata remembered, and
    # renditions made when a photo is saved (one decode, one PutObject each).
    "default": {
        "BACKEND": "ikstorage.CachedStorage",
        "OPTIONS": {
            "storage": "s3",
            "cache": "default",
            "specs": {
                # The gallery's thumbnails: {% picture %} offers AVIF and WebP to
                # browsers that take them, and JPEG to every other.
                "thumb": {"fill": [240, 180], "formats": ["avif", "webp", "jpeg"]},
                # What a thumbnail links to. JPEG whatever the source: the sample
                # PNGs are photos, and a 1600 px photo is 3 times smaller in JPEG.
                "large": {"fit": [1600, 1600], "format": "jpeg"},
            },
        },
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

STATIC_URL = "static/"
