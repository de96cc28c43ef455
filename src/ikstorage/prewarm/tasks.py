"""Shards as tasks on the project's own task backend (Django's Tasks framework).

``django.tasks`` on Django 6.0 and later, the ``django-tasks`` backport on
5.2: whichever backend the project configured in ``TASKS`` (database, RQ,
Celery) runs the shards on its workers. Each task carries its plan as JSON
and returns its summary. A shard is idempotent (records are filled with
``add``, names already cached are skipped) and resumable (its checkpoint is in
the shared cache), so a task that runs twice, or is restarted on another
worker, costs little more than once.

A shard whose files had problems still *succeeds*, returning the problems in
its summary (and logging each one), so the summary is not lost; ``--wait``
turns them into a non-zero exit.
"""

from __future__ import annotations

import time
from typing import Any

try:  # Django 6.0+
    from django.tasks import TaskResultStatus, task
except ImportError:  # Django 5.2 with the django-tasks backport
    from django_tasks import TaskResultStatus, task  # type: ignore[no-redef,assignment]

from ikstorage.prewarm.plan import Plan
from ikstorage.prewarm.shards import Shard


@task()
def prewarm_shard(plan: dict[str, Any]) -> dict[str, Any]:
    """Run one shard's plan on a worker and return its summary."""
    from ikstorage.prewarm.runner import run

    return run(Plan.from_json(plan)).as_dict()


def enqueue(plan: Plan, shards: int, *, backend: str, queue: str) -> list[Any]:
    """One task per shard, 1/N to N/N; returns their results (handles to poll)."""
    job = prewarm_shard.using(backend=backend, queue_name=queue)
    return [job.enqueue(plan.for_shard(shard).to_json()) for shard in Shard(1, shards).all()]


def outcome(result: Any) -> dict[str, Any] | str:
    """A finished task's summary, or the reason it failed."""
    if result.status == TaskResultStatus.SUCCESSFUL:
        value: dict[str, Any] = result.return_value
        return value
    errors = getattr(result, "errors", None) or []
    if errors:
        return str(errors[-1].traceback).strip().splitlines()[-1]
    return f"task {result.id} ended {result.status}"


def wait(results: list[Any], *, poll: float = 1.0, timeout: float | None = None) -> list[Any]:
    """Poll until every task finished (or ``timeout`` seconds passed); the results, refreshed."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        for result in results:
            if not result.is_finished:
                result.refresh()
        if all(result.is_finished for result in results):
            return results
        if deadline is not None and time.monotonic() >= deadline:
            return results
        time.sleep(poll)
