"""``benchmarks/backends.py``: HTTP requests per image on each backend, exactly.

One run of the command on a page of 2 photos: S3 (moto's server behind the
counting forwarder), GCS (gcp-storage-emulator) and Azure (Azurite), each
with the bare storage and with ikstorage on it, the new process a real one.
Counts do not depend on the page's size, so the numbers asserted per photo
are the ones a full run prints (``docs/backends/``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.child import pythonpath
from tests.servers import unavailable

pytestmark = [pytest.mark.slow, pytest.mark.heavy]

ROOT = Path(__file__).resolve().parent.parent
IMAGES = 2
PHASES = ("upload", "cold", "warm", "new_process")
NONE: dict[str, int] = {}

#: Requests per photo: upload, cold, warm, new process.
PER_PHOTO = {
    ("s3", "bare"): ({"write": 1}, *[{"get": 1, "head": 2}] * 3),
    ("s3", "ikstorage"): ({"write": 1}, {"get": 1}, NONE, NONE),
    ("gcs", "bare"): ({"metadata": 1, "write": 1}, *[{"download": 1, "metadata": 1}] * 3),
    ("gcs", "ikstorage"): ({"write": 1}, {"download": 1}, NONE, NONE),
    ("azure", "bare"): ({"write": 1}, *[{"get": 1}] * 3),
    ("azure", "ikstorage"): ({"write": 1}, {"get": 1}, NONE, NONE),
}


def test_requests_per_image_on_each_backend(tmp_path: Path) -> None:
    out = tmp_path / "backends.json"
    done = subprocess.run(
        [sys.executable, "benchmarks/backends.py", "--images", str(IMAGES), "--json", str(out)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": pythonpath()},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(out.read_text())["results"]
    for slug in ("s3", "gcs", "azure"):
        if slug not in results:
            unavailable(f"benchmarks/backends.py left {slug} out:\n{done.stdout}")
    for (slug, kind), expected in PER_PHOTO.items():
        phases = results[slug][kind]
        measured = tuple(
            {op: n / IMAGES for op, n in phases[phase]["requests"].items()} for phase in PHASES
        )
        assert measured == expected, (slug, kind)
        if kind == "ikstorage":
            trips = [phases[phase]["round_trips"] for phase in ("cold", "warm", "new_process")]
            assert trips == [2 * IMAGES + 1, 0, 1], slug
    assert "| ikstorage on `AzureStorage` | 1 (1 write) | 1 (1 get) | 0 | 0 | 5 / 0 / 1 |" in (
        done.stdout
    )
