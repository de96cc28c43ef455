"""Settings shared by the web process and the task worker of ``test_deferred.py``.

Both processes read the same SQLite file, the same file cache, the same moto
S3 endpoint and the same task queue (the engine's that ``IKSTORAGE_TASK_ENGINE``
names: :mod:`tests.task_settings`), named by environment variables the test
sets. The test process builds the same ``STORAGES`` and ``CACHES`` with
:func:`storages_for` and :func:`caches_for` to read what the workers left.
"""

from __future__ import annotations

import os
from typing import Any

from tests.s3_settings import s3_alias
from tests.task_settings import task_settings

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
_TASKS = task_settings()
INSTALLED_APPS = ["django.contrib.contenttypes", "ikstorage", *_TASKS["INSTALLED_APPS"]]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("IKSTORAGE_TEST_DB", ""),
    }
}
CACHES = caches_for(os.environ.get("IKSTORAGE_TEST_CACHE", ""))
STORAGES = storages_for(os.environ.get("IKSTORAGE_TEST_S3", ""))
TASKS = _TASKS["TASKS"]
RQ_QUEUES = _TASKS["RQ_QUEUES"]
