"""Deferred renditions: made by the project's task workers, not in the request.

With ``OPTIONS["render"] = "defer"`` a save stores the source and its record
at once and enqueues :func:`render_renditions` when the transaction commits;
until a worker has run it, templates show the source. The task's arguments
are JSON (the storage's ``STORAGES`` alias and the file name), and it is
idempotent: it renders only what the record does not list yet, under the
source's lease, so a task run twice (a retry, two workers) does the work
once.

Django's Tasks framework is used: ``django.tasks`` on Django 6.0+, the
``django-tasks`` backport on Django 5.2 (``pip install ikstorage[tasks]``).
With the default immediate backend the task runs inline, at commit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from ikstorage.exceptions import ConfigurationError, MissingLibraryError

if TYPE_CHECKING:
    from ikstorage.storage import CachedStorage

__all__ = ["enqueue", "enqueue_once", "render_renditions", "storage_alias"]


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
    from django.core.files.storage import storages

    from ikstorage.storage import CachedStorage

    storage = storages[alias]
    if not isinstance(storage, CachedStorage):
        raise ConfigurationError(f"STORAGES[{alias!r}] is not a CachedStorage.")
    return storage.render_missing(name)


def storage_alias(storage: CachedStorage) -> str:
    """The ``STORAGES`` alias a worker process finds ``storage`` under."""
    from django.conf import settings
    from django.core.files.storage import storages
    from django.utils.module_loading import import_string

    from ikstorage.storage import CachedStorage

    known = storage.__dict__.get("_task_alias")
    if known is not None:
        return str(known)
    for alias, config in settings.STORAGES.items():
        try:  # only CachedStorage entries are built: others may need what a worker lacks
            backend = import_string(config["BACKEND"])
        except (ImportError, KeyError):
            continue
        wraps = isinstance(backend, type) and issubclass(backend, CachedStorage)
        if wraps and storages[alias] is storage:
            storage._task_alias = alias
            return str(alias)
    raise ConfigurationError(
        "OPTIONS 'render': 'defer' needs the CachedStorage to be an entry of "
        "settings.STORAGES, so a task worker can find it by its alias."
    )


def enqueue(storage: CachedStorage, name: str) -> None:
    """Queue :func:`render_renditions` for ``name`` once the current transaction commits.

    Marks it queued, so pages finding the renditions missing meanwhile do not
    queue it again (:func:`enqueue_once`).
    """
    alias = storage_alias(storage)
    _mark_queued(storage, name)
    transaction.on_commit(lambda: render_renditions.enqueue(alias, name))


def enqueue_once(storage: CachedStorage, name: str) -> None:
    """Queue it unless a task for ``name`` was queued in the last ``write_lease_timeout`` s.

    For page requests finding a rendition missing: many pages, one task.
    """
    key = storage.keys.queued(storage.adapter.canonical(name))
    # Each page finding it missing would ``add`` the mark again: once per process will do.
    if storage.cache.add_raw_once(key, "queued", storage.options.write_lease_timeout) is not False:
        alias = storage_alias(storage)
        transaction.on_commit(lambda: render_renditions.enqueue(alias, name))


def _mark_queued(storage: CachedStorage, name: str) -> bool:
    """``True`` unless another task for ``name`` was marked queued recently."""
    key = storage.keys.queued(storage.adapter.canonical(name))
    return storage.cache.add_raw(key, "queued", storage.options.write_lease_timeout) is not False
