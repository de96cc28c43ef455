"""``{% load ikstorage %}`` on moto S3: exact markup of each tag and filter, and its edge cases."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.template import Context, Template

import ikstorage
from ikstorage.exceptions import ConfigurationError, MarkupWarning, MissingRenditionError
from ikstorage.profiler import count_calls
from tests.templatetags.conftest import make_storage, picture_bytes
from tests.testapp.models import Photo

IMG_DEFAULTS = 'alt="" loading="lazy" decoding="async"'


def render(source: str, **context: Any) -> str:
    return Template("{% load ikstorage %}" + source).render(Context(context))


def urls(storage: Any, name: str) -> dict[tuple[str, str], str]:
    found = {(r.spec, r.format): r.url for r in storage.metadata(name).renditions}
    assert all(found.values())  # public URLs are kept in the record
    return found


def saved(storage: Any, name: str, size: tuple[int, int] = (400, 300)) -> Photo:
    stored = storage.save(name, ContentFile(picture_bytes(size)))
    return Photo(image=stored)


# -- |rendition -----------------------------------------------------------------------


def test_the_filter_gives_url_size_name_and_placeholder(storage: Any) -> None:
    photo = saved(storage, "photos/a.jpg")
    url = urls(storage, "photos/a.jpg")[("thumb", "jpeg")]
    color = storage.metadata("photos/a.jpg").placeholder[0]
    assert color == "#c7283c"  # the source's (200, 40, 60) after JPEG encoding
    with count_calls() as calls:
        html = render(
            '{% with t=p.image|rendition:"thumb" %}{{ t }}|{{ t.url }}|{{ t.width }}x'
            "{{ t.height }}|{{ t.name }}|{{ t.placeholder.color }}|{{ t.fallback }}{% endwith %}",
            p=photo,
        )
    assert html == (
        f"{url}|{url}|200x150|{url.removeprefix('https://media.s3.amazonaws.com/')}|{color}|False"
    )
    assert calls.s3 == {}
    rendition = photo.image and ikstorage.rendition(photo.image, "thumb")
    assert rendition is not None
    assert rendition.placeholder is not None
    assert rendition.placeholder["lqip"].startswith("data:image/webp;base64,")


def test_the_filter_of_an_empty_field_prints_nothing_and_is_false(storage: Any) -> None:
    html = render(
        '[{{ p.image|rendition:"thumb" }}]{% if p.image|rendition:"thumb" %}yes{% endif %}'
        '[{{ missing|rendition:"thumb" }}]',
        p=Photo(),
    )
    assert html == "[][]"


def test_an_unknown_spec_is_a_configuration_error(storage: Any) -> None:
    photo = saved(storage, "photos/a.jpg")
    with pytest.raises(ConfigurationError, match="No rendition spec 'thum'"):
        render('{{ p.image|rendition:"thum" }}', p=photo)
    with pytest.raises(ConfigurationError, match="No rendition spec 'thum'"):
        render('{% picture p.image "thum" %}', p=photo)


def test_a_field_on_a_plain_storage_is_a_configuration_error(s3_storage: Any) -> None:
    photo = Photo(image="photos/a.jpg")  # the field's own FileSystemStorage
    for source in (
        '{{ p.image|rendition:"thumb" }}',
        '{% srcset p.image "thumb" %}',
        '{% picture p.image "thumb" %}',
    ):
        with pytest.raises(ConfigurationError, match="Renditions need a CachedStorage"):
            render(source, p=photo)


# -- {% srcset %} ---------------------------------------------------------------------


def test_srcset_lists_each_spec_with_its_width(storage: Any) -> None:
    photo = saved(storage, "photos/a.jpg")
    url = urls(storage, "photos/a.jpg")
    with count_calls() as calls:
        html = render('<img src="x" {% srcset p.image "large" "thumb" "medium" %}>', p=photo)
    assert html == (
        f'<img src="x" srcset="{url["thumb", "jpeg"]} 200w, {url["medium", "jpeg"]} 300w, '
        f'{url["large", "jpeg"]} 400w" sizes="(max-width: 400px) 100vw, 400px">'
    )
    assert calls.s3 == {}
    html = render(
        '{% srcset p.image "thumb" "large" sizes="(min-width: 60em) 50vw, 100vw" %}', p=photo
    )
    assert html == (
        f'srcset="{url["thumb", "jpeg"]} 200w, {url["large", "jpeg"]} 400w" '
        'sizes="(min-width: 60em) 50vw, 100vw"'
    )


def test_srcset_of_a_source_smaller_than_the_specs_lists_each_width_once(storage: Any) -> None:
    photo = saved(storage, "photos/small.jpg", (150, 100))
    url = urls(storage, "photos/small.jpg")
    html = render('{% srcset p.image "large" "medium" %}', p=photo)
    # large and medium both come out at the source's 150x100: listed once (the first).
    assert html == f'srcset="{url["large", "jpeg"]}"'
    # The thumb is a 133x100 crop of it, another aspect ratio: left out, with a warning.
    with pytest.warns(MarkupWarning, match="'medium', 'large' left out"):
        html = render('{% srcset p.image "thumb" "medium" "large" %}', p=photo)
    assert html == f'srcset="{url["thumb", "jpeg"]}"'


def test_srcset_of_an_empty_field_is_empty(storage: Any) -> None:
    assert render('<img {% srcset p.image "thumb" "large" %}>', p=Photo()) == "<img >"


# -- {% picture %} --------------------------------------------------------------------


def test_picture_has_the_existing_formats_as_sources_and_the_last_as_img(storage: Any) -> None:
    photo = saved(storage, "photos/a.jpg")
    url = urls(storage, "photos/a.jpg")
    with count_calls() as calls:
        html = render('{% picture p.image "thumb" formats="avif webp jpeg" %}', p=photo)
    # The spec makes webp and jpeg: no avif <source>, and nothing asked of storage or S3.
    assert html == (
        f'<picture><source type="image/webp" srcset="{url["thumb", "webp"]}">'
        f'<img src="{url["thumb", "jpeg"]}" width="200" height="150" {IMG_DEFAULTS}></picture>'
    )
    assert calls.s3 == {}
    assert render('{% picture p.image "thumb" %}', p=photo) == html  # the spec's own formats


def test_picture_without_the_fallback_format_uses_the_last_one_that_exists(
    storage: Any,
) -> None:
    photo = saved(storage, "photos/a.jpg")
    url = urls(storage, "photos/a.jpg")
    html = render('{% picture p.image "thumb" formats="avif webp" %}', p=photo)
    assert html == (
        f'<picture><img src="{url["thumb", "webp"]}" width="200" height="150" {IMG_DEFAULTS}>'
        "</picture>"
    )
    # None of the formats exists: the spec's own rendition.
    html = render('{% picture p.image "medium" formats="avif webp" %}', p=photo)
    assert html == (
        f'<picture><img src="{url["medium", "jpeg"]}" width="300" height="225" {IMG_DEFAULTS}>'
        "</picture>"
    )


def test_picture_passes_attributes_escaped_and_the_placeholder(storage: Any) -> None:
    photo = saved(storage, "photos/a.jpg")
    url = urls(storage, "photos/a.jpg")
    color, lqip = storage.metadata("photos/a.jpg").placeholder
    html = render(
        '{% picture p.image "thumb" alt=title class="card" loading="eager" data_id=7 '
        "placeholder=True %}",
        p=photo,
        title='Tom & "Jerry" <script>',
    )
    assert html == (
        f'<picture><source type="image/webp" srcset="{url["thumb", "webp"]}">'
        f'<img src="{url["thumb", "jpeg"]}" width="200" height="150" '
        'alt="Tom &amp; &quot;Jerry&quot; &lt;script&gt;" loading="eager" decoding="async" '
        f'class="card" data-id="7" style="background:{color} url({lqip}) center/cover no-repeat">'
        "</picture>"
    )


def test_picture_of_several_specs_has_w_descriptors_and_each_width_once(storage: Any) -> None:
    photo = saved(storage, "photos/a.jpg", (1200, 900))
    url = urls(storage, "photos/a.jpg")
    with pytest.warns(MarkupWarning, match="made no webp"):
        html = render('{% picture p.image "thumb" "medium" "large" sizes="50vw" %}', p=photo)
    # thumb 200x150, medium 300x225 and large 1200x900 are all 4:3; medium and large make
    # no webp, so a webp <source> could not offer them: it is left out.
    assert html == (
        f'<picture><img src="{url["thumb", "jpeg"]}" srcset="{url["thumb", "jpeg"]} 200w, '
        f'{url["medium", "jpeg"]} 300w, {url["large", "jpeg"]} 1200w" sizes="50vw" '
        f'width="200" height="150" {IMG_DEFAULTS}></picture>'
    )


def test_picture_of_an_empty_field_is_empty(storage: Any) -> None:
    assert render('[{% picture p.image "thumb" alt="x" %}]', p=Photo()) == "[]"
    assert render('[{% picture "" "thumb" %}]') == "[]"


def test_picture_refuses_attributes_it_sets_and_unknown_formats(storage: Any) -> None:
    photo = saved(storage, "photos/a.jpg")
    with pytest.raises(ValueError, match="width cannot be passed"):
        render('{% picture p.image "thumb" width=10 %}', p=photo)
    with pytest.raises(ValueError, match="formats lists 'jxl'"):
        render('{% picture p.image "thumb" formats="jxl jpeg" %}', p=photo)
    with pytest.raises(ValueError, match="at least one rendition spec"):
        render("{% picture p.image %}", p=photo)


# -- a missing rendition: the source, as the storage's missing_renditions says ---------


@pytest.fixture
def legacy(s3: Any) -> str:
    """A file put in the bucket before ikstorage: no renditions."""
    s3.put_object(Bucket="media", Key='old/a"<b.jpg', Body=picture_bytes((800, 600)))
    return 'old/a"<b.jpg'


def test_a_missing_rendition_shows_the_source(
    s3_storage: Any, monkeypatch: pytest.MonkeyPatch, legacy: str
) -> None:
    storage = make_storage(s3_storage, monkeypatch, missing_renditions="fallback")
    photo = Photo(image=legacy)
    source = "https://media.s3.amazonaws.com/old/a%22%3Cb.jpg"
    assert storage.url(legacy) == source
    with count_calls() as calls:
        html = render(
            '{{ p.image|rendition:"thumb" }} {{ p.image|rendition:"thumb"|yesno:"y,n" }}|'
            '{% srcset p.image "thumb" "large" %}|'
            '{% picture p.image "thumb" "large" formats="avif webp jpeg" %}',
            p=photo,
        )
    # Both specs fall back to the same file: one candidate, so no descriptor and no sizes.
    assert html == (
        f'{source} y|srcset="{source}"|'
        f'<picture><img src="{source}" width="800" height="600" {IMG_DEFAULTS}></picture>'
    )
    assert calls.s3 == {"GetObject": 1}  # the record's one ranged probe; nothing rendered
    assert storage.metadata(legacy).renditions == ()


def test_a_missing_rendition_is_made_on_first_use_by_default(
    s3_storage: Any, monkeypatch: pytest.MonkeyPatch, legacy: str
) -> None:
    storage = make_storage(s3_storage, monkeypatch)
    photo = Photo(image=legacy)
    with count_calls() as calls:
        html = render('{% picture p.image "thumb" %}', p=photo)
    url = urls(storage, legacy)
    assert html == (
        f'<picture><source type="image/webp" srcset="{url["thumb", "webp"]}">'
        f'<img src="{url["thumb", "jpeg"]}" width="200" height="150" {IMG_DEFAULTS}></picture>'
    )
    # The probe, read on through the photo, and a PUT per rendition of every spec (webp,
    # jpeg, medium, large).
    assert calls.s3 == {"GetObject": 1, "PutObject": 4}
    with count_calls() as calls:
        assert render('{% picture p.image "thumb" %}', p=photo) == html
    assert calls.s3 == {}


def test_a_missing_rendition_raises_when_the_storage_says_so(
    s3_storage: Any, monkeypatch: pytest.MonkeyPatch, legacy: str
) -> None:
    make_storage(s3_storage, monkeypatch, missing_renditions="error")
    photo = Photo(image=legacy)
    message = re.escape("Rendition 'thumb' of 'old/a\"<b.jpg' does not exist")
    for source in (
        '{{ p.image|rendition:"thumb" }}',
        '{% srcset p.image "thumb" %}',
        '{% picture p.image "thumb" %}',
    ):
        with pytest.raises(MissingRenditionError, match=message):
            render(source, p=photo)
