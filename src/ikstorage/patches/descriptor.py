"""Model file fields, as ikstorage meets them: names noted on load, files returned fast.

Two small changes to Django's ``FileDescriptor`` (the descriptor behind every
``FileField``/``ImageField`` attribute) and one to ``FieldFile``, installed by
the ``ikstorage`` app:

* ``__set__``: when a model instance is loaded, Django sets each field's value
  through the descriptor. A file name bound for a ``CachedStorage`` is noted
  (:mod:`ikstorage.core.batching`), so the page's first lookup fetches every
  noted name in one cache round trip — no ``prefetch()`` in the view.
* ``__get__``: once ``instance.image`` is a ``FieldFile`` bound to this
  instance and field, Django re-checks four cases on every access before
  returning it; a page reading ``url``, ``width`` and ``height`` pays them
  three times per image. The fast path returns that same object after one
  type check and falls back to Django's own method for everything else.
* ``FieldFile.url``: Django's property, with ``default_storage`` (what a
  field declared without ``storage=`` holds) resolved inline, as
  :func:`~ikstorage.patches.default.resolved` does, instead of through the
  ``LazyObject``'s per-attribute detour, which costs more than a warm answer.
  ``__set__`` resolves the field's storage the same way.
  The URL is the same storage's; a ``FieldFile`` subclass with a ``url`` of its
  own keeps it.

Switched off with ``IKSTORAGE_BATCH_LOOKUPS = False`` (all three are undone).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core.files.storage import default_storage
from django.db.models.fields.files import FieldFile, FileDescriptor
from django.utils.functional import empty

from ikstorage.core.batching import note
from ikstorage.patches.default import state, wrapped_default
from ikstorage.storage import CachedStorage

_originals: dict[str, Any] = {}


def _noting(original: Callable[[Any, Any, Any], None]) -> Callable[[Any, Any, Any], None]:
    @functools.wraps(original)
    def __set__(self: Any, instance: Any, value: Any) -> None:
        original(self, instance, value)
        if type(value) is str and value:
            # Paid once per image by every page, ikstorage's or not: the field's
            # storage resolved inline (no call frame), as ``FieldFile.url`` below does.
            storage = self.field.storage
            if storage is default_storage:
                storage = state["_wrapped"]
                if storage is empty:  # first use builds it, as reading the file would
                    storage = wrapped_default()
            if isinstance(storage, CachedStorage):
                note(storage, value)

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


def _direct(original: property) -> property:
    @functools.wraps(original.fget)  # type: ignore[arg-type]
    def url(self: Any) -> str:
        # Django's property, asking the storage ``default_storage`` stands for directly.
        self._require_file()
        storage = self.storage
        if storage is default_storage:
            storage = state["_wrapped"]
            if storage is empty:
                storage = wrapped_default()
        return storage.url(self.name)  # type: ignore[no-any-return]

    url.ikstorage_hook = True  # type: ignore[attr-defined]
    return property(url, doc=original.__doc__)


def install() -> None:
    """Patch ``FileDescriptor`` and ``FieldFile.url`` (idempotent)."""
    if _originals:
        return
    _originals["__set__"] = FileDescriptor.__dict__["__set__"]
    _originals["__get__"] = FileDescriptor.__dict__["__get__"]
    _originals["url"] = FieldFile.__dict__["url"]
    FileDescriptor.__set__ = _noting(_originals["__set__"])  # type: ignore[method-assign,assignment]
    FileDescriptor.__get__ = _fast(_originals["__get__"])  # type: ignore[method-assign]
    fieldfile: Any = FieldFile
    fieldfile.url = _direct(_originals["url"])


def uninstall() -> None:
    for name, original in _originals.items():
        setattr(FieldFile if name == "url" else FileDescriptor, name, original)
    _originals.clear()


def installed() -> bool:
    return bool(_originals)
