"""Names from a walk of the storage itself (``--prefix``), in key order.

On ``S3Storage`` one ``ListObjectsV2`` call returns up to 1,000 keys with
their size, ETag and modified time: for a file that is not an image that *is*
its whole record, so it costs no further call; an image still needs the
probe for its dimensions. ``AzureStorage`` and ``GoogleCloudStorage`` are
listed the same way (:mod:`ikstorage.prewarm.azure_listing`,
:mod:`ikstorage.prewarm.gcs_listing`), and a page of any of them becomes a
batch in :mod:`ikstorage.prewarm.pages`. Other storages are walked with
``listdir``, and every name is probed.

Both walks return names in lexicographic order, so a position is simply the
last name of a batch and a rerun continues after it (``StartAfter`` on S3).
"""

from __future__ import annotations

import posixpath
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ikstorage.prewarm.pages import PrefixStream, page_batch
from ikstorage.prewarm.sources import Batch
from ikstorage.prewarm.target import Target
from ikstorage.records import Record

if TYPE_CHECKING:
    from ikstorage.prewarm.azure_listing import AzurePrefixStream
    from ikstorage.prewarm.gcs_listing import GCSPrefixStream

#: Most keys one ListObjectsV2 call returns.
S3_PAGE = 1000


def prefix_stream(
    target: Target, prefix: str, alias: str
) -> S3PrefixStream | AzurePrefixStream | GCSPrefixStream | WalkStream:
    """The walk that fits the storage ``alias`` names."""
    try:
        from storages.backends.s3 import S3Storage
    except ImportError:  # pragma: no cover - boto3 is a core dependency
        S3Storage = None
    if S3Storage is not None and isinstance(target.wrapped, S3Storage):
        return S3PrefixStream(target, prefix, alias)
    azure = sys.modules.get("storages.backends.azure_storage")  # imported: it may be in use
    if azure is not None and isinstance(target.wrapped, azure.AzureStorage):
        from ikstorage.prewarm.azure_listing import AzurePrefixStream

        return AzurePrefixStream(target, prefix, alias)
    gcloud = sys.modules.get("storages.backends.gcloud")
    if gcloud is not None and isinstance(target.wrapped, gcloud.GoogleCloudStorage):
        from ikstorage.prewarm.gcs_listing import GCSPrefixStream

        return GCSPrefixStream(target, prefix, alias)
    return WalkStream(target, prefix, alias)


def listed_record(entry: dict[str, Any]) -> Record:
    """The record of a listed object, as a HEAD would give it (dimensions not known).

    ``LastModified`` is cut to whole seconds: a listing may carry milliseconds,
    but ``HeadObject`` (hence ``S3Storage.get_modified_time``) has seconds only,
    and ikstorage answers what the wrapped storage answers.
    """
    modified: datetime | None = entry.get("LastModified")
    return Record.found(
        int(entry["Size"]),
        None,
        modified=None if modified is None else float(int(modified.timestamp())),
        etag=entry.get("ETag"),
    )


class S3PrefixStream(PrefixStream):
    """Keys under a prefix of the bucket (the storage's ``location`` applied)."""

    def batches(self, after: str | None, size: int) -> Iterator[Batch]:
        wrapped: Any = self.target.wrapped
        client = wrapped.connection.meta.client
        params: dict[str, Any] = {
            "Bucket": wrapped.bucket_name,
            "Prefix": self.key_prefix,
            "MaxKeys": min(size, S3_PAGE),
        }
        if after is not None:
            params["StartAfter"] = self.base + after
        while True:
            page = client.list_objects_v2(**params)
            entries = ((entry["Key"], entry) for entry in page.get("Contents", ()))
            batch = page_batch(entries, self.base, after, listed_record)
            if batch is not None:
                yield batch
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return
            params.pop("StartAfter", None)
            params["ContinuationToken"] = token


class WalkStream:
    """Any other storage: a depth-first ``listdir`` walk in lexicographic name order."""

    def __init__(self, target: Target, prefix: str, alias: str) -> None:
        self.target = target
        self.prefix = prefix
        self.label = f"prefix:{alias}:{prefix}"

    def total(self) -> int | None:
        return None

    def batches(self, after: str | None, size: int) -> Iterator[Batch]:
        names: list[str] = []
        calls = 0
        for name, listdirs in self._walk(after):
            calls += listdirs
            if name is None:
                continue
            names.append(name)
            if len(names) >= size:
                after = names[-1]
                yield Batch(names, position=after, calls=calls)
                names, calls = [], 0
        if names or calls:
            yield Batch(names, position=names[-1] if names else after, calls=calls)

    def _walk(self, after: str | None) -> Iterator[tuple[str | None, int]]:
        """``(name, listdir calls made)``; a ``None`` name reports calls only."""
        prefix = self.prefix
        whole = prefix.endswith("/") or not prefix
        start = prefix.rstrip("/") if whole else posixpath.dirname(prefix)
        yield from self._directory(start, prefix, after)

    def _directory(
        self, directory: str, prefix: str, after: str | None
    ) -> Iterator[tuple[str | None, int]]:
        try:
            dirs, files = self.target.call("listdir", directory)
        except FileNotFoundError:
            yield None, 1
            return
        yield None, 1
        base = f"{directory}/" if directory else ""
        # Sorting folders as "name/" makes the walk's order the names' lexicographic order.
        entries = sorted([(f"{base}{d}/", True) for d in dirs] + [(base + f, False) for f in files])
        for path, is_dir in entries:
            if is_dir:
                if not (path.startswith(prefix) or prefix.startswith(path)):
                    continue
                if after is not None and path < after and not after.startswith(path):
                    continue  # every name below sorts before ``after``: done already
                yield from self._directory(path[:-1], prefix, after)
            elif path.startswith(prefix) and (after is None or path > after):
                yield path, 0
