"""How long what the core learns is kept, and how long a writer waits: one storage's policy.

The values come from the storage's OPTIONS (``docs/settings.md`` gives each
default and the reason for it); the core reads only these, so it knows
nothing of the options that belong to the features (specs and their kin).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Policy"]


@dataclass(frozen=True, slots=True)
class Policy:
    """The lifetimes and bounds the read and write paths follow."""

    #: L2 lifetime of a positive record (``None``: until evicted).
    timeout: float | None
    #: L2 lifetime of a "missing" record, and of a delete's tombstone.
    missing_timeout: float
    #: Positive records expire up to this fraction of ``timeout`` early (spread, not herd).
    timeout_jitter: float
    #: A signed URL is never handed out within this many seconds of its expiry.
    url_expiry_margin: float
    #: How long a writer waits for another writer of the same name (the lease's TTL too).
    write_lease_timeout: float
    #: Most bytes a dimension probe reads, follow-up ranges included.
    probe_limit: int
    #: Records may list renditions whose signed URLs are fetched with the page's records.
    renditions: bool = False

    def record_timeout(self) -> float | None:
        """A positive record's L2 lifetime: ``timeout`` less up to ``timeout_jitter`` of it.

        Records written in one burst (a bulk upload, a prewarm) then expire over a
        spread of time instead of in the same second (the cache *avalanche*); the
        staleness bound stays ``timeout``.
        """
        timeout = self.timeout
        if timeout is None or not timeout:
            return timeout
        return timeout * (1.0 - self.timeout_jitter * random.random())

    def lifetime(self, exists: bool) -> float | None:
        """The L2 lifetime of a record that says ``exists``."""
        return self.record_timeout() if exists else self.missing_timeout
