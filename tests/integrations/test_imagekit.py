"""django-imagekit on S3: S3 calls per page of thumbnails, plain ``S3Storage`` vs ikstorage.

The usage is imagekit's own: a plain ``ImageField`` source and an
``ImageSpecField`` (``ResizeToFill(100, 100)``, JPEG), the spec's files in the
default storage (``IMAGEKIT_DEFAULT_FILE_STORAGE``, "default") and imagekit's
existence cache in the default Django cache (``IMAGEKIT_CACHE_BACKEND``), a
template printing ``thumb.url``, ``thumb.width`` and ``thumb.height``.

Why imagekit costs so much on plain S3: every ``p.thumb`` access builds a new
``ImageCacheFile``, so ``width`` and ``height`` each read the thumbnail (two
``HeadObject`` and a ``GetObject`` through ``S3Storage.open``), on every
render. ikstorage answers both from the record written when the thumbnail
was saved, and the ``ImageFile`` hook reaches ``ImageCacheFile`` unchanged.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.template import Template

from tests.integrations.pages import (
    MEDIA_URL,
    PAGE_SIZE,
    Costs,
    each,
    render_in_new_process,
    reset_world,
    run,
)

pytest.importorskip("imagekit", reason="django-imagekit is not installed")

pytestmark = pytest.mark.django_db

PAGE = (
    "{% for p in photos %}"
    '<img src="{{ p.thumb.url }}" width="{{ p.thumb.width }}" height="{{ p.thumb.height }}">'
    "{% endfor %}"
)


def template() -> Template:
    return Template(PAGE)


def test_just_in_time(s3: Any) -> None:
    """Default strategy: the first render generates, later renders only read metadata."""
    from tests.integrations.thumbapp.models import KitPhoto

    plain = run(KitPhoto, template(), cached=False)
    assert plain.costs == Costs(
        upload=each(PutObject=1),
        # exists? (Head); read the source (Head, Head, Get); save the thumbnail
        # (Put); width and height each read the thumbnail (Head, Head, Get).
        cold=each(HeadObject=7, GetObject=3, PutObject=1),
        warm=each(HeadObject=4, GetObject=2),
        new_process=each(HeadObject=4, GetObject=2),
        # imagekit's "it exists" lived in the flushed cache: one more HeadObject.
        cache_flushed=each(HeadObject=5, GetObject=2),
    )
    reset_world(s3)

    cached = run(KitPhoto, template(), cached=True)
    assert cached.costs == Costs(
        upload=each(PutObject=1),
        # exists? (one ranged Get: a 404); read the source; save the thumbnail,
        # whose record (size, width, height) is written from the saved bytes.
        cold=each(GetObject=2, HeadObject=2, PutObject=1),
        warm={},
        new_process={},
        # The existence probe of each thumbnail refills its record, dimensions included.
        cache_flushed=each(GetObject=1),
    )
    # The new process read L2: one get_many per thumbnail, its record and URL together.
    assert cached.new_process_l2_round_trips == PAGE_SIZE
    assert cached.html == plain.html
    assert cached.html.count(f'<img src="{MEDIA_URL}CACHE/images/kit/') == PAGE_SIZE
    assert cached.html.count('width="100" height="100"') == PAGE_SIZE


def test_optimistic(s3: Any) -> None:
    """Optimistic strategy: thumbnails are made when the source is saved, never checked."""
    from tests.integrations.thumbapp.models import OptimisticKitPhoto

    plain = run(OptimisticKitPhoto, template(), cached=False)
    assert plain.costs == Costs(
        # The source (Put); exists? (Head); read the source back (Head, Head,
        # Get); the thumbnail (Put).
        upload=each(PutObject=2, HeadObject=3, GetObject=1),
        cold=each(HeadObject=4, GetObject=2),
        warm=each(HeadObject=4, GetObject=2),
        new_process=each(HeadObject=4, GetObject=2),
        cache_flushed=each(HeadObject=4, GetObject=2),
    )
    reset_world(s3)

    cached = run(OptimisticKitPhoto, template(), cached=True)
    assert cached.costs == Costs(
        # exists? is one ranged Get (a 404) instead of a HeadObject.
        upload=each(PutObject=2, GetObject=2, HeadObject=2),
        cold={},
        warm={},
        new_process={},
        # Optimistic never asks whether the file exists; width asks for the record.
        cache_flushed=each(GetObject=1),
    )
    assert cached.new_process_l2_round_trips == PAGE_SIZE
    assert cached.html == plain.html
    assert cached.html.count('width="100" height="100"') == PAGE_SIZE


def test_switching_an_existing_site(s3: Any) -> None:
    """Thumbnails made before ikstorage keep their names; each costs one probe, once."""
    from tests.integrations.thumbapp.models import KitPhoto

    plain = run(KitPhoto, template(), cached=False)
    first = render_in_new_process(KitPhoto, template(), cached=True)
    assert first.s3 == each(GetObject=1)
    assert first.html == plain.html
    assert render_in_new_process(KitPhoto, template(), cached=True).s3 == {}
