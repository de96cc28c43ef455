"""The deferred-rendition task, on Django's Tasks framework.

``django.tasks`` on Django 6.0+, the ``django-tasks`` backport on Django 5.2
(``pip install ikstorage[tasks]``). With the default immediate backend the
task runs inline, at commit. It is idempotent: it renders only what the
record does not list yet, under the source's lease, so a task run twice (a
retry, two workers) does the work once. Queued by :mod:`.queue`.
"""

from __future__ import annotations

from typing import Any

from django.core.files.storage import storages

from ikstorage.exceptions import ConfigurationError, MissingLibraryError
from ikstorage.renditions.binding import renditions_of

__all__ = ["render_renditions"]


def _task_decorator() -> Any:
    try:
        from django.tasks import task
    except ImportError:
        try:
            from django_tasks import task  # type: ignore[no-redef]
        except ImportError as exc:
            raise MissingLibraryError(
                "OPTIONS 'render': 'defer' needs Django's Tasks framework: Django 6.0+, or "
                "on Django 5.2 the backport: pip install django-tasks",
                package="django-tasks",
                name="django_tasks",
            ) from exc
    return task


@_task_decorator()  # type: ignore[untyped-decorator]
def render_renditions(alias: str, name: str) -> int:
    """Render what the record of ``name`` on ``STORAGES[alias]`` lacks; returns how many exist."""
    renditions = renditions_of(storages[alias])
    if renditions is None:
        raise ConfigurationError(f"STORAGES[{alias!r}] is not a CachedStorage.")
    return renditions.render_missing(name)
