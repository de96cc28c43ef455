"""sorl-thumbnail on S3: S3 calls per page of thumbnails, plain ``S3Storage`` vs ikstorage.

The usage is sorl-thumbnail's own: its ``ImageField``, thumbnails in the
default storage (``THUMBNAIL_STORAGE``, "default"), the ``cached_db``
key-value store (the default: the Django cache in front of a table), and
``{% thumbnail p.image "100x100" as im %}`` printing ``url``, ``width`` and
``height``.

sorl keeps each thumbnail's name and size in its key-value store, so once a
thumbnail is made a page asks the storage nothing, with or without ikstorage.
ikstorage changes two things here: the first render asks "exists?" with one
ranged ``GetObject`` instead of a ``HeadObject`` (the same count), and, since
sorl derives thumbnail names from the storage's class, thumbnails made before
switching to ikstorage are made once more under new names.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.template import Template
from django.test import override_settings

from tests.integrations.pages import (
    MEDIA_URL,
    PAGE_SIZE,
    Costs,
    Run,
    each,
    engine,
    forget_process_state,
    render_in_new_process,
    render_page,
    reset_world,
    run,
    source_size,
    storages_setting,
)

pytest.importorskip("sorl.thumbnail", reason="sorl-thumbnail is not installed")

pytestmark = pytest.mark.django_db

PAGE = (
    '{% load thumbnail %}{% for p in photos %}{% thumbnail p.image "100x100" as im %}'
    '<img src="{{ im.url }}" width="{{ im.width }}" height="{{ im.height }}">'
    "{% endthumbnail %}{% endfor %}"
)
#: A thumbnail's name: a hash of the source's name, its storage's class and the options.
THUMBNAIL_NAME = re.compile(r"cache/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{32}\.jpg")

PLAIN = Costs(
    upload=each(PutObject=1),
    # exists? (Head); read the source (Head, Head, Get); save the thumbnail (Put).
    cold=each(HeadObject=3, GetObject=1, PutObject=1),
    warm={},
    new_process={},
    cache_flushed={},  # the key-value store falls back to its table
)
CACHED = Costs(
    upload=each(PutObject=1),
    # exists? is one ranged Get (a 404) instead of a HeadObject.
    cold=each(GetObject=2, HeadObject=2, PutObject=1),
    warm={},
    new_process={},
    cache_flushed={},
)


def template() -> Template:
    return engine("sorl.thumbnail.templatetags.thumbnail").from_string(PAGE)


def thumbnail_names(html: str) -> list[str]:
    return THUMBNAIL_NAME.findall(html)


def expected_sizes() -> list[str]:
    """What sorl makes of each source: 100 wide, the height keeping the aspect ratio."""
    sizes = [source_size(index) for index in range(PAGE_SIZE)]
    return [f'width="100" height="{round(100 * h / w)}"' for w, h in sizes]


def test_page(s3: Any) -> None:
    from tests.integrations.thumbapp.models import SorlPhoto

    plain = run(SorlPhoto, template(), cached=False)
    reset_world(s3)
    cached = run(SorlPhoto, template(), cached=True)
    assert plain.costs == PLAIN
    assert cached.costs == CACHED
    # The same page but for the thumbnails' names, which hash the storage class.
    assert THUMBNAIL_NAME.sub("…", cached.html) == THUMBNAIL_NAME.sub("…", plain.html)
    assert set(thumbnail_names(cached.html)).isdisjoint(thumbnail_names(plain.html))
    assert cached.html.count(f'<img src="{MEDIA_URL}cache/') == PAGE_SIZE
    assert re.findall(r'width="\d+" height="\d+"', cached.html) == expected_sizes()


def test_switching_an_existing_site(s3: Any) -> None:
    """Every thumbnail is made once more, under a new name; the old ones stay in the bucket."""
    from tests.integrations.thumbapp.models import SorlPhoto

    plain = run(SorlPhoto, template(), cached=False)
    first = render_in_new_process(SorlPhoto, template(), cached=True)
    assert first.s3 == CACHED.cold
    assert set(thumbnail_names(first.html)).isdisjoint(thumbnail_names(plain.html))
    assert render_in_new_process(SorlPhoto, template(), cached=True).s3 == {}
    listed = s3.list_objects_v2(Bucket="media")["KeyCount"]
    assert listed == 3 * PAGE_SIZE  # sources, old thumbnails, new thumbnails


def after_thumbnail_clear(s3: Any, *, cached: bool) -> tuple[Run, dict[str, int], str]:
    """A run, then ``manage.py thumbnail clear`` (empties the key-value store), then a page."""
    from sorl.thumbnail import default

    from tests.integrations.thumbapp.models import SorlPhoto

    done = run(SorlPhoto, template(), cached=cached)
    with override_settings(STORAGES=storages_setting(cached=cached)):
        default.kvstore.clear()
        forget_process_state()
        page = render_page(SorlPhoto, template())
    return done, page.s3, page.html


#: With the store empty, sorl finds each thumbnail in the storage (exists?) and
#: learns the sizes of the source and the thumbnail by reading both files
#: (Head, Head, Get each).
AFTER_CLEAR_PLAIN = each(HeadObject=5, GetObject=2)
#: exists? is a ranged Get; both files are still read whole.
AFTER_CLEAR_CACHED = each(GetObject=3, HeadObject=4)


def test_after_the_key_value_store_is_cleared(s3: Any) -> None:
    """ikstorage barely helps: sorl reads the sizes of the source and thumbnail from the files."""
    plain, plain_calls, plain_html = after_thumbnail_clear(s3, cached=False)
    reset_world(s3)
    cached, cached_calls, cached_html = after_thumbnail_clear(s3, cached=True)
    assert plain_calls == AFTER_CLEAR_PLAIN
    assert cached_calls == AFTER_CLEAR_CACHED
    assert plain_html == plain.html
    assert cached_html == cached.html
