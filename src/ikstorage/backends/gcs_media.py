"""Media downloads from GCS that keep their headers: a ranged GET, and a streamed GET.

Both are sent through the client's own authorized session (``client._http``)
to the URL the client would download from (``Blob._get_download_url``), under
the client's retry policy (``DEFAULT_RETRY``). The library's own download
(``Blob.download_as_bytes(start=, end=)``) is not used: it keeps the body but
drops the ``Content-Range`` header, so the object's total size would cost a
second request. 404 (and, for a range, 416) are answers here; any other
error status raises the library's own exception for it.
"""

from __future__ import annotations

from typing import Any

from google.cloud.exceptions import from_http_response
from google.cloud.storage.retry import DEFAULT_RETRY

from ikstorage import metrics
from ikstorage.backends.gcs_facts import compressed

__all__ = ["ranged_get", "streamed_get"]

#: Seconds to wait for the server, as the library's own downloads do.
TIMEOUT = 60


def _download_url(storage: Any, key: str) -> tuple[Any, str]:
    client = storage.client
    return client, storage.bucket.blob(key)._get_download_url(client)


def ranged_get(storage: Any, key: str, offset: int, length: int) -> tuple[int, Any, bytes]:
    """One ranged media GET: its status, headers and (at most ``length``) body bytes."""
    client, url = _download_url(storage, key)
    headers = {"Range": f"bytes={offset}-{offset + length - 1}"}

    def get() -> tuple[int, Any, bytes]:
        response = client._http.request("GET", url, headers=headers, stream=True, timeout=TIMEOUT)
        with response:
            if response.status_code >= 400 and response.status_code not in (404, 416):
                raise from_http_response(response)  # type: ignore[no-untyped-call]
            body = b""
            # A 200 may be the whole file: read no more than asked. Bytes stored
            # compressed are not read at all (they are not the ones Django reads).
            if response.status_code < 300 and not compressed(response.headers):
                parts: list[bytes] = []
                held = 0
                for chunk in response.iter_content(chunk_size=min(length, 65536) or 1):
                    parts.append(chunk)
                    held += len(chunk)
                    if held >= length:
                        break
                body = b"".join(parts)[:length]
            return response.status_code, response.headers, body

    status, answer_headers, body = DEFAULT_RETRY(get)()
    metrics.probe_bytes(len(body))
    return status, answer_headers, body


def streamed_get(storage: Any, key: str) -> Any:
    """One media GET of the whole object, its body left unread (``response.raw``) and open.

    A 404 is returned (closed by the caller like any response); the caller
    reads as far as it needs and closes the response.
    """
    client, url = _download_url(storage, key)

    def get() -> Any:
        response = client._http.request("GET", url, stream=True, timeout=TIMEOUT)
        if response.status_code >= 400 and response.status_code != 404:
            with response:
                raise from_http_response(response)  # type: ignore[no-untyped-call]
        return response

    return DEFAULT_RETRY(get)()
