"""The hostile-file tier: crafted files saved through ``CachedStorage`` in capped processes."""
