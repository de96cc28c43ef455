"""``--dry-run`` tells probes and renders apart: a cached record may still lack renditions."""

from __future__ import annotations

from typing import Any

from django.core.cache import caches
from django.test import override_settings

from ikstorage.prewarm.report import text
from tests.prewarm.conftest import prewarm, put_images
from tests.prewarm.test_renditions import CACHES, NAMES, storages_with_specs


def test_a_dry_run_counts_sources_to_render_apart_from_records_to_probe(s3: Any) -> None:
    put_images(s3, NAMES, size=(80, 60))
    with override_settings(STORAGES=storages_with_specs(), CACHES=CACHES):
        caches["default"].clear()
        cold = prewarm("--prefix", "legacy/", "--dry-run")
        assert (cold["would_probe"], cold["would_render"]) == (len(NAMES), len(NAMES))
        assert cold["s3"] == {"ListObjectsV2": 1}
        # Records only: every record cached, every source still without renditions.
        assert prewarm("--prefix", "legacy/", "--no-renditions")["records_written"] == len(NAMES)
        records_only = prewarm("--prefix", "legacy/", "--dry-run")
        assert (records_only["would_probe"], records_only["would_render"]) == (0, len(NAMES))
        assert records_only["already_cached"] == 0
        assert text(records_only.summary).splitlines()[4].split() == ["would", "render", "6"]
        assert prewarm("--prefix", "legacy/").returncode == 0
        done = prewarm("--prefix", "legacy/", "--dry-run")
        assert (done["would_probe"], done["would_render"], done["already_cached"]) == (
            0,
            0,
            len(NAMES),
        )
