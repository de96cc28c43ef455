"""Renditions by default where specs exist, and at most ``--render-workers`` renders at once."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from ikstorage.prewarm.plan import Plan, default_render_workers
from ikstorage.renditions.binding import Renditions
from tests.prewarm.conftest import prewarm, put_images, s3_storages
from tests.prewarm.test_renditions import CACHES, NAMES, PER_SOURCE, storages_with_specs


def test_with_specs_the_default_run_renders_what_images_lack(s3: Any) -> None:
    put_images(s3, NAMES, size=(80, 60))
    with override_settings(STORAGES=storages_with_specs(), CACHES=CACHES):
        caches["default"].clear()
        run = prewarm("--prefix", "legacy/")
    assert run.returncode == 0
    # Per image: one GET for the record and every spec (read on after the header), a PUT
    # per rendition.
    assert run["s3"] == {
        "ListObjectsV2": 1,
        "GetObject": len(NAMES),
        "PutObject": PER_SOURCE * len(NAMES),
    }
    assert run["renditions_made"] == PER_SOURCE * len(NAMES)


def test_no_renditions_fills_the_records_only(s3: Any) -> None:
    put_images(s3, NAMES, size=(80, 60))
    with override_settings(STORAGES=storages_with_specs(), CACHES=CACHES):
        caches["default"].clear()
        run = prewarm("--prefix", "legacy/", "--no-renditions")
    assert run.returncode == 0
    assert run["s3"] == {"ListObjectsV2": 1, "GetObject": len(NAMES)}
    assert run["renditions_made"] == 0


def test_without_specs_the_default_run_only_probes(s3: Any) -> None:
    put_images(s3, NAMES, size=(80, 60))
    with override_settings(STORAGES=s3_storages(), CACHES=CACHES):
        caches["default"].clear()
        run = prewarm("--prefix", "legacy/")
        assert run.returncode == 0
        assert run["s3"] == {"ListObjectsV2": 1, "GetObject": len(NAMES)}
        assert run["renditions_made"] == 0
        # And a second run has nothing to do: no render step pending without specs.
        again = prewarm("--prefix", "legacy/")
    assert again["s3"] == {"ListObjectsV2": 1}
    assert again["already_cached"] == len(NAMES)


class Gauge:
    """Counts the renders in progress and keeps the highest count seen.

    Each render waits (a short while at most) for one more render than the
    bound to join it, so a run without the bound reaches it for certain; with
    the bound, the count can never pass it and each wait simply ends.
    """

    def __init__(self, bound: int) -> None:
        self.bound, self.active, self.peak, self.calls = bound, 0, 0, 0
        self.threads: set[str] = set()
        self.changed = threading.Condition()

    def wrap(self, render: Any) -> Any:
        def counted(renditions: Renditions, name: str, *args: Any, **kwargs: Any) -> Any:
            with self.changed:
                self.active += 1
                self.calls += 1
                self.threads.add(threading.current_thread().name)
                self.peak = max(self.peak, self.active)
                self.changed.notify_all()
                self.changed.wait_for(lambda: self.active > self.bound, timeout=0.05)
            try:
                return render(renditions, name, *args, **kwargs)
            finally:
                with self.changed:
                    self.active -= 1

        return counted


@pytest.mark.parametrize("bound", [1, 2])
def test_renders_never_exceed_render_workers(
    s3: Any, monkeypatch: pytest.MonkeyPatch, bound: int
) -> None:
    put_images(s3, NAMES, size=(80, 60))
    gauge = Gauge(bound)
    # A source nobody has a record of renders from the probe's read (render_read);
    # make_missing is the download path.
    for method in ("make_missing", "render_read"):
        monkeypatch.setattr(Renditions, method, gauge.wrap(getattr(Renditions, method)))
    with override_settings(STORAGES=storages_with_specs(), CACHES=CACHES):
        caches["default"].clear()
        run = prewarm("--prefix", "legacy/", "--workers", "6", "--render-workers", str(bound))
    assert run.returncode == 0
    assert gauge.calls == len(NAMES)
    assert gauge.peak == bound
    # Renders run on threads of their own, so only that many threads ever hold a decoded
    # image (the allocator keeps each such thread's peak).
    assert len(gauge.threads) == bound
    assert all(name.startswith("ikstorage-render") for name in gauge.threads)
    assert run["renditions_made"] == PER_SOURCE * len(NAMES)


def test_render_workers_default_to_the_cores_this_process_may_use() -> None:
    assert default_render_workers() == len(os.sched_getaffinity(0))
    assert Plan().render_slots == default_render_workers()
    assert Plan(render_workers=3).render_slots == 3
    assert Plan().renditions is True
    # A task worker sizes its own: the plan carries no core count of the enqueuing machine.
    assert Plan.from_json(Plan().to_json()).render_workers is None


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_a_bad_render_workers_value_is_refused_by_name(value: str) -> None:
    with pytest.raises(CommandError) as caught:
        call_command("ikstorage_prewarm", "--prefix", "x/", "--render-workers", value)
    assert str(caught.value) == (
        f"Error: argument --render-workers: a whole number of 1 or more, not '{value}'"
    )


def test_a_plan_refuses_zero_render_workers() -> None:
    with pytest.raises(ValueError, match="render workers must be 1 or more, not 0"):
        Plan(render_workers=0)
