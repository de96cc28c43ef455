"""``RangeReader``: the probe's few bounded backend reads behind the parser's many small ones."""

from __future__ import annotations

import pytest

from ikstorage.backends.ranges import FOLLOW_UP_BYTES, RangeReader
from ikstorage.imageinfo import ProbeLimitExceeded

DATA = bytes(range(256)) * 1024  # 256 KiB


def reader(*, size: int | None, first: int = 1024, limit: int = 64 * 1024):
    fetches: list[tuple[int, int]] = []

    def fetch(offset: int, length: int) -> bytes:
        fetches.append((offset, length))
        return DATA[offset : offset + length]

    return RangeReader(fetch, size=size, first=first, limit=limit), fetches


def test_first_read_then_follow_ups() -> None:
    r, fetches = reader(size=len(DATA))
    assert r.read_at(0, 10) == DATA[:10]
    assert r.read_at(500, 100) == DATA[500:600]
    assert fetches == [(0, 1024)]
    assert r.read_at(50_000, 10) == DATA[50_000:50_010]
    assert fetches[1] == (50_000, FOLLOW_UP_BYTES)


def test_a_read_straddling_two_held_ranges_fetches_only_the_gap() -> None:
    r, fetches = reader(size=len(DATA))
    r.read_at(0, 10)  # 0-1024 held
    r.read_at(2048, 10)  # 2048-18432 held
    fetches.clear()
    assert r.read_at(1000, 2000) == DATA[1000:3000]
    assert fetches == [(1024, 1024)]  # the gap between them, nothing held again
    assert r.read_at(0, 18_432) == DATA[:18_432]
    assert fetches == [(1024, 1024)]


def test_budget_spent_raises_instead_of_a_short_read() -> None:
    r, _ = reader(size=None, first=1024, limit=4096)
    assert r.read_at(0, 10) == DATA[:10]
    assert r.read_at(1024, 3072) == DATA[1024:4096]
    with pytest.raises(ProbeLimitExceeded):
        r.read_at(4000, 200)  # 96 bytes held, the rest beyond the budget


def test_end_of_file_without_a_size_is_a_short_read() -> None:
    r, _ = reader(size=None, limit=1 << 20)
    assert r.read_at(len(DATA) - 10, 100) == DATA[-10:]
    assert r.read_at(len(DATA) + 5, 10) == b""


def test_a_known_size_clamps_reads() -> None:
    r, fetches = reader(size=100)
    assert r.read_at(90, 50) == DATA[90:100]
    assert fetches == [(90, 10)]
    assert r.read_at(100, 5) == b""


def test_a_parser_walking_on_fetches_twice_as_much_each_time() -> None:
    r, fetches = reader(size=len(DATA), limit=1 << 20)
    for offset in range(0, 200_000, 512):  # a long header of small segments, in order
        assert r.read_at(offset, 512) == DATA[offset : offset + 512]
    sizes = [FOLLOW_UP_BYTES * 2**i for i in range(4)]
    starts = [1024 + sum(sizes[:i]) for i in range(4)]
    assert fetches == [(0, 1024), *zip(starts, sizes, strict=True)]  # 5 requests, not 14
    # A jump (over a skipped block) starts small again.
    r, fetches = reader(size=len(DATA), limit=1 << 20)
    r.read_at(0, 10)
    r.read_at(1024, 10)
    r.read_at(100_000, 10)
    assert fetches == [(0, 1024), (1024, FOLLOW_UP_BYTES), (100_000, FOLLOW_UP_BYTES)]
