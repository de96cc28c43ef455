"""The write path: the name's lease, the wrapped write, the record, and the hook.

``save`` and ``delete`` hold a short per-name lease in the shared cache
(:mod:`ikstorage.lease`) around the backend write and the record write, so
the record left behind is the one of the write the storage kept (``DESIGN.md``,
invariant 10). ``save`` writes the record through only after the backend
succeeded, with the size and dimensions measured from the bytes saved
(:mod:`.uploads`); ``delete`` leaves a short-lived tombstone; a failed backend
call removes whatever was cached for the name (invariant 2). A file written
through an open file object is forgotten when it closes.

Features join a save or a delete through the :class:`~.hook.WriteHook` the
storage plugs in; the core never imports them.
"""

from __future__ import annotations

from typing import Any

from django.core.files import File

from ikstorage.core import uploads
from ikstorage.core.hook import WriteHook
from ikstorage.core.names import Names
from ikstorage.core.parts import Parts
from ikstorage.core.policy import Policy
from ikstorage.core.reads import Reads
from ikstorage.lease import Lease
from ikstorage.records import Record

__all__ = ["Writes"]


class Writes:
    """Saves, deletes and writable opens of one storage, ordered per name."""

    def __init__(
        self,
        parts: Parts,
        names: Names,
        reads: Reads,
        policy: Policy,
        hook: WriteHook[Any] | None = None,
    ) -> None:
        self._parts = parts
        self._names = names
        self._reads = reads
        self._policy = policy
        self.hook = hook

    def lease(self, stored: str, *, wait: float | None = None) -> Lease:
        """The write lease of one stored name (see :meth:`.reads.Reads.lease`)."""
        return self._reads.lease(stored, wait=wait)

    def save(self, name: str, content: File[Any]) -> str:
        """Store ``content`` under ``name`` (the storage's ``_save``) and write its record."""
        stored = self._names.stored(name)
        if stored is None:
            return self._parts.call("_save", name, content)  # type: ignore[no-any-return]
        adapter, hook = self._parts.adapter, self.hook
        upload = uploads.inspect(adapter, name, content, probe_limit=self._policy.probe_limit)
        # The hook's CPU work (rendering) happens before the lease: it holds up nobody.
        prepared = None if hook is None else hook.prepare(stored, content, upload)
        # What the write changed is announced once, when the lease is given back.
        with self._parts.cache.announcing():
            saved, attached = self._write(name, content, stored, upload, prepared)
        if attached and hook is not None:  # after the release: a task may take the lease itself
            hook.saved(saved, prepared)
        return saved

    def _write(
        self, name: str, content: File[Any], stored: str, upload: uploads.Upload, prepared: Any
    ) -> tuple[str, bool]:
        """The backend write and the record, under the name's lease: (saved name, attached)."""
        keys, adapter, hook = self._parts.keys, self._parts.adapter, self.hook
        lease = self.lease(stored)
        try:
            saved = adapter.store(name, content)
        except BaseException:
            lease.release(also=keys.facts(stored))
            raise
        saved_stored = self._names.stored(saved)
        stale = [keys.record(parent) for parent in adapter.parents(stored)]
        record = upload.record()
        attached = False
        if saved_stored == stored and record is not None and lease.still_held:
            if prepared is not None and hook is not None:
                record, gone = hook.attach(stored, prepared, record)
                stale += self._names.facts_of(gone)
                attached = True
            self._parts.cache.set(keys.record(stored), record, self._policy.record_timeout())
        else:
            # Not ordered (no lease), or the storage chose another name than the one
            # leased, or the stored size is not known: the next reader asks the backend.
            stale += keys.facts(stored)
            if saved_stored is not None and saved_stored != stored:
                stale += keys.facts(saved_stored)
                stale += [keys.record(p) for p in adapter.parents(saved_stored)]
        lease.release(also=stale)
        return saved, attached

    def saved_elsewhere(self, saved: str) -> None:
        """The wrapped storage saved ``saved`` with a ``save()`` of its own: forget what
        was known, so the next reader learns what it stored (its folders too)."""
        with self._parts.cache.announcing():
            self._reads.invalidate(saved)
            stored = self._names.stored(saved)
            if stored is not None:
                keys = self._parts.keys
                self._parts.cache.delete_many(
                    [keys.record(p) for p in self._parts.adapter.parents(stored)]
                )

    def delete(self, name: Any) -> None:
        """Delete ``name`` under its lease and leave a tombstone; what goes with it goes too."""
        stored = self._names.stored(name)
        if stored is None:
            self._parts.call("delete", name)
            return
        with self._parts.cache.announcing():
            self._delete(name, stored)

    def _delete(self, name: Any, stored: str) -> None:
        keys, adapter = self._parts.keys, self._parts.adapter
        lease = self.lease(stored)
        going = [] if self.hook is None else self.hook.going(stored)
        # A folder deleted with its contents takes their records along; the folders
        # above it changed too (their modified time, on a file system).
        stale = [key for inside in adapter.deleted_with(stored) for key in keys.facts(inside)]
        stale += [keys.record(parent) for parent in adapter.parents(stored)]
        try:
            self._parts.call("delete", name)
        except BaseException:
            lease.release(also=[*keys.facts(stored), *stale])
            raise
        # Even unordered, a tombstone is the safer guess: it is short-lived, while a
        # slow reader re-filling "exists" after a plain invalidation lasts a day.
        self._parts.cache.set(keys.record(stored), Record.missing(), self._policy.missing_timeout)
        if going and self.hook is not None:
            self.hook.gone(going)
        lease.release(also=[*stale, *self._names.facts_of(going)])

    def open(self, name: Any, mode: str) -> File[Any]:
        """The storage's ``open``; a file opened for writing is forgotten now and on close."""
        file: File[Any] = self._parts.call("open", name, mode)
        if not set(mode) & set("wax+"):
            return file
        # Written through the file object: the record is unknown until it closes.
        self._reads.invalidate(name)
        close = file.close

        def close_and_forget() -> None:
            try:
                close()
            finally:
                self._reads.invalidate(name)

        file.close = close_and_forget  # type: ignore[method-assign]
        return file
