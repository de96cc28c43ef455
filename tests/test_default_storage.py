"""Fields on ``default_storage`` (the README's setup) and the warm paths' L1 reads.

A field declared without ``storage=`` holds Django's ``default_storage``, a
``LazyObject`` whose every attribute read costs more than a warm answer. The
app's ``FieldFile.url`` and dimension hook ask the storage it wraps directly:
the same storage's answers, read on every call (a ``STORAGES`` change is seen
at once), no ``LazyObject`` forwarding on a warm page, and the profiler still
counts every L1 hit. The facade believes an L1 item only while it is live.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.db.models.fields.files import FieldFile
from django.template import Context, Template
from django.test import override_settings
from django.utils.functional import LazyObject

from ikstorage import CachedStorage
from ikstorage.patches import descriptor as fieldfiles
from ikstorage.patches.default import resolved
from tests.conftest import CountingStorage, Events
from tests.images import image_bytes
from tests.testapp.models import Photo

PAGE = Template(
    "{% for p in photos %}<img src='{{ p.image.url }}' width='{{ p.image.width }}' "
    "height='{{ p.image.height }}'>{% endfor %}"
)


def _cached_default(tmp_path: Path, **options: Any) -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "ikstorage.CachedStorage",
            "OPTIONS": {
                "storage": {
                    "BACKEND": "tests.conftest.CountingStorage",
                    "OPTIONS": {"location": str(tmp_path / "media"), "base_url": "/media/"},
                },
                **options,
            },
        }
    }


@pytest.fixture
def forwarded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The attribute names ``default_storage`` forwards through ``LazyObject.__getattr__``."""
    names: list[str] = []
    original = LazyObject.__getattr__

    def counting(self: Any, name: str) -> Any:
        if self is default_storage:
            names.append(name)
        return original(self, name)

    monkeypatch.setattr(LazyObject, "__getattr__", counting)
    return names


@pytest.mark.django_db
def test_a_warm_page_on_default_storage_asks_the_wrapped_storage_directly(
    tmp_path: Path, events: Events, forwarded: list[str]
) -> None:
    with override_settings(STORAGES=_cached_default(tmp_path)):
        assert Photo._meta.get_field("image").storage is default_storage  # type: ignore[attr-defined]
        for i in range(20):
            name = default_storage.save(f"d/{i}.jpg", ContentFile(image_bytes((30 + i, 20))))
            Photo.objects.create(image=name)
        storage = resolved(default_storage)
        assert isinstance(storage, CachedStorage)
        wrapped = storage.wrapped
        assert isinstance(wrapped, CountingStorage)
        expected = "".join(
            f"<img src='/media/d/{i}.jpg' width='{30 + i}' height='20'>" for i in range(20)
        )
        assert PAGE.render(Context({"photos": Photo.objects.all()})) == expected  # fills URLs
        default_storage.exists  # noqa: B018
        assert forwarded[-1] == "exists"  # the proxy's forwarding is seen
        wrapped.calls.clear()
        events.round_trips.clear()
        events.cache.clear()
        forwarded.clear()
        html = PAGE.render(Context({"photos": Photo.objects.all()}))
    assert html == expected
    assert forwarded == []  # no attribute of default_storage went through the proxy
    assert wrapped.calls == {}
    assert events.round_trips == {}
    # url and dimensions of each image, counted by the profiler
    assert (events.cache["l1_hits"], events.cache["l1_misses"]) == (40, 0)


@pytest.mark.django_db
def test_a_storages_change_is_seen_by_a_file_already_bound(tmp_path: Path) -> None:
    with override_settings(STORAGES=_cached_default(tmp_path)):
        name = default_storage.save("d/a.jpg", ContentFile(image_bytes((30, 20))))
        photo = Photo.objects.create(image=name)
        file = photo.image
        assert file.url == "/media/d/a.jpg"
        other = {
            "default": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(tmp_path), "base_url": "/other/"},
            }
        }
        with override_settings(STORAGES=other):
            assert photo.image is file
            assert file.storage is default_storage  # Django's attribute, unchanged
            assert file.url == "/other/d/a.jpg"  # as Django answers: the storage of now
            assert isinstance(resolved(default_storage), FileSystemStorage)


def test_url_is_djangos_answer_and_error(tmp_path: Path) -> None:
    storage = FileSystemStorage(location=str(tmp_path), base_url="/m/")
    photo = Photo(image="x/y z.jpg")
    photo.image.storage = storage
    assert photo.image.url == storage.url("x/y z.jpg")
    with pytest.raises(ValueError, match="'image' attribute has no file"):
        Photo().image.url  # noqa: B018
    assert FieldFile.url.__doc__ == fieldfiles._originals["url"].__doc__


def test_url_patch_is_reversible() -> None:
    patched = FieldFile.__dict__["url"]
    assert patched.fget.ikstorage_hook is True
    fieldfiles.uninstall()
    try:
        assert not hasattr(FieldFile.__dict__["url"].fget, "ikstorage_hook")
    finally:
        fieldfiles.install()
    assert FieldFile.__dict__["url"].fget.ikstorage_hook is True


def test_an_expired_l1_item_is_not_believed_on_the_warm_paths(
    fs: CountingStorage, events: Events
) -> None:
    storage = CachedStorage(storage=fs, local_timeout=0.2)
    name = storage.save("e/a.jpg", ContentFile(image_bytes((31, 17))))
    assert storage.url(name) == "/media/e/a.jpg"
    events.round_trips.clear()
    assert storage.url(name) == "/media/e/a.jpg"
    assert storage.image_dimensions(name) == (31, 17)
    assert events.round_trips == {}  # live in L1: no round trip
    time.sleep(0.3)  # past local_timeout: L1's items expired, L2 still has them
    fs.calls.clear()
    assert storage.image_dimensions(name) == (31, 17)
    assert storage.url(name) == "/media/e/a.jpg"
    # both expired facts asked L2 again: the record, with its URL as a sibling
    assert events.round_trips == {"get_many": 1}
    assert fs.calls == {}
