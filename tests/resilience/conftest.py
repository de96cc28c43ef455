"""Fixtures of the resilience tier: cache tiers with outages, log counting, measured figures.

The figures each test measures (round trips, page times, recovery seconds,
S3 attempts) are printed in a "resilience figures" section at the end of the
run, so the numbers quoted in ``docs/production.md`` can be re-measured with
``pytest tests/resilience``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from tests.resilience import caches as configs
from tests.resilience import tiers

#: test id -> what it measured, in the order recorded.
FIGURES: dict[str, dict[str, Any]] = {}

Record = Callable[..., None]


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Record:
    """``figures(key=value, ...)``: keep measured values for the end-of-run summary."""

    def record(**values: Any) -> None:
        FIGURES.setdefault(request.node.nodeid.split("::", 1)[-1], {}).update(values)

    return record


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    terminalreporter.section("resilience figures")
    for test, values in FIGURES.items():
        shown = ", ".join(f"{key}={_show(value)}" for key, value in values.items())
        terminalreporter.write_line(f"{test}: {shown}")


def _show(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


@pytest.fixture
def tier(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tiers.Tier]:
    """The cache tier named by the test's parameter, configured as the alias ``shared``."""
    gen = tiers.make(request.param, request, tmp_path)
    built = next(gen)
    with override_settings(CACHES={"default": configs.locmem(), tiers.ALIAS: built.config}):
        built.prepare()
        try:
            yield built
        finally:
            gen.close()


class Warnings:
    """Counts the warnings of ``ikstorage.cache`` by kind."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog

    def messages(self) -> list[str]:
        return [
            r.getMessage()
            for r in self.caplog.records
            if r.name == "ikstorage.cache" and r.levelno == logging.WARNING
        ]

    @property
    def unavailable(self) -> int:
        return sum(" unavailable (" in m for m in self.messages())

    @property
    def back(self) -> int:
        return sum(" is back" in m for m in self.messages())


@pytest.fixture
def cache_warnings(caplog: pytest.LogCaptureFixture) -> Iterator[Warnings]:
    with caplog.at_level(logging.WARNING, logger="ikstorage.cache"):
        yield Warnings(caplog)
