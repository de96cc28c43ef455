"""Where an interrupted run stopped, kept in the shared cache, per source and shard.

Resuming does not need it for correctness: records are the progress. A rerun
that fills only what is missing skips every name already recorded, paying one
``get_many`` per batch and no backend call for them. The checkpoint spares
what that still costs: re-listing the part of a bucket already done, and, for
``--refresh``, re-reading files already refreshed.

It lives in the shared cache, beside the records it describes, because a
shard may be resumed by another worker on another machine; a file would be
seen by one machine only. A lost checkpoint (evicted, cache flushed) only
means starting over. A run that completes a source drops its checkpoint, so
the next run walks everything again (retrying, when it fills only what is
missing, the names that failed); ``--restart`` drops it up front.

The position saved is the *low-water mark*: the end of the last batch such
that it and every earlier batch finished without a failed name. Names done
beyond it are done again on resume (cheaply, when they are cached), and names
that failed before the interruption are retried by the resumed run.
"""

from __future__ import annotations

import hashlib
import logging

from ikstorage.prewarm.target import Target
from ikstorage.records import FORMAT

logger = logging.getLogger("ikstorage.prewarm")

#: A checkpoint outlives the longest interrupted run anyone would resume: a week.
TIMEOUT = 7 * 24 * 3600
#: What ``load`` gets when the cache could not be asked.
_UNAVAILABLE = object()


class Checkpoint:
    """The resume position of one source, one shard and one mode, in the shared cache.

    It goes through the storage's :class:`~ikstorage.cache.MetadataCache`, like
    the records: its round trips are counted in the run's summary, and a cache
    outage is ridden out the same way (a delete missed during one is made when
    the cache is back, so a finished source is not resumed by mistake).
    """

    def __init__(self, target: Target, scope: str) -> None:
        # The identity the storage's record keys are derived from (stable across processes).
        identity = f"{target.identity}|prewarm|{scope}"
        digest = hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        self.key = f"ik:{FORMAT}:prewarm:{digest}"
        self.cache = target.cache
        self._warned = False
        #: False once a load found none and nothing was saved since: no delete to send.
        self._may_exist = True

    def load(self) -> str | None:
        value = self.cache.get_raw(self.key, default=_UNAVAILABLE)
        position = value if isinstance(value, str) else None
        # Not looked at (the cache was down): one may exist, and finishing must delete it.
        self._may_exist = position is not None or value is _UNAVAILABLE
        return position

    def save(self, position: str) -> None:
        self._may_exist = True
        if not self.cache.set_raw(self.key, position, TIMEOUT) and not self._warned:
            self._warned = True
            logger.warning(
                "Cache %r unavailable for the prewarm checkpoint; "
                "an interrupted run will start this source over.",
                self.cache.alias,
            )

    def clear(self) -> None:
        if self._may_exist:
            self.cache.delete_many([self.key])
            self._may_exist = False
