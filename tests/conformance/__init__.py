"""Upstream storage test suites run with CachedStorage as the storage under test."""
