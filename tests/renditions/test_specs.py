"""Specs: the OPTIONS form and Spec objects validate alike, name the key, and fingerprint stably."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from PIL import Image

from ikstorage.exceptions import ConfigurationError, MissingLibraryError
from ikstorage.renditions import Spec, parse_specs, spec_errors, specs_for
from ikstorage.renditions.specs import PIPELINE_VERSION


def test_options_form_and_objects_agree() -> None:
    specs = parse_specs(
        {
            "thumb": {"fill": [200, 150], "format": "webp", "quality": 80},
            "large": {"fit": (1600, 1600)},
            "column": Spec(width=640, format="JPG"),
            "tall": {"height": 300, "match": "portraits/*"},
        }
    )
    assert list(specs) == ["thumb", "large", "column", "tall"]
    assert specs["thumb"] == Spec("thumb", fill=(200, 150), format="webp", quality=80)
    assert specs["large"].mode == "fit"
    assert specs["large"].fit == (1600, 1600)
    assert specs["column"].name == "column"
    assert specs["column"].format == "jpeg"
    assert specs["tall"].match == ("portraits/*",)
    assert specs["tall"].upscale is False
    assert specs["tall"].anchor == (0.5, 0.5)
    assert specs["tall"].background == "#ffffff"


def test_a_list_of_specs_is_accepted() -> None:
    specs = parse_specs([Spec("a", width=10), Spec("b", height=20)])
    assert list(specs) == ["a", "b"]
    assert parse_specs(None) == {}
    assert parse_specs({}) == {}


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"fil": [200, 150]}, ["'thumb'", "unknown key(s) 'fil'", "valid keys are anchor"]),
        ({}, ["'thumb'", "exactly one of 'fill', 'fit', 'width' or 'height'", "got none"]),
        ({"fill": [2, 2], "width": 3}, ["'thumb'", "got 'fill', 'width'"]),
        ({"width": 3, "height": 4}, ["'thumb'", "for a box use 'fit' or 'fill'"]),
        ({"fill": [200]}, ["'thumb'", "'fill' must be [width, height]"]),
        ({"fill": "200x150"}, ["'thumb'", "'fill' must be [width, height]"]),
        ({"fit": [0, 10]}, ["'thumb'", "'fit' must be a whole number of pixels from 1 to 10000"]),
        ({"width": 2.5}, ["'thumb'", "'width'", "not 2.5"]),
        ({"width": True}, ["'thumb'", "'width'", "not True"]),
        ({"height": 20_000}, ["'thumb'", "'height'", "not 20000"]),
        ({"width": 9, "format": "tiff"}, ["'thumb'", "'format' must be one of", "not 'tiff'"]),
        ({"width": 9, "quality": 0}, ["'thumb'", "'quality' must be a whole number 1-100"]),
        ({"width": 9, "quality": 101}, ["'thumb'", "'quality'", "not 101"]),
        ({"width": 9, "format": "png", "quality": 80}, ["'quality' has no effect on 'png'"]),
        ({"width": 9, "upscale": "yes"}, ["'thumb'", "'upscale' must be True or False"]),
        ({"fill": [9, 9], "anchor": [0.5, 2]}, ["'thumb'", "'anchor' must be [x, y]"]),
        ({"fill": [9, 9], "anchor": "middle"}, ["'thumb'", "'anchor' 'middle' is not one of"]),
        ({"fit": [9, 9], "anchor": "top"}, ["'thumb'", "'anchor' applies to 'fill' only"]),
        ({"width": 9, "background": "white"}, ["'thumb'", "'background' must be a colour"]),
        ({"width": 9, "match": [""]}, ["'thumb'", "'match' must hold non-empty glob strings"]),
        ({"width": 9, "match": 7}, ["'thumb'", "'match' must be a glob or a list of globs"]),
    ],
)
def test_mistakes_name_the_spec_and_the_key(options: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_specs({"thumb": options})
    for word in words:
        assert word in str(caught.value)
    assert isinstance(caught.value, ImproperlyConfigured)
    assert not isinstance(caught.value, ValueError | TypeError)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("thumb", ["must be a dict of {name: options} or a list of ikstorage.Spec", "not str"]),
        ({"thumb": [200, 150]}, ["Spec 'thumb' must be a dict or an ikstorage.Spec, not list"]),
        ({"bad name!": {"width": 9}}, ["Spec name 'bad name!' must be 1-40 letters"]),
        ({"a": Spec("b", width=9)}, ["'a' is given a Spec named 'b'"]),
        ([Spec("a", width=9), Spec("a", width=8)], ["Spec 'a' is declared twice"]),
        ([Spec(width=9)], ["A Spec in a list of specs needs a name"]),
        ([{"width": 9}], ["a list may hold ikstorage.Spec objects only"]),
    ],
)
def test_mistakes_in_the_whole_value(value: Any, words: list[str]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_specs(value)
    for word in words:
        assert word in str(caught.value)


def test_spec_errors_lists_every_broken_spec_for_a_system_check() -> None:
    errors = spec_errors(
        {"ok": {"width": 9}, "a": {"fil": 1}, "b": {"width": 0}, "c": {"format": "bmp"}}
    )
    assert [str(e).split(" ")[1] for e in errors] == ["'a'", "'b'", "'c'"]
    assert spec_errors(None) == []
    assert len(spec_errors("thumb")) == 1


def test_anchor_names_and_background_forms_are_normalised() -> None:
    spec = Spec("a", fill=[10, 10], anchor="Top-Left", background="#ABC")  # type: ignore[arg-type]
    assert spec.fill == (10, 10)
    assert spec.anchor == (0.0, 0.0)
    assert spec.background == "#aabbcc"
    assert Spec("b", fill=(1, 1), anchor=(1, 0)).anchor == (1.0, 0.0)


def test_a_format_pillow_cannot_write_is_a_missing_library(monkeypatch: pytest.MonkeyPatch) -> None:
    Image.init()
    monkeypatch.delitem(Image.SAVE, "AVIF")
    with pytest.raises(MissingLibraryError) as caught:
        Spec("a", width=9, format="avif")
    assert "'avif'" in str(caught.value)
    assert caught.value.package == "pillow"
    assert isinstance(caught.value, ImportError)


def test_match_globs_choose_specs_by_saved_name() -> None:
    specs = parse_specs(
        {
            "all": {"width": 9},
            "avatar": {"fill": [64, 64], "match": ["avatars/*", "*.PNG"]},
            "photo": {"fit": [99, 99], "match": "photos/*.jpg"},
        }
    )
    names = lambda name: [s.name for s in specs_for(specs, name)]  # noqa: E731
    assert names("avatars/me.jpg") == ["all", "avatar"]
    assert names("AVATARS/Me.JPG") == ["all", "avatar"]  # case-insensitive
    assert names("x/y/logo.png") == ["all", "avatar"]  # '*' crosses '/'
    assert names("photos/2024/a.jpg") == ["all", "photo"]
    assert names("docs/a.pdf") == ["all"]
    assert [s.name for s in specs_for(list(specs.values()), "photos/b.jpg")] == [
        "all",
        "photo",
    ]


def test_fingerprint_is_stable_and_covers_what_changes_the_output() -> None:
    thumb = Spec("thumb", fill=(200, 150), format="webp", quality=80)
    assert PIPELINE_VERSION == 1
    # A literal: the same in every process, on every platform, release after release.
    assert thumb.fingerprint() == "b3323c6ac919530b"
    same = [
        Spec("other", fill=(200, 150), format="webp", quality=80),
        Spec("thumb", fill=(200, 150), format="webp", quality=80, match=("a/*",)),
        Spec("thumb", fill=[200, 150], format="WEBP", quality=80),  # type: ignore[arg-type]
    ]
    assert {s.fingerprint() for s in same} == {thumb.fingerprint()}
    different = [
        Spec("thumb", fill=(200, 151), format="webp", quality=80),
        Spec("thumb", fit=(200, 150), format="webp", quality=80),
        Spec("thumb", fill=(200, 150), format="avif", quality=80),
        Spec("thumb", fill=(200, 150), format="webp", quality=81),
        Spec("thumb", fill=(200, 150), format="webp"),
        Spec("thumb", fill=(200, 150), format="webp", quality=80, upscale=True),
        Spec("thumb", fill=(200, 150), format="webp", quality=80, anchor="top"),
        Spec("thumb", fill=(200, 150), format="webp", quality=80, background="#000"),
    ]
    prints = [s.fingerprint() for s in different]
    assert len(set(prints)) == len(prints)
    assert thumb.fingerprint() not in prints
    assert Spec("w", width=200).fingerprint() != Spec("h", height=200).fingerprint()
