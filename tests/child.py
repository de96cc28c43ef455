"""Run a module of the test tree in a brand-new Python process and read what it printed.

The new-process tests prove that a process sharing only the cache (and the
bucket) with the one that wrote the records makes no S3 call. Each child
prints one JSON line last; this runs it from the project root and returns that
line, failing the test with the child's stderr when it exits non-zero.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def pythonpath() -> str:
    """``PYTHONPATH`` for a child: the project root first, then what this process had
    (a checkout's ``src`` run without installing it, so both run the same code)."""
    return os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))


def run_module(
    module: str,
    *args: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> Any:
    """``python -m module args``; its last line of output, parsed as JSON.

    ``env`` defaults to this process's environment without
    ``DJANGO_SETTINGS_MODULE`` (such children configure Django themselves); the
    project root is put first on ``PYTHONPATH`` either way (:func:`pythonpath`).
    """
    if env is None:
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    out = subprocess.run(
        [sys.executable, "-m", module, *(os.fspath(a) for a in args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={
            **env,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        },
        timeout=timeout,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])
