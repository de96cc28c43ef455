"""Every upstream test that the conformance suites treat specially, with the reason.

Keys are unittest ids (``module.Class.method``) as the upstream suites name
them. A value is the one-line reason, or ``(reason, versions)`` for a test that
exists only in some releases of its suite: ``versions`` holds "major.minor"
prefixes of the suite's project version (Django for ``file_storage.*``,
django-storages for ``tests.test_s3.*``).

``test_upstream_suites.py`` holds each table to the run exactly: an entry whose
test does not exist, or no longer behaves as listed, fails the run too.
"""

from __future__ import annotations

Entry = str | tuple[str, tuple[str, ...]]

_SETS_BASE_URL = (
    "sets storage.base_url on the storage object; CachedStorage refuses writes to the "
    "wrapped storage's attributes (AttributeError naming the wrapped storage), by design"
)
_DECONSTRUCTION = (
    "asserts deconstruct() returns the backend's own import path; a wrapper deconstructs "
    "as ikstorage.CachedStorage with the wrapped storage in its kwargs"
)

#: Not run: they assert internals of the wrapped storage class that a wrapper
#: cannot have. A test that fails because CachedStorage *answers* differently
#: never belongs here (see KNOWN_BUGS).
EXCLUDED: dict[str, Entry] = {
    "file_storage.tests.FileSystemStorageTests.test_deconstruction": _DECONSTRUCTION,
    "file_storage.test_inmemory_storage.InMemoryStorageTests.test_deconstruction": (
        _DECONSTRUCTION
    ),
    "file_storage.tests.FileStorageTests.test_base_url": _SETS_BASE_URL,
    "file_storage.tests.CustomStorageTests.test_base_url": _SETS_BASE_URL,
    "file_storage.tests.DiscardingFalseContentStorageTests.test_base_url": _SETS_BASE_URL,
    "file_storage.tests.OverwritingStorageTests.test_base_url": _SETS_BASE_URL,
    "file_storage.tests.OverwritingStorageOSOpenFlagsTests.test_base_url": (
        _SETS_BASE_URL,
        ("5.2",),
    ),
    "file_storage.tests.OverwritingStorageOSOpenFlagsWarningTests"
    ".test_os_open_flags_deprecation_warning": (
        "asserts the OS_OPEN_FLAGS deprecation warning points at the test file; the wrapped "
        "storage is built one frame deeper, by the wrapping constructor",
        ("5.2",),
    ),
}

#: CachedStorage answers differently from the storage it wraps: bugs, left
#: failing here until fixed. Remove an entry when its test passes (the run
#: fails while a listed test passes, so this list cannot go stale).
KNOWN_BUGS: dict[str, Entry] = {}

_FIELD_REJECTS_NAME = "FileField.generate_filename() rejects the name before asking the storage"

#: Run and held to passing, but they never call a storage under test, so they
#: do not count as run through CachedStorage. Listed so that a change that
#: silently stops wrapping a storage fails the run.
NO_STORAGE_CALLS: dict[str, Entry] = {
    "file_storage.test_generate_filename.GenerateFilenameStorageTests"
    ".test_filefield_dangerous_filename_dot_segments": _FIELD_REJECTS_NAME,
    "file_storage.test_generate_filename.GenerateFilenameStorageTests"
    ".test_filefield_generate_filename_absolute_path": _FIELD_REJECTS_NAME,
    "file_storage.test_generate_filename.GenerateFilenameStorageTests"
    ".test_filefield_generate_filename_upload_to_absolute_path": _FIELD_REJECTS_NAME,
    "file_storage.test_generate_filename.GenerateFilenameStorageTests"
    ".test_filefield_generate_filename_upload_to_dangerous_filename": _FIELD_REJECTS_NAME,
    "file_storage.tests.FieldCallableFileStorageTests.test_callable_base_class_error_raises": (
        "FileField rejects storages that are not Storage subclasses; none is built"
    ),
    "file_storage.tests.FieldCallableFileStorageTests.test_callable_class_storage_file_field": (
        "asserts only isinstance(field.storage, Storage)"
    ),
    "file_storage.tests.FieldCallableFileStorageTests.test_deconstruction": (
        "asserts the field deconstructs to the storage callable"
    ),
    "file_storage.tests.FieldCallableFileStorageTests"
    ".test_deconstruction_storage_callable_default": (
        "asserts the field deconstructs to the storage callable"
    ),
    "file_storage.tests.FieldCallableFileStorageTests"
    ".test_file_field_storage_none_uses_default_storage": (
        "compares field.storage with default_storage by identity"
    ),
    "file_storage.tests.StorageHandlerTests.test_defaults": "the STORAGES handler's defaults",
    "file_storage.tests.StorageHandlerTests.test_nonexistent_alias": "a STORAGES lookup error",
    "file_storage.tests.StorageHandlerTests.test_nonexistent_backend": "a STORAGES import error",
    "file_storage.tests.StorageHandlerTests.test_same_instance": (
        "compares two STORAGES lookups by identity"
    ),
    "file_storage.tests.StorageLazyObjectTests"
    ".test_lazy_object_is_not_evaluated_before_manual_access": (
        "compares a LazyObject around a storage by identity",
        ("6.0", "6.1"),
    ),
}


def applicable(table: dict[str, Entry], prefix: str, version: str) -> dict[str, str]:
    """The entries of ``table`` for test ids under ``prefix`` in this ``version``."""
    chosen = {}
    for test_id, entry in table.items():
        if not test_id.startswith(prefix):
            continue
        reason, versions = (entry, ()) if isinstance(entry, str) else entry
        if not versions or any(version == v or version.startswith(v + ".") for v in versions):
            chosen[test_id] = reason
    return chosen
