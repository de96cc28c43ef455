"""Identities of storages other than S3: never shared between two that hold different
files, the same for the same configuration, and named by ``OPTIONS["identity"]``
where nothing can be derived (``manage.py check`` says so: ``ikstorage.W005``)."""

from __future__ import annotations

import enum
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from django.core import checks
from django.core.files.base import ContentFile
from django.core.files.storage import InMemoryStorage
from django.test import override_settings

from ikstorage import CachedStorage
from ikstorage.backends.identity import instance_token, stable
from ikstorage.exceptions import ConfigurationError
from ikstorage.profiler import count_calls
from tests.identity_storages import FolderStorage, UnnamedStorage

REDIS = {
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    "LOCATION": "redis://x",
    "OPTIONS": {"socket_timeout": 0.25, "socket_connect_timeout": 0.25},
}


def test_two_memory_storages_never_answer_for_each_other() -> None:
    one, two = InMemoryStorage(), InMemoryStorage()
    first = CachedStorage(storage=one)
    first.save("x.txt", ContentFile(b"12345"))
    assert first.exists("x.txt") is True
    second = CachedStorage(storage=two)
    with count_calls() as calls:
        assert second.exists("x.txt") is False
        assert two.exists("x.txt") is False
    assert calls.storage == {"exists": 1}
    assert first.core.keys.record("x.txt") != second.core.keys.record("x.txt")
    # One InMemoryStorage behind two CachedStorages is one storage: its records are shared.
    again = CachedStorage(storage=one)
    with count_calls() as calls:
        assert again.size("x.txt") == 5
    assert calls.storage == {}
    assert again.core.identity == first.core.identity


def test_a_deconstructible_storage_is_known_by_its_arguments(tmp_path: Path) -> None:
    one = CachedStorage(storage=FolderStorage(location=str(tmp_path / "a")))
    same = CachedStorage(storage=FolderStorage(location=str(tmp_path / "a")))
    other = CachedStorage(storage=FolderStorage(location=str(tmp_path / "b")))
    one.save("x.txt", ContentFile(b"12345"))
    with count_calls() as calls:
        assert same.size("x.txt") == 5
        assert same.exists("x.txt") is True
    assert calls.storage == {}
    with count_calls() as calls:
        assert other.exists("x.txt") is False
    assert calls.storage == {"exists": 1}
    assert one.core.identity == same.core.identity != other.core.identity
    assert str(tmp_path) not in one.core.identity  # arguments are digested: they may be secret
    secret = CachedStorage(storage=FolderStorage(location=str(tmp_path), password="hunter2"))
    assert "hunter2" not in secret.core.identity


def test_a_storage_without_an_identity_keeps_its_records_to_itself(tmp_path: Path) -> None:
    inner = UnnamedStorage(location=str(tmp_path))
    one = CachedStorage(storage=inner)
    two = CachedStorage(storage=UnnamedStorage(location=str(tmp_path)))
    one.save("x.txt", ContentFile(b"12345"))
    assert one.core.files.identity() is None
    assert one.core.identity != two.core.identity
    assert str(id(inner)) not in one.core.identity  # id() is reused: forks, garbage
    with count_calls() as calls:
        assert two.size("x.txt") == 5
    assert calls.storage == {"exists": 1, "size": 1}
    assert CachedStorage(storage=inner).core.identity == one.core.identity


def test_the_identity_option_names_a_storage(tmp_path: Path) -> None:
    one = CachedStorage(storage=UnnamedStorage(location=str(tmp_path)), identity="photos")
    two = CachedStorage(storage=UnnamedStorage(location=str(tmp_path)), identity="photos")
    other = CachedStorage(storage=UnnamedStorage(location=str(tmp_path)), identity="avatars")
    one.save("x.txt", ContentFile(b"12345"))
    with count_calls() as calls:
        assert two.size("x.txt") == 5
    assert calls.storage == {}
    assert one.core.identity == two.core.identity != other.core.identity
    # Added to a derived identity, it keeps apart storages that are otherwise the same.
    plain = CachedStorage(storage=FolderStorage(location=str(tmp_path)))
    named = CachedStorage(storage=FolderStorage(location=str(tmp_path)), identity="staging")
    assert plain.core.identity != named.core.identity


@pytest.mark.parametrize("bad", ["", "  ", 5, b"photos", ["photos"]])
def test_the_identity_option_is_a_name(tmp_path: Path, bad: Any) -> None:
    with pytest.raises(ConfigurationError, match="'identity' must be a non-empty string"):
        CachedStorage(storage=InMemoryStorage(), identity=bad)


def storages(inner: dict[str, Any], **options: Any) -> dict[str, Any]:
    return {
        "default": {"BACKEND": "ikstorage.CachedStorage", "OPTIONS": {"storage": inner, **options}},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def found(**settings: Any) -> list[checks.CheckMessage]:
    with override_settings(CACHES={"default": REDIS}, **settings):
        return [m for m in checks.run_checks(tags=[checks.Tags.caches]) if m.id]


def test_the_check_warns_where_no_identity_can_be_derived(tmp_path: Path) -> None:
    options = {"location": str(tmp_path)}
    unnamed = {"BACKEND": "tests.identity_storages.UnnamedStorage", "OPTIONS": options}
    messages = found(STORAGES=storages(unnamed))
    assert [m.id for m in messages] == ["ikstorage.W005"]
    assert "tests.identity_storages.UnnamedStorage" in messages[0].msg
    assert "OPTIONS['identity']" in messages[0].hint
    assert found(STORAGES=storages(unnamed, identity="photos")) == []
    # Arguments known only by their address derive nothing either.
    hooked = {"BACKEND": "tests.identity_storages.FolderStorage", "OPTIONS": {**options}}
    hooked["OPTIONS"]["hook"] = lambda: None
    assert [m.id for m in found(STORAGES=storages(hooked))] == ["ikstorage.W005"]
    folder = {"BACKEND": "tests.identity_storages.FolderStorage", "OPTIONS": options}
    memory = {"BACKEND": "django.core.files.storage.InMemoryStorage"}
    assert found(STORAGES=storages(folder)) == []
    assert found(STORAGES=storages(memory)) == []  # per instance by design: its files are too


class Colour(enum.Enum):
    RED = 1


def module_function() -> None:
    """A function known by its import path."""


def test_stable_spells_arguments_the_same_in_every_process(tmp_path: Path) -> None:
    assert stable({"b": [1, 2.5], "a": (None, True)}) == stable({"a": (None, True), "b": [1, 2.5]})
    assert stable({1, 2, 3}) == stable({3, 2, 1})
    assert stable(1) != stable(True) != stable("1")
    assert stable(PurePosixPath("a/b")) == "path:a/b"
    assert stable(Colour.RED) == "tests.test_identity.Colour.RED"
    assert stable(module_function) == "callable:tests.test_identity.module_function"
    assert stable(FolderStorage(location="x")) == stable(FolderStorage(location="x"))
    for unstable in (object(), lambda: None, [1, object()], {"k": object()}, UnnamedStorage("x")):
        assert stable(unstable) is None


def test_instance_tokens_are_per_object_and_never_reused() -> None:
    one, two = InMemoryStorage(), InMemoryStorage()
    assert instance_token(one) == instance_token(one) != instance_token(two)
    unhashable: list[int] = []  # neither hashable nor weakly referenceable
    assert instance_token(unhashable) == instance_token(unhashable) != instance_token([])
