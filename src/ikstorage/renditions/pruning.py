"""Renditions no spec declares any more: dropped from their source's record, then deleted.

A page view never removes a rendition (:mod:`.making`): during a rolling
deploy the renditions it does not know are another process's. Once every
process runs one configuration, those of the specs it no longer declares
(removed, declared differently, or whose ``match`` no longer takes the file)
are listed and stored for nothing. ``manage.py ikstorage_prune`` finds them
in the records (:func:`undeclared_in`) and, with ``--delete``, drops them
from each record under the source's lease (:func:`drop`), then deletes their
files in batches (:func:`delete_files`): a record never lists a file that is
gone, and a delete that fails leaves files no record lists, which the
command reports by name.
"""

from __future__ import annotations

import dataclasses

from ikstorage.lease import State
from ikstorage.records import Record, RenditionInfo
from ikstorage.renditions.current import undeclared
from ikstorage.renditions.host import Host
from ikstorage.renditions.settings import Settings

__all__ = ["delete_files", "drop", "undeclared_in"]


def undeclared_in(
    host: Host, settings: Settings, stored: str, record: Record
) -> list[RenditionInfo]:
    """The renditions ``record`` (of the file stored as ``stored``) lists for no spec of ours."""
    if not record.exists:
        return []
    return undeclared(settings.specs.values(), host.files.relative(stored), record)


def drop(host: Host, settings: Settings, name: str, *, wait: float) -> list[RenditionInfo] | None:
    """Under the source's lease, drop the undeclared renditions from its record.

    Returns those dropped (their files are still to delete), or ``None`` when
    another holder kept the lease for ``wait`` seconds or took it over (nothing
    was changed; a rerun finds them again). The record read is the shared
    cache's, with no probe: a source the cache does not hold lists nothing.
    """
    stored = host.canonical(name)
    lease = host.lease(stored, wait=wait)
    if lease.state is State.TIMED_OUT:
        return None
    stale: list[str] = []
    try:
        record = host.shared_record(stored)
        gone = [] if record is None else undeclared_in(host, settings, stored, record)
        if not gone or record is None:
            return []
        if not (lease.still_held or lease.state is State.UNAVAILABLE):
            return None
        kept = tuple(r for r in record.renditions if r not in gone)
        host.store(name, dataclasses.replace(record, renditions=kept), replace=True)
        stale = host.facts_of(r.name for r in gone)  # their URLs, forgotten with the lease
        return gone
    finally:
        lease.release(also=stale)


def delete_files(host: Host, names: list[str]) -> None:
    """Delete rendition files no record lists any more (one ``DeleteObjects`` per 1,000).

    Raises what the backend raised: the caller reports the names, which no
    record lists now.
    """
    if names:
        host.files.delete_files(names)
