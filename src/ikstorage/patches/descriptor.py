"""Model file fields, as ikstorage meets them: names noted on load, files returned fast.

Two small changes to Django's ``FileDescriptor`` (the descriptor behind every
``FileField``/``ImageField`` attribute), installed by the ``ikstorage`` app:

* ``__set__``: when a model instance is loaded, Django sets each field's value
  through the descriptor. A file name bound for a ``CachedStorage`` is noted
  (:mod:`ikstorage.core.batching`), so the page's first lookup fetches every
  noted name in one cache round trip — no ``prefetch()`` in the view.
* ``__get__``: once ``instance.image`` is a ``FieldFile`` bound to this
  instance and field, Django re-checks four cases on every access before
  returning it; a page reading ``url``, ``width`` and ``height`` pays them
  three times per image. The fast path returns that same object after one
  type check and falls back to Django's own method for everything else.

Switched off with ``IKSTORAGE_BATCH_LOOKUPS = False`` (both are undone).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core.files.storage import default_storage
from django.db.models.fields.files import FileDescriptor
from django.utils.functional import empty

from ikstorage.core import batching
from ikstorage.storage import CachedStorage

_originals: dict[str, Callable[..., Any]] = {}


def _storage_of(field: Any) -> CachedStorage | None:
    """The ``CachedStorage`` behind a field's storage, or ``None``."""
    storage = field.storage
    if storage is default_storage:
        if default_storage._wrapped is empty:  # first use: build it, as reading the file would
            default_storage._setup()
        storage = default_storage._wrapped
    return storage if isinstance(storage, CachedStorage) else None


def _noting(original: Callable[[Any, Any, Any], None]) -> Callable[[Any, Any, Any], None]:
    @functools.wraps(original)
    def __set__(self: Any, instance: Any, value: Any) -> None:
        original(self, instance, value)
        if type(value) is str and value:
            storage = _storage_of(self.field)
            if storage is not None:
                batching.note(storage, value)

    __set__.ikstorage_hook = True  # type: ignore[attr-defined]
    return __set__


def _fast(original: Callable[[Any, Any, Any], Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def __get__(self: Any, instance: Any, cls: Any = None) -> Any:
        if instance is not None:
            field = self.field
            file = instance.__dict__.get(field.attname)
            if file.__class__ is field.attr_class:
                state = file.__dict__
                if state.get("instance") is instance and state.get("field") is field:
                    return file
        return original(self, instance, cls)

    __get__.ikstorage_hook = True  # type: ignore[attr-defined]
    return __get__


def install() -> None:
    """Patch ``FileDescriptor`` (idempotent)."""
    if _originals:
        return
    _originals["__set__"] = FileDescriptor.__dict__["__set__"]
    _originals["__get__"] = FileDescriptor.__dict__["__get__"]
    FileDescriptor.__set__ = _noting(_originals["__set__"])  # type: ignore[method-assign,assignment]
    FileDescriptor.__get__ = _fast(_originals["__get__"])  # type: ignore[method-assign]


def uninstall() -> None:
    for name, original in _originals.items():
        setattr(FileDescriptor, name, original)
    _originals.clear()


def installed() -> bool:
    return bool(_originals)
