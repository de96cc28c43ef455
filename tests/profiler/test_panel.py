"""The debug toolbar panel, tested in a process of its own (see ``panel_cases.py``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_panel_cases() -> None:
    pytest.importorskip(
        "debug_toolbar", reason="django-debug-toolbar is not installed (ikstorage[debug-toolbar])"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--ds",
            "tests.profiler.toolbar_settings",
            "tests/profiler/panel_cases.py",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout


def test_importing_ikstorage_does_not_import_debug_toolbar() -> None:
    code = (
        "import sys, ikstorage, ikstorage.profiler, ikstorage.pytest_plugin; "
        "print('debug_toolbar' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )

    assert result.stdout.strip() == "False"
