"""S3 error answers as botocore receives them, for tests that inject faults.

A ``before-send`` handler that returns an ``AWSResponse`` replaces the HTTP
request: botocore parses it as S3's answer (status, XML error body), retries
it as it would a real one, and raises its usual ``ClientError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders


class _Body:
    """The raw body botocore reads: once, whole or streamed."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield self.read()

    def read(self, *args: Any) -> bytes:
        data, self.data = self.data, b""
        return data


def error_response(
    url: str, status: int, code: str, message: str, *, head: bool = False
) -> AWSResponse:
    """S3's error answer: an XML ``<Error>`` body (none to a ``HEAD``, as S3 does)."""
    body = (
        b""
        if head
        else (
            f"<?xml version='1.0' encoding='UTF-8'?>\n<Error><Code>{code}</Code>"
            f"<Message>{message}</Message></Error>"
        ).encode()
    )
    headers = HTTPHeaders()
    headers["Content-Type"] = "application/xml"
    headers["Content-Length"] = str(len(body))
    return AWSResponse(url, status, headers, _Body(body))
