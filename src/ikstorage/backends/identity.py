"""Identities derived from a storage's configuration, never from where it sits in memory.

A storage's records are kept under its identity in a cache every process
shares, so the identity must be the same in every process for the same
configuration, and must differ between storages that would answer
differently (``DESIGN.md``, invariant 13). ``id()`` is neither: it differs
between processes (a delete in one worker goes unseen by the others) and is
reused in a process once a storage is gone.

Three helpers for the adapters:

* :func:`digest` turns a value that may be a credential into a short hash, so
  no secret is ever part of an identity (nor of a key, nor of a log line);
* :func:`stable` spells constructor arguments (a ``deconstruct()``) the same
  way in every process, or says it cannot (an object known only by its
  address, a lambda);
* :func:`instance_token` names one storage object for as long as it lives: for
  a storage whose files live in the process (``InMemoryStorage``), or one
  nothing can be derived from.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import hashlib
import pathlib
import threading
import types
import uuid
import weakref
from typing import Any

__all__ = ["digest", "instance_token", "stable"]

#: Values whose ``repr`` is the same in every process.
_PLAIN = (
    type(None),
    bool,
    int,
    float,
    complex,
    str,
    bytes,
    decimal.Decimal,
    uuid.UUID,
    datetime.date,
    datetime.time,
    datetime.timedelta,
)
#: How deep :func:`stable` follows containers and deconstructible objects.
_DEPTH = 8


def digest(value: str | bytes) -> str:
    """A short SHA-256 hex digest: identifies ``value`` without revealing it."""
    data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
    return hashlib.sha256(data).hexdigest()[:16]


def stable(value: Any, _depth: int = 0) -> str | None:
    """``value`` spelled the same in every process, or ``None`` if it cannot be.

    Plain values, paths, enums, containers of them, module-level functions
    and classes (by their import path), and objects with ``deconstruct()``
    (by what it returns) can; anything else is known only by its address.
    """
    if _depth > _DEPTH:
        return None
    if isinstance(value, _PLAIN):
        return f"{type(value).__name__}:{value!r}"
    if isinstance(value, enum.Enum):
        return f"{_path(type(value))}.{value.name}"
    if isinstance(value, pathlib.PurePath):
        return f"path:{value.as_posix()}"
    if isinstance(value, list | tuple | set | frozenset):
        items = [stable(item, _depth + 1) for item in value]
        if any(item is None for item in items):
            return None
        found = [item for item in items if item is not None]
        if isinstance(value, set | frozenset):
            found.sort()
        return f"{type(value).__name__}[{','.join(found)}]"
    if isinstance(value, dict):
        pairs = [(stable(k, _depth + 1), stable(v, _depth + 1)) for k, v in value.items()]
        if any(k is None or v is None for k, v in pairs):
            return None
        return "dict{" + ",".join(sorted(f"{k}:{v}" for k, v in pairs)) + "}"
    if isinstance(value, type | types.FunctionType | types.BuiltinFunctionType):
        return _callable(value)
    deconstruct = getattr(value, "deconstruct", None)
    if callable(deconstruct):
        try:
            path, args, kwargs = deconstruct()
        except Exception:  # an inner class, a half-built object: nothing to derive
            return None
        inner = stable((tuple(args), dict(kwargs)), _depth + 1)
        return None if inner is None else f"{path}{inner}"
    return None


def _path(obj: Any) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def _callable(obj: Any) -> str | None:
    """A class or function by its import path; ``None`` for a lambda or a local one."""
    qualname = getattr(obj, "__qualname__", "")
    if not getattr(obj, "__module__", None) or "<" in qualname:
        return None
    return f"callable:{_path(obj)}"


_tokens: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
#: Objects that cannot be weakly referenced or hashed, by ``id`` (kept alive).
_pinned: dict[int, tuple[Any, str]] = {}
_lock = threading.Lock()


def instance_token(obj: Any) -> str:
    """A random name for ``obj``, the same for as long as it lives, never reused.

    Random rather than ``id(obj)``: two processes (forks of one parent) put
    their storages at the same addresses, and a shared cache must not mix
    what two per-process storages hold.
    """
    with _lock:
        try:
            found = _tokens.get(obj)
            if found is None:
                found = _tokens[obj] = uuid.uuid4().hex
            return found
        except TypeError:  # not hashable or not weakly referenceable
            pinned = _pinned.get(id(obj))
            if pinned is None or pinned[0] is not obj:
                pinned = _pinned[id(obj)] = (obj, uuid.uuid4().hex)
            return pinned[1]
