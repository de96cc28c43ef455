"""The pytest plugin, run in a fresh pytest process the way a user's suite would."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each starts a new Python process

ROOT = Path(__file__).resolve().parents[2]

USER_TESTS = """
import boto3
import pytest
from moto import mock_aws


@pytest.fixture
def client():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="photos")
        yield client


def test_over_the_limit(client, assert_max_s3_calls):
    with assert_max_s3_calls(0):
        client.head_bucket(Bucket="photos")
        client.list_objects_v2(Bucket="photos")
        client.list_objects_v2(Bucket="photos")


def test_within_the_limit(client, assert_max_s3_calls):
    with assert_max_s3_calls(2) as calls:
        client.head_bucket(Bucket="photos")
        client.head_bucket(Bucket="photos")
    assert calls.s3 == {"HeadBucket": 2}


def test_s3_calls_counts_the_whole_test(client, s3_calls):
    client.list_objects_v2(Bucket="photos")
    client.generate_presigned_url("get_object", Params={"Bucket": "photos", "Key": "a.jpg"})
    assert s3_calls.s3 == {"ListObjectsV2": 1}
    assert s3_calls.presigned == {"GetObject": 1}
"""


def _installed() -> bool:
    return bool(entry_points(group="pytest11", name="ikstorage"))


@pytest.fixture
def user_suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "tests.settings")
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    pytester.makepyfile(test_user=USER_TESTS)
    return pytester


def test_entry_point_names_the_plugin() -> None:
    [entry_point] = entry_points(group="pytest11", name="ikstorage")
    assert entry_point.value == "ikstorage.pytest_plugin"


def test_fixtures_in_a_users_suite(user_suite: pytest.Pytester) -> None:
    # Installed, the entry point loads the plugin; from a bare checkout, name it.
    args = ["-p", "no:cacheprovider"] + ([] if _installed() else ["-p", "ikstorage.pytest_plugin"])
    result = user_suite.runpytest_subprocess(*args)

    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_over_the_limit*",
            "Expected at most 0 S3 calls, 3 were made: ListObjectsV2=2 HeadBucket=1",
        ]
    )


def test_plugin_loads_by_name_without_autoload(
    user_suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    result = user_suite.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "pytest_django.plugin", "-p", "ikstorage.pytest_plugin"
    )

    result.assert_outcomes(passed=2, failed=1)
