"""The hostile corpus as legacy files: put behind ikstorage's back, then shown as thumbnails.

A first thumbnail view reads the file once (``Adapter.probe_open``): the
header for the record, then on through the file only when the renditions are
due. Each crafted file of :data:`~tests.hostile.corpus.CORPUS` is put in the
bucket and asked for its ``thumb``, in a capped process of its own, as
``test_hostile.py`` saves it. For each: one ``GetObject``; the same
renditions or the same refusal as a save (or, where the record or the header
already refuses the file, that refusal, with no more than the header read);
the object untouched; the time and memory bounds of a save.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.hostile.corpus import BASELINE, CORPUS, Hostile
from tests.hostile.test_hostile import SECONDS, budget_kib, run_corpus

pytestmark = [pytest.mark.heavy, pytest.mark.slow]


@pytest.fixture(scope="module")
def legacy_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return run_corpus(tmp_path_factory.mktemp("hostile-legacy"), legacy=True)


#: Where a first view refuses what a save renders or refuses otherwise: the record a
#: legacy file's probe keeps says Django finds no dimensions in it, so it is refused from
#: the record (``docs/renditions.md``, bad input), before its bytes are decoded.
FROM_THE_RECORD = {"webp-truncated.webp": "not-an-image"}


@pytest.mark.parametrize("hostile", [BASELINE, *CORPUS], ids=[h.name for h in [BASELINE, *CORPUS]])
def test_a_hostile_legacy_file_is_read_once_within_the_bounds(
    legacy_reports: dict[str, dict[str, Any]], hostile: Hostile
) -> None:
    report = legacy_reports[hostile.name]
    assert set(report) >= {"same_bytes", "peak_kib"}, report  # not a timeout, a crash
    assert report["same_bytes"] is True
    # One GET, and never more than the file taken from it (each byte read once).
    assert report["gets"] == 1
    assert report["taken"] <= report["size"]
    error = FROM_THE_RECORD.get(hostile.name, hostile.error)
    shown = [] if error != hostile.error else list(hostile.shown)
    assert (report["error"], [tuple(r) for r in report["shown"]]) == (error, shown)
    assert report["seconds"] <= SECONDS, report
    assert report["peak_kib"] <= budget_kib(legacy_reports), (report["peak_kib"],)
