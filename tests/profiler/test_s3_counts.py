"""count_calls() counts S3 API calls by operation, on moto in-process and over real HTTP."""

from __future__ import annotations

import threading
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from ikstorage.metrics import recorders as active
from ikstorage.profiler import count_calls
from tests.profiler.conftest import BODY, BUCKET, MakeClient


def test_counts_each_operation_by_name(make_client: MakeClient) -> None:
    before = make_client()
    with count_calls() as calls:
        before.put_object(Bucket=BUCKET, Key="a.jpg", Body=BODY)
        before.head_object(Bucket=BUCKET, Key="a.jpg")
        after = make_client()
        after.get_object(Bucket=BUCKET, Key="a.jpg")["Body"].read()
        after.list_objects_v2(Bucket=BUCKET)
        with pytest.raises(ClientError):
            after.head_object(Bucket=BUCKET, Key="missing.jpg")
        after.delete_object(Bucket=BUCKET, Key="a.jpg")

    assert calls.s3 == {
        "PutObject": 1,
        "HeadObject": 2,
        "GetObject": 1,
        "ListObjectsV2": 1,
        "DeleteObject": 1,
    }
    assert calls.s3_total == 6
    assert calls.s3_attempts == 6
    assert calls.retries == 0
    assert calls.presigned == {}


def test_presigned_urls_are_counted_apart(make_client: MakeClient) -> None:
    client = make_client()
    with count_calls() as calls:
        client.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "a.jpg"})
        client.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "b.jpg"})
        client.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "c.jpg"})
        client.generate_presigned_post(BUCKET, "d.jpg")

    assert calls.presigned == {"GetObject": 2, "PutObject": 1, "PostObject": 1}
    assert calls.presigned_total == 4
    assert calls.s3 == {}
    assert calls.s3_attempts == 0


def test_bytes_downloaded_count_the_range_not_the_object(make_client: MakeClient) -> None:
    client = make_client()
    client.put_object(Bucket=BUCKET, Key="a.jpg", Body=BODY)
    with count_calls() as whole:
        client.get_object(Bucket=BUCKET, Key="a.jpg")["Body"].read()
    with count_calls() as ranged:
        client.get_object(Bucket=BUCKET, Key="a.jpg", Range="bytes=0-99")["Body"].read()
    with count_calls() as head:
        client.head_object(Bucket=BUCKET, Key="a.jpg")

    assert whole.bytes_downloaded == 1024
    assert ranged.bytes_downloaded == 100
    assert head.bytes_downloaded == 0  # HEAD states the object's length but sends no body


def test_clients_of_other_services_are_not_counted(make_client: MakeClient) -> None:
    sts = make_client("sts")
    with count_calls() as calls:
        sts.get_caller_identity()

    assert calls.s3 == {}
    assert calls.s3_attempts == 0


def test_nested_blocks_both_count(make_client: MakeClient) -> None:
    client = make_client()
    with count_calls() as outer:
        client.list_objects_v2(Bucket=BUCKET)
        with count_calls() as inner:
            client.head_bucket(Bucket=BUCKET)
        client.list_objects_v2(Bucket=BUCKET)

    assert inner.s3 == {"HeadBucket": 1}
    assert outer.s3 == {"ListObjectsV2": 2, "HeadBucket": 1}


def test_counts_calls_from_every_thread(make_client: MakeClient) -> None:
    make_client().put_object(Bucket=BUCKET, Key="a.jpg", Body=BODY)

    def work() -> None:
        client = make_client()
        for _ in range(10):
            client.head_object(Bucket=BUCKET, Key="a.jpg")

    with count_calls() as calls:
        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert calls.s3 == {"HeadObject": 40}


def test_nothing_is_counted_after_the_block(make_client: MakeClient) -> None:
    client = make_client()
    with count_calls() as calls:
        client.list_objects_v2(Bucket=BUCKET)
    client.list_objects_v2(Bucket=BUCKET)

    assert calls.s3 == {"ListObjectsV2": 1}
    assert active.recorders.current == ()


def test_retries_are_attempts_not_calls() -> None:
    """A 503 is retried: one API call, two HTTP attempts, one retry."""
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        client.put_object(Bucket=BUCKET, Key="a.jpg", Body=BODY)
        failures = _fail_first_attempts(client, times=1)
        with count_calls() as calls:
            client.get_object(Bucket=BUCKET, Key="a.jpg")["Body"].read()

    assert failures == [1]
    assert calls.s3 == {"GetObject": 1}
    assert calls.s3_attempts == 2
    assert calls.retries == 1
    assert calls.bytes_downloaded == 1024  # the 503 had an empty body


def _fail_first_attempts(client: Any, times: int) -> list[int]:
    """Make the first ``times`` GetObject attempts answer 503, retried without sleeping."""
    from botocore.awsrequest import AWSResponse
    from botocore.compat import HTTPHeaders

    failures: list[int] = []

    def fail(**kwargs: Any) -> AWSResponse | None:
        if len(failures) < times:
            failures.append(len(failures) + 1)
            headers = HTTPHeaders()
            headers["Content-Length"] = "0"
            return AWSResponse("http://s3", 503, headers, _EmptyRaw())
        return None

    def no_sleep(response: Any, attempts: int, **kwargs: Any) -> int | None:
        status = response[0].status_code if response else None
        return 0 if status == 503 and attempts <= times else None

    client.meta.events.register_first("before-send.s3.GetObject", fail)
    client.meta.events.register_first("needs-retry.s3.GetObject", no_sleep)
    return failures


class _EmptyRaw:
    def stream(self, **kwargs: Any) -> Any:
        return iter(())

    def read(self, *args: Any) -> bytes:
        return b""


def test_calls_answered_by_a_stubber_are_counted() -> None:
    client = boto3.client("s3", region_name="us-east-1")
    with Stubber(client) as stubber:
        stubber.add_response("head_bucket", {}, {"Bucket": BUCKET})
        with count_calls() as calls:
            client.head_bucket(Bucket=BUCKET)

    assert calls.s3 == {"HeadBucket": 1}
    assert calls.s3_attempts == 0  # the stubber answered; nothing was sent
