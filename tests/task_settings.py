"""Settings of the task engine a worker test runs on, for every process it starts.

The web process, the command and the workers of one test must agree on the
engine, so the test names it in the environment variable ``IKSTORAGE_TASK_ENGINE``
(JSON: ``{"engine": "db"}`` or ``{"engine": "rq", "redis": URL}``) and each
process's settings module asks :func:`task_settings` for its ``INSTALLED_APPS``,
``TASKS`` and ``RQ_QUEUES``. Without the variable the engine is django-tasks-db.
Imports nothing but the standard library, like :mod:`tests.s3_settings`.
"""

from __future__ import annotations

import importlib.util
import json
import os
from typing import Any

#: The environment variable naming the engine.
ENGINE_ENV = "IKSTORAGE_TASK_ENGINE"


def task_settings() -> dict[str, Any]:
    """``INSTALLED_APPS`` (to append), ``TASKS`` and ``RQ_QUEUES`` for the named engine."""
    engine = json.loads(os.environ.get(ENGINE_ENV) or '{"engine": "db"}')
    # Django's Tasks framework is built in from Django 6.0; before, the backport is an app.
    apps = [] if importlib.util.find_spec("django.tasks") else ["django_tasks"]
    if engine["engine"] == "db":
        return {
            "INSTALLED_APPS": [*apps, "django_tasks_db"],
            "TASKS": {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}},
            "RQ_QUEUES": {},
        }
    if engine["engine"] == "rq":
        return {
            "INSTALLED_APPS": [*apps, "django_rq", "django_tasks_rq"],
            "TASKS": {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
            "RQ_QUEUES": {"default": {"URL": engine["redis"]}},
        }
    raise ValueError(f"unknown task engine {engine['engine']!r}")
