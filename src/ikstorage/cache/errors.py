"""Sorting the errors of a shared-cache (L2) call: an outage to ride out, or a mistake.

An *outage* is the cache server being unreachable, slow or briefly unable to
serve: a refused or dropped connection, a timeout, a server still loading its
data or failing over. ikstorage answers from the storage and retries later
(see :class:`ikstorage.cache.health.Health`); nothing the project can change would
have prevented it.

Everything else is a *mistake* the project must fix, and riding it out would
leave the site uncached for good behind a once-a-minute warning: a missing
client library, a ``BACKEND`` that does not import, a refused password, a
database cache whose table was never created, a ``TypeError`` from bad cache
OPTIONS. Those are raised at once. The ones recognised here are rewritten into
a :class:`~ikstorage.exceptions.ConfigurationError` that says what to install
or change (chained to the original); the rest propagate unchanged.

Client libraries are matched by class name and module, not imported, so this
module works whichever of them is installed.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import InvalidCacheBackendError
from django.db import DatabaseError, InterfaceError, OperationalError

from ikstorage.exceptions import (
    CacheConfigurationError,
    ConfigurationError,
    IkStorageError,
    MissingLibraryError,
)

#: Django's cache backends that import a client library on first use, not at
#: import time (so ``BACKEND`` imports fine and only the first call fails):
#: backend path -> (module, what to ``pip install``).
REQUIRED_LIBRARY: dict[str, tuple[str, str]] = {
    "django.core.cache.backends.redis.RedisCache": ("redis", "redis"),
    "django.core.cache.backends.memcached.PyMemcacheCache": ("pymemcache", "pymemcache"),
    "django.core.cache.backends.memcached.PyLibMCCache": ("pylibmc", "pylibmc"),
}

#: Top-level modules of cache client libraries -> their name on PyPI.
PACKAGES: dict[str, str] = {
    "redis": "redis",
    "pymemcache": "pymemcache",
    "pylibmc": "pylibmc",
    "django_redis": "django-redis",
}

#: Outage classes of the client libraries, as (top-level module, class name).
#: Any class in the raised exception's MRO counts, so subclasses are included
#: (redis' BusyLoadingError and MaxConnectionsError are ConnectionErrors).
OUTAGES: frozenset[tuple[str, str]] = frozenset(
    {
        # redis-py: unreachable, timed out, loading its data set, failing over,
        # full (maxmemory with noeviction), or a read-only replica mid-failover.
        ("redis", "ConnectionError"),
        ("redis", "TimeoutError"),
        ("redis", "ReadOnlyError"),
        ("redis", "OutOfMemoryError"),
        ("redis", "TryAgainError"),
        ("redis", "ClusterDownError"),
        # django-redis wraps redis' connection errors in this.
        ("django_redis", "ConnectionInterrupted"),
        # diskcache's DjangoCache: SQLite shards on a full or failing disk
        # ("database or disk is full", "disk I/O error"). Django wraps its own
        # database errors in django.db.utils, so a raw sqlite3 error reaching
        # the cache layer comes from a cache library's own SQLite file.
        ("sqlite3", "OperationalError"),
        # diskcache's lock timeout (DjangoCache turns it into a miss itself; a
        # backend built on diskcache.Cache directly lets it through).
        ("diskcache", "Timeout"),
        # pymemcache: the server hung up or answered SERVER_ERROR. (Refused
        # connections and timeouts are OSErrors.)
        ("pymemcache", "MemcacheUnexpectedCloseError"),
        ("pymemcache", "MemcacheServerError"),
        # pylibmc (libmemcached's errors, defined in its C module _pylibmc).
        ("_pylibmc", "ConnectionError"),
        ("_pylibmc", "ConnectionBindError"),
        ("_pylibmc", "HostLookupError"),
        ("_pylibmc", "SocketCreateError"),
        ("_pylibmc", "UnixSocketError"),
        ("_pylibmc", "WriteError"),
        ("_pylibmc", "ReadError"),
        ("_pylibmc", "UnknownReadFailure"),
        ("_pylibmc", "ServerError"),
        ("_pylibmc", "ServerDead"),
        ("_pylibmc", "ServerDown"),
        ("_pylibmc", "SomeErrors"),
        ("_pylibmc", "NoServers"),
    }
)

#: Subclasses of an outage class that are mistakes all the same: a server that
#: refuses our credentials will not change its mind by itself.
NOT_OUTAGES: frozenset[tuple[str, str]] = frozenset(
    {
        ("redis", "AuthenticationError"),
        ("redis", "AuthorizationError"),
    }
)

#: What redis-py raises when the server rejects the credentials or the ACL user.
CREDENTIAL_ERRORS: frozenset[tuple[str, str]] = NOT_OUTAGES | {
    ("redis", "AuthenticationWrongNumberOfArgsError"),
    ("redis", "NoPermissionError"),
}


def _names(exc: BaseException) -> set[tuple[str, str]]:
    return {(klass.__module__.partition(".")[0], klass.__name__) for klass in type(exc).__mro__}


def _is_pymemcache_all_down(exc: BaseException) -> bool:
    # pymemcache's HashClient raises its bare base class once every server has
    # been marked dead; nothing else in pymemcache raises the base class itself.
    klass = type(exc)
    return klass.__name__ == "MemcacheError" and klass.__module__.startswith("pymemcache")


def is_outage(exc: BaseException) -> bool:
    """True for a connection failure or a timeout: answer from the storage and retry later."""
    if isinstance(exc, IkStorageError | ConfigurationError):
        return False
    names = _names(exc)
    if names & NOT_OUTAGES:
        return False
    if isinstance(exc, OSError) or names & OUTAGES or _is_pymemcache_all_down(exc):
        return True
    # The database cache: a lost or refused database connection. SQLite also
    # reports a missing table as an OperationalError; see explain().
    return isinstance(exc, OperationalError | InterfaceError) and not str(exc).startswith(
        "no such table"
    )


def backend_path(alias: str) -> str:
    config = settings.CACHES.get(alias)
    return str(config.get("BACKEND", "")) if isinstance(config, dict) else ""


def required_library(backend: type) -> tuple[str, str] | None:
    """(module, package) a backend class needs beyond its own import, if Django's own."""
    for klass in backend.__mro__:
        found = REQUIRED_LIBRARY.get(f"{klass.__module__}.{klass.__qualname__}")
        if found is not None:
            return found
    return None


def missing_library_message(alias: str, backend: str, module: str, package: str) -> str:
    return (
        f"The cache {alias!r} uses {backend}, which needs the {package!r} package "
        f"(module {module!r} does not import): pip install {package}"
    )


def missing_module(exc: BaseException) -> str | None:
    """The known client library whose import failed, from ``exc`` or what caused it."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ImportError) and seen.name:
            root = seen.name.partition(".")[0]
            if root in PACKAGES:
                return root
        # Only explicit causes (``raise ... from``): an implicit context may be an
        # optional import that failed and was handled long before.
        seen = seen.__cause__
    return None


def _missing_table(alias: str, exc: BaseException) -> str | None:
    """The database cache's table, when ``exc`` says it does not exist.

    SQLite: "no such table: t"; PostgreSQL: 'relation "t" does not exist';
    MySQL: "Table 'db.t' doesn't exist".
    """
    if not isinstance(exc, DatabaseError) or not backend_path(alias).endswith(".DatabaseCache"):
        return None
    table = str(settings.CACHES[alias].get("LOCATION", ""))
    text = str(exc)
    if (
        table
        and table in text
        and any(phrase in text for phrase in ("no such table", "does not exist", "doesn't exist"))
    ):
        return table
    return None


def explain(alias: str, exc: BaseException) -> ConfigurationError | None:
    """A :class:`ConfigurationError` saying what to fix, for a mistake recognised here.

    ``None`` for an outage, for an error ikstorage raised itself, and for a
    mistake not recognised: the caller re-raises that one unchanged.
    """
    if isinstance(exc, IkStorageError | ConfigurationError) or is_outage(exc):
        return None
    backend = backend_path(alias)
    module = missing_module(exc)
    if module is not None:
        package = PACKAGES[module]
        return MissingLibraryError(
            missing_library_message(alias, backend or "its BACKEND", module, package),
            package=package,
            name=module,
        )
    if isinstance(exc, InvalidCacheBackendError):
        if alias not in settings.CACHES:
            return CacheConfigurationError(
                f"The cache {alias!r} is not in settings.CACHES "
                f"(aliases: {', '.join(sorted(settings.CACHES))}). Add it, or point the "
                f"storage's 'cache' option at one of those.",
                alias=alias,
            )
        return CacheConfigurationError(
            f"The cache {alias!r} has BACKEND {backend!r}, which does not import ({exc}). "
            f"Set CACHES[{alias!r}]['BACKEND'] to a cache backend class, e.g. "
            f"'django.core.cache.backends.redis.RedisCache'.",
            alias=alias,
        )
    if _names(exc) & CREDENTIAL_ERRORS:
        return CacheConfigurationError(
            f"The cache {alias!r} refused the credentials ({type(exc).__name__}: {exc}). "
            f"Fix the username/password in CACHES[{alias!r}]['LOCATION'] or its OPTIONS, "
            f"or the user's ACL on the server.",
            alias=alias,
        )
    table = _missing_table(alias, exc)
    if table is not None:
        return CacheConfigurationError(
            f"The cache {alias!r} is a database cache whose table {table!r} does not exist "
            f"({exc}): run python manage.py createcachetable",
            alias=alias,
        )
    return None
