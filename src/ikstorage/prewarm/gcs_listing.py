"""Names under a prefix of a GCS bucket (``--prefix`` on ``GoogleCloudStorage``).

One objects.list request returns a page of objects (the batch size, at most
1,000) with their size, generation and ``updated`` time: for a file that is
not an image that *is* its whole record, exactly what the adapter's metadata
GET would learn (:func:`ikstorage.backends.gcs_facts.blob_facts`), so it costs no
further request; an image still needs the probe for its dimensions. The
modified time comes from ``updated``, as ``GoogleCloudStorage.
get_modified_time`` answers it, to the microsecond.

Objects are listed in name order, so a position is the last name of a page
(:mod:`ikstorage.prewarm.pages` makes a page a batch, as for S3 and Azure).
A rerun asks for names from the position on (``startOffset``, which
includes the position itself; it is skipped).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from google.cloud.storage.retry import DEFAULT_RETRY

from ikstorage.backends.gcs_facts import blob_facts
from ikstorage.prewarm.pages import PrefixStream, page_batch
from ikstorage.prewarm.sources import Batch
from ikstorage.records import Record

__all__ = ["GCS_PAGE", "GCSPrefixStream"]

#: Most objects one objects.list request returns.
GCS_PAGE = 1000


class GCSPrefixStream(PrefixStream):
    """Objects under a prefix of the bucket (the storage's ``location`` applied)."""

    def batches(self, after: str | None, size: int) -> Iterator[Batch]:
        wrapped: Any = self.target.wrapped
        blobs = wrapped.bucket.list_blobs(
            prefix=self.key_prefix or None,
            start_offset=None if after is None else self.base + after,
            page_size=min(size, GCS_PAGE),
            retry=DEFAULT_RETRY,
        )
        for page in blobs.pages:
            entries = ((blob.name, blob) for blob in page)
            batch = page_batch(entries, self.base, after, listed_record)
            if batch is not None:
                yield batch


def listed_record(blob: Any) -> Record:
    """The record of a listed object, as the adapter's metadata GET would give it."""
    return Record.of(blob_facts(blob))
