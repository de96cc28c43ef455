"""Settings for the processes the prewarm tests start: a task worker, a command, a page.

Everything they share with the test (and with each other) is named in the
JSON of ``IKSTORAGE_PREWARM_TEST`` and is reachable from any process: an
SQLite file, a file cache (the records) and moto over HTTP (the bucket); the
task queue is the engine's that ``IKSTORAGE_TASK_ENGINE`` names
(:mod:`tests.task_settings`). ``latency_ms`` delays each S3 request. ``hold``
stops a run at a known point so a test can interrupt it there: GetObject calls after the
first ``after`` wait until the file ``release`` exists in ``dir``, and the file
``ready`` appears there once the calls named in ``ready`` have all started.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.task_settings import task_settings

_CONFIG: dict[str, Any] = json.loads(os.environ["IKSTORAGE_PREWARM_TEST"])

SECRET_KEY = "ikstorage-prewarm-tests"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
_TASKS = task_settings()
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "ikstorage",
    "tests.testapp",
    *_TASKS["INSTALLED_APPS"],
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": _CONFIG["database"],
        # Two processes share the file: wait for the other's write instead of failing.
        "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
    }
}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": _CONFIG["cache"],
        "OPTIONS": {"MAX_ENTRIES": 1_000_000},
    }
}
STORAGES = {
    "s3": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": "media",
            "endpoint_url": _CONFIG["endpoint"],
            "querystring_auth": False,
            "access_key": "testing",
            "secret_key": "testing",
            "region_name": "us-east-1",
        },
    },
    "default": {"BACKEND": "ikstorage.CachedStorage", "OPTIONS": {"storage": "s3"}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
TASKS = _TASKS["TASKS"]
RQ_QUEUES = _TASKS["RQ_QUEUES"]
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates"}]

if _CONFIG.get("latency_ms"):
    import botocore.handlers

    def _latency(seconds: float = _CONFIG["latency_ms"] / 1000, **kwargs: Any) -> None:
        time.sleep(seconds)

    botocore.handlers.BUILTIN_HANDLERS.append(("before-send.s3", _latency))

if _CONFIG.get("hold"):
    import botocore.handlers

    _HOLD: dict[str, Any] = _CONFIG["hold"]
    _started: Counter[str] = Counter()
    _lock = threading.Lock()

    def _hold(event_name: str, **kwargs: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        folder = Path(_HOLD["dir"])
        with _lock:
            _started[operation] += 1
            held = operation == "GetObject" and _started[operation] > _HOLD["after"]
            if all(_started[op] >= n for op, n in _HOLD["ready"].items()):
                (folder / "ready").touch()
        while held and not (folder / "release").exists():
            time.sleep(0.01)

    botocore.handlers.BUILTIN_HANDLERS.append(("before-send.s3", _hold))
