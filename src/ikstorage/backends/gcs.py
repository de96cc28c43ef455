"""The adapter for django-storages' ``GoogleCloudStorage``: one ranged GET answers everything.

A media download with ``Range: bytes=0-65535`` tells in one request whether
the object exists (404), its total size (``Content-Range``), its generation
(``x-goog-generation``), and hands over the header bytes that hold an
image's dimensions. Names that are not images get the object's metadata
instead (``bucket.get_blob``, what ``GoogleCloudStorage`` itself asks), so a
2 GB video is never downloaded.

The ranged GET, and the streamed one a first thumbnail view reads on from,
are sent as :mod:`.gcs_media` says: through the client's own session, because
the library's download drops the ``Content-Range`` header.

An object's version is recorded as its generation
(:func:`~ikstorage.backends.gcs_facts.version`), which
the metadata, a listing and a download all carry, rather than its ETag,
which each spells differently. An empty object answers the range with 416,
with or without ``Content-Range: bytes */0``: either way it has no byte 0.

The modified time is not taken from the download. ``GoogleCloudStorage.
get_modified_time`` answers the metadata's ``updated``, with microseconds; a
download's ``Last-Modified`` has whole seconds, so an answer made from it
would differ from the wrapped storage's by a fraction of a second, and
ikstorage answers what the wrapped storage answers. It is asked of the
storage once, when a page wants it (one metadata GET), and kept beside the
record; ``ikstorage_prewarm --prefix`` records it from the listing, which
carries ``updated`` too.

Two django-storages internals are used, stable since 1.6:
``GoogleCloudStorage._normalize_name`` (the object name, with ``location``
applied and traversal refused) and the storage's settings attributes.
"""

from __future__ import annotations

import mimetypes
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files import File
from django.utils import timezone
from google.cloud.storage import Blob
from google.cloud.storage.retry import DEFAULT_RETRY
from storages.backends.gcloud import GoogleCloudStorage
from storages.utils import clean_name
from urllib3.exceptions import HTTPError

from ikstorage.backends.base import Adapter, class_path
from ikstorage.backends.facts import MISSING, Facts
from ikstorage.backends.gcs_facts import blob_facts, compressed, headers_facts, total_size
from ikstorage.backends.gcs_identity import gcs_identity
from ikstorage.backends.gcs_media import ranged_get, streamed_get
from ikstorage.backends.ranges import RangeReader
from ikstorage.backends.stream import Later, Opened, Streamed, StreamedFile
from ikstorage.imageinfo import is_image_name, read_dimensions

__all__ = ["GCSAdapter"]

#: A body read that broke off midway (urllib3's errors, under ``requests``).
_STREAM_ERRORS = (HTTPError, OSError)


class GCSAdapter(Adapter):
    storage: GoogleCloudStorage

    def identity(self) -> str:
        return gcs_identity(self.storage, class_path(self.storage))

    def _canonical(self, name: Any) -> str:
        return self.storage._normalize_name(clean_name(name))  # type: ignore[no-any-return]

    def relative(self, stored: str) -> str:
        base = self.canonical("")
        return stored[len(base) :] if base and stored.startswith(base) else stored

    def parents(self, name: str) -> list[str]:
        # No folders: ``exists("dir")`` is False before and after a save of ``dir/x``.
        return []

    def stored_size(self, name: str, content: File[Any], length: int | None) -> int | None:
        """``None`` when GoogleCloudStorage will gzip the upload (its ``_save``'s rule)."""
        s = self.storage
        if not s.gzip:
            return length
        params = s.get_object_parameters(self.canonical(name))
        content_type = params.get("content_type", mimetypes.guess_type(str(name))[0])
        encoded = "content_encoding" in params or mimetypes.guess_type(str(name))[1]
        if content_type in s.gzip_content_types and not encoded:
            return None
        return length

    def modified_to_plain(self, modified: datetime) -> float | None:
        if modified.tzinfo is None:  # made naive in the current time zone (USE_TZ off)
            modified = timezone.make_aware(modified)
        return modified.timestamp()

    def modified_from_plain(self, timestamp: float) -> datetime | None:
        # As get_modified_time: ``blob.updated`` (UTC) with USE_TZ, else naive in
        # the *current* time zone.
        aware = datetime.fromtimestamp(timestamp, tz=UTC)
        return aware if settings.USE_TZ else timezone.make_naive(aware)

    def url_lifetime(self) -> int | None:
        """The ``expiration`` of V4 signed URLs; ``None`` when URLs are public.

        An ``expiration`` that is a moment rather than a duration (a
        ``datetime``) gives URLs that expire together: 0, never memoized.
        """
        s = self.storage
        acl = (s.object_parameters or {}).get("acl", s.default_acl)
        if acl == "publicRead" or not s.querystring_auth:
            return None
        expiration = s.expiration
        if isinstance(expiration, timedelta):
            return int(expiration.total_seconds())
        if isinstance(expiration, int | float):
            return int(expiration)
        return 0

    def store(self, name: str, content: File[Any]) -> str:
        """``GoogleCloudStorage._save`` less its first request.

        ``_save`` opens the name for writing, which fetches the object's
        metadata (one GET) only to build the blob it uploads to; the upload
        itself sends no more than the write parameters set here. So the same
        write is done on a fresh blob: one upload, no read. A subclass with a
        ``_save`` of its own is called as it is.
        """
        s = self.storage
        if type(s)._save is not GoogleCloudStorage._save:
            return super().store(name, content)
        cleaned: str = clean_name(name)
        key = s._normalize_name(cleaned)
        content.name = cleaned
        mime_type, mime_encoding = mimetypes.guess_type(key)
        blob = Blob(key, s.bucket, chunk_size=s.blob_chunk_size)
        params = s.get_object_parameters(key)
        if mime_encoding and "content_encoding" not in params:
            params["content_encoding"] = mime_encoding
        upload: dict[str, Any] = {
            "predefined_acl": params.pop("acl", s.default_acl),
            "content_type": params.pop("content_type", mime_type),
        }
        if (
            s.gzip
            and upload["content_type"] in s.gzip_content_types
            and "content_encoding" not in params
        ):
            compressed = s._compress_content(content)
            params["content_encoding"] = "gzip"
            # Its length, which _save leaves out: a known length is one upload
            # request, an unknown one a resumable upload of two.
            compressed.size = len(compressed.getvalue())
            content = compressed
        for prop, value in params.items():
            setattr(blob, prop, value)
        with self.call("write"):
            blob.upload_from_file(
                content,
                rewind=True,
                retry=DEFAULT_RETRY,
                size=getattr(content, "size", None),
                **upload,
            )
        return cleaned

    def write_file(
        self, name: str, data: bytes, *, content_type: str, cache_control: str | None
    ) -> None:
        """One upload, no existence check first (the name is content-addressed, so
        writing it again writes the same bytes), with the storage's ACL and
        object parameters and ``Cache-Control``."""
        s = self.storage
        key = self.canonical(name)
        blob = Blob(key, s.bucket, chunk_size=s.blob_chunk_size)
        params = s.get_object_parameters(key)
        acl = params.pop("acl", s.default_acl)
        params.pop("content_type", None)
        params.pop("content_encoding", None)
        for prop, value in params.items():
            setattr(blob, prop, value)
        if cache_control:
            blob.cache_control = cache_control
        with self.call("write"):
            blob.upload_from_string(
                data, content_type=content_type, predefined_acl=acl, retry=DEFAULT_RETRY
            )

    def read_file(self, name: str) -> bytes:
        """One media GET (``open`` asks for the metadata first)."""
        blob = self.storage.bucket.blob(self.canonical(name))
        with self.call("read"):
            data: bytes = blob.download_as_bytes(retry=DEFAULT_RETRY)
        return data

    def probe(self, name: str) -> Facts:
        key = self.canonical(name)
        if not is_image_name(key):
            return self._metadata(key)
        with self.call("probe"):
            status, headers, body = ranged_get(self.storage, key, 0, self.probe_bytes)
        if status == 404:
            return MISSING
        size = total_size(status, headers)
        if size == 0:  # an empty object: 416 (no byte 0), or an empty body
            return headers_facts(headers, 0, None)
        if size is None:
            return self._metadata(key)
        if compressed(headers):
            # Stored compressed: the bytes served are not the ones Django reads
            # (it reads them decompressed), so the dimensions are left to the
            # first asker. The size is the stored one, as GoogleCloudStorage's.
            return headers_facts(headers, size, None)

        def fetch(offset: int, length: int) -> bytes:
            with self.call("probe_range"):
                _, _, more = ranged_get(self.storage, key, offset, length)
            return more

        reader = RangeReader(
            fetch, size=size, first=self.probe_bytes, limit=self.probe_limit, initial=body
        )
        return headers_facts(headers, size, read_dimensions(reader.read_at, size))

    def probe_open(self, name: str) -> Opened:
        """One media GET of the whole object, read as far as the header for now
        (as :meth:`probe`; the rest only if the caller reads it)."""
        key = self.canonical(name)
        if not is_image_name(key):
            return super().probe_open(name)
        download = lambda: self.read_file(name)  # noqa: E731
        with self.call("probe"):
            response = streamed_get(self.storage, key)
        headers = response.headers
        size = total_size(response.status_code, headers)
        if response.status_code == 404 or not size or compressed(headers):
            response.close()  # nothing to stream: gone, empty, or stored compressed
            if response.status_code == 404:
                return Later(MISSING, download)
            if size == 0:
                return Later(headers_facts(headers, 0, None), download)
            if size is not None:  # stored compressed: dimensions left to the first asker
                return Later(headers_facts(headers, size, None), download)
            return Later(self._metadata(key), download)
        stream = StreamedFile(
            response.raw.read, name=name, size=size, first=self.probe_bytes, limit=self.probe_limit
        )
        try:
            dims = read_dimensions(stream.read_at, size)
        except _STREAM_ERRORS:
            response.close()  # as a failed ranged read would: the metadata, the file again
            return Later(self._metadata(key), download)
        except BaseException:
            response.close()
            raise
        facts = headers_facts(headers, size, dims)
        return Streamed(facts, stream, response.close, _STREAM_ERRORS)

    def _metadata(self, key: str) -> Facts:
        """The object's metadata (one GET)."""
        with self.call("probe"):
            blob = self.storage.bucket.get_blob(key)
        return MISSING if blob is None else blob_facts(blob)
