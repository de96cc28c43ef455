"""``default_storage`` resolved to the storage it stands for, without ``LazyObject``'s detour.

A field declared without ``storage=`` holds Django's ``default_storage``, a
``LazyObject``. Every attribute read on it (``default_storage.url``) runs
``LazyObject.__getattribute__`` in Python, which raises and catches an
``AttributeError`` before ``__getattr__`` forwards the read to the wrapped
storage: about 4 µs here, more than a warm ``CachedStorage.url`` answer
itself, paid twice per image on a page printing ``url``, ``width`` and
``height``. :func:`resolved` reads the wrapped storage the way the proxy
itself does (set up on first use) and the caller calls it directly, so the
answer is the same object's; it is read on every call, never kept, so a
``STORAGES`` change (``override_settings``) is seen at once, as through the
proxy.
"""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.utils.functional import empty

__all__ = ["resolved", "state", "wrapped_default"]

#: ``default_storage``'s own instance dictionary, where ``LazyObject`` keeps
#: ``_wrapped`` (its ``__setattr__`` writes it there, ``_setup`` and
#: ``override_settings`` included). ``state["_wrapped"]`` is the wrapped storage,
#: or ``empty`` before first use (then call :func:`wrapped_default`); the hot
#: paths inline it: one dictionary read, no call.
state: dict[str, Any] = object.__getattribute__(default_storage, "__dict__")


def wrapped_default() -> Any:
    """The storage ``default_storage`` wraps now, built on first use as the proxy would."""
    wrapped = state["_wrapped"]
    if wrapped is empty:
        proxy: Any = default_storage
        proxy._setup()
        wrapped = state["_wrapped"]
    return wrapped


def resolved(storage: Any) -> Any:
    """``storage`` itself, or for ``default_storage`` the storage it wraps."""
    return wrapped_default() if storage is default_storage else storage
