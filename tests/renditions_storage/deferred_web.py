"""The web process of ``test_deferred.py``: save a source with ``render="defer"``.

``python -m tests.renditions_storage.deferred_web NAME FILE`` (with
``DJANGO_SETTINGS_MODULE=tests.renditions_storage.deferred_settings``)
migrates the task queue, saves the bytes of ``FILE`` as ``NAME`` inside a
transaction, as a view with ``ATOMIC_REQUESTS`` would, and prints one JSON
line: the S3 calls of the save, what ``rendition()`` showed before the
commit, the tasks queued before and after the commit (as the task engine
stored them).
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any


def enqueued() -> list[Any]:
    """The results of the tasks enqueued from now on, as each backend announces them.

    Every backend sends ``task_enqueued``: django.tasks' on Django 6.0+, the
    backport's before, and django-tasks-rq always the backport's. So both are heard.
    """
    results: list[Any] = []

    def heard(sender: Any, task_result: Any, **kwargs: Any) -> None:
        results.append(task_result)

    for module in ("django.tasks.signals", "django_tasks.signals"):
        try:
            signals = importlib.import_module(module)
        except ImportError:
            continue
        signals.task_enqueued.connect(heard, weak=False)
    return results


def main(name: str, source: Path) -> None:
    import django

    django.setup()
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.core.management import call_command
    from django.db import transaction

    from ikstorage.profiler import count_calls
    from ikstorage.renditions.tasks import render_renditions

    call_command("migrate", verbosity=0)
    queued = enqueued()
    result: dict[str, Any] = {}
    with transaction.atomic():
        with count_calls() as calls:
            saved = default_storage.save(name, ContentFile(source.read_bytes()))
        shown = default_storage.rendition(saved, "thumb")
        result["saved"] = saved
        result["s3"] = calls.s3
        result["shown_before_commit"] = [shown.url, shown.fallback]
        result["queued_before_commit"] = len(queued)
    # Each task as the engine stored it, read back by id through the Tasks API.
    stored = [render_renditions.get_backend().get_result(str(t.id)) for t in queued]
    result["queued"] = [
        {
            "id": str(t.id),
            "task_path": t.task.module_path,
            "args_kwargs": {"args": list(t.args), "kwargs": dict(t.kwargs)},
        }
        for t in stored
    ]
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
