"""Hooking botocore: sessions and clients made before the profiler existed are counted too."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from ikstorage.metrics.botocore_hooks import MARKER_EVENT, _register
from ikstorage.profiler import count_calls

pytestmark = pytest.mark.slow  # each starts a new Python process

ROOT = Path(__file__).resolve().parents[2]

# Runs in a new process, where ikstorage.profiler has never been imported.
BEFORE_IMPORT = textwrap.dedent(
    """
    import json, weakref
    import boto3
    from django.utils.functional import SimpleLazyObject
    from moto import mock_aws

    class Dead:
        pass

    with mock_aws():
        old_client = boto3.client("s3", region_name="us-east-1")  # the default session
        old_session = boto3.session.Session()
        old_client.create_bucket(Bucket="photos")
        # Objects that a careless scan of live objects would trip over.
        lazy = SimpleLazyObject(lambda: 1 / 0)
        dead = weakref.proxy(Dead())

        from ikstorage.profiler import count_calls

        with count_calls() as calls:
            old_client.list_objects_v2(Bucket="photos")
            old_session.client("s3", region_name="us-east-1").list_objects_v2(Bucket="photos")
            boto3.client("s3", region_name="us-east-1").head_bucket(Bucket="photos")
            new_session = boto3.session.Session()
            new_session.client("s3", region_name="us-east-1").head_bucket(Bucket="photos")
        print(json.dumps(calls.s3))
    """
)


def test_clients_and_sessions_older_than_the_profiler_are_counted_once() -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    result = subprocess.run(
        [sys.executable, "-c", BEFORE_IMPORT], capture_output=True, text=True, env=env, cwd=ROOT
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"ListObjectsV2": 2, "HeadBucket": 2}


def test_registering_twice_is_harmless() -> None:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="photos")
        _register(client.meta.events)
        _register(client.meta.events)
        with count_calls() as calls:
            client.head_bucket(Bucket="photos")

    assert calls.s3 == {"HeadBucket": 1}
    assert client.meta.events.emit_until_response(MARKER_EVENT)[1] is True
