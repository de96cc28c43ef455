"""Names under a prefix of an Azure container (``--prefix`` on ``AzureStorage``).

One List Blobs request returns a page of blobs (the batch size, at most
5,000) with their size, ETag and
``Last-Modified``: for a file that is not an image that *is* its whole record
(what the adapter's HEAD would learn), so it costs no further request; an
image still needs the probe for its dimensions.

Blobs are listed in name order, so a position is the last name of a page
(:mod:`ikstorage.prewarm.pages` makes a page a batch, as for S3 and GCS).
List Blobs has no "start after a name" in every supported version of the
SDK, so a rerun lists again from the prefix and skips the names already done
(one request per page of them).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from storages.utils import clean_name

from ikstorage.prewarm.pages import PrefixStream, page_batch
from ikstorage.prewarm.sources import Batch
from ikstorage.prewarm.target import Target
from ikstorage.records import Record

#: Most blobs one List Blobs request returns.
AZURE_PAGE = 5000


class AzurePrefixStream(PrefixStream):
    """Blobs under a prefix of the container (the storage's ``location`` applied)."""

    def __init__(self, target: Target, prefix: str, alias: str) -> None:
        super().__init__(target, prefix, alias)
        self.storage: Any = target.wrapped

    def keys(self, target: Target, prefix: str) -> tuple[str, str]:
        """Blob names as AzureStorage spells them (its own ``clean_name`` of the location)."""
        wrapped: Any = target.wrapped
        location = clean_name(wrapped.location or "").strip("/")
        base = f"{location}/" if location else ""
        return base, base + (clean_name(prefix).lstrip("/") if prefix else "")

    def batches(self, after: str | None, size: int) -> Iterator[Batch]:
        pages = self.storage.client.list_blobs(
            name_starts_with=self.key_prefix or None,
            results_per_page=min(size, AZURE_PAGE),
            timeout=self.storage.timeout,
        ).by_page()
        for page in pages:
            batch = page_batch(
                ((blob.name, blob) for blob in page), self.base, after, listed_record
            )
            if batch is not None:
                yield batch


def listed_record(blob: Any) -> Record:
    """The record of a listed blob, as the adapter's HEAD would give it."""
    size = int(blob.size or 0)
    modified = blob.last_modified
    return Record.found(
        size,
        (None, None) if size == 0 else None,
        modified=None if modified is None else modified.timestamp(),
        etag=blob.etag,
    )
