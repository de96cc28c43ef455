"""The core: what one storage knows about its files, how it learns it, and how writes keep it true.

* :mod:`.names` — a spelling → the stored name and the cache keys (memoized);
* :mod:`.reads` — the read path: L1 → L2 (the page's names batched,
  :mod:`.batching`) → one probe (:mod:`.singleflight`);
* :mod:`.answers` — ``exists``, ``size``, modified time, dimensions and URLs
  from a record;
* :mod:`.writes` — saves and deletes under the name's lease, records written
  through (:mod:`.uploads`), and the :mod:`.hook` features plug into;
* :mod:`.parts` — the wrapped storage, its adapter, keys and cache levels,
  built on first use; :mod:`.policy` — lifetimes and bounds from the OPTIONS;
* :mod:`.core` — :class:`~.core.Core`, all of it for one storage, and
  :func:`~.core.core_of`.

The core imports no feature and no public face: renditions join the write
path through the hook, and read through the core's own methods.
"""
