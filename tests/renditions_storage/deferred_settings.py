"""Settings shared by the web process and the task worker of ``test_deferred.py``.

Both processes read the same SQLite file (the task queue of ``django-tasks-db``),
the same file cache and the same moto S3 endpoint, named by environment
variables the test sets. The test process builds the same ``STORAGES`` and
``CACHES`` with :func:`storages_for` and :func:`caches_for` to read what the
worker left.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

from tests.s3_settings import s3_alias

SPECS = {"thumb": {"fill": [200, 150], "format": "webp"}}


def storages_for(endpoint: str) -> dict[str, Any]:
    return {
        "s3": s3_alias(endpoint),
        "default": {
            "BACKEND": "ikstorage.CachedStorage",
            "OPTIONS": {"storage": "s3", "specs": SPECS, "render": "defer"},
        },
    }


def caches_for(location: str) -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": location,
        }
    }


SECRET_KEY = "ikstorage-tests"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "ikstorage",
    # Django's Tasks framework is built in from Django 6.0; before, the backport is an app.
    *([] if importlib.util.find_spec("django.tasks") else ["django_tasks"]),
    "django_tasks_db",
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("IKSTORAGE_TEST_DB", ""),
    }
}
CACHES = caches_for(os.environ.get("IKSTORAGE_TEST_CACHE", ""))
STORAGES = storages_for(os.environ.get("IKSTORAGE_TEST_S3", ""))
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
