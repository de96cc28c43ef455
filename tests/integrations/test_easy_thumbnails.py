"""easy-thumbnails on S3: S3 calls per page of thumbnails, plain ``S3Storage`` vs ikstorage.

The usage is easy-thumbnails' own: a ``ThumbnailerImageField``, thumbnails in
the default storage (``THUMBNAIL_DEFAULT_STORAGE_ALIAS`` names no alias of
``STORAGES``, so easy-thumbnails uses the default storage), and the tag
``{% thumbnail p.image 100x100 crop as t %}`` printing ``url``, ``width`` and
``height``.

easy-thumbnails knows from its database whether a thumbnail exists, so it asks
the storage nothing for that. Its ``ThumbnailFile`` overrides
``_get_image_dimensions``: it opens the file and reads it, or reads the
database when ``THUMBNAIL_CACHE_DIMENSIONS`` is on. ikstorage wraps that
override too (``ikstorage.hooks``), so with default settings a warm page asks
S3 nothing.
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
    engine,
    render_in_new_process,
    reset_world,
    run,
)

pytest.importorskip("easy_thumbnails", reason="easy-thumbnails is not installed")

pytestmark = pytest.mark.django_db

PAGE = (
    "{% load thumbnail %}{% for p in photos %}{% thumbnail p.image 100x100 crop as t %}"
    '<img src="{{ t.url }}" width="{{ t.width }}" height="{{ t.height }}">'
    "{% endfor %}"
)

#: The first render: read the source (Head, Head, Get), delete any stale
#: thumbnail (Delete), save the new one (Put); its dimensions come from the
#: image in hand. The same with and without ikstorage: every call is a read
#: of file contents or a write.
COLD = each(HeadObject=2, GetObject=1, DeleteObject=1, PutObject=1)
#: ``width`` on a fresh ``ThumbnailFile``: open it and read it (Head, Head, Get).
READ_DIMENSIONS = each(HeadObject=2, GetObject=1)


def template() -> Template:
    return engine("easy_thumbnails.templatetags.thumbnail").from_string(PAGE)


def plain_and_cached(s3: Any) -> tuple[Costs, Costs, str]:
    from tests.integrations.thumbapp.models import EasyPhoto

    plain = run(EasyPhoto, template(), cached=False)
    reset_world(s3)
    cached = run(EasyPhoto, template(), cached=True)
    assert cached.html == plain.html
    assert cached.html.count(f'<img src="{MEDIA_URL}easy/p') == PAGE_SIZE
    assert cached.html.count('width="100" height="100"') == PAGE_SIZE
    return plain.costs, cached.costs, cached.html


def test_default_settings(s3: Any) -> None:
    """Plain, every render reads every thumbnail for its width; ikstorage answers from records."""
    plain, cached, _ = plain_and_cached(s3)
    assert plain == Costs(
        upload=each(PutObject=1),
        cold=COLD,
        warm=READ_DIMENSIONS,
        new_process=READ_DIMENSIONS,
        cache_flushed=READ_DIMENSIONS,
    )
    assert cached == Costs(
        upload=each(PutObject=1),
        cold=COLD,
        warm={},
        new_process={},
        # The record of each thumbnail, refilled by one ranged GET.
        cache_flushed=each(GetObject=1),
    )


def test_without_the_hook_ikstorage_saves_nothing_here(s3: Any, settings: Any) -> None:
    """``IKSTORAGE_PATCH_IMAGEFILE = False``: easy-thumbnails reads each thumbnail again."""
    settings.IKSTORAGE_PATCH_IMAGEFILE = False
    _, cached, _ = plain_and_cached(s3)
    assert cached.warm == READ_DIMENSIONS


def test_dimensions_cached_in_the_database(s3: Any, settings: Any) -> None:
    """easy-thumbnails' own answer for remote storages: dimensions in its table."""
    settings.THUMBNAIL_CACHE_DIMENSIONS = True
    plain, cached, _ = plain_and_cached(s3)
    expected = Costs(upload=each(PutObject=1), cold=COLD, warm={}, new_process={}, cache_flushed={})
    assert plain == expected
    assert cached == expected


def test_switching_an_existing_site(s3: Any) -> None:
    """Every thumbnail is made again once: easy-thumbnails keys its rows by storage class."""
    from tests.integrations.thumbapp.models import EasyPhoto

    plain = run(EasyPhoto, template(), cached=False)
    first = render_in_new_process(EasyPhoto, template(), cached=True)
    assert first.s3 == COLD
    assert first.html == plain.html
    assert render_in_new_process(EasyPhoto, template(), cached=True).s3 == {}
