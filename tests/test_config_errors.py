"""Configuration mistakes surface; only real outages are ridden out.

A cache server that is down or slow is answered from the storage with a
warning (invariant 5). A missing client library, a bad setting or a backend
that raises ``TypeError`` is a mistake: it fails the first lookup with a
message that says what to change, and ``manage.py check`` finds it first.
"""

from __future__ import annotations

import logging
import math
import pickle
import re
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.exceptions
from django.conf import settings
from django.core import checks
from django.core.cache import InvalidCacheBackendError
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import InterfaceError, OperationalError, ProgrammingError
from django.test import override_settings
from pymemcache import exceptions as pymemcache_exceptions

from ikstorage import CachedStorage
from ikstorage import cache as ik_cache
from ikstorage.cache import errors as cache_errors
from ikstorage.checks import check_settings, check_storages
from ikstorage.conf import conf
from ikstorage.exceptions import (
    CacheConfigurationError,
    ConfigurationError,
    IkStorageError,
    MissingLibraryError,
)
from tests.conftest import CountingStorage
from tests.images import image_bytes

LOCMEM = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
REDIS_PATH = "django.core.cache.backends.redis.RedisCache"


def closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_at(port: int, **options: Any) -> dict[str, Any]:
    return {
        "BACKEND": REDIS_PATH,
        "LOCATION": f"redis://127.0.0.1:{port}/0",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5, **options},
    }


class RaisingCache(LocMemCache):
    """A local-memory cache that raises ``RaisingCache.error`` from every call while set."""

    error: BaseException | None = None
    calls: list[str] = []

    def _maybe_raise(self, operation: str) -> None:
        RaisingCache.calls.append(operation)
        if RaisingCache.error is not None:
            raise RaisingCache.error

    def get_many(self, keys: Any, version: Any = None) -> Any:
        self._maybe_raise("get_many")
        return super().get_many(keys, version)

    def add(self, *args: Any, **kwargs: Any) -> Any:
        self._maybe_raise("add")
        return super().add(*args, **kwargs)

    def set_many(self, *args: Any, **kwargs: Any) -> Any:
        self._maybe_raise("set_many")
        return super().set_many(*args, **kwargs)

    def delete_many(self, *args: Any, **kwargs: Any) -> Any:
        self._maybe_raise("delete_many")
        return super().delete_many(*args, **kwargs)


RAISING = {"BACKEND": "tests.test_config_errors.RaisingCache", "LOCATION": "raising"}


@pytest.fixture
def raising() -> Iterator[type[RaisingCache]]:
    RaisingCache.error, RaisingCache.calls = None, []
    with override_settings(CACHES={"default": LOCMEM, "shared": RAISING}):
        yield RaisingCache
    RaisingCache.error, RaisingCache.calls = None, []


def shared_only(fs: CountingStorage) -> CachedStorage:
    """No L1: every lookup goes to the shared cache, as in a new process."""
    return CachedStorage(storage=fs, cache="shared", local_timeout=0)


def put(fs: CountingStorage, name: str) -> None:
    Path(fs.location).mkdir(parents=True, exist_ok=True)
    (Path(fs.location) / name).write_bytes(image_bytes((12, 8)))


def storages_using(tmp_path: Path, cache: str) -> dict[str, Any]:
    inner = {"BACKEND": "tests.conftest.CountingStorage", "OPTIONS": {"location": str(tmp_path)}}
    return {
        "default": {
            "BACKEND": "ikstorage.CachedStorage",
            "OPTIONS": {"storage": inner, "cache": cache},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def check_ids() -> list[str]:
    return sorted(m.id or "" for m in checks.run_checks() if (m.id or "").startswith("ikstorage"))


def storage_check_ids() -> list[str]:
    """ikstorage's storage checks alone.

    For a backend that fails when the cache object is created (a BACKEND that
    does not import; the memcached backends, which import their library in
    ``__init__``), Django's own ``caches`` check creates every cache and stops
    ``manage.py check`` with that import error before any other check reports.
    """
    return sorted(m.id or "" for m in check_storages())


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "ikstorage.cache"]


# -- the exception hierarchy ----------------------------------------------------


def test_every_configuration_error_is_improperly_configured_and_no_ikstorage_error() -> None:
    for error in (
        ConfigurationError("x"),
        CacheConfigurationError("x", alias="shared"),
        MissingLibraryError("x", package="redis", name="redis"),
    ):
        # Kept out of IkStorageError: code handling ikstorage's run-time errors around
        # a page must not silence a mistake only the settings can fix.
        assert not isinstance(error, IkStorageError)
        assert isinstance(error, ImproperlyConfigured)
        # Callers catch these for a bad name or file: a mistake must not pass for one.
        assert not isinstance(error, ValueError | TypeError)
    assert issubclass(CacheConfigurationError, ConfigurationError)
    assert issubclass(MissingLibraryError, ConfigurationError)
    assert issubclass(MissingLibraryError, ImportError)
    assert not issubclass(CacheConfigurationError, ImportError)


def test_errors_keep_their_attributes_through_pickle() -> None:
    missing = pickle.loads(
        pickle.dumps(MissingLibraryError("needs redis", package="redis", name="redis"))
    )
    assert (str(missing), missing.package, missing.name, missing.msg) == (
        "needs redis",
        "redis",
        "redis",
        "needs redis",
    )
    cache = pickle.loads(pickle.dumps(CacheConfigurationError("bad", alias="shared")))
    assert (str(cache), cache.alias) == ("bad", "shared")


def test_every_check_id_is_documented() -> None:
    root = Path(__file__).resolve().parent.parent
    source = "".join(p.read_text() for p in (root / "src" / "ikstorage" / "checks").glob("*.py"))
    documented = set(
        re.findall(
            r"^\| `(ikstorage\.[EW]\d{3})` \|", (root / "docs" / "checks.md").read_text(), re.M
        )
    )
    used = set(re.findall(r'id="(ikstorage\.[EW]\d{3})"', source))
    assert used == documented
    assert sorted(used) == [
        "ikstorage.E001",
        "ikstorage.E002",
        "ikstorage.E003",
        "ikstorage.E004",
        "ikstorage.E005",
        "ikstorage.E006",
        "ikstorage.E007",
        "ikstorage.E008",
        "ikstorage.E009",
        "ikstorage.W001",
        "ikstorage.W002",
        "ikstorage.W003",
        "ikstorage.W004",
        "ikstorage.W005",
        "ikstorage.W006",
    ]


# -- project settings: validated on access, reported by the check --------------


@pytest.mark.parametrize(("value", "expected"), [(5, 5.0), (0.25, 0.25), (0, 0.0), (10**6, 1e6)])
def test_ints_and_floats_are_accepted(value: float, expected: float) -> None:
    with override_settings(IKSTORAGE_CACHE_RETRY_AFTER=value, IKSTORAGE_WARNING_INTERVAL=value):
        retry_after, interval = conf.CACHE_RETRY_AFTER, conf.WARNING_INTERVAL
        assert (retry_after, interval) == (expected, expected)
        assert check_settings() == []


def test_defaults() -> None:
    assert (conf.PATCH_IMAGEFILE, conf.CACHE_RETRY_AFTER, conf.WARNING_INTERVAL) == (
        True,
        5.0,
        60.0,
    )
    assert conf.errors() == []
    assert check_ids() == []


BAD_SECONDS = [
    ("5", "'5' (str)"),
    (-1, "-1 (int)"),
    (-0.5, "-0.5 (float)"),
    (None, "None (NoneType)"),
    (True, "True (bool)"),
    (math.inf, "inf (float)"),
    (math.nan, "nan (float)"),
    ([5], "[5] (list)"),
]


@pytest.mark.parametrize(("value", "shown"), BAD_SECONDS)
def test_bad_retry_after_is_named_with_value_and_expectation(value: Any, shown: str) -> None:
    message = (
        "IKSTORAGE_CACHE_RETRY_AFTER must be a number of seconds, 0 or more (an int or a "
        f"float such as 5), not {shown}."
    )
    with override_settings(IKSTORAGE_CACHE_RETRY_AFTER=value):
        with pytest.raises(ConfigurationError) as raised:
            conf.CACHE_RETRY_AFTER  # noqa: B018 - the read is what raises
        assert str(raised.value) == message
        errors = check_settings()
    assert [(e.id, e.msg, e.level) for e in errors] == [("ikstorage.E003", message, checks.ERROR)]


@pytest.mark.parametrize(("value", "shown"), BAD_SECONDS)
def test_bad_warning_interval_is_named(value: Any, shown: str) -> None:
    message = (
        "IKSTORAGE_WARNING_INTERVAL must be a number of seconds, 0 or more (an int or a "
        f"float such as 60), not {shown}."
    )
    with override_settings(IKSTORAGE_WARNING_INTERVAL=value):
        with pytest.raises(ConfigurationError, match=r"^IKSTORAGE_WARNING_INTERVAL must"):
            conf.WARNING_INTERVAL  # noqa: B018
        assert [e.msg for e in check_settings()] == [message]


@pytest.mark.parametrize(
    ("value", "shown"), [("no", "'no' (str)"), (0, "0 (int)"), (None, "None (NoneType)")]
)
def test_patch_imagefile_must_be_a_bool(
    value: Any, shown: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Set without the setting_changed signal: the app's receiver reads it too.
    monkeypatch.setattr(settings, "IKSTORAGE_PATCH_IMAGEFILE", value, raising=False)
    message = f"IKSTORAGE_PATCH_IMAGEFILE must be True or False, not {shown}."
    with pytest.raises(ConfigurationError) as raised:
        conf.PATCH_IMAGEFILE  # noqa: B018
    assert str(raised.value) == message
    assert [(e.id, e.msg) for e in check_settings()] == [("ikstorage.E003", message)]


def test_overriding_patch_imagefile_with_a_string_raises_at_once() -> None:
    """bool("no") is True: "no" would have switched the hook *on*."""
    with (
        pytest.raises(ConfigurationError, match=r"IKSTORAGE_PATCH_IMAGEFILE must be True or"),
        override_settings(IKSTORAGE_PATCH_IMAGEFILE="no"),
    ):
        pass  # pragma: no cover - entering raises
    assert conf.PATCH_IMAGEFILE is True


def test_every_bad_setting_is_reported_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "IKSTORAGE_PATCH_IMAGEFILE", "no", raising=False)
    monkeypatch.setattr(settings, "IKSTORAGE_CACHE_RETRY_AFTER", "5", raising=False)
    monkeypatch.setattr(settings, "IKSTORAGE_WARNING_INTERVAL", None, raising=False)
    monkeypatch.setattr(settings, "IKSTORAGE_PROFILER", {"ENABLED": "yes"}, raising=False)
    messages = [(e.id, e.msg.partition(" must ")[0]) for e in check_settings()]
    assert messages == [
        ("ikstorage.E003", "IKSTORAGE_PATCH_IMAGEFILE"),
        ("ikstorage.E003", "IKSTORAGE_CACHE_RETRY_AFTER"),
        ("ikstorage.E003", "IKSTORAGE_WARNING_INTERVAL"),
        ("ikstorage.E003", "IKSTORAGE_PROFILER['ENABLED']"),
    ]


def test_check_command_reports_a_bad_setting() -> None:
    with (
        override_settings(IKSTORAGE_CACHE_RETRY_AFTER="5"),
        pytest.raises(SystemCheckError, match=r"(?s)ikstorage\.E003.*IKSTORAGE_CACHE_RETRY_AFTER"),
    ):
        call_command("check")


def test_bad_retry_after_fails_the_first_lookup_not_the_first_outage(
    fs: CountingStorage, raising: type[RaisingCache], caplog: pytest.LogCaptureFixture
) -> None:
    put(fs, "a.jpg")
    storage = shared_only(fs)
    with override_settings(IKSTORAGE_CACHE_RETRY_AFTER="5"):
        with pytest.raises(ConfigurationError, match=r"^IKSTORAGE_CACHE_RETRY_AFTER must be"):
            storage.exists("a.jpg")
        # Raised before the cache or the storage was asked anything.
        assert raising.calls == []
        assert fs.calls == {}
    assert warnings(caplog) == []
    assert storage.exists("a.jpg") is True


# -- a cache backend whose client library is missing ---------------------------

MISSING_REDIS = (
    "The cache 'shared' uses django.core.cache.backends.redis.RedisCache, which needs the "
    "'redis' package (module 'redis' does not import): pip install redis"
)


def test_missing_redis_fails_the_first_lookup_with_what_to_install(
    fs: CountingStorage, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    put(fs, "a.jpg")
    monkeypatch.setitem(sys.modules, "redis", None)  # "not installed"
    with override_settings(CACHES={"default": LOCMEM, "shared": redis_at(closed_port())}):
        storage = shared_only(fs)
        for _ in range(2):  # every lookup, not once then silence
            with pytest.raises(MissingLibraryError) as raised:
                storage.exists("a.jpg")
            assert str(raised.value) == MISSING_REDIS
            assert (raised.value.package, raised.value.name) == ("redis", "redis")
            assert isinstance(raised.value.__cause__, ModuleNotFoundError)
            assert isinstance(raised.value, ImportError | ImproperlyConfigured)
    assert fs.calls == {}
    assert warnings(caplog) == []


def test_check_command_reports_missing_redis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)
    caches = {"default": LOCMEM, "shared": redis_at(closed_port())}
    with override_settings(CACHES=caches, STORAGES=storages_using(tmp_path, "shared")):
        errors = [m for m in checks.run_checks() if m.id == "ikstorage.E005"]
        assert [(e.msg.partition(": module")[0], e.hint, e.obj) for e in errors] == [
            (
                f"The cache 'shared' uses {REDIS_PATH}, which needs the 'redis' package",
                "pip install redis (and add it to the project's requirements), or point "
                "CACHES['shared']['BACKEND'] at a backend whose library is installed.",
                "STORAGES['default']",
            )
        ]
        assert check_ids() == ["ikstorage.E005"]
        with pytest.raises(SystemCheckError, match=r"(?s)ikstorage\.E005.*pip install redis"):
            call_command("check")
    # With the package importable, the same configuration is clean.
    monkeypatch.delitem(sys.modules, "redis")
    with override_settings(CACHES=caches, STORAGES=storages_using(tmp_path, "shared")):
        assert check_ids() == []


@pytest.mark.parametrize(
    ("backend", "module"),
    [
        ("django.core.cache.backends.memcached.PyMemcacheCache", "pymemcache"),
        ("django.core.cache.backends.memcached.PyLibMCCache", "pylibmc"),
    ],
)
def test_missing_memcached_library(
    backend: str,
    module: str,
    fs: CountingStorage,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    put(fs, "a.jpg")
    monkeypatch.setitem(sys.modules, module, None)
    caches = {"default": LOCMEM, "shared": {"BACKEND": backend, "LOCATION": "127.0.0.1:1"}}
    with override_settings(CACHES=caches, STORAGES=storages_using(tmp_path, "shared")):
        with pytest.raises(MissingLibraryError) as raised:
            shared_only(fs).exists("a.jpg")
        assert str(raised.value) == (
            f"The cache 'shared' uses {backend}, which needs the {module!r} package "
            f"(module {module!r} does not import): pip install {module}"
        )
        assert storage_check_ids() == ["ikstorage.E005"]
        with pytest.raises(ModuleNotFoundError, match=f"import of {module} halted"):
            call_command("check")  # Django's caches check creates the cache first
    assert fs.calls == {}


def test_a_third_party_backend_whose_package_is_missing(
    fs: CountingStorage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """django-redis' BACKEND itself does not import: Django says InvalidCacheBackendError."""
    put(fs, "a.jpg")
    # Both: an earlier test may have imported django_redis.cache already.
    monkeypatch.setitem(sys.modules, "django_redis", None)
    monkeypatch.setitem(sys.modules, "django_redis.cache", None)
    caches = {"default": LOCMEM, "shared": {"BACKEND": "django_redis.cache.RedisCache"}}
    with override_settings(CACHES=caches, STORAGES=storages_using(tmp_path, "shared")):
        with pytest.raises(MissingLibraryError) as raised:
            shared_only(fs).exists("a.jpg")
        assert str(raised.value) == (
            "The cache 'shared' uses django_redis.cache.RedisCache, which needs the "
            "'django-redis' package (module 'django_redis' does not import): "
            "pip install django-redis"
        )
        errors = check_storages()
        assert [(e.id, (e.hint or "").partition(" (")[0]) for e in errors] == [
            ("ikstorage.E005", "pip install django-redis")
        ]


def test_a_backend_path_that_does_not_import(fs: CountingStorage, tmp_path: Path) -> None:
    put(fs, "a.jpg")
    caches = {"default": LOCMEM, "shared": {"BACKEND": "myproject.caches.Nowhere"}}
    with override_settings(CACHES=caches, STORAGES=storages_using(tmp_path, "shared")):
        with pytest.raises(CacheConfigurationError) as raised:
            shared_only(fs).exists("a.jpg")
        assert str(raised.value) == (
            "The cache 'shared' has BACKEND 'myproject.caches.Nowhere', which does not import "
            "(Could not find backend 'myproject.caches.Nowhere': No module named 'myproject'). "
            "Set CACHES['shared']['BACKEND'] to a cache backend class, e.g. "
            "'django.core.cache.backends.redis.RedisCache'."
        )
        assert raised.value.alias == "shared"
        assert [(e.id, e.msg) for e in check_storages()] == [
            (
                "ikstorage.E004",
                "The cache 'shared' has BACKEND 'myproject.caches.Nowhere', which does not "
                "import (ModuleNotFoundError: No module named 'myproject').",
            )
        ]
        with pytest.raises(InvalidCacheBackendError, match="No module named 'myproject'"):
            call_command("check")  # Django's caches check creates the cache first
    assert fs.calls == {}


# -- a real outage is still an outage -------------------------------------------


def test_nothing_listening_is_an_outage_answered_from_the_storage(
    fs: CountingStorage, caplog: pytest.LogCaptureFixture
) -> None:
    put(fs, "a.jpg")
    with (
        override_settings(CACHES={"default": LOCMEM, "shared": redis_at(closed_port())}),
        caplog.at_level(logging.WARNING, logger="ikstorage.cache"),
    ):
        storage = shared_only(fs)
        for _ in range(3):
            assert storage.exists("a.jpg") is True
            assert storage.image_dimensions("a.jpg") == (12, 8)
        assert storage.exists("b.jpg") is False
    (warning,) = warnings(caplog)
    assert warning.startswith(
        "Cache 'shared' unavailable (get_many: ConnectionError: Error 111 connecting to"
    )
    assert warning.endswith("answering from the storage and retrying in 5s.")
    # One connection attempt, then left alone: every answer came from the storage.
    assert fs.calls["exists"] == 7


def test_a_typeerror_from_bad_cache_options_propagates_unchanged(
    fs: CountingStorage, caplog: pytest.LogCaptureFixture
) -> None:
    """redis-py rejects an unknown connection option when it first connects."""
    put(fs, "a.jpg")
    caches = {"default": LOCMEM, "shared": redis_at(closed_port(), colour="blue")}
    with override_settings(CACHES=caches):
        storage = shared_only(fs)
        for _ in range(2):
            with pytest.raises(TypeError, match=r"unexpected keyword argument 'colour'"):
                storage.exists("a.jpg")
    assert warnings(caplog) == []
    assert fs.calls == {}


class _Fake:
    """Exception classes of libraries that are not installed, matched by module and name."""

    @staticmethod
    def make(module: str, name: str, base: type[Exception] = Exception) -> Exception:
        return type(name, (base,), {"__module__": module})("fake")


OUTAGES: list[BaseException] = [
    ConnectionRefusedError(111, "Connection refused"),
    ConnectionResetError(104, "Connection reset by peer"),
    TimeoutError("timed out"),
    socket.gaierror(-2, "Name or service not known"),
    BrokenPipeError(32, "Broken pipe"),
    redis.exceptions.ConnectionError("Error 111 connecting"),
    redis.exceptions.TimeoutError("Timeout reading from socket"),
    redis.exceptions.BusyLoadingError("Redis is loading the dataset in memory"),
    redis.exceptions.MaxConnectionsError("Too many connections"),
    redis.exceptions.ReadOnlyError("You can't write against a read only replica."),
    redis.exceptions.OutOfMemoryError("command not allowed when used memory > 'maxmemory'"),
    redis.exceptions.TryAgainError("TRYAGAIN"),
    redis.exceptions.MasterDownError("MASTERDOWN"),
    pymemcache_exceptions.MemcacheUnexpectedCloseError(),
    pymemcache_exceptions.MemcacheServerError("out of memory storing object"),
    pymemcache_exceptions.MemcacheError("All servers seem to be down right now"),
    _Fake.make("_pylibmc", "ServerDown"),
    _Fake.make("_pylibmc", "ConnectionError"),
    _Fake.make("_pylibmc", "SomeErrors"),
    _Fake.make("django_redis.exceptions", "ConnectionInterrupted"),
    OperationalError("server closed the connection unexpectedly"),
    InterfaceError("connection already closed"),
]

MISTAKES: list[BaseException] = [
    TypeError("unexpected keyword argument"),
    ValueError("Redis URL must specify one of the following schemes"),
    KeyError("k"),
    AttributeError("x"),
    redis.exceptions.DataError("Invalid input of type: 'dict'"),
    redis.exceptions.ResponseError("WRONGTYPE Operation against a key"),
    pymemcache_exceptions.MemcacheIllegalInputError("Key contains whitespace"),
    pymemcache_exceptions.MemcacheUnknownError("Received unexpected response"),
    _Fake.make("_pylibmc", "BadKeyProvided"),
    ProgrammingError("syntax error"),
    ImproperlyConfigured("something else"),
]


@pytest.mark.parametrize("error", OUTAGES, ids=lambda e: type(e).__name__)
def test_outages_are_ridden_out(
    error: BaseException,
    fs: CountingStorage,
    raising: type[RaisingCache],
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert cache_errors.is_outage(error) is True
    assert cache_errors.explain("shared", error) is None
    put(fs, "a.jpg")
    raising.error = error
    storage = shared_only(fs)
    with caplog.at_level(logging.WARNING, logger="ikstorage.cache"):
        assert storage.exists("a.jpg") is True
        assert storage.exists("a.jpg") is True
    assert raising.calls == ["get_many"]
    assert len(warnings(caplog)) == 1
    assert f"(get_many: {type(error).__name__}: " in warnings(caplog)[0]


@pytest.mark.parametrize("error", MISTAKES, ids=lambda e: type(e).__name__)
def test_other_errors_propagate_unchanged(
    error: BaseException,
    fs: CountingStorage,
    raising: type[RaisingCache],
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert cache_errors.is_outage(error) is False
    assert cache_errors.explain("shared", error) is None
    put(fs, "a.jpg")
    raising.error = error
    storage = shared_only(fs)
    for _ in range(2):  # not backed off: the next lookup raises too
        with pytest.raises(type(error)) as raised:
            storage.exists("a.jpg")
        assert raised.value is error
    assert raising.calls == ["get_many", "get_many"]
    assert fs.calls == {}
    assert warnings(caplog) == []


@pytest.mark.parametrize(
    "error",
    [
        redis.exceptions.AuthenticationError("invalid username-password pair"),
        redis.exceptions.AuthorizationError("NOAUTH Authentication required."),
        redis.exceptions.NoPermissionError("this user has no permissions to run 'mget'"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_refused_credentials_are_a_mistake_not_an_outage(
    error: BaseException, fs: CountingStorage, raising: type[RaisingCache]
) -> None:
    """AuthenticationError is a redis ConnectionError, but retrying will not fix it."""
    assert cache_errors.is_outage(error) is False
    raising.error = error
    with pytest.raises(CacheConfigurationError) as raised:
        shared_only(fs).exists("a.jpg")
    assert str(raised.value) == (
        f"The cache 'shared' refused the credentials ({type(error).__name__}: {error}). "
        "Fix the username/password in CACHES['shared']['LOCATION'] or its OPTIONS, "
        "or the user's ACL on the server."
    )
    assert raised.value.__cause__ is error


def test_a_client_library_import_error_from_a_call_is_rewritten(
    fs: CountingStorage, raising: type[RaisingCache]
) -> None:
    error = ModuleNotFoundError("No module named 'redis'", name="redis")
    raising.error = error
    with pytest.raises(MissingLibraryError) as raised:
        shared_only(fs).exists("a.jpg")
    assert str(raised.value) == (
        "The cache 'shared' uses tests.test_config_errors.RaisingCache, which needs the "
        "'redis' package (module 'redis' does not import): pip install redis"
    )
    assert raised.value.__cause__ is error
    # An ImportError of a module that is not a cache client is not guessed at.
    other = ModuleNotFoundError("No module named 'lxml'", name="lxml")
    raising.error = other
    with pytest.raises(ModuleNotFoundError) as unchanged:
        shared_only(fs).exists("a.jpg")
    assert unchanged.value is other


@pytest.mark.django_db
def test_database_cache_without_its_table_says_createcachetable(fs: CountingStorage) -> None:
    put(fs, "a.jpg")
    caches = {
        "default": LOCMEM,
        "shared": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "ikstorage_never_created",
        },
    }
    with override_settings(CACHES=caches), pytest.raises(CacheConfigurationError) as raised:
        shared_only(fs).exists("a.jpg")
    assert str(raised.value) == (
        "The cache 'shared' is a database cache whose table 'ikstorage_never_created' does "
        "not exist (no such table: ikstorage_never_created): run python manage.py "
        "createcachetable"
    )
    assert isinstance(raised.value.__cause__, OperationalError)


def test_a_mistake_during_recovery_keeps_the_pending_invalidations(
    fs: CountingStorage, raising: type[RaisingCache], caplog: pytest.LogCaptureFixture
) -> None:
    """Keys that changed during an outage are still dropped once the cache works again."""
    storage = shared_only(fs)
    with override_settings(IKSTORAGE_CACHE_RETRY_AFTER=0):
        name = storage.save("p.jpg", ContentFile(image_bytes((9, 9)), name="p.jpg"))
        raising.error = ConnectionRefusedError(111, "Connection refused")
        storage.delete(name)  # the tombstone cannot reach the cache
        health = ik_cache.levels._shared("shared", 10)[0]
        pending = set(health.pending)
        assert len(pending) == 1
        raising.error = TypeError("a bug")
        with pytest.raises(TypeError, match="a bug"):
            storage.exists(name)
        assert health.pending == pending
        raising.calls.clear()
        raising.error = None
        with caplog.at_level(logging.WARNING, logger="ikstorage.cache"):
            assert storage.exists(name) is False
    # The record that changed during the outage gets a blocker (set_many) rather than a
    # plain delete; the lookup then reads it as a miss, asks the storage, and its fill
    # (add) cannot replace the blocker.
    assert raising.calls == ["set_many", "get_many", "add"]
    assert health.pending == set()
    assert any("is back; dropped 1 record(s)" in m for m in warnings(caplog))


def test_a_setting_broken_after_first_use_raises_at_the_next_outage(
    fs: CountingStorage, raising: type[RaisingCache], caplog: pytest.LogCaptureFixture
) -> None:
    """Validated once per process (and after ``clear_local``), then read again on failure."""
    put(fs, "a.jpg")
    storage = shared_only(fs)
    assert storage.exists("a.jpg") is True
    raising.error = ConnectionRefusedError(111, "Connection refused")
    with (
        override_settings(IKSTORAGE_WARNING_INTERVAL=None),
        pytest.raises(ConfigurationError, match=r"^IKSTORAGE_WARNING_INTERVAL must be") as raised,
    ):
        storage.exists("a.jpg")
    assert raised.value.__context__ is raising.error
    assert warnings(caplog) == []


@pytest.mark.parametrize(
    ("error", "recognised"),
    [
        (ProgrammingError('relation "ikstorage_cache" does not exist'), True),
        (ProgrammingError("(1146, \"Table 'site.ikstorage_cache' doesn't exist\")"), True),
        (OperationalError("no such table: ikstorage_cache"), True),
        (OperationalError("no such table: other_table"), False),
        (ProgrammingError('relation "other_table" does not exist'), False),
        (ProgrammingError("syntax error at or near"), False),
    ],
    ids=range(6),
)
def test_missing_cache_table_is_recognised_by_its_name(
    error: BaseException, recognised: bool
) -> None:
    caches = {
        "default": LOCMEM,
        "shared": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "ikstorage_cache",
        },
    }
    with override_settings(CACHES=caches):
        problem = cache_errors.explain("shared", error)
    assert cache_errors.is_outage(error) is False
    assert isinstance(problem, CacheConfigurationError) is recognised
    if problem is not None:
        assert str(problem).endswith("run python manage.py createcachetable")


def test_an_alias_dropped_from_caches_after_first_use_is_named() -> None:
    """The storage checked its alias when built; CACHES may change after (tests, reloads)."""
    problem = cache_errors.explain(
        "gone", InvalidCacheBackendError("The connection 'gone' doesn't exist.")
    )
    assert isinstance(problem, CacheConfigurationError)
    assert (str(problem), problem.alias) == (
        "The cache 'gone' is not in settings.CACHES (aliases: default). Add it, or point "
        "the storage's 'cache' option at one of those.",
        "gone",
    )
