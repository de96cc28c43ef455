"""The markup functions alone, over hand-made renditions: exact HTML, escaping, de-duplication."""

from __future__ import annotations

import pytest
from django.utils.safestring import SafeString, mark_safe

from ikstorage.renditions.html import parse_formats
from ikstorage.renditions.markup import (
    attributes,
    candidates,
    default_sizes,
    picture_markup,
    placeholder_style,
    srcset_attributes,
    srcset_value,
)
from ikstorage.renditions.shown import Rendition

LQIP = "data:image/webp;base64,UklGRiQAAABXRUJQ="


def shown(
    url: str,
    width: int | None,
    height: int | None = None,
    fmt: str | None = "jpeg",
    **extra: object,
) -> Rendition:
    return Rendition(
        name=url.rpartition("/")[2],
        url=url,
        width=width,
        height=height if height is not None else (None if width is None else width * 3 // 4),
        spec="thumb",
        format=fmt,
        **extra,  # type: ignore[arg-type]
    )


# -- srcset ---------------------------------------------------------------------------


def test_candidates_list_each_width_once_narrowest_first_keeping_the_first_given() -> None:
    large = shown("/l.jpg", 150)
    medium = shown("/m.jpg", 150)  # a source smaller than both specs: same width
    thumb = shown("/t.jpg", 133)
    assert candidates([large, medium, thumb]) == [thumb, large]


def test_candidates_list_one_file_once_and_drop_unknown_widths_among_several() -> None:
    source = shown("/src.jpg", 800)
    assert candidates([source, source]) == [source]  # two specs fell back to the source
    unknown = shown("/u.jpg", None)
    assert candidates([unknown]) == [unknown]  # alone it needs no descriptor
    assert candidates([unknown, source]) == [source]
    assert candidates([]) == []


def test_srcset_value_is_a_bare_url_alone_and_w_descriptors_otherwise() -> None:
    assert srcset_value([shown("/t.jpg", 200)]) == "/t.jpg"
    assert srcset_value([shown("/t.jpg", 200), shown("/l.jpg", 1600)]) == (
        "/t.jpg 200w, /l.jpg 1600w"
    )


def test_srcset_urls_keep_whitespace_and_a_trailing_comma_from_splitting_the_list() -> None:
    odd = [shown("/a b\tc.jpg", 100), shown("/d,e,", 200)]
    assert srcset_value(odd) == "/a%20b%09c.jpg 100w, /d,e%2C 200w"


def test_srcset_attributes_default_sizes_to_the_first_given() -> None:
    renditions = [shown("/l.jpg", 1600), shown("/t.jpg", 200)]
    assert default_sizes(1600) == "(max-width: 1600px) 100vw, 1600px"
    # The first spec is the size shown: a thumbnail first is shown at 200 px.
    assert srcset_attributes(renditions[::-1]) == (
        'srcset="/t.jpg 200w, /l.jpg 1600w" sizes="(max-width: 200px) 100vw, 200px"'
    )
    html = srcset_attributes(renditions)
    assert isinstance(html, SafeString)
    assert html == ('srcset="/t.jpg 200w, /l.jpg 1600w" sizes="(max-width: 1600px) 100vw, 1600px"')
    assert srcset_attributes(renditions, sizes="50vw") == (
        'srcset="/t.jpg 200w, /l.jpg 1600w" sizes="50vw"'
    )


def test_srcset_attributes_of_one_candidate_have_no_sizes_unless_given() -> None:
    assert srcset_attributes([shown("/t.jpg", 200)]) == 'srcset="/t.jpg"'
    assert srcset_attributes([shown("/t.jpg", 200)], "10em") == 'srcset="/t.jpg" sizes="10em"'
    assert srcset_attributes([]) == ""


def test_srcset_attributes_escape_urls_and_sizes() -> None:
    html = srcset_attributes([shown('/a"<&b.jpg', 10), shown("/c.jpg", 20)], sizes='1px" x="')
    assert html == ('srcset="/a&quot;&lt;&amp;b.jpg 10w, /c.jpg 20w" sizes="1px&quot; x=&quot;"')


# -- attributes and placeholders ------------------------------------------------------


def test_attributes_escape_values_once_and_spell_underscores_as_hyphens() -> None:
    html = attributes(
        [
            ("alt", 'Tom & "Jerry" <b>'),
            ("title", mark_safe("already &amp; safe")),
            ("aria_label", "x"),
            ("hidden", True),
            ("loading", False),
            ("class", None),
            ("data-n", 3),
        ]
    )
    assert html == (
        ' alt="Tom &amp; &quot;Jerry&quot; &lt;b&gt;" title="already &amp; safe"'
        ' aria-label="x" hidden data-n="3"'
    )


@pytest.mark.parametrize("name", ['a"b', "on click", "", "1x", "x>"])
def test_attributes_refuse_names_that_are_not_attribute_names(name: str) -> None:
    with pytest.raises(ValueError, match="is not an HTML attribute name"):
        attributes([(name, "v")])


def test_placeholder_style_is_the_colour_under_the_preview() -> None:
    r = shown("/t.jpg", 200, color="#a1b2c3", lqip=LQIP)
    assert placeholder_style(r) == f"background:#a1b2c3 url({LQIP}) center/cover no-repeat"
    assert placeholder_style(r, "lqip") == placeholder_style(r)
    assert placeholder_style(r, "color") == "background:#a1b2c3"
    assert placeholder_style(r, False) is None
    assert placeholder_style(shown("/t.jpg", 200)) is None
    assert placeholder_style(shown("/t.jpg", 200, color="#a1b2c3")) == "background:#a1b2c3"


def test_placeholder_values_that_are_not_a_colour_or_a_data_uri_are_left_out() -> None:
    r = shown("/t.jpg", 200, color="red;position:fixed", lqip="javascript:alert(1)")
    assert placeholder_style(r) is None
    r = shown("/t.jpg", 200, color="#a1b2c3", lqip="data:image/webp;base64,AA) x(")
    assert placeholder_style(r) == "background:#a1b2c3"
    with pytest.raises(ValueError, match="placeholder must be"):
        placeholder_style(r, "blur")


# -- <picture> ------------------------------------------------------------------------


def test_picture_markup_has_a_source_per_format_and_an_img_with_its_size() -> None:
    jpeg = shown("/t.jpg", 200, 150)
    html = picture_markup(
        jpeg,
        [("avif", [shown("/t.avif", 200, fmt="avif")]), ("webp", [shown("/t.webp", 200)])],
        [jpeg],
    )
    assert isinstance(html, SafeString)
    assert html == (
        '<picture><source type="image/avif" srcset="/t.avif">'
        '<source type="image/webp" srcset="/t.webp">'
        '<img src="/t.jpg" width="200" height="150" alt="" loading="lazy" decoding="async">'
        "</picture>"
    )


def test_picture_markup_with_several_widths_has_srcsets_and_one_sizes() -> None:
    thumb, large = shown("/t.jpg", 200, 150), shown("/l.jpg", 1600, 1200)
    html = picture_markup(
        thumb,
        [("webp", [shown("/t.webp", 200), shown("/l.webp", 1600)]), ("avif", [])],
        [thumb, large, shown("/dup.jpg", 200)],
    )
    sizes = "(max-width: 200px) 100vw, 200px"  # the <img>'s width
    assert html == (
        f'<picture><source type="image/webp" srcset="/t.webp 200w, /l.webp 1600w" sizes="{sizes}">'
        f'<img src="/t.jpg" srcset="/t.jpg 200w, /l.jpg 1600w" sizes="{sizes}" width="200" '
        'height="150" alt="" loading="lazy" decoding="async"></picture>'
    )


def test_picture_markup_passes_attributes_and_replaces_the_defaults() -> None:
    img = shown('/a"<b.jpg', 200, 150, color="#a1b2c3", lqip=LQIP)
    html = picture_markup(
        img,
        [("webp", [shown("/a.webp", 200)])],
        [img],
        sizes="50vw",
        placeholder="color",
        attrs={
            "alt": 'a "quoted" <title>',
            "loading": "eager",
            "decoding": None,
            "class": "photo",
            "style": "border:0",
            "fetchpriority": "high",
        },
    )
    assert html == (
        '<picture><source type="image/webp" srcset="/a.webp" sizes="50vw">'
        '<img src="/a&quot;&lt;b.jpg" width="200" height="150" '
        'alt="a &quot;quoted&quot; &lt;title&gt;" loading="eager" class="photo" '
        'fetchpriority="high" style="background:#a1b2c3;border:0"></picture>'
    )


def test_picture_markup_of_an_img_of_unknown_size_has_no_width_or_height() -> None:
    html = picture_markup(shown("/src.tif", None, fmt=None), placeholder=True)
    assert html == (
        '<picture><img src="/src.tif" alt="" loading="lazy" decoding="async"></picture>'
    )


@pytest.mark.parametrize("name", ["src", "srcset", "width", "height", "sizes", "SRC"])
def test_picture_markup_refuses_attributes_it_sets_itself(name: str) -> None:
    with pytest.raises(ValueError, match="cannot be passed"):
        picture_markup(shown("/t.jpg", 200), attrs={name: "1"})


def test_parse_formats_reads_spaces_commas_and_jpg() -> None:
    assert parse_formats("avif, webp jpg") == ["avif", "webp", "jpeg"]
    assert parse_formats(["WEBP", "jpeg", "webp"]) == ["webp", "jpeg"]
    assert parse_formats(None) is None
    with pytest.raises(ValueError, match="formats lists 'jxl'"):
        parse_formats("avif jxl")
