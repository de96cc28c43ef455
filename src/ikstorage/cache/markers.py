"""What L1 notes besides entries: L2 had nothing, L2 held junk, this process already tried.

These markers never reach L2; they spare the next lookup a round trip (see
:mod:`.levels`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ikstorage.cache.health import BLOCKER

__all__ = ["ABSENT", "INVALID", "TRIED", "Absent", "missing"]


class Absent:
    """L1's note that L2 had nothing for a key: the next lookup skips the round trip."""

    def to_plain(self) -> dict[str, Any]:  # pragma: no cover - never written to L2
        raise TypeError("the absent marker is never stored in L2")


ABSENT = Absent()


class _Invalid(Absent):
    """L1's note that L2 held a value that failed validation: a miss, to be replaced."""


INVALID = _Invalid()


class _Tried:
    """L1's note that this process already made an ``add_raw_once`` for a key."""

    def to_plain(self) -> dict[str, Any]:  # pragma: no cover - never written to L2
        raise TypeError("the tried marker is never stored in L2")


TRIED = _Tried()


def missing(key: str, remote: Mapping[str, Any], unreadable: set[str]) -> Absent:
    """L1's note for a key L2 gave no entry for: nothing there, or junk to replace.

    A blocker (written over a record that changed during an outage) is a
    deliberate miss that no fill may replace until it expires: it is ``ABSENT``.
    """
    if key in unreadable:
        return INVALID
    if key not in remote:
        return ABSENT
    value = remote[key]
    return ABSENT if type(value) is dict and value == BLOCKER else INVALID
