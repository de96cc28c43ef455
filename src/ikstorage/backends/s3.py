"""The adapter for django-storages' ``S3Storage``: one ranged GET answers everything.

``GetObject`` with ``Range: bytes=0-65535`` tells in one request whether the
object exists (404), its total size (``Content-Range``), its ETag and last
modified time, and hands over the header bytes that hold an image's
dimensions. Names that are not images get a ``HeadObject`` instead, so a
2 GB video is never downloaded to learn it has no width. A source whose
renditions may be due is probed by :meth:`S3Adapter.probe_open` instead: one
``GetObject`` without a ``Range``, read as far as the header, then on through
the file only if the caller wants it.

Three django-storages internals are used, all stable since 1.10:
``S3Storage._normalize_name`` (the object key for a name, with ``location``
applied and traversal refused), ``_get_write_parameters`` (the ``ContentType``
that decides whether an upload is gzipped) and ``_filter_download_params`` (the
SSE-C parameters a read must repeat). Using them keeps keys, sizes and errors
identical to what ``S3Storage`` itself produces.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import (
    ClientError,
    IncompleteReadError,
    ReadTimeoutError,
    ResponseStreamingError,
)
from django.conf import settings
from django.core.files import File
from django.utils import timezone
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from ikstorage import metrics
from ikstorage.backends.base import Adapter, class_path
from ikstorage.backends.facts import MISSING, Facts, found
from ikstorage.backends.ranges import RangeReader
from ikstorage.backends.s3_identity import s3_identity
from ikstorage.backends.stream import Later, Opened, Streamed, StreamedFile
from ikstorage.imageinfo import Dimensions, is_image_name, read_dimensions

try:
    from storages.backends.s3 import _filter_download_params
except ImportError:  # pragma: no cover - older django-storages

    def _filter_download_params(params: dict[str, Any]) -> dict[str, Any]:
        return {}


_CONTENT_RANGE = re.compile(r"bytes \d+-\d+/(\d+)")
#: A body read that failed mid-way (not an answer about the object).
_STREAM_ERRORS = (ResponseStreamingError, IncompleteReadError, ReadTimeoutError, ConnectionError)


class S3Adapter(Adapter):
    storage: S3Storage

    def identity(self) -> str:
        # From settings only: building the boto3 client just to name cache keys
        # would cost a new process most of its first render (and may need the network).
        params = _filter_download_params(dict(self.storage.object_parameters or {}))
        return s3_identity(self.storage, class_path(self.storage), params)

    def _canonical(self, name: Any) -> str:
        # The object key: ``dir//x``, ``dir/./x``, ``back\\slash`` and ``./x``
        # all become the key S3Storage reads and writes.
        return self.storage._normalize_name(clean_name(name))  # type: ignore[no-any-return]

    def relative(self, stored: str) -> str:
        # The key less the ``location`` and its slash (what ``_normalize_name("")`` gives).
        base = self.canonical("")
        return stored[len(base) :] if base and stored.startswith(base) else stored

    def parents(self, name: str) -> list[str]:
        """The folder keys above ``name``, each with its trailing slash.

        ``exists("dir")`` is False before and after a save of ``dir/x`` on every
        S3 server. ``dir/`` is False on AWS (unless a marker object was put), but
        S3-compatible servers with a real file tree (SeaweedFS) answer a HEAD of
        ``dir/`` with 200 once a file is under it, and ``S3Storage.exists("dir/")``
        says True: a cached "missing" for it must not outlive the save. Dropping
        those records rides on the round trip that releases the write lease.
        """
        return [f"{parent}/" for parent in super().parents(name.rstrip("/"))]

    def stored_size(self, name: str, content: File[Any], length: int | None) -> int | None:
        """``None`` when S3Storage will gzip the upload: the stored size is not the input's.

        The decision is S3Storage's own: the ``ContentType`` of its write
        parameters (``object_parameters`` first, then the file, then the name).
        """
        s = self.storage
        if s.gzip:
            params = s._get_write_parameters(self.canonical(name), content)
            if params["ContentType"] in s.gzip_content_types and "ContentEncoding" not in params:
                return None
        return length

    def modified_to_plain(self, modified: datetime) -> float | None:
        if modified.tzinfo is None:  # S3Storage made it naive in the current time zone
            modified = timezone.make_aware(modified)
        return modified.timestamp()

    def modified_from_plain(self, timestamp: float) -> datetime | None:
        # As S3Storage.get_modified_time: aware with USE_TZ, else naive in the
        # *current* time zone (``timezone.override`` included).
        aware = datetime.fromtimestamp(timestamp, tz=UTC)
        return aware if settings.USE_TZ else timezone.make_naive(aware)

    def write_file(
        self, name: str, data: bytes, *, content_type: str, cache_control: str | None
    ) -> None:
        """One ``PutObject``: no HeadObject first (the name is content-addressed, so
        writing it again writes the same bytes), with S3Storage's own write
        parameters (ACL, encryption, ``object_parameters``) and ``Cache-Control``."""
        key = self.canonical(name)
        params = self.storage._get_write_parameters(key)
        params["ContentType"] = content_type
        params.pop("ContentEncoding", None)
        if cache_control:
            params["CacheControl"] = cache_control
        client = self.storage.connection.meta.client
        with self.call("write"):
            client.put_object(Bucket=self.storage.bucket_name, Key=key, Body=data, **params)

    def read_file(self, name: str) -> bytes:
        """One ``GetObject`` (S3Storage's ``open`` adds a ``HeadObject`` first)."""
        client = self.storage.connection.meta.client
        with self.call("read"):
            response = client.get_object(**self._params(name))
        data: bytes = response["Body"].read()
        return data

    def delete_files(self, names: list[str]) -> None:
        """``DeleteObjects``: one call per 1,000 names."""
        keys = [self.canonical(name) for name in names]
        client = self.storage.connection.meta.client
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            with self.call("delete"):
                response = client.delete_objects(
                    Bucket=self.storage.bucket_name, Delete={"Objects": batch, "Quiet": True}
                )
            if response.get("Errors"):
                first = response["Errors"][0]
                raise OSError(
                    f"S3 refused to delete {len(response['Errors'])} rendition(s), "
                    f"first {first.get('Key')!r}: {first.get('Code')} {first.get('Message')}"
                )

    def url_lifetime(self) -> int | None:
        s = self.storage
        if s.custom_domain and not (s.querystring_auth and s.cloudfront_signer):
            return None
        if not s.querystring_auth:
            return None
        return int(s.querystring_expire)

    def _params(self, name: str) -> dict[str, Any]:
        key = self.canonical(name)
        params = _filter_download_params(self.storage.get_object_parameters(key))
        return {"Bucket": self.storage.bucket_name, "Key": key, **params}

    def probe(self, name: str) -> Facts:
        params = self._params(name)
        client = self.storage.connection.meta.client
        if not is_image_name(params["Key"]):
            return self._head(client, params)
        try:
            with self.call("probe"):
                response = client.get_object(Range=f"bytes=0-{self.probe_bytes - 1}", **params)
        except ClientError as err:
            if _status(err) == 404:
                return MISSING
            if _status(err) == 416:  # an empty object has no byte 0
                return self._head(client, params, (None, None))
            raise
        try:
            body: bytes = response["Body"].read()
        except _STREAM_ERRORS:
            # The connection broke while the body came (after botocore's retries,
            # which cover the request, not the read): what exists() needs is a
            # HEAD, as S3Storage asks; the dimensions stay unknown.
            return self._head(client, params)
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
        dims = read_dimensions(reader.read_at, size)
        return _facts(response, size, dims)

    def probe_open(self, name: str) -> Opened:
        """One ``GetObject`` of the whole object, read as far as the header for now.

        The facts are those :meth:`probe` gives (the dimensions from at most
        ``probe_limit`` bytes, read from the start of the stream); the rest of
        the body comes down only if the caller reads it, and closing the
        response after the header stops the download there.
        """
        params = self._params(name)
        if not is_image_name(params["Key"]):
            return super().probe_open(name)
        client = self.storage.connection.meta.client
        try:
            with self.call("probe"):
                response = client.get_object(**params)
        except ClientError as err:
            if _status(err) == 404:
                return Later(MISSING, lambda: self.read_file(name))
            raise
        body = response["Body"]
        size = int(response["ContentLength"])
        stream = StreamedFile(
            body.read, name=name, size=size, first=self.probe_bytes, limit=self.probe_limit
        )
        try:
            dims = read_dimensions(stream.read_at, size)
        except _STREAM_ERRORS:
            body.close()  # as probe(): the facts from a HEAD, the file read again if wanted
            return Later(self._head(client, params), lambda: self.read_file(name))
        except BaseException:
            body.close()
            raise
        return Streamed(_facts(response, size, dims), stream, body.close, _STREAM_ERRORS)

    def _head(self, client: Any, params: dict[str, Any], dims: Dimensions | None = None) -> Facts:
        """A HEAD; ``dims`` is what is known of the dimensions without reading
        (``None``: unknown, as for every name that is not an image's)."""
        try:
            with self.call("probe"):
                response = client.head_object(**params)
        except ClientError as err:
            if _status(err) == 404:
                return MISSING
            raise
        return _facts(response, int(response["ContentLength"]), dims)


def _status(err: ClientError) -> int | None:
    status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return int(status) if status is not None else None


def _facts(response: dict[str, Any], size: int, dims: Dimensions | None) -> Facts:
    modified = response.get("LastModified")
    return found(
        size,
        dims,
        modified=modified.timestamp() if modified is not None else None,
        etag=response.get("ETag"),
    )
