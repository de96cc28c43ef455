"""The benchmark of each storage backend, bare and through ikstorage (``benchmarks/backends.py``).

* :mod:`.servers` - the emulators and servers, counting the HTTP requests they serve;
* :mod:`.page` - the page, on one storage, in this process or a new one.
"""
