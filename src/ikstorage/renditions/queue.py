"""Deferred renditions: queued for the project's task workers, not made in the request.

With ``OPTIONS["render"] = "defer"`` a save stores the source and its record
at once and enqueues the task :func:`~.tasks.render_renditions` when the
transaction commits; until a worker has run it, templates show the source.
The task's arguments are JSON (the storage's ``STORAGES`` alias and the file
name), so a worker finds the storage by its alias (:func:`alias_of`).

The task module is imported only when something is queued: it needs Django's
Tasks framework, which a project that never defers need not install.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.core.files.storage import storages
from django.db import transaction
from django.utils.module_loading import import_string

from ikstorage.exceptions import ConfigurationError
from ikstorage.renditions.binding import Renditions

__all__ = ["TaskQueue", "alias_of", "queue"]


def alias_of(renditions: Renditions) -> str:
    """The ``STORAGES`` alias a worker process finds the storage of ``renditions`` under."""
    if renditions.alias is not None:
        return renditions.alias
    owner = renditions.host.owner
    for alias, config in django_settings.STORAGES.items():
        try:  # only entries of the owner's class are built: others may need what a worker lacks
            backend: Any = import_string(config["BACKEND"])
        except (ImportError, KeyError):
            continue
        if isinstance(backend, type) and isinstance(owner, backend) and storages[alias] is owner:
            renditions.alias = str(alias)
            return renditions.alias
    raise ConfigurationError(
        "OPTIONS 'render': 'defer' needs the CachedStorage to be an entry of "
        "settings.STORAGES, so a task worker can find it by its alias."
    )


def _enqueue_on_commit(alias: str, name: str) -> None:
    from ikstorage.renditions.tasks import render_renditions

    transaction.on_commit(lambda: render_renditions.enqueue(alias, name))


class TaskQueue:
    """:class:`~.binding.Queue` on Django's Tasks framework."""

    def check(self, renditions: Renditions) -> None:
        """The framework imports and the storage has an alias, or the error says what to fix."""
        import ikstorage.renditions.tasks  # noqa: F401  (raises MissingLibraryError)

        alias_of(renditions)

    def enqueue(self, renditions: Renditions, name: str) -> None:
        """Queue the render of ``name`` at commit, marking it queued so pages do not again."""
        alias = alias_of(renditions)
        renditions.host.mark_queued(name, ttl=renditions.settings.lease_wait)
        _enqueue_on_commit(alias, name)

    def enqueue_once(self, renditions: Renditions, name: str) -> None:
        """Queue it unless a task for ``name`` was queued in the last ``write_lease_timeout`` s."""
        ttl = renditions.settings.lease_wait
        # Each page finding it missing would ``add`` the mark again: once per process will do.
        if renditions.host.mark_queued(name, ttl=ttl, once_per_process=True):
            _enqueue_on_commit(alias_of(renditions), name)


#: The queue every ``CachedStorage`` hands its renditions.
queue = TaskQueue()
