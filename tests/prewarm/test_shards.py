"""Shards: every name in exactly one, the same split on every machine, and runs that agree."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from typing import Any

import pytest

from ikstorage import CachedStorage
from ikstorage.prewarm.shards import Shard, bucket
from ikstorage.profiler import count_calls
from tests.prewarm.conftest import prewarm, put_images

NAMES = [f"photos/{i:05d}.jpg" for i in range(4_000)]


@pytest.mark.parametrize("count", [1, 2, 7, 64])
def test_every_name_in_exactly_one_shard(count: int) -> None:
    shards = Shard(1, count).all()
    owners = Counter(next(i for i, s in enumerate(shards) if name in s) for name in NAMES)
    membership = [sum(name in s for s in shards) for name in NAMES]
    assert membership == [1] * len(NAMES)
    assert sum(owners.values()) == len(NAMES)
    mean = len(NAMES) / count
    assert all(abs(n - mean) < 0.2 * mean + 15 for n in owners.values()), owners


def test_the_split_is_the_same_everywhere() -> None:
    """BLAKE2b of the name, not Python's salted ``hash``: pinned values, and another process."""
    names = ["photos/a.jpg", "photos/b.jpg", "x", "é/ü.png"]
    assert [bucket(n, 8) for n in names] == [1, 0, 7, 3]
    code = f"from ikstorage.prewarm.shards import bucket;print([bucket(n, 8) for n in {names!r}])"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
        cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]),
    )
    assert out.stdout.strip() == "[1, 0, 7, 3]"


@pytest.mark.parametrize(
    ("text", "shard"), [("1/1", Shard(1, 1)), ("3/8", Shard(3, 8)), (" 8 / 8 ", Shard(8, 8))]
)
def test_parse(text: str, shard: Shard) -> None:
    assert Shard.parse(text) == shard
    assert str(shard) == f"{shard.index}/{shard.count}"


@pytest.mark.parametrize("text", ["0/8", "9/8", "1/0", "3", "a/b", "-1/4", ""])
def test_parse_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=r"K/N|1 <= K <= N"):
        Shard.parse(text)


def test_shard_runs_cover_the_prefix_once(cached: CachedStorage, s3: Any) -> None:
    names = [f"p/{i}.jpg" for i in range(40)]
    put_images(s3, names)
    expected = {k: sorted(n for n in names if n in Shard(k, 4)) for k in range(1, 5)}
    assert sorted(len(v) for v in expected.values()) == [7, 8, 12, 13]
    done: set[str] = set()
    for k in range(1, 5):
        run = prewarm("--prefix", "p/", "--shard", f"{k}/4", "--workers", "3")
        assert run.returncode == 0, run.stderr
        # Each shard lists the whole prefix once and probes its own names only.
        assert run["s3"] == {"ListObjectsV2": 1, "GetObject": len(expected[k])}
        assert run["files_seen"] == run["records_written"] == len(expected[k])
        now = set(cached.core.cached_records(names))
        assert now - done == set(expected[k])
        done = now
    assert done == set(names)
    with count_calls() as calls:
        again = prewarm("--prefix", "p/")
    assert calls.s3 == again["s3"] == {"ListObjectsV2": 1}
    assert again["already_cached"] == 40


@pytest.mark.django_db
def test_shard_runs_cover_the_model_once(cached: CachedStorage, s3: Any) -> None:
    from tests.testapp.models import Photo

    names = [f"photos/{i}.jpg" for i in range(30)]
    put_images(s3, names)
    Photo.objects.bulk_create(Photo(image=name) for name in names)
    calls_by_shard = []
    for k in range(1, 4):
        run = prewarm("testapp.Photo.image", "--shard", f"{k}/3")
        assert run.returncode == 0, run.stderr
        calls_by_shard.append(run["s3"].get("GetObject", 0))
        assert run["s3"] == {"GetObject": sum(n in Shard(k, 3) for n in names)}
    assert sum(calls_by_shard) == 30
    assert set(cached.core.cached_records(names)) == set(names)
    assert prewarm("testapp.Photo.image")["s3"] == {}
