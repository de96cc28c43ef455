"""``CachedStorage``: any Django storage, with its metadata remembered.

A facade (``docs/architecture.md`` is the map): answers from records come from
:mod:`ikstorage.core.answers`, writes under the name's lease from
:mod:`ikstorage.core.writes` (renditions plugged in as its hook, see
:mod:`ikstorage.renditions.binding`), everything else from the wrapped storage
as is; ``get_available_name`` always asks it, so a cached "missing" never lets
a save overwrite a file. Inside :func:`~ikstorage.bypass.bypass_cache` every
call goes straight to the wrapped storage.

``url`` and the image dimensions a warm page asks for are answered here, from
L1, with one dictionary lookup each and its expiry checked in place (the
product's hot path; they report that L1 hit to the profiler themselves); an
expired or missing entry takes the full read path. Public attributes the class does not
define (``bucket_name``, ``location``...) are read from the wrapped storage, as
Django's ``default_storage`` proxy does; setting one is an error naming it.
"""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.apps import apps
from django.core.files import File
from django.core.files.storage import Storage
from django.utils.deconstruct import deconstructible

from ikstorage import metrics
from ikstorage.bypass import bypass_cache, bypassed
from ikstorage.cache.local import now
from ikstorage.core.core import Core
from ikstorage.imageinfo import Dimensions
from ikstorage.options import Options, parse
from ikstorage.records import Record
from ikstorage.renditions.binding import Renditions
from ikstorage.renditions.queue import queue
from ikstorage.renditions.shown import Rendition

__all__ = ["CachedStorage", "bypass_cache"]

logger = logging.getLogger("ikstorage")

#: The profiler's listeners, read on the warm paths (one attribute less per answer).
_sinks = metrics.sinks

#: Every CachedStorage alive, so a settings change (tests) resets what was derived.
_live: weakref.WeakSet[CachedStorage] = weakref.WeakSet()


def settings_changed(setting: str) -> None:
    """Forget what each storage derived from settings (``setting_changed`` receiver)."""
    for storage in list(_live):
        storage._core.forget(setting)


def _warn_if_not_installed() -> None:
    """Say at run time what ``ikstorage.E008`` says at ``manage.py check``.

    A ``STORAGES`` entry is imported only when first used, after the checks
    have run, so without the app installed nothing else would tell.
    """
    if apps.apps_ready and not apps.is_installed("ikstorage"):
        logger.warning(
            "ikstorage.E008: CachedStorage is used but 'ikstorage' is not in "
            "INSTALLED_APPS: the template tags do not load and the other checks do "
            "not run (the dimension hook is installed all the same). Add 'ikstorage' "
            "to INSTALLED_APPS."
        )


def _rebuild(args: tuple[Any, ...], kwargs: dict[str, Any]) -> CachedStorage:
    return CachedStorage(*args, **kwargs)


@deconstructible(path="ikstorage.CachedStorage")
class CachedStorage(Storage):
    """A ``Storage`` that wraps another and memoizes its metadata.

    ``storage`` is a ``STORAGES`` alias, a ``{"BACKEND": ..., "OPTIONS": ...}``
    dict, or a ``Storage`` instance; it is built on first use, so settings may
    name aliases in any order. ``cache`` is a ``CACHES`` alias. The other
    options are listed in ``docs/settings.md``.
    """

    def __init__(self, storage: Any = None, cache: str = "default", **options: Any) -> None:
        given = self._options = parse({"storage": storage, "cache": cache, **options})
        core = self._core = Core(given.parts(owner=self), given.policy())
        self._renditions = Renditions(core, given.renditions(), queue=queue)
        core.plug(self._renditions)
        self._reads, self._answers, self._writes = core.reads, core.answers, core.writes
        # The warm answers' tables (:mod:`ikstorage.core.warm`), one attribute each:
        # the class defines ``__getattr__``, so Python does not specialise attribute
        # reads on its instances and each read of ``self`` costs a generic lookup.
        self._warm = core.warm
        self._urls, self._dimensions = core.warm.urls, core.warm.dimensions
        _live.add(self)
        _warn_if_not_installed()

    def __reduce__(self) -> tuple[Any, ...]:
        args, kwargs = self._constructor_args
        return (_rebuild, (args, kwargs))

    def __repr__(self) -> str:
        options: Options | None = self.__dict__.get("_options")
        if options is None:
            return "<CachedStorage>"
        return f"<CachedStorage of {options.storage!r} in cache {options.cache!r}>"

    def __getattr__(self, name: str) -> Any:
        # Only reached for names this class does not define: ``bucket_name``,
        # ``location``, ``querystring_auth``... are the wrapped storage's.
        if name.startswith("_"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return getattr(self.wrapped, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_") and not hasattr(type(self), name):
            wrapped = self.wrapped
            if hasattr(wrapped, name):
                raise AttributeError(
                    f"{name!r} belongs to the wrapped storage {type(wrapped).__name__} "
                    f"({wrapped!r}); CachedStorage only reads it. Set it there: "
                    f"storage.wrapped.{name} = ..., or in that storage's OPTIONS."
                )
        super().__setattr__(name, value)

    @property
    def options(self) -> Options:
        """The validated OPTIONS."""
        return self._options

    @property
    def core(self) -> Core:
        """The read and write paths behind this storage (what features and tools use)."""
        return self._core

    @property
    def wrapped(self) -> Storage:
        """The storage that holds the files."""
        return self._core.parts.wrapped

    # -- the documented extras ----------------------------------------------------

    def metadata(self, name: str) -> Record:
        """The record for ``name``, filled from the backend if no cache level has it."""
        return self._reads.metadata(name)

    def prefetch(self, files: Iterable[str | File[Any] | None]) -> None:
        """Load the records and URLs of many files into this process in one round trip.

        Accepts names or field files (empty fields are skipped). Names that no
        cache level knows stay unknown; they are filled when first asked.
        """
        if not bypassed():
            self._reads.prefetch(files)

    def invalidate(self, name: str) -> None:
        """Forget everything cached about ``name``, in L2 and in this process.

        For code that writes to the bucket behind ikstorage's back. Other
        processes may answer from their L1 for up to ``local_timeout`` seconds,
        unless ``broadcast`` is on (they drop it on receipt).
        """
        self._reads.invalidate(name)

    def rendition(self, name: str, spec: str, fmt: str | None = None) -> Rendition:
        """The rendition ``spec`` of ``name`` (in format ``fmt``), from the source's record."""
        return self._renditions.find(name, spec, fmt)

    def render_missing(self, name: str, *, wait: float | None = None) -> int:
        """Render the renditions ``name`` lacks (one download for all); returns how many it has.

        Waits up to ``wait`` seconds (default ``write_lease_timeout``) for another
        process rendering or writing the same file.
        """
        return self._renditions.render_missing(name, wait=wait)

    def image_dimensions(self, name: str) -> Dimensions | None:
        """``(width, height)`` as Django would compute it; ``None``: read the file Django's way.

        Used by the ``ImageFile`` hook (:mod:`ikstorage.patches.imagefile`), which
        hands what Django found for a ``None`` to :meth:`remember_dimensions`.
        """
        if type(name) is str:  # the warm page's path: an answer derived from live L1 entries
            kept = self._dimensions.get(name)
            if kept is not None and kept[0] > now() and not bypassed():
                if _sinks.current:
                    metrics.cache("l1", 1, 0)
                return kept[1]
            if bypassed():
                return None
            dimensions = self._warm.size(name)
            if dimensions is not None:
                return dimensions
        elif bypassed():
            return None
        return self._answers.dimensions(name)

    def remember_dimensions(self, name: str, dimensions: Dimensions) -> None:
        """Keep dimensions read Django's way beside the record they belong to."""
        if not bypassed():
            self._answers.remember_dimensions(name, dimensions)

    # -- memoized Storage API -------------------------------------------------

    def exists(self, name: str) -> bool:
        if bypassed():
            return bool(self._core.call("exists", name))
        return self._answers.exists(name)

    def size(self, name: str) -> int:
        if bypassed():
            return int(self._core.call("size", name))
        return self._answers.size(name)

    def get_modified_time(self, name: str) -> datetime:
        if bypassed():
            return self._core.call("get_modified_time", name)  # type: ignore[no-any-return]
        return self._answers.modified(name)

    def url(self, name: str | None, *args: Any, **kwargs: Any) -> str:
        # The warm page's path: a live public URL this process already holds.
        if type(name) is str and not args and not kwargs:
            kept = self._urls.get(name)
            if kept is not None and kept[0] > now() and not bypassed():
                if _sinks.current:
                    metrics.cache("l1", 1, 0)
                return kept[1]
            url = None if bypassed() else self._warm.url(name)
            if url is not None:
                return url
        if args or kwargs or bypassed() or not isinstance(name, str | os.PathLike):
            return self._core.call("url", name, *args, **kwargs)  # type: ignore[no-any-return]
        return self._answers.url(name)

    # -- writes ---------------------------------------------------------------

    def save(self, name: str | None, content: Any, max_length: int | None = None) -> str:
        if type(self.wrapped).save is Storage.save:
            # Django's flow: the wrapped storage chooses the name, ``_save`` below writes.
            return super().save(name, content, max_length=max_length)
        # The wrapped storage has a save() of its own: use it as it is, and let the
        # next reader learn what it stored.
        saved: str = self._core.call("save", name, content, max_length=max_length)
        if not bypassed():
            self._writes.saved_elsewhere(saved)
        return saved

    def _save(self, name: str, content: File[Any]) -> str:
        if bypassed():
            return self._core.call("_save", name, content)  # type: ignore[no-any-return]
        return self._writes.save(name, content)

    def delete(self, name: str) -> None:
        if bypassed():
            self._core.call("delete", name)
        else:
            self._writes.delete(name)

    def _open(self, name: str, mode: str = "rb") -> File[Any]:
        if bypassed():
            return self._core.call("open", name, mode)  # type: ignore[no-any-return]
        return self._writes.open(name, mode)

    # -- delegated as is --------------------------------------------------------

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        # Always the backend's answer: a stale cached "missing" must never make a
        # taken name look free (that would overwrite a file).
        return self._core.call("get_available_name", name, max_length=max_length)  # type: ignore[no-any-return]

    def is_name_available(self, name: str, max_length: int | None = None) -> bool:
        return self._core.call("is_name_available", name, max_length=max_length)  # type: ignore[no-any-return]

    def get_valid_name(self, name: str) -> str:
        return self.wrapped.get_valid_name(name)

    def get_alternative_name(self, file_root: str, file_ext: str) -> str:
        return self.wrapped.get_alternative_name(file_root, file_ext)

    def generate_filename(self, filename: str | os.PathLike[str]) -> str:
        return self.wrapped.generate_filename(filename)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        return self._core.call("listdir", path)  # type: ignore[no-any-return]

    def path(self, name: str) -> str:
        return self._core.call("path", name)  # type: ignore[no-any-return]

    def get_accessed_time(self, name: str) -> datetime:
        return self._core.call("get_accessed_time", name)  # type: ignore[no-any-return]

    def get_created_time(self, name: str) -> datetime:
        return self._core.call("get_created_time", name)  # type: ignore[no-any-return]
