"""The adapter for django-storages' ``AzureStorage``: one ranged GET answers everything.

A blob download of the first bytes (``x-ms-range: bytes=0-65535``) tells in
one request whether the blob exists (404), its total size (the total of
``Content-Range``), its ETag and ``Last-Modified``, and hands over the header
bytes that hold an image's dimensions. Names that are not images get the
blob's properties instead (one HEAD, what ``AzureStorage.size`` asks), so a
2 GB video is never downloaded.

The download is the library's own (``BlobClient.download_blob(offset,
length)``), under the client's retry policy, with the raw response read
through the public ``raw_response_hook``: the downloader's ``properties``
are rewritten for the range (``size`` becomes the range's length), while the
response's own ``Content-Range`` total is what the service says. A range from
byte 0 of an empty blob is a 416 (the downloader raises rather than asking
again when the offset is explicit): that answer *is* the size, 0.

The modified time is the response's ``Last-Modified`` (whole seconds, the
same header ``get_blob_properties`` reads), returned as
``AzureStorage.get_modified_time`` does: in the current time zone, aware
with ``USE_TZ``, naive without.

One django-storages internal is used, stable since 1.12:
``AzureStorage._get_valid_path`` (the blob name, ``location`` applied and
traversal refused).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.storage.blob import ContentSettings
from django.conf import settings
from django.utils import timezone
from storages.backends.azure_storage import AzureStorage
from storages.utils import clean_name

from ikstorage import metrics
from ikstorage.backends.azure_identity import azure_identity
from ikstorage.backends.base import Adapter, class_path
from ikstorage.backends.facts import MISSING, Facts, found
from ikstorage.backends.ranges import RangeReader
from ikstorage.imageinfo import is_image_name, read_dimensions

__all__ = ["AzureAdapter"]

#: The total in ``bytes 0-65535/1234567`` and in a 416's ``bytes */0``.
_TOTAL = re.compile(r"bytes [^/]*/(\d+)$")


class AzureAdapter(Adapter):
    storage: AzureStorage

    def identity(self) -> str:
        return azure_identity(self.storage, class_path(self.storage))

    def _canonical(self, name: Any) -> str:
        return self.storage._get_valid_path(name)  # type: ignore[no-any-return]

    def relative(self, stored: str) -> str:
        location = clean_name(self.storage.location or "").strip("/")
        base = f"{location}/" if location else ""
        return stored[len(base) :] if base and stored.startswith(base) else stored

    def parents(self, name: str) -> list[str]:
        # No folders: ``exists("dir")`` is False before and after a save of ``dir/x``.
        return []

    def modified_to_plain(self, modified: datetime) -> float | None:
        if modified.tzinfo is None:  # made naive in the current time zone (USE_TZ off)
            modified = timezone.make_aware(modified)
        return modified.timestamp()

    def modified_from_plain(self, timestamp: float) -> datetime | None:
        # As get_modified_time: in the current time zone, aware with USE_TZ.
        aware = datetime.fromtimestamp(timestamp, tz=UTC)
        if not settings.USE_TZ:
            return timezone.make_naive(aware)
        return aware.astimezone(timezone.get_current_timezone())

    def url_lifetime(self) -> int | None:
        """``expiration_secs`` of SAS URLs; ``None`` when URLs carry no SAS."""
        seconds = self.storage.expiration_secs
        return int(seconds) if seconds else None

    def write_file(
        self, name: str, data: bytes, *, content_type: str, cache_control: str | None
    ) -> None:
        """One upload that overwrites (the name is content-addressed, so writing it
        again writes the same bytes), with the storage's object parameters and
        ``Cache-Control``."""
        s = self.storage
        key = self.canonical(name)
        params = s._get_content_settings_parameters(key)
        params.update(content_type=content_type, content_encoding=None)
        if cache_control:
            params["cache_control"] = cache_control
        with self.call("write"):
            s.client.upload_blob(
                key,
                data,
                content_settings=ContentSettings(**params),
                overwrite=True,
                timeout=s.timeout,
            )

    def read_file(self, name: str) -> bytes:
        """One GET (``open`` does the same; ``size`` would be a HEAD first)."""
        blob = self.storage.client.get_blob_client(self.canonical(name))
        with self.call("read"):
            data: bytes = blob.download_blob(timeout=self.storage.timeout).readall()
        return data

    def probe(self, name: str) -> Facts:
        key = self.canonical(name)
        if not is_image_name(key):
            return self._properties(key)
        with self.call("probe"):
            answer = self._get(key, 0, self.probe_bytes)
        if answer is None:
            return MISSING
        status, headers, body = answer
        size = _size(status, headers)
        if size is None:  # says nothing usable: the properties tell
            return self._properties(key)
        if size == 0:
            # An error answer (416): its headers are not the blob's; the modified
            # time is asked of the storage when a page wants it.
            return found(0, (None, None)) if status == 416 else _facts(headers, 0, (None, None))

        def fetch(offset: int, length: int) -> bytes:
            with self.call("probe_range"):
                more = self._get(key, offset, length)
            return more[2] if more is not None else b""

        reader = RangeReader(
            fetch, size=size, first=self.probe_bytes, limit=self.probe_limit, initial=body
        )
        return _facts(headers, size, read_dimensions(reader.read_at, size))

    def _get(self, key: str, offset: int, length: int) -> tuple[int, Any, bytes] | None:
        """One ranged GET: its status, raw headers and body; ``None`` for a 404.

        A 416 (no byte at ``offset``: an empty blob) is an answer with no body;
        any other error raises the library's exception, after its retries.
        """
        blob = self.storage.client.get_blob_client(key)
        seen: list[Any] = []

        def hook(response: Any) -> None:
            seen.append(response.http_response)

        try:
            downloader = blob.download_blob(
                offset=offset, length=length, timeout=self.storage.timeout, raw_response_hook=hook
            )
            body: bytes = downloader.readall()
        except ResourceNotFoundError:
            return None
        except HttpResponseError as err:
            if err.status_code != 416 or not seen:
                raise
            return 416, seen[-1].headers, b""
        metrics.probe_bytes(len(body))
        return seen[-1].status_code, seen[-1].headers, body

    def _properties(self, key: str) -> Facts:
        """The blob's properties (one HEAD)."""
        blob = self.storage.client.get_blob_client(key)
        with self.call("probe"):
            try:
                props = blob.get_blob_properties(timeout=self.storage.timeout)
            except ResourceNotFoundError:
                return MISSING
        modified = props.last_modified
        size = int(props.size or 0)
        return found(
            size,
            (None, None) if size == 0 else None,
            modified=modified.timestamp() if modified is not None else None,
            etag=props.etag,
        )


def _size(status: int, headers: Any) -> int | None:
    """The blob's size from an answer to a range; ``None`` when it does not say.

    A 416 to a range from byte 0 says the blob has no byte 0: it is empty,
    whether or not ``Content-Range: bytes */0`` comes with it.
    """
    match = _TOTAL.match(headers.get("Content-Range") or "")
    if match:
        return int(match.group(1))
    if status == 416:
        return 0
    return None


def _facts(headers: Any, size: int, dims: Any) -> Facts:
    stamp = headers.get("Last-Modified")
    modified = parsedate_to_datetime(stamp).timestamp() if stamp else None
    return found(size, dims, modified=modified, etag=headers.get("ETag"))
