"""The text formats: the log summary, the Server-Timing value and the command's table."""

from __future__ import annotations

import pytest

from ikstorage.profiler import Calls, count_calls
from ikstorage.profiler.report import operations, server_timing, summary, table


def filled() -> Calls:
    """A recorder filled by hand; never started, so its duration is 0."""
    calls = Calls()
    for op in ["HeadObject", "GetObject", "HeadObject"]:
        calls.record_s3_call(op)
    calls.record_attempt("HeadObject", 1, 0)
    calls.record_attempt("GetObject", 1, 0)
    calls.record_attempt("GetObject", 2, 700)
    calls.record_attempt("HeadObject", 1, 0)
    calls.record_presign("GetObject")
    calls.on_storage_call("exists")
    calls.on_cache("l1", 1, 2)
    calls.on_cache("l2", 0, 2)
    calls.on_round_trip("get_many")
    calls.on_round_trip("add")
    return calls


def test_operations_most_frequent_first_then_by_name() -> None:
    assert operations({"b": 1, "a": 1, "c": 5}) == "c=5 a=1 b=1"


def test_summary() -> None:
    assert summary(filled()) == (
        "3 S3 calls (HeadObject=2 GetObject=1), 1 retry, 1 presigned URL, "
        "1 storage call (exists=1), L1 1 hit/2 miss, L2 0 hit/2 miss, "
        "2 cache round trips, 700 bytes downloaded, 0.0 ms"
    )
    assert summary(Calls()) == (
        "0 S3 calls, 0 retries, 0 presigned URLs, 0 storage calls, L1 0 hit/0 miss, "
        "L2 0 hit/0 miss, 0 cache round trips, 0 bytes downloaded, 0.0 ms"
    )


def test_server_timing() -> None:
    assert server_timing(filled()) == (
        'ikstorage-s3;desc="3 S3 calls", ikstorage-storage;desc="1 storage call", '
        'ikstorage-cache;desc="2 cache round trips", ikstorage-time;dur=0.0'
    )


def test_table_aligns_runs_side_by_side() -> None:
    assert table([("cold", filled()), ("warm run", Calls())]) == (
        "                  cold warm run\n"
        "S3 calls             3        0\n"
        "  GetObject          1        0\n"
        "  HeadObject         2        0\n"
        "S3 retries           1        0\n"
        "presigned URLs       1        0\n"
        "bytes downloaded   700        0\n"
        "storage calls        1        0\n"
        "  exists             1        0\n"
        "L1 hits/misses     1/2      0/0\n"
        "L2 hits/misses     0/2      0/0\n"
        "cache round trips    2        0\n"
        "time (ms)          0.0      0.0\n"
    )


def test_as_dict_is_every_count() -> None:
    assert filled().as_dict() == {
        "s3": {"HeadObject": 2, "GetObject": 1},
        "s3_total": 3,
        "s3_attempts": 4,
        "retries": 1,
        "presigned": {"GetObject": 1},
        "bytes_downloaded": 700,
        "storage": {"exists": 1},
        "storage_total": 1,
        "cache": {"l1": {"hits": 1, "misses": 2}, "l2": {"hits": 0, "misses": 2}},
        "round_trips": {"get_many": 1, "add": 1},
        "round_trips_total": 2,
        "probe_bytes": 0,
        "duration_ms": 0.0,
    }


def test_a_recorder_counts_one_block_only() -> None:
    calls = count_calls()
    with calls:
        pass
    with pytest.raises(RuntimeError, match="already been started"), calls:
        pass


def test_duration_is_fixed_when_the_block_closes() -> None:
    with count_calls() as calls:
        pass
    first = calls.duration
    assert first > 0
    assert calls.duration == first
