"""S3 failing under ikstorage: 500s, 503 SlowDown, timeouts and connection resets.

Faults are injected on the botocore client of each storage (``before-send``,
ahead of moto), on PutObject, HeadObject, GetObject and DeleteObject: either
on every attempt (the call fails after botocore's retries) or on the first
one only (a retry saves it). A fault is *rejected* (S3 did nothing: a
throttle, a refused connection) or *applied* (S3 did the work and the answer
was an error or never arrived: a 500 after the write, a timeout or a reset on
the way back), because the two leave different files behind. The same call is
made on a plain ``S3Storage`` under the same fault, so "the wrapped storage's
error" is not a guess: the exception ikstorage lets through must be the one
the plain storage raises.

Asserted exactly: the S3 calls and HTTP attempts (retries are botocore's, and
ikstorage adds none), the exception, and that afterwards no record claims a
file that is not there nor misses one that is. botocore's back-off sleeps
are recorded instead of slept.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError
from django.core.cache import caches
from django.core.files.base import ContentFile
from moto.core.models import botocore_stubber
from storages.backends.s3 import S3Storage

from ikstorage import CachedStorage
from ikstorage.profiler import count_calls
from tests.images import image_bytes
from tests.resilience.conftest import Record
from tests.s3_errors import error_response

BUCKET = "media"
#: HTTP attempts botocore makes for one call before giving up (its default retry mode).
ATTEMPTS = 3
IMAGE = image_bytes((30, 20))


class S3Fault:
    """A fault on ``operations`` of the clients it is installed on, ``times`` attempts (or all).

    ``applied``: S3 does the work before the fault hits the answer. Otherwise the
    request never reaches S3 (moto, which botocore asks after this handler, is
    handed a request for a bucket that does not exist, and its answer dropped).
    """

    def __init__(
        self, kind: str, operations: tuple[str, ...], *, applied: bool, times: int | None = None
    ) -> None:
        self.kind, self.operations, self.applied, self.times = kind, operations, applied, times
        self.injected = 0
        self._installed: list[tuple[Any, str]] = []
        self._url: str | None = None

    def __call__(self, request: Any, event_name: str, **kwargs: Any) -> AWSResponse | None:
        if self.times is not None and self.injected >= self.times:
            if self._url is not None:  # the retry goes to S3 as it was
                request.url, self._url = self._url, None
            return None
        self.injected += 1
        if self.applied and self.kind in ("timeout", "reset"):
            botocore_stubber(event_name, request)  # S3 does it; the answer is lost
        if self.kind == "timeout":
            raise ReadTimeoutError(endpoint_url=request.url, error="Read timed out.")
        if self.kind == "reset":
            raise ConnectionClosedError(endpoint_url=request.url)
        if not self.applied:
            if self._url is None:
                self._url = request.url
            request.url = request.url.replace(f"//{BUCKET}.", "//no-such-bucket-faulted.", 1)
        status, code, message = {
            "500": (500, "InternalError", "We encountered an internal error. Please try again."),
            "503-slowdown": (503, "SlowDown", "Please reduce your request rate."),
        }[self.kind]
        return error_response(
            self._url or request.url, status, code, message, head=request.method == "HEAD"
        )

    def install(self, *storages: S3Storage) -> S3Fault:
        for storage in storages:
            events = storage.connection.meta.client.meta.events
            for operation in self.operations:
                event = f"before-send.s3.{operation}"
                events.register_first(event, self)
                self._installed.append((events, event))
        return self

    def remove(self) -> None:
        for events, event in self._installed:
            events.unregister(event, self)
        self._installed.clear()


#: (kind, applied): a throttle is refused before any work; the rest happen both ways.
VARIANTS = [
    ("500", False),
    ("500", True),
    ("503-slowdown", False),
    ("timeout", False),
    ("timeout", True),
    ("reset", False),
    ("reset", True),
]


@pytest.fixture
def backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's back-off pauses, recorded instead of slept."""
    import time

    import botocore.endpoint

    slept: list[float] = []
    clock = types.SimpleNamespace(sleep=slept.append, time=time.time, monotonic=time.monotonic)
    monkeypatch.setattr(botocore.endpoint, "time", clock)
    return slept


@pytest.fixture
def bucket(s3: Any) -> Any:
    """``a.jpg`` and ``notes.txt``, and a copy of each under ``plain/`` for the plain storage."""
    for prefix in ("", "plain/"):
        s3.put_object(Bucket=BUCKET, Key=f"{prefix}a.jpg", Body=IMAGE)
        s3.put_object(Bucket=BUCKET, Key=f"{prefix}notes.txt", Body=b"twelve bytes")
    return s3


def storages() -> tuple[S3Storage, CachedStorage]:
    """A plain S3Storage (on its own copies) and ikstorage over another S3Storage."""
    plain = S3Storage(bucket_name=BUCKET, querystring_auth=False, location="plain")
    cached = CachedStorage(storage=S3Storage(bucket_name=BUCKET, querystring_auth=False))
    return plain, cached


def in_bucket(s3: Any, key: str) -> bool:
    try:
        s3.head_object(Bucket=BUCKET, Key=key)
    except ClientError:
        return False
    return True


def cached_says(storage: CachedStorage, name: str) -> bool | None:
    """What L1 or L2 holds about ``name`` existing: ``None`` when neither holds a record."""
    key = storage.core.keys.record(storage.core.canonical(name))
    local = storage.core.cache.local(key)
    if local is not None:
        return bool(local.exists)  # type: ignore[attr-defined]
    held = caches[storage.options.cache].get(key)
    return None if held is None else bool(held["e"])


#: operation -> (faulted operations, call on the plain storage, call on ikstorage). For
#: GetObject the plain storage's ``exists`` is a HeadObject, so both read operations fail.
CASES: dict[str, tuple[tuple[str, ...], Callable[[Any], Any], Callable[[Any], Any]]] = {
    "PutObject": (
        ("PutObject",),
        lambda s: s.save("up.jpg", ContentFile(IMAGE)),
        lambda s: s.save("up.jpg", ContentFile(IMAGE)),
    ),
    "HeadObject": (
        ("HeadObject",),
        lambda s: s.exists("notes.txt"),
        lambda s: s.exists("notes.txt"),
    ),
    "GetObject": (
        ("GetObject", "HeadObject"),
        lambda s: s.exists("a.jpg"),
        lambda s: s.exists("a.jpg"),
    ),
    "DeleteObject": (
        ("DeleteObject",),
        lambda s: s.delete("a.jpg"),
        lambda s: s.delete("a.jpg"),
    ),
}


def failure(call: Callable[[], Any]) -> BaseException:
    """The exception ``call`` raises (which one is the point of the comparison that follows)."""
    try:
        call()
    except Exception as exc:
        return exc
    raise AssertionError("the call did not fail")


#: (operation, kind, applied). A read changes nothing, so for reads "applied" is "rejected".
PARAMS = [
    pytest.param(
        operation, kind, applied, id=f"{operation}-{kind}-{'applied' if applied else 'rejected'}"
    )
    for operation in CASES
    for kind, applied in VARIANTS
    if not (applied and operation in ("HeadObject", "GetObject"))
]


def assert_same_error(raised: BaseException, expected: BaseException, operation: str) -> None:
    """``raised`` is the error the plain storage raised for the same call under the same fault."""
    assert type(raised) is type(expected)
    if isinstance(raised, ClientError) and isinstance(expected, ClientError):
        status = raised.response["ResponseMetadata"]["HTTPStatusCode"]
        assert status == expected.response["ResponseMetadata"]["HTTPStatusCode"]
        assert raised.operation_name == operation
        if operation == "GetObject":
            return  # the plain storage's call was a HeadObject: no error body, another text
    assert str(raised) == str(expected).replace("/plain/", "/")


def expected_name(operation: str) -> str:
    return {"PutObject": "up.jpg", "HeadObject": "notes.txt"}.get(operation, "a.jpg")


@pytest.mark.parametrize(("operation", "kind", "applied"), PARAMS)
def test_a_failing_call_raises_the_storages_error_and_leaves_no_wrong_record(
    operation: str, kind: str, applied: bool, bucket: Any, backoff: list[float], figures: Record
) -> None:
    faulted, plain_call, cached_call = CASES[operation]
    plain, cached = storages()
    name = expected_name(operation)
    if operation == "DeleteObject":
        assert cached.exists(name)  # a record the failed delete must not leave as it was

    S3Fault(kind, faulted, applied=applied).install(plain)
    with count_calls() as plain_calls:
        expected = failure(lambda: plain_call(plain))
    backoff.clear()
    fault = S3Fault(kind, faulted, applied=applied).install(cached.wrapped)
    with count_calls() as calls:
        raised = failure(lambda: cached_call(cached))
    fault.remove()

    figures(
        s3_calls=calls.s3,
        attempts=calls.s3_attempts,
        retries=calls.retries,
        backoff_seconds=round(sum(backoff), 3),
        error=f"{type(raised).__name__}: {raised}"[:100],
    )
    assert_same_error(raised, expected, operation)
    assert calls.s3 == {operation: 1}
    assert calls.s3_attempts == plain_calls.s3_attempts == ATTEMPTS
    assert calls.retries == ATTEMPTS - 1
    assert fault.injected == ATTEMPTS

    # What S3 holds now depends on whether it did the work; nothing cached may say
    # otherwise, and the next asker gets S3's answer.
    changed = applied and operation in ("PutObject", "DeleteObject")
    there = in_bucket(bucket, name)
    assert there == ((operation == "PutObject") if changed else (operation != "PutObject"))
    assert there == in_bucket(bucket, f"plain/{name}")
    assert cached_says(cached, name) is None
    with count_calls() as after:
        assert cached.exists(name) is there
    assert after.s3_total == 1


@pytest.mark.parametrize(("operation", "kind", "applied"), PARAMS)
def test_a_fault_on_the_first_attempt_is_retried_once(
    operation: str, kind: str, applied: bool, bucket: Any, backoff: list[float], figures: Record
) -> None:
    faulted, _, cached_call = CASES[operation]
    _, cached = storages()
    name = expected_name(operation)
    if operation == "DeleteObject":
        assert cached.exists(name)
    fault = S3Fault(kind, faulted, applied=applied, times=1).install(cached.wrapped)
    with count_calls() as calls:
        cached_call(cached)
    fault.remove()

    figures(s3_calls=calls.s3, attempts=calls.s3_attempts, backoff_seconds=round(sum(backoff), 3))
    assert calls.s3 == {operation: 1}
    assert calls.s3_attempts == 2
    assert calls.retries == 1
    there = in_bucket(bucket, name)
    assert there == (operation != "DeleteObject")
    # The record written or filled after the retry is the truth, and it is used.
    assert cached_says(cached, name) is there
    with count_calls() as after:
        assert cached.exists(name) is there
        if there and name.endswith(".jpg"):
            assert cached.image_dimensions(name) == (30, 20)
    assert after.s3_total == 0


class _BrokenBody:
    """A body whose connection resets after the headers arrived."""

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        raise self._reset()

    def read(self, *args: Any) -> bytes:
        raise self._reset()

    @staticmethod
    def _reset() -> Exception:
        from urllib3.exceptions import ProtocolError

        return ProtocolError("Connection broken", ConnectionResetError(104, "reset by peer"))


def test_a_reset_while_reading_the_probe_body_does_not_fail_exists(bucket: Any) -> None:
    plain, cached = storages()
    resets = 0

    def reset_once(request: Any, **kwargs: Any) -> AWSResponse | None:
        nonlocal resets
        if resets:
            return None
        resets += 1
        headers = HTTPHeaders()
        headers["Content-Range"] = f"bytes 0-{len(IMAGE) - 1}/{len(IMAGE)}"
        headers["Content-Length"] = str(len(IMAGE))
        headers["ETag"] = '"0"'
        return AWSResponse(request.url, 206, headers, _BrokenBody())

    events = cached.wrapped.connection.meta.client.meta.events
    events.register_first("before-send.s3.GetObject", reset_once)
    assert plain.exists("a.jpg") is True
    assert cached.exists("a.jpg") is True
