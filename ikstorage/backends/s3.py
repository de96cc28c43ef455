"""The adapter for django-storages' ``S3Storage``: one ranged GET answers everything.

``GetObject`` with ``Range: bytes=0-65535`` tells in one request whether the
object exists (404), its total size (``Content-Range``), its ETag and last
modified time, and hands over the header bytes that hold an image's
dimensions. Names that are not images get a ``HeadObject`` instead, so a
2 GB video is never downloaded to learn it has no width.

Two django-storages internals are used, both stable since 1.10:
``S3Storage._normalize_name`` (the object key for a name, with ``location``
applied and traversal refused) and ``_filter_download_params`` (the SSE-C
parameters a read must repeat). Using them keeps keys and errors identical to
what ``S3Storage`` itself would produce.
"""

from __future__ import annotations

import mimetypes
import re
from typing import Any

from botocore.exceptions import ClientError
from django.core.files import File
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from ikstorage import metrics
from ikstorage.backends.base import Adapter, RangeReader, class_path
from ikstorage.imageinfo import is_image_name, read_dimensions
from ikstorage.records import Record, new_generation

try:
    from storages.backends.s3 import _filter_download_params
except ImportError:  # pragma: no cover - older django-storages

    def _filter_download_params(params: dict[str, Any]) -> dict[str, Any]:
        return {}


_CONTENT_RANGE = re.compile(r"bytes \d+-\d+/(\d+)")


class S3Adapter(Adapter):
    storage: S3Storage

    def identity(self) -> str:
        # From settings only: building the boto3 client just to name cache keys
        # would cost a new process most of its first render.
        s = self.storage
        endpoint = s.endpoint_url or f"aws:{s.region_name or ''}"
        return "|".join(
            str(part)
            for part in (
                class_path(s),
                endpoint,
                s.bucket_name,
                s.location,
                s.custom_domain,
                s.querystring_auth,
                s.url_protocol,
            )
        )

    def saved_size(self, name: str, content: File[Any]) -> int | None:
        """``None`` when S3Storage will gzip the upload: the stored size is not ``content.size``."""
        content_type = getattr(content, "content_type", None) or mimetypes.guess_type(name)[0]
        if self.storage.gzip and content_type in self.storage.gzip_content_types:
            return None
        return super().saved_size(name, content)

    def url_lifetime(self) -> int | None:
        s = self.storage
        if s.custom_domain and not (s.querystring_auth and s.cloudfront_signer):
            return None
        if not s.querystring_auth:
            return None
        return int(s.querystring_expire)

    def _params(self, name: str) -> dict[str, Any]:
        key = self.storage._normalize_name(clean_name(name))
        params = _filter_download_params(self.storage.get_object_parameters(key))
        return {"Bucket": self.storage.bucket_name, "Key": key, **params}

    def probe(self, name: str) -> Record:
        params = self._params(name)
        client = self.storage.connection.meta.client
        if not is_image_name(name):
            return self._head(client, params)
        try:
            with self.call("probe"):
                response = client.get_object(Range=f"bytes=0-{self.probe_bytes - 1}", **params)
        except ClientError as err:
            if _status(err) == 404:
                return Record.missing()
            if _status(err) == 416:  # an empty object has no byte 0
                return self._head(client, params)
            raise
        body: bytes = response["Body"].read()
        metrics.probe_bytes(len(body))
        match = _CONTENT_RANGE.match(response.get("ContentRange") or "")
        size = int(match.group(1)) if match else int(response["ContentLength"])

        def fetch(offset: int, length: int) -> bytes:
            with self.call("probe_range"):
                more = client.get_object(Range=f"bytes={offset}-{offset + length - 1}", **params)
            data: bytes = more["Body"].read()
            metrics.probe_bytes(len(data))
            return data

        reader = RangeReader(
            fetch, size=size, first=self.probe_bytes, limit=self.probe_limit, initial=body
        )
        dims = read_dimensions(reader.read_at)
        return _record(response, size, dims)

    def _head(self, client: Any, params: dict[str, Any]) -> Record:
        try:
            with self.call("probe"):
                response = client.head_object(**params)
        except ClientError as err:
            if _status(err) == 404:
                return Record.missing()
            raise
        return _record(response, int(response["ContentLength"]), None)


def _status(err: ClientError) -> int | None:
    status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return int(status) if status is not None else None


def _record(response: dict[str, Any], size: int, dims: tuple[int, int] | None) -> Record:
    modified = response.get("LastModified")
    return Record(
        exists=True,
        size=size,
        width=dims[0] if dims else None,
        height=dims[1] if dims else None,
        dimensions_known=True,
        modified=modified.timestamp() if modified is not None else None,
        etag=response.get("ETag"),
        generation=new_generation(),
    )
