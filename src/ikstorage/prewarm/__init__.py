"""Prewarming: fill the cache for files that already exist (``manage.py ikstorage_prewarm``).

The rooms, in the order a run goes through them:

* ``plan`` - what one run does, as plain values (JSON for tasks);
* ``sources`` / ``listing`` - names from model fields, or from a walk of the storage;
* ``shards`` - which names belong to shard K of N (a hash of the name);
* ``runner`` - a run from a plan: its sources, its totals;
* ``selection`` - what a batch still needs, from one cache lookup;
* ``workers`` - the thread pool that works through the names;
* ``position`` - how far each source got (the checkpoint's low-water mark);
* ``steps`` - the work done for one name (fill its record, render what it lacks);
* ``clients`` - one boto3 client per worker thread, made cheaply;
* ``checkpoint`` - where an interrupted run continues, in the shared cache;
* ``report`` / ``stats`` - progress as it goes, the summary at the end;
* ``tasks`` - the shards as tasks on Django's Tasks framework.

``docs/prewarm.md`` is the user's guide.
"""

from __future__ import annotations

from ikstorage.prewarm.plan import Plan
from ikstorage.prewarm.shards import Shard

__all__ = ["Plan", "Shard"]
