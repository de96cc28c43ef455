"""One cache round trip for a page, with no view change (names noted as instances load)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.signals import request_started
from django.db.models.fields.files import FileDescriptor
from django.template import Context, Template
from django.test import override_settings

from ikstorage import CachedStorage
from ikstorage.cache import clear_local
from ikstorage.core import batching
from ikstorage.patches import descriptor as fieldfiles
from tests.conftest import CountingStorage, Events
from tests.images import image_bytes
from tests.testapp.models import Photo

PAGE = Template(
    "{% for p in photos %}<img src='{{ p.image.url }}' width='{{ p.image.width }}' "
    "height='{{ p.image.height }}'>{% endfor %}"
)


@pytest.fixture
def gallery(fs: CountingStorage, monkeypatch: pytest.MonkeyPatch) -> CachedStorage:
    storage = CachedStorage(storage=fs)
    monkeypatch.setattr(Photo._meta.get_field("image"), "storage", storage)
    for i in range(100):
        storage.save(f"g/{i}.jpg", ContentFile(image_bytes((20 + i, 10))))
        storage.url(f"g/{i}.jpg")
    batching.clear()
    return storage


@pytest.mark.django_db
def test_a_new_process_renders_a_queryset_page_in_one_round_trip(
    gallery: CachedStorage, fs: CountingStorage, events: Events
) -> None:
    Photo.objects.bulk_create(Photo(image=f"g/{i}.jpg") for i in range(100))
    batching.clear()  # the instances built for bulk_create were noted
    clear_local()  # a new process: L2 only
    fs.calls.clear()
    events.round_trips.clear()
    html = PAGE.render(Context({"photos": Photo.objects.all()}))
    assert html.count("<img") == 100
    assert "width='119'" in html
    assert events.round_trips == {"get_many": 1}
    assert fs.calls == {}
    # Warm: nothing at all.
    events.round_trips.clear()
    PAGE.render(Context({"photos": Photo.objects.all()}))
    assert events.round_trips == {}


@pytest.mark.django_db
def test_without_batching_it_is_one_round_trip_per_image(
    gallery: CachedStorage, events: Events
) -> None:
    Photo.objects.bulk_create(Photo(image=f"g/{i}.jpg") for i in range(100))
    batching.clear()  # the instances built for bulk_create were noted
    clear_local()
    events.round_trips.clear()
    with override_settings(IKSTORAGE_BATCH_LOOKUPS=False):
        assert not fieldfiles.installed()
        PAGE.render(Context({"photos": Photo.objects.all()}))
    assert fieldfiles.installed()
    assert events.round_trips == {"get_many": 100}


def test_explicit_prefetch_still_works(gallery: CachedStorage, events: Events) -> None:
    clear_local()
    events.round_trips.clear()
    gallery.prefetch(f"g/{i}.jpg" for i in range(100))
    assert events.round_trips == {"get_many": 1}
    for i in range(100):
        assert gallery.image_dimensions(f"g/{i}.jpg") == (20 + i, 10)
    assert events.round_trips == {"get_many": 1}


def test_names_noted_in_one_context_never_reach_another(gallery: CachedStorage) -> None:
    noted = threading.Event()
    go_on = threading.Event()
    seen: list[list[str]] = []

    def request_a() -> None:
        Photo(image="g/1.jpg")
        noted.set()
        assert go_on.wait(5)
        seen.append(batching.take(gallery))

    def request_b() -> None:
        assert noted.wait(5)
        seen.append(batching.take(gallery))
        go_on.set()

    threads = [threading.Thread(target=request_a), threading.Thread(target=request_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert seen == [[], ["g/1.jpg"]]


@pytest.mark.django_db
def test_a_new_request_starts_with_nothing_noted(gallery: CachedStorage) -> None:
    Photo(image="g/1.jpg")
    request_started.send(sender=None)
    assert batching.take(gallery) == []


def test_notes_are_bounded(gallery: CachedStorage) -> None:
    for i in range(batching.MAX_PENDING + 50):
        Photo(image=f"n/{i}.jpg")
    assert len(batching.take(gallery)) == batching.MAX_PENDING
    assert batching.take(gallery) == []


def test_old_notes_are_dropped(gallery: CachedStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    Photo(image="g/1.jpg")
    clock = batching.time.monotonic() + batching.MAX_AGE + 1
    monkeypatch.setattr(batching.time, "monotonic", lambda: clock)
    assert batching.take(gallery) == []


def test_other_storages_are_not_noted(fs: CountingStorage) -> None:
    batching.clear()
    Photo(image="plain.jpg")  # the field's own storage: the default FileSystemStorage
    assert batching._pending.get() is None


# -- the descriptor's fast path returns exactly what Django's path returns -------------


def test_fast_path_is_the_same_object_and_falls_back(gallery: CachedStorage) -> None:
    photo = Photo(image="g/1.jpg")
    first = photo.image
    assert photo.image is first
    other = Photo(image="g/2.jpg")
    other.image = first  # a FieldFile of another instance: Django rebinds it
    assert other.image is first
    assert first.instance is other
    photo.image = ContentFile(b"x", name="new.jpg")  # a plain File: Django wraps it
    wrapped = photo.image
    assert wrapped.name == "new.jpg"
    assert wrapped._committed is False
    assert Photo.image is Photo.__dict__["image"]  # class access returns the descriptor


def test_install_is_reversible() -> None:
    fieldfiles.uninstall()
    try:
        assert not hasattr(FileDescriptor.__get__, "ikstorage_hook")
        assert not hasattr(FileDescriptor.__set__, "ikstorage_hook")
    finally:
        fieldfiles.install()
    assert FileDescriptor.__get__.ikstorage_hook is True  # type: ignore[attr-defined]
    assert FileDescriptor.__set__.ikstorage_hook is True  # type: ignore[attr-defined]


def test_batched_lookup_of_missing_names(gallery: CachedStorage, fs: CountingStorage) -> None:
    """Noted names L2 does not know are probed when asked, not before."""
    clear_local()
    photos: list[Any] = [Photo(image=f"g/{i}.jpg") for i in range(3)]
    photos.append(Photo(image="g/missing.jpg"))
    fs.calls.clear()
    assert photos[0].image.width == 20
    assert fs.calls == {}
    assert photos[3].image.storage.exists("g/missing.jpg") is False
    assert fs.calls == {"exists": 1}


def test_siblings_this_process_holds_are_not_asked_again(
    gallery: CachedStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.cache import caches

    clear_local()
    keys = [gallery.core.keys.record(f"g/{i}.jpg") for i in range(11)]
    held = gallery.core.cache.get_many(keys[:10])  # this process now holds ten records
    assert len(held) == 10
    sent: list[list[str]] = []
    l2 = caches["default"]
    real = l2.get_many
    monkeypatch.setattr(l2, "get_many", lambda ks, **kw: sent.append(list(ks)) or real(ks, **kw))
    assert gallery.core.cache.get(keys[10], siblings=keys) is not None
    assert sent == [[keys[10]]]  # one key asked for, not the ten held
    assert all(gallery.core.cache.local(k) == held[k] for k in keys[:10])


def test_deleting_nothing_costs_no_round_trip(gallery: CachedStorage, events: Events) -> None:
    events.round_trips.clear()
    gallery.core.cache.delete_many([])
    assert events.round_trips == {}
