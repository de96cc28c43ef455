"""Cache levels, a building block: L1 in the process, L2 in a Django cache, outages ridden out.

* :mod:`.levels` — :class:`MetadataCache`, both levels for one storage;
* :mod:`.local` — :class:`~.local.LocalCache`, L1 (a dictionary read without a lock);
* :mod:`.health` — one alias's outage state: back-off, warnings, replay of
  what an outage missed;
* :mod:`.errors` — sorting an L2 error into an outage or a configuration mistake;
* :mod:`.broadcast` and :mod:`.subscriber` — writes announced over the cache's
  Redis and dropped from every process's L1 (``OPTIONS["broadcast"]``);
* :mod:`.markers` — what L1 notes besides entries.
"""

from __future__ import annotations

from ikstorage.cache.health import BLOCKER
from ikstorage.cache.levels import ABSENT, MetadataCache, clear_local

__all__ = ["ABSENT", "BLOCKER", "MetadataCache", "clear_local"]
