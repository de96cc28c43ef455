"""Which errors of the cache libraries count as an outage (ride it out) and which are mistakes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import diskcache
import pytest
from django.core.cache import caches
from django.test import override_settings

from ikstorage.cache import errors as cache_errors
from tests.resilience import caches as configs
from tests.resilience.tiers import DiskcacheTier


@pytest.mark.parametrize(
    "error",
    [
        sqlite3.OperationalError("database or disk is full"),
        sqlite3.OperationalError("disk I/O error"),
        sqlite3.OperationalError("database is locked"),
        diskcache.Timeout(),
    ],
    ids=repr,
)
def test_diskcache_disk_and_lock_errors_are_outages(error: Exception) -> None:
    assert cache_errors.is_outage(error)
    assert cache_errors.explain("shared", error) is None


@pytest.mark.parametrize(
    "error",
    [sqlite3.IntegrityError("UNIQUE constraint failed"), sqlite3.ProgrammingError("closed")],
    ids=repr,
)
def test_other_sqlite_errors_are_not(error: Exception) -> None:
    assert not cache_errors.is_outage(error)


def test_a_full_disk_under_diskcache_raises_an_outage(tmp_path: Path) -> None:
    """What DjangoCache really raises on a full disk: the class listed as an outage."""
    with override_settings(
        CACHES={"default": configs.locmem(), "shared": configs.diskcache(str(tmp_path / "dc"))}
    ):
        tier = DiskcacheTier(tmp_path / "dc")
        caches["shared"].set("before", 1)
        tier.down()
        try:
            with pytest.raises(sqlite3.OperationalError, match="full") as raised:
                caches["shared"].set_many({"k": "v" * 100})
            assert cache_errors.is_outage(raised.value)
            assert caches["shared"].get_many(["before"]) == {"before": 1}  # reads still work
        finally:
            tier.close()
