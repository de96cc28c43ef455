"""Run an upstream storage test suite with ``CachedStorage`` as the storage under test.

Started in a subprocess by ``test_upstream_suites.py``, by path (never as
``tests.conformance.runner``): django-storages' suite is the package ``tests``,
which must not collide with this project's own ``tests`` package.

    python runner.py {django,s3} --source ROOT --plan PLAN.json --report REPORT.json [--unwrapped]

How the storage under test is replaced (``--unwrapped`` skips all of it, to
prove the harness itself passes the suite on the bare storages):

* Before any test module is imported, the storage classes the suite tests
  (``FileSystemStorage`` and ``InMemoryStorage``; ``S3Storage``) are replaced
  where tests look them up by a subclass whose constructor returns
  ``CachedStorage(storage=<the real storage, built with the same arguments>)``.
  Subclasses that tests define (``class CustomStorage(FileSystemStorage)``)
  inherit that constructor: the test's overrides live in the wrapped storage
  and the test talks to the wrapper. ``default_storage`` and every storage of
  the test models' ``FileField``\\ s are built the same way, so the
  ``FieldFile`` paths go through ``CachedStorage`` too.
* After import, ``Storage`` subclasses that test modules define on top of the
  base ``Storage`` class, and ``storage_class`` attributes of test classes,
  are swapped for wrapping subclasses as well.
* Each test starts with empty cache levels (L1 and L2), as a new deployment
  would: the suites change files behind the storage's back between tests
  (``shutil.rmtree`` in ``tearDown``), which DESIGN.md's invariant 3 leaves to
  ``invalidate()``.

The report (JSON) gives, per test id: the outcome, whether the test used a
``CachedStorage`` (read any of its public attributes), the failure text, and
the attributes of the wrapped storage the test read or set through the wrapper.
"""

from __future__ import annotations

import argparse
import copy
import functools
import importlib
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
import unittest
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

EXCLUDED_PREFIX = "conformance exclusion: "

#: What runtests.py installs for every app of Django's own suite.
ALWAYS_INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sites",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.staticfiles",
]
ALWAYS_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]


# -- observing CachedStorage ----------------------------------------------------


class Observation:
    """What the running test did with ``CachedStorage`` instances."""

    def __init__(self, test_id: str = "") -> None:
        self.test_id = test_id
        self.used = False
        self.reads: set[str] = set()
        self.writes: set[str] = set()

    def reset(self, test_id: str = "") -> None:
        self.__init__(test_id)  # type: ignore[misc]


OBSERVED = Observation()


def observe_cached_storage() -> None:
    """Note every public attribute read on a ``CachedStorage``, and reads/writes
    of attributes only the wrapped storage has (attribute forwarding)."""
    from ikstorage import CachedStorage

    get_original = CachedStorage.__getattribute__
    set_original = CachedStorage.__setattr__

    def __getattribute__(self: Any, name: str) -> Any:
        if not name.startswith("_") or name in ("_save", "_open"):
            OBSERVED.used = True
        try:
            return get_original(self, name)
        except AttributeError:
            if _wrapped_has(self, name):
                OBSERVED.reads.add(name)
            raise

    def __setattr__(self: Any, name: str, value: Any) -> None:
        if (
            not name.startswith("_")
            and not hasattr(type(self), name)
            and name not in vars(self)
            and _wrapped_has(self, name)
        ):
            OBSERVED.used = True
            OBSERVED.writes.add(name)
        set_original(self, name, value)

    CachedStorage.__getattribute__ = __getattribute__  # type: ignore[method-assign]
    CachedStorage.__setattr__ = __setattr__  # type: ignore[method-assign]


#: Each wrapper built by the harness, by ``id``, with the storage it wraps.
#: Both are kept alive so an ``id`` is never reused for another wrapper.
INNER: dict[int, tuple[Any, Any]] = {}


def _wrapped_has(cached: Any, name: str) -> bool:
    pair = INNER.get(id(cached))
    if pair is None:
        return False
    try:
        return hasattr(pair[1], name)
    except Exception:
        return False


# -- wrapping the storages under test -------------------------------------------


def wrapping(real: type) -> type:
    """A subclass of ``real`` whose constructor returns ``CachedStorage(storage=real(...))``."""
    if getattr(real, "_conformance_wraps", None) is not None:
        return real
    from ikstorage import CachedStorage

    holder: list[type] = []

    def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:
        following = super(holder[0], cls).__new__  # type: ignore[misc]
        # @deconstructible's __new__ takes (and records) the constructor arguments.
        plain = following is object.__new__
        inner = following(cls) if plain else following(cls, *args, **kwargs)
        inner.__init__(*args, **kwargs)
        cached = CachedStorage(storage=inner)
        INNER[id(cached)] = (cached, inner)
        return cached

    namespace = {
        "__new__": __new__,
        "__module__": real.__module__,
        "__qualname__": real.__qualname__,
        "__doc__": real.__doc__,
        "_conformance_wraps": real,
    }
    wrapper = type(real)(real.__name__, (real,), namespace)
    holder.append(wrapper)
    return wrapper


def patch_attribute(module_name: str, name: str) -> None:
    module = importlib.import_module(module_name)
    setattr(module, name, wrapping(getattr(module, name)))


#: Django's own modules that bind ``FileSystemStorage`` at import. They are not
#: under test (staticfiles' finders read ``location`` of their storages), so they
#: are imported first and keep the real class.
BIND_REAL_STORAGES = (
    "django.contrib.staticfiles.storage",
    "django.contrib.staticfiles.finders",
    "django.contrib.staticfiles.management.commands.collectstatic",
)


def wrap_django_storages() -> None:
    """Replace the storage classes where tests and ``STORAGES`` look them up by name."""
    import django.core.files.storage

    for module in BIND_REAL_STORAGES:
        importlib.import_module(module)

    for module, name in (
        ("django.core.files.storage.filesystem", "FileSystemStorage"),
        ("django.core.files.storage.memory", "InMemoryStorage"),
    ):
        patch_attribute(module, name)
        setattr(django.core.files.storage, name, getattr(sys.modules[module], name))


def wrap_test_module_storages(suite: unittest.TestSuite, package: str) -> list[str]:
    """Wrap ``Storage`` subclasses defined by the suite's modules and ``storage_class``\\ es."""
    from django.core.files.storage import Storage

    wrapped = []
    for module_name, module in list(sys.modules.items()):
        if module is None or not (module_name == package or module_name.startswith(package + ".")):
            continue
        for name, value in list(vars(module).items()):
            if (
                isinstance(value, type)
                and issubclass(value, Storage)
                and value.__module__ == module_name
                and getattr(value, "_conformance_wraps", None) is None
            ):
                setattr(module, name, wrapping(value))
                wrapped.append(f"{module_name}.{name}")
    for case in {type(test) for test in iter_tests(suite)}:
        storage_class = case.__dict__.get("storage_class")
        if (
            isinstance(storage_class, type)
            and issubclass(storage_class, Storage)
            and getattr(storage_class, "_conformance_wraps", None) is None
        ):
            case.storage_class = wrapping(storage_class)  # type: ignore[attr-defined]
            wrapped.append(f"{case.__module__}.{case.__qualname__}.storage_class")
    return sorted(wrapped)


# -- running --------------------------------------------------------------------


def iter_tests(suite: unittest.TestSuite | unittest.TestCase) -> Iterator[unittest.TestCase]:
    if isinstance(suite, unittest.TestSuite):
        for item in suite:
            yield from iter_tests(item)
    else:
        yield suite


def exclude(test: unittest.TestCase, reason: str) -> None:
    """Skip this test instance only (its method may be inherited by other classes)."""
    method = getattr(test, test._testMethodName)

    @functools.wraps(method)
    def excluded(*args: Any, **kwargs: Any) -> None:
        raise unittest.SkipTest(EXCLUDED_PREFIX + reason)

    excluded.__unittest_skip__ = True  # type: ignore[attr-defined]
    excluded.__unittest_skip_why__ = EXCLUDED_PREFIX + reason  # type: ignore[attr-defined]
    setattr(test, test._testMethodName, excluded)


class Recorder(unittest.TextTestResult):
    """A test result that also keeps one record per test id for the report."""

    records: dict[str, dict[str, Any]] = {}

    def _record(self, test: Any) -> dict[str, Any]:
        return Recorder.records.setdefault(
            test.id(),
            {"outcome": None, "through": False, "detail": "", "reads": [], "writes": []},
        )

    def _set(self, test: Any, outcome: str, detail: str = "") -> None:
        record = self._record(test)
        if record["outcome"] not in ("failed", "error") or outcome in ("failed", "error"):
            record["outcome"] = outcome
        if detail:
            record["detail"] += detail

    def startTest(self, test: Any) -> None:
        super().startTest(test)
        OBSERVED.reset(test.id())
        _clear_caches()

    def stopTest(self, test: Any) -> None:
        record = self._record(test)
        # Python 3.12+ reports a skipped test without calling startTest: what
        # was observed since then belongs to the test before it.
        if OBSERVED.test_id == test.id():
            record["through"] = record["through"] or OBSERVED.used
            record["reads"] = sorted(OBSERVED.reads | set(record["reads"]))
            record["writes"] = sorted(OBSERVED.writes | set(record["writes"]))
        OBSERVED.reset()
        super().stopTest(test)

    def addSuccess(self, test: Any) -> None:
        super().addSuccess(test)
        self._set(test, "passed")

    def addFailure(self, test: Any, err: Any) -> None:
        super().addFailure(test, err)
        self._set(test, "failed", self._exc_info_to_string(err, test))

    def addError(self, test: Any, err: Any) -> None:
        super().addError(test, err)
        self._set(test, "error", self._exc_info_to_string(err, test))

    def addSkip(self, test: Any, reason: str) -> None:
        super().addSkip(test, reason)
        if reason.startswith(EXCLUDED_PREFIX):
            self._set(test, "excluded", reason.removeprefix(EXCLUDED_PREFIX))
        else:
            self._set(test, "skipped", reason)

    def addExpectedFailure(self, test: Any, err: Any) -> None:
        super().addExpectedFailure(test, err)
        self._set(test, "expected failure")

    def addUnexpectedSuccess(self, test: Any) -> None:
        super().addUnexpectedSuccess(test)
        self._set(test, "failed", "unexpected success")

    def addSubTest(self, test: Any, subtest: Any, err: Any) -> None:
        super().addSubTest(test, subtest, err)
        if err is not None:
            failed = issubclass(err[0], test.failureException)
            text = f"{subtest}\n{self._exc_info_to_string(err, test)}"
            self._set(test, "failed" if failed else "error", text)


def _clear_caches() -> None:
    from django.core.cache import caches

    from ikstorage import cache

    cache.clear_local()
    for alias in caches:
        caches[alias].clear()


def run(
    labels: list[str], package: str, exclusions: dict[str, str], wrap_modules: bool
) -> dict[str, Any]:
    from django.test.runner import DiscoverRunner

    found: set[str] = set()
    wrapped: list[str] = []

    class Runner(DiscoverRunner):
        def get_resultclass(self) -> type[unittest.TextTestResult]:
            return Recorder

        def build_suite(self, *args: Any, **kwargs: Any) -> Any:
            suite = super().build_suite(*args, **kwargs)
            if wrap_modules:
                wrapped.extend(wrap_test_module_storages(suite, package))
            for test in iter_tests(suite):
                found.add(test.id())
                if test.id() in exclusions:
                    exclude(test, exclusions[test.id()])
            return suite

    started = time.monotonic()
    Runner(verbosity=1, interactive=False).run_tests(labels)
    return {
        "tests": Recorder.records,
        "unknown_exclusions": sorted(set(exclusions) - found),
        "wrapped": wrapped,
        "seconds": round(time.monotonic() - started, 2),
    }


# -- the two suites -------------------------------------------------------------


def configure_django_suite(source: Path, tmpdir: Path) -> None:
    """Settings of Django's runtests.py (with tests/test_sqlite.py), plus ikstorage."""
    from django.conf import settings
    from django.utils import deprecation
    from django.utils.log import DEFAULT_LOGGING

    for name in dir(deprecation):
        if name.startswith("RemovedInDjango"):
            warnings.simplefilter("error", getattr(deprecation, name))
    warnings.simplefilter("error", ResourceWarning)
    warnings.simplefilter("error", RuntimeWarning)

    logging_config = copy.deepcopy(DEFAULT_LOGGING)
    logging_config["loggers"]["django"]["level"] = "ERROR"
    sys.path.insert(0, str(source / "tests"))
    os.environ["RUNNING_DJANGOS_TEST_SUITE"] = "true"
    settings.configure(
        DATABASES={
            "default": {"ENGINE": "django.db.backends.sqlite3"},
            "other": {"ENGINE": "django.db.backends.sqlite3"},
        },
        SECRET_KEY="django_tests_secret_key",
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        USE_TZ=False,
        INSTALLED_APPS=[*ALWAYS_INSTALLED_APPS, "ikstorage", "file_storage"],
        ROOT_URLCONF="urls",
        STATIC_URL="static/",
        STATIC_ROOT=str(tmpdir / "static"),
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [],
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ],
                },
            }
        ],
        LANGUAGE_CODE="en",
        SITE_ID=1,
        MIDDLEWARE=ALWAYS_MIDDLEWARE,
        MIGRATION_MODULES={"auth": None, "contenttypes": None, "sessions": None},
        LOGGING=logging_config,
        SILENCED_SYSTEM_CHECKS=["fields.W342"],
    )


def configure_s3_suite(source: Path, tmpdir: Path) -> None:
    """Settings of django-storages' tests/settings.py, plus ikstorage; fake AWS credentials."""
    import moto
    from django.conf import settings

    if not hasattr(moto, "mock_s3"):  # moto 5 folded mock_s3 into mock_aws
        moto.mock_s3 = moto.mock_aws  # type: ignore[attr-defined]
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SECURITY_TOKEN="testing",
        AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    sys.path.insert(0, str(source))
    settings.configure(
        MEDIA_URL="/media/",
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        SECRET_KEY="hailthesunshine",
        USE_TZ=True,
        AWS_STORAGE_BUCKET_NAME="test-bucket",
        INSTALLED_APPS=["ikstorage"],
    )


SUITES: dict[str, dict[str, Any]] = {
    "django": {
        "configure": configure_django_suite,
        "package": "file_storage",
        "labels": ["file_storage"],
        "wrap": wrap_django_storages,
        "wrap_modules": True,
    },
    "s3": {
        "configure": configure_s3_suite,
        "package": "tests",
        "labels": ["tests.test_s3.S3StorageTestsWithMoto"],
        "wrap": lambda: patch_attribute("storages.backends.s3", "S3Storage"),
        "wrap_modules": False,
    },
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite", choices=sorted(SUITES))
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--plan", type=Path, help="JSON: {'exclude': {test id: reason}}")
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--unwrapped", action="store_true", help="run on the bare storages")
    args = parser.parse_args(argv)
    plan = json.loads(args.plan.read_text()) if args.plan else {}
    suite = SUITES[args.suite]

    tmpdir = Path(tempfile.mkdtemp(prefix="ikstorage-conformance-"))
    os.environ["TMPDIR"] = str(tmpdir)
    tempfile.tempdir = str(tmpdir)
    try:
        import django

        suite["configure"](args.source.resolve(), tmpdir)
        if not args.unwrapped:  # before setup(): the apps' models build their storages
            observe_cached_storage()
            suite["wrap"]()
        django.setup()
        try:
            report = run(
                suite["labels"],
                suite["package"],
                plan.get("exclude", {}),
                suite["wrap_modules"] and not args.unwrapped,
            )
        except Exception:
            report = {"tests": Recorder.records, "crash": traceback.format_exc()}
        report.update(django=django.get_version(), wrapped_run=not args.unwrapped)
        args.report.write_text(json.dumps(report, indent=1, sort_keys=True))
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
