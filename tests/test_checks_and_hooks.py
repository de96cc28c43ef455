"""System checks (IDs, registration) and the ImageFile dimension hook."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core import checks
from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from ikstorage import CachedStorage
from ikstorage.cache import clear_local
from ikstorage.exceptions import ConfigurationError
from ikstorage.patches import imagefile as hooks
from tests.conftest import CountingStorage
from tests.images import image_bytes
from tests.testapp.models import Photo

LOCMEM = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
DUMMY = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
REDIS = {
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    "LOCATION": "redis://x",
    "OPTIONS": {"socket_timeout": 0.25, "socket_connect_timeout": 0.25},
}


def storages(tmp_path: Path, **options: Any) -> dict[str, Any]:
    inner = {"BACKEND": "tests.conftest.CountingStorage", "OPTIONS": {"location": str(tmp_path)}}
    return {
        "default": {"BACKEND": "ikstorage.CachedStorage", "OPTIONS": {"storage": inner, **options}},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def ids(**settings: Any) -> list[str]:
    with override_settings(**settings):
        return sorted(m.id for m in checks.run_checks(tags=[checks.Tags.caches]) if m.id)


def test_check_command_reports_a_missing_cache_alias(tmp_path: Path) -> None:
    with (
        override_settings(STORAGES=storages(tmp_path, cache="nowhere")),
        pytest.raises(SystemCheckError, match=r"ikstorage\.E001"),
    ):
        call_command("check")


def test_check_ids(tmp_path: Path) -> None:
    assert ids(STORAGES=storages(tmp_path), CACHES={"default": REDIS}) == []
    assert ids(STORAGES=storages(tmp_path), CACHES={"default": LOCMEM}) == ["ikstorage.W001"]
    assert ids(STORAGES=storages(tmp_path), CACHES={"default": LOCMEM}, DEBUG=True) == []
    assert ids(STORAGES=storages(tmp_path), CACHES={"default": DUMMY}) == ["ikstorage.W002"]
    bad = storages(tmp_path)
    bad["default"]["OPTIONS"]["storage"] = "nowhere"
    assert ids(STORAGES=bad, CACHES={"default": REDIS}) == ["ikstorage.E002"]
    unknown = storages(tmp_path, colour="blue")
    assert ids(STORAGES=unknown, CACHES={"default": REDIS}) == ["ikstorage.E002"]


class ProjectStorage(CachedStorage):
    """A project's own subclass, as ``STORAGES`` may name it."""


SUBCLASS = "tests.test_checks_and_hooks.ProjectStorage"


@pytest.mark.parametrize("backend", [SUBCLASS, "ikstorage.storage.CachedStorage"])
def test_a_subclass_of_cachedstorage_is_checked_too(tmp_path: Path, backend: str) -> None:
    config = storages(tmp_path, cache="nowhere")
    config["default"]["BACKEND"] = backend
    assert ids(STORAGES=config, CACHES={"default": REDIS}) == ["ikstorage.E001"]
    config = storages(tmp_path, timeout=math.inf)
    config["default"]["BACKEND"] = backend
    assert ids(STORAGES=config, CACHES={"default": REDIS}) == ["ikstorage.E002"]
    config["default"]["BACKEND"] = "tests.nowhere.Storage"  # not ours to report
    assert ids(STORAGES=config, CACHES={"default": REDIS}) == []


#: Durations no cache backend can hold (or no duration at all), for every OPTIONS
#: duration: each made every save raise OverflowError or ResponseError on Redis.
BAD_DURATIONS = [math.inf, -math.inf, math.nan, -1, 1e20, 10**400, 365 * 86400 + 1, "60", True]
DURATIONS = ["timeout", "missing_timeout", "local_timeout", "url_expiry_margin"]
DURATIONS += ["write_lease_timeout"]


@pytest.mark.parametrize("option", DURATIONS)
def test_durations_no_cache_can_hold_are_refused(
    tmp_path: Path, option: str, fs: CountingStorage
) -> None:
    for value in BAD_DURATIONS:
        with pytest.raises(ConfigurationError) as raised:
            CachedStorage(storage=fs, **{option: value})
        minimum = 1 if option == "write_lease_timeout" else 0
        none = ", or None" if option == "timeout" else ""
        assert str(raised.value) == (
            f"CachedStorage {option!r} must be a number of seconds from {minimum} to "
            f"31536000 (a year){none}, not {value!r}."
        )
        config = storages(tmp_path, **{option: value})
        assert ids(STORAGES=config, CACHES={"default": REDIS}) == ["ikstorage.E002"]


def test_the_longest_durations_allowed_work_on_redis_and_memcached(
    fs: CountingStorage, redis_server: Any, memcached_server: Any
) -> None:
    year = 365 * 86400
    backends = {
        "redis": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{redis_server.port}/0",
        },
        "memcached": {
            "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
            "LOCATION": f"127.0.0.1:{memcached_server.port}",
        },
    }
    for alias in backends:
        with override_settings(CACHES={"default": LOCMEM, **backends}):
            storage = CachedStorage(
                storage=fs,
                cache=alias,
                timeout=year,
                missing_timeout=year,
                write_lease_timeout=year,
                timeout_jitter=0,
            )
            name = storage.save(f"{alias}.txt", ContentFile(b"abc"))
            clear_local()
            fs.calls.clear()
            assert storage.size(name) == 3  # written through, read back from the cache
            assert fs.calls == {}
            storage.delete(name)
            clear_local()
            assert storage.exists(name) is False  # the year-long tombstone
            assert fs.calls == {"delete": 1}


@pytest.mark.parametrize(
    ("backend", "options", "missing"),
    [
        ("django.core.cache.backends.redis.RedisCache", {}, "socket_timeout or socket_connect"),
        ("django_redis.cache.RedisCache", {"SOCKET_TIMEOUT": 1}, "SOCKET_CONNECT_TIMEOUT"),
        ("django.core.cache.backends.memcached.PyMemcacheCache", {"timeout": 1}, "connect_"),
    ],
)
def test_a_network_cache_without_timeouts_warns(
    tmp_path: Path, backend: str, options: dict[str, Any], missing: str
) -> None:
    location = "127.0.0.1:11211" if "memcached" in backend else "redis://x"
    cache = {"BACKEND": backend, "LOCATION": location, "OPTIONS": options}
    with override_settings(STORAGES=storages(tmp_path), CACHES={"default": cache}):
        found = [m for m in checks.run_checks(tags=[checks.Tags.caches]) if m.id]
    assert [m.id for m in found] == ["ikstorage.W004"]
    assert f"sets no {missing}" in found[0].msg


def test_presigned_expiry_shorter_than_the_margin_warns(s3: Any) -> None:
    s3_spec = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": "media", "querystring_expire": 120},
    }
    cached = {"BACKEND": "ikstorage.CachedStorage", "OPTIONS": {"storage": s3_spec}}
    assert ids(STORAGES={"default": cached}, CACHES={"default": REDIS}) == ["ikstorage.W003"]
    cached["OPTIONS"]["url_expiry_margin"] = 60
    assert ids(STORAGES={"default": cached}, CACHES={"default": REDIS}) == []


@pytest.mark.django_db
def test_width_and_height_come_from_the_cache(tmp_path: Path) -> None:
    with override_settings(STORAGES=storages(tmp_path)):
        from django.core.files.storage import default_storage

        photo = Photo.objects.create(image=ContentFile(image_bytes((321, 123)), name="w.jpg"))
        default_storage.wrapped.calls.clear()
        fresh = Photo.objects.get(pk=photo.pk)
        assert (fresh.image.width, fresh.image.height) == (321, 123)
        assert fresh.image.size == len(image_bytes((321, 123)))
        assert fresh.image.url == "/w.jpg" or fresh.image.url.endswith("photos/w.jpg")
        assert default_storage.wrapped.calls == {"url": 1}


@pytest.mark.django_db
def test_hook_can_be_switched_off(tmp_path: Path) -> None:
    with override_settings(STORAGES=storages(tmp_path)):
        from django.core.files.storage import default_storage

        photo = Photo.objects.create(image=ContentFile(image_bytes((20, 10)), name="o.jpg"))
        with override_settings(IKSTORAGE_PATCH_IMAGEFILE=False):
            assert not hooks.installed()
            default_storage.wrapped.calls.clear()
            assert Photo.objects.get(pk=photo.pk).image.width == 20
            assert default_storage.wrapped.calls["open"] == 1
        assert hooks.installed()


@pytest.mark.django_db
def test_uncommitted_and_missing_files_take_djangos_path(tmp_path: Path) -> None:
    with override_settings(STORAGES=storages(tmp_path)):
        photo = Photo(image=None)
        photo.image = ImageFile(ContentFile(image_bytes((11, 7))), name="new.jpg")
        assert photo.image.width == 11  # read from the file in hand
        gone = Photo(image="photos/never-saved.jpg")
        with pytest.raises(FileNotFoundError):
            _ = gone.image.width


def test_other_storages_are_untouched() -> None:
    file = ImageFile(ContentFile(image_bytes((13, 5))), name="plain.jpg")
    assert (file.width, file.height) == (13, 5)


# -- silent failures a newcomer meets -------------------------------------------

WITHOUT_APP = ["django.contrib.contenttypes", "django.contrib.auth", "tests.testapp"]


def test_cachedstorage_without_the_app_installed_is_an_error(tmp_path: Path) -> None:
    # Registered when ikstorage.CachedStorage is resolved, not by the app's ready().
    with override_settings(INSTALLED_APPS=WITHOUT_APP):
        found = [
            m for m in checks.run_checks(tags=[checks.Tags.caches]) if m.id == "ikstorage.E008"
        ]
        assert found == []  # no CachedStorage configured: nothing to say
    with override_settings(
        INSTALLED_APPS=WITHOUT_APP, STORAGES=storages(tmp_path), CACHES={"default": REDIS}
    ):
        found = [m for m in checks.run_checks(tags=[checks.Tags.caches]) if m.id]
    assert [m.id for m in found] == ["ikstorage.E008"]
    assert found[0].level == checks.ERROR
    assert "STORAGES['default']" in found[0].msg
    assert found[0].hint == "Add 'ikstorage' to INSTALLED_APPS."
    # With the app installed (the suite's settings) the same storages are fine.
    assert ids(STORAGES=storages(tmp_path), CACHES={"default": REDIS}) == []


def test_cachedstorage_built_without_the_app_installed_logs_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A STORAGES entry is built on first use, after `check` ran: the log tells.
    inner = CountingStorage(location=str(tmp_path))
    with caplog.at_level("WARNING", logger="ikstorage"):
        CachedStorage(inner)
        assert caplog.messages == []
        with override_settings(INSTALLED_APPS=WITHOUT_APP):
            CachedStorage(inner)
    assert len(caplog.messages) == 1
    assert caplog.messages[0].startswith("ikstorage.E008: CachedStorage is used but")


@pytest.fixture
def hooks_removed() -> Iterator[None]:
    """Django's file classes as a project without the app has them."""
    from ikstorage.patches import descriptor

    hooks.uninstall()
    descriptor.uninstall()
    try:
        yield
    finally:
        hooks.install()
        descriptor.install()


@pytest.mark.django_db
def test_without_the_app_the_storage_installs_the_hooks(
    tmp_path: Path, hooks_removed: None, caplog: pytest.LogCaptureFixture
) -> None:
    # The README's settings with the INSTALLED_APPS line forgotten: the storage,
    # looked up by its dotted path on first use, installs what the app would.
    from django.core.files.storage import default_storage

    from ikstorage.patches import descriptor

    with override_settings(INSTALLED_APPS=WITHOUT_APP, STORAGES=storages(tmp_path)):
        assert not hooks.installed()
        assert not descriptor.installed()
        with caplog.at_level("WARNING", logger="ikstorage"):
            photo = Photo.objects.create(image=ContentFile(image_bytes((64, 48)), name="a.jpg"))
        assert hooks.installed()
        assert descriptor.installed()
        assert [m.split(":")[0] for m in caplog.messages] == ["ikstorage.E008"]
        default_storage.wrapped.calls.clear()
        fresh = Photo.objects.get(pk=photo.pk)
        assert (fresh.image.width, fresh.image.height) == (64, 48)
        assert default_storage.wrapped.calls == {}  # no open, no size: the cache answered
        found = [m.id for m in checks.run_checks(tags=[checks.Tags.caches])]
        assert found.count("ikstorage.E008") == 1


@pytest.fixture
def no_caches_setting() -> Iterator[None]:
    """The project's settings module sets no ``CACHES``: Django's default applies."""
    from django.conf import Settings, settings

    saved = settings._wrapped
    settings._wrapped = Settings("tests.settings_without_caches")
    try:
        yield
    finally:
        settings._wrapped = saved


@pytest.mark.parametrize("debug", [True, False])
def test_no_caches_setting_warns_whatever_debug_says(no_caches_setting: None, debug: bool) -> None:
    from ikstorage.checks.caches import check_cache

    with override_settings(DEBUG=debug):
        found = check_cache("STORAGES['default']", "default")
    assert [m.id for m in found] == ["ikstorage.W006"]
    assert "ikstorage_prewarm cannot fill it" in found[0].msg
    assert "'socket_timeout': 0.25" in (found[0].hint or "")


def test_every_broken_spec_is_reported_with_the_caches_warnings(tmp_path: Path) -> None:
    specs = {"ok": {"width": 9}, "a": {"fil": [1, 1]}, "b": {"width": 0}}
    no_timeouts = {"BACKEND": REDIS["BACKEND"], "LOCATION": "redis://x"}
    with override_settings(
        STORAGES=storages(tmp_path, specs=specs), CACHES={"default": no_timeouts}
    ):
        found = [m for m in checks.run_checks(tags=[checks.Tags.caches]) if m.id]
    assert [m.id for m in found] == ["ikstorage.E002", "ikstorage.E002", "ikstorage.W004"]
    assert [m.msg.split(" ")[1] for m in found[:2]] == ["'a'", "'b'"]
    assert {m.obj for m in found} == {"STORAGES['default']"}
