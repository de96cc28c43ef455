"""``manage.py ikstorage_profile``: the table, --repeat, --compare, --json and failures."""

from __future__ import annotations

import json
import re
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.urls("tests.profiler.urls")


def run(*args: str) -> str:
    out = StringIO()
    call_command("ikstorage_profile", *args, stdout=out)
    return out.getvalue()


def without_times(text: str) -> str:
    return re.sub(r"time \(ms\) +\d+\.\d", "time (ms) T", text)


def test_table_of_one_render(photos: Any) -> None:
    assert without_times(run("/work/")) == (
        "GET /work/ (HTTP 200)\n"
        "                  ikstorage\n"
        "S3 calls                  3\n"
        "  GetObject               1\n"
        "  HeadObject              2\n"
        "S3 retries                0\n"
        "presigned URLs            0\n"
        "bytes downloaded       1024\n"
        "storage calls             1\n"
        "  exists                  1\n"
        "L1 hits/misses          2/1\n"
        "L2 hits/misses          0/1\n"
        "cache round trips         1\n"
        "time (ms) T\n"
    )


def test_compare_and_repeat_show_cold_warm_and_bypassed(photos: Any) -> None:
    """Three photos: url and size of each. Bare S3Storage: one HeadObject per size;
    ikstorage cold: one ranged GetObject per photo; warm: nothing."""
    data = json.loads(run("/gallery/", "--compare", "--repeat", "2", "--json"))

    assert data["url"] == "/gallery/"
    assert [run["label"] for run in data["runs"]] == [
        "bypass 1",
        "bypass 2",
        "ikstorage 1",
        "ikstorage 2",
    ]
    assert [run["status"] for run in data["runs"]] == [200, 200, 200, 200]
    assert [run["s3"] for run in data["runs"]] == [
        {"HeadObject": 3},
        {"HeadObject": 3},
        {"GetObject": 3},
        {},
    ]
    assert [run["presigned"] for run in data["runs"]] == [
        {"GetObject": 3},
        {"GetObject": 3},
        {"GetObject": 3},
        {},
    ]
    bypassed, _, cold, warm = data["runs"]
    assert bypassed["storage"] == {"size": 3, "url": 3}
    assert bypassed["round_trips_total"] == 0
    assert bypassed["bytes_downloaded"] == 0
    assert cold["bytes_downloaded"] == cold["probe_bytes"] > 0
    assert warm["storage"] == {}
    assert warm["round_trips_total"] == 0
    assert warm["cache"]["l1"] == {"hits": 6, "misses": 0}


def test_compare_table_has_a_column_per_run(photos: Any) -> None:
    lines = run("/gallery/", "--compare").splitlines()

    assert lines[0] == "GET /gallery/ (HTTP 200)"
    assert lines[1].split() == ["bypass", "ikstorage"]
    assert lines[2].split() == ["S3", "calls", "3", "3"]
    assert lines[3].split() == ["GetObject", "0", "3"]
    assert lines[4].split() == ["HeadObject", "3", "0"]


def test_streamed_bodies_are_read_inside_the_count(photos: Any) -> None:
    [result] = json.loads(run("/stream/", "--json"))["runs"]

    assert result["s3"] == {"HeadObject": 2}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/missing/", "GET /missing/ returned HTTP 404."),
        ("/boom/", "GET /boom/ raised RuntimeError: the view failed."),
    ],
)
def test_failing_url_is_a_command_error(photos: Any, url: str, message: str) -> None:
    with pytest.raises(CommandError, match=re.escape(message)):
        run(url)


def test_repeat_must_be_positive(photos: Any) -> None:
    with pytest.raises(CommandError, match="--repeat must be 1 or more"):
        run("/work/", "--repeat", "0")
