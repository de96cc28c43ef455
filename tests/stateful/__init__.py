"""Property-based and multi-process checks that ``CachedStorage`` answers like its storage."""
