"""The tags' markup held to the HTML rules (:mod:`.markup_rules`), with the docs' own specs.

A ``fill`` thumbnail and a ``fit`` large image share an aspect ratio only on
a source of the thumbnail's ratio, and a spec with fewer formats leaves a
``<source>`` without the large image: the tags leave such candidates out and
warn once per set of specs.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from django.template import Context, Template

from ikstorage.exceptions import ConfigurationError, MarkupWarning
from tests.templatetags.conftest import make_storage
from tests.templatetags.markup_rules import Candidate, Files, check_pictures, parse_srcset
from tests.templatetags.test_tags import IMG_DEFAULTS, saved, urls
from tests.testapp.models import Photo

MIME = {"webp": "image/webp", "jpeg": "image/jpeg", "avif": "image/avif", "png": "image/png"}
#: docs/templates.md's and docs/quickstart.md's thumb, and the large of docs/renditions.md.
DOCS_SPECS = {
    "thumb": {"fill": [200, 150], "formats": ["webp", "jpeg"]},
    "large": {"fit": [900, 900]},
}
SAME_FORMATS = {
    "thumb": {"fill": [200, 150], "formats": ["webp", "jpeg"]},
    "medium": {"fit": [600, 600], "formats": ["webp", "jpeg"]},
    "large": {"fit": [900, 900], "formats": ["webp", "jpeg"]},
}


def render(source: str, **context: Any) -> str:
    return Template("{% load ikstorage %}" + source).render(Context(context))


def files(storage: Any, name: str) -> Files:
    record = storage.metadata(name)
    known: Files = {r.url: (r.width, r.height, MIME[r.format]) for r in record.renditions}
    known[storage.url(name)] = (*record.dimensions, "image/jpeg")
    return known


def rendered(source: str, photo: Photo) -> tuple[str, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        html = render(source, p=photo)
    return html, [str(w.message) for w in caught if w.category is MarkupWarning]


def widths(listed: list[Candidate]) -> list[int | None]:
    return [c.width for c in listed]


@pytest.fixture
def docs_storage(s3_storage: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    return make_storage(s3_storage, monkeypatch, specs=DOCS_SPECS)


def test_a_portrait_source_keeps_the_large_image_out_of_the_thumbnails_srcset(
    docs_storage: Any,
) -> None:
    photo = saved(docs_storage, "photos/tall.jpg", (600, 800))
    html, warned = rendered('{% picture p.image "thumb" "large" alt="" %}', photo)
    [srcsets] = check_pictures(html, files(docs_storage, "photos/tall.jpg"))
    url = urls(docs_storage, "photos/tall.jpg")
    # Before: the <img> listed the 200x150 crop with the 600x800 large under 200x150.
    assert html == (
        f'<picture><source type="image/webp" srcset="{url["thumb", "webp"]}">'
        f'<img src="{url["thumb", "jpeg"]}" width="200" height="150" {IMG_DEFAULTS}></picture>'
    )
    assert list(srcsets) == ["source image/webp"]  # the <img> has one candidate: its src
    assert warned == [
        "{% picture %} of 'thumb', 'large': 'large' left out where the aspect ratio is not "
        "'thumb''s (one srcset holds one picture at several sizes). "
        "Use specs of one ratio, or a tag per ratio."
    ]
    html, warned = rendered('{% srcset p.image "thumb" "large" %}', photo)
    assert html == f'srcset="{url["thumb", "jpeg"]}"'
    assert len(warned) == 1


def test_a_format_the_large_spec_does_not_make_gets_no_source(docs_storage: Any) -> None:
    photo = saved(docs_storage, "photos/wide.jpg", (1200, 900))
    html, warned = rendered('{% picture p.image "thumb" "large" alt="" %}', photo)
    [srcsets] = check_pictures(html, files(docs_storage, "photos/wide.jpg"))
    url = urls(docs_storage, "photos/wide.jpg")
    # Before: a WebP <source> of the thumbnail alone, so WebP browsers never got the 900w.
    # And sizes follows the <img>'s 200 px, not the large image's 900.
    assert html == (
        f'<picture><img src="{url["thumb", "jpeg"]}" srcset="{url["thumb", "jpeg"]} 200w, '
        f'{url["large", "jpeg"]} 900w" sizes="(max-width: 200px) 100vw, 200px" width="200" '
        f'height="150" {IMG_DEFAULTS}></picture>'
    )
    assert list(srcsets) == ["img"]
    assert warned == [
        "'large' made no webp: the webp <source> is left out, so that browsers showing webp "
        "still get the widest candidate. Give the specs of one <picture> the same formats."
    ]


def test_specs_of_one_ratio_and_formats_give_every_source_every_width(
    s3_storage: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = make_storage(s3_storage, monkeypatch, specs=SAME_FORMATS)
    photo = saved(storage, "photos/wide.jpg", (1200, 900))
    html, warned = rendered('{% picture p.image "large" "medium" "thumb" alt="x" %}', photo)
    [srcsets] = check_pictures(html, files(storage, "photos/wide.jpg"))
    assert {key: widths(found) for key, found in srcsets.items()} == {
        "source image/webp": [200, 600, 900],
        "img": [200, 600, 900],
    }
    assert 'sizes="(max-width: 900px) 100vw, 900px"' in html
    assert warned == []
    # A portrait source: the fill thumbnail is left out, the two fit sizes stay.
    photo = saved(storage, "photos/tall.jpg", (900, 1200))
    html, warned = rendered('{% picture p.image "large" "medium" "thumb" alt="x" %}', photo)
    [srcsets] = check_pictures(html, files(storage, "photos/tall.jpg"))
    assert {key: widths(found) for key, found in srcsets.items()} == {
        "source image/webp": [450, 675],
        "img": [450, 675],
    }
    assert len(warned) == 1


TAGS = [
    '{% picture p.image "thumb" alt="" %}',
    '{% picture p.image "thumb" "large" alt="" %}',
    '{% picture p.image "large" "thumb" formats="avif webp jpeg" alt="" %}',
    '{% picture p.image "thumb" "medium" "large" sizes="50vw" alt="" %}',
    '{% picture p.image "medium" "large" alt="" %}',
]


@pytest.mark.parametrize("size", [(1200, 900), (600, 800), (150, 100), (1001, 3000)])
def test_every_picture_keeps_the_html_rules(storage: Any, size: tuple[int, int]) -> None:
    photo = saved(storage, "photos/a.jpg", size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupWarning)
        html = "".join(render(tag, p=photo) for tag in TAGS)
    assert len(check_pictures(html, files(storage, "photos/a.jpg"))) == len(TAGS)


def test_the_checker_refuses_the_markup_the_tags_wrote_before() -> None:
    known: Files = {
        "/t.webp": (200, 150, "image/webp"),
        "/t.jpg": (200, 150, "image/jpeg"),
        "/l.jpg": (675, 900, "image/jpeg"),
        "/w.jpg": (900, 675, "image/jpeg"),
    }
    mixed = '<picture><img src="/t.jpg" srcset="/t.jpg 200w, /l.jpg 675w" sizes="1px" alt=""'
    with pytest.raises(AssertionError, match="in a"):
        check_pictures(mixed + ' width="200" height="150"></picture>', known)
    short = (
        '<picture><source type="image/webp" srcset="/t.webp"><img src="/t.jpg" '
        'srcset="/t.jpg 200w, /w.jpg 900w" sizes="1px" width="200" height="150" alt=""></picture>'
    )
    with pytest.raises(AssertionError, match="lacks the 900w"):
        check_pictures(short, known)
    with pytest.raises(AssertionError, match="need sizes"):
        check_pictures('<picture><img src="/t.jpg" srcset="/t.jpg 200w" alt=""></picture>', known)
    with pytest.raises(AssertionError, match="a descriptor twice"):
        parse_srcset("/t.jpg 200w, /t.webp 200w")
    with pytest.raises(AssertionError, match="a image/jpeg in"):
        check_pictures(
            '<picture><source type="image/webp" srcset="/t.jpg"><img src="/t.jpg" '
            'alt=""></picture>',
            known,
        )


def test_warnings_come_once_per_set_of_specs(docs_storage: Any) -> None:
    tall = saved(docs_storage, "photos/tall.jpg", (600, 800))
    other = saved(docs_storage, "photos/tall2.jpg", (300, 400))
    _, first = rendered('{% picture p.image "thumb" "large" alt="" %}', tall)
    _, again = rendered('{% picture p.image "thumb" "large" alt="" %}', other)
    _, reversed_order = rendered('{% picture p.image "large" "thumb" alt="" %}', other)
    assert (len(first), len(again), len(reversed_order)) == (1, 0, 1)


def test_eager_marks_the_image_at_the_top_of_the_page(storage: Any) -> None:
    photo = saved(storage, "photos/a.jpg")
    html = render('{% picture p.image "thumb" alt="" eager=True %}', p=photo)
    assert 'alt="" loading="eager" decoding="async" fetchpriority="high">' in html
    html = render('{% picture p.image "thumb" alt="" eager=True fetchpriority="auto" %}', p=photo)
    assert 'loading="eager" decoding="async" fetchpriority="auto">' in html


def test_a_missing_alt_warns_under_debug_only(storage: Any, settings: Any) -> None:
    photo = saved(storage, "photos/a.jpg")
    assert rendered('{% picture p.image "thumb" %}', photo)[1] == []
    settings.DEBUG = True
    html, warned = rendered('{% picture p.image "thumb" %}', photo)
    assert 'alt=""' in html  # still valid markup
    assert warned == [
        "{% picture %} of 'thumb' without alt: pass alt=… (or alt=\"\" for a decorative image)."
    ]
    assert rendered('{% picture p.image "thumb" alt="" %}', photo)[1] == []


def test_an_unquoted_spec_name_says_to_quote_it(storage: Any) -> None:
    photo = saved(storage, "photos/a.jpg")
    # An undefined variable is "" in a tag's arguments (a filter's argument fails by itself).
    for source in ("{% picture p.image thumb %}", '{% srcset p.image "thumb" large %}'):
        with pytest.raises(
            ConfigurationError, match=r"No rendition spec '' on this storage \(quote the spec name"
        ):
            render(source, p=photo)
    with pytest.raises(ConfigurationError, match="quote the spec name"):
        render("{% picture p.image thumb %}", p=photo)
