"""The contract number: a page of 100 thumbnails costs no S3 call, warm or in a new process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.template import Context, Template

from ikstorage.cache import clear_local
from ikstorage.core import batching
from ikstorage.profiler import count_calls
from tests.conftest import Events
from tests.templatetags.conftest import make_storage, picture_bytes
from tests.testapp.models import Photo

PAGE = Template(
    "{% load ikstorage %}{% for p in photos %}"
    '{% with t=p.image|rendition:"thumb" %}'
    '<a href="{{ t.url }}" data-size="{{ t.width }}x{{ t.height }}">'
    '{% picture p.image "thumb" formats="avif webp jpeg" alt=p.title %}</a>'
    "{% endwith %}{% endfor %}"
)


@pytest.fixture
def gallery(s3_storage: Any, monkeypatch: pytest.MonkeyPatch, settings: Any) -> Iterator[Any]:
    # The test settings' locmem cache holds 300 entries (Django's default) and would
    # cull records of this page; a shared cache in production holds far more.
    settings.CACHES = {
        **settings.CACHES,
        "page": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "page",
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        },
    }
    storage = make_storage(
        s3_storage,
        monkeypatch,
        cache="page",
        specs={"thumb": {"fill": [200, 150], "formats": ["webp", "jpeg"]}},
    )
    caches["page"].clear()
    data = picture_bytes((240, 180))
    with count_calls() as calls:
        for i in range(100):
            storage.save(f"g/{i}.jpg", ContentFile(data))
    assert calls.s3 == {"PutObject": 300}  # the source and two renditions each
    Photo.objects.bulk_create(Photo(title=f"#{i}", image=f"g/{i}.jpg") for i in range(100))
    batching.clear()  # the instances built for bulk_create were noted
    yield storage
    caches["page"].clear()


def page() -> str:
    return PAGE.render(Context({"photos": Photo.objects.order_by("pk")}))


@pytest.mark.django_db
def test_a_page_of_100_thumbnails_costs_no_s3_call(gallery: Any, events: Events) -> None:
    # Warm: the records were written through on save, rendition URLs included.
    events.round_trips.clear()
    events.cache.clear()
    with count_calls() as calls:
        html = page()
    assert calls.s3 == {}
    assert events.round_trips == {}
    # Two record lookups an image, all in L1: the filter's, and the picture's (one a
    # tag: which formats exist and the webp and jpeg renditions come from one record).
    assert events.cache == {"l1_hits": 200, "l1_misses": 0}
    assert html.count("<picture>") == 100
    assert html.count('<source type="image/webp"') == 100
    assert "image/avif" not in html  # the spec makes none: no <source> for it
    assert html.count('width="200" height="150" alt="#') == 100
    assert html.count('data-size="200x150"') == 100
    assert 'alt="#99" loading="lazy" decoding="async"></picture></a>' in html

    # A new process sharing the cache: L1 empty, L2 kept.
    clear_local()
    batching.clear()
    events.round_trips.clear()
    events.cache.clear()
    with count_calls() as calls:
        fresh = page()
    assert fresh == html
    assert calls.s3 == {}
    # The first lookup misses L1 and fetches the records and URLs of the 100 names
    # noted as the Photo instances loaded, in one get_many; every other lookup is L1.
    assert events.round_trips == {"get_many": 1}
    assert events.cache == {"l1_hits": 199, "l1_misses": 1, "l2_hits": 1, "l2_misses": 0}

    events.round_trips.clear()
    with count_calls() as calls:
        assert page() == html
    assert calls.s3 == {}
    assert events.round_trips == {}


@pytest.mark.django_db
def test_signed_rendition_urls_come_in_one_more_round_trip(
    s3: Any, monkeypatch: pytest.MonkeyPatch, settings: Any, events: Events
) -> None:
    from storages.backends.s3 import S3Storage

    settings.CACHES = {
        **settings.CACHES,
        "page": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "signed"},
    }
    storage = make_storage(
        S3Storage(bucket_name="media", querystring_auth=True),
        monkeypatch,
        cache="page",
        specs={"thumb": {"fill": [200, 150], "formats": ["webp", "jpeg"]}},
    )
    caches["page"].clear()
    data = picture_bytes((240, 180))
    for i in range(20):
        storage.save(f"s/{i}.jpg", ContentFile(data))
    Photo.objects.bulk_create(Photo(title=f"#{i}", image=f"s/{i}.jpg") for i in range(20))
    batching.clear()
    html = page()  # signs every rendition URL once, and keeps it in the cache
    assert html.count("&amp;Expires=") == 60  # signed: the filter's thumb, the webp and the jpeg
    # A new process: the records of the page's names in one get_many (the batch), then
    # the signed URLs of their renditions, which the records cannot hold, in one more.
    clear_local()
    batching.clear()
    events.round_trips.clear()
    with count_calls() as calls:
        assert page() == html
    assert calls.s3 == {}
    assert events.round_trips == {"get_many": 2}
    caches["page"].clear()
