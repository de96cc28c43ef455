"""The web process of ``test_deferred.py``: save a source with ``render="defer"``.

``python -m tests.renditions_storage.deferred_web NAME FILE`` (with
``DJANGO_SETTINGS_MODULE=tests.renditions_storage.deferred_settings``)
migrates the task queue, saves the bytes of ``FILE`` as ``NAME`` inside a
transaction, as a view with ``ATOMIC_REQUESTS`` would, and prints one JSON
line: the S3 calls of the save, what ``rendition()`` showed before the
commit, the tasks queued before and after the commit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def main(name: str, source: Path) -> None:
    import django

    django.setup()
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.core.management import call_command
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    from ikstorage.profiler import count_calls

    call_command("migrate", verbosity=0)
    before = set(DBTaskResult.objects.values_list("id", flat=True))
    result: dict[str, Any] = {}
    with transaction.atomic():
        with count_calls() as calls:
            saved = default_storage.save(name, ContentFile(source.read_bytes()))
        shown = default_storage.rendition(saved, "thumb")
        result["saved"] = saved
        result["s3"] = calls.s3
        result["shown_before_commit"] = [shown.url, shown.fallback]
        result["queued_before_commit"] = DBTaskResult.objects.exclude(id__in=before).count()
    queued = DBTaskResult.objects.exclude(id__in=before)
    result["queued"] = [
        {"id": str(t.id), "task_path": t.task_path, "args_kwargs": t.args_kwargs} for t in queued
    ]
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
