"""Wagtail's images: its ``Image`` model, its table of renditions and ``{% image %}``.

A project's model points at ``wagtailimages.Image`` with a foreign key (a
column and a migration); the image's row holds its width, height, size and
hash, and each rendition is a row of ``wagtailimages_rendition`` with its
file name, width and height, made the first time a template asks for it.
Wagtail then remembers each rendition in the Django cache (the ``renditions``
cache if there is one, the default otherwise) under the image's id, file hash
and filter, and finds it there, or in its table, on later pages.

Photos are uploaded as Wagtail's upload form does it: size and SHA-1 hash
read from the file (``_set_image_file_metadata``), then the row saved.

Two pages: rows with ``select_related("image")``, which asks the rendition
cache once per photo; and the same rows prefetching ``image__renditions``, as
Wagtail's performance documentation suggests for listings, which asks the
database once for every rendition of the page instead.
"""

from __future__ import annotations

from typing import Any

from benchmarks.peerbench.contender import Contender

SPEC = "fill-200x150|format-jpeg|jpegquality-80"
PAGE = (
    "{% load wagtailimages_tags %}{% for p in photos %}"
    "{% image p.image fill-200x150 format-jpeg jpegquality-80 %}"
    "{% endfor %}"
)
APPS = ("wagtail.admin", "wagtail", "taggit", "modelcluster", "django.contrib.auth")
#: Wagtail's core imports its admin's static files helper, which needs ``STATIC_URL``.
SETTINGS = {"STATIC_URL": "/static/", "WAGTAIL_SITE_NAME": "peers"}
CHANGE = (
    "a foreign key to `wagtailimages.Image` (a migration); Wagtail's image and rendition tables"
)
SELECTED = "benchmarks.peerbench.wagtail_images:selected"
PREFETCHED = "benchmarks.peerbench.wagtail_images:prefetched"
UPLOAD = "benchmarks.peerbench.wagtail_images:upload"
PREPARE = "benchmarks.peerbench.wagtail_images:prepare"


def upload(model: Any, sources: list[tuple[str, bytes]]) -> None:
    """Each photo as a Wagtail ``Image`` (as its upload form saves one), then the page's row."""
    import io

    from django.core.files.images import ImageFile
    from wagtail.images import get_image_model

    image_model = get_image_model()
    for name, data in sources:
        image = image_model(title=name, file=ImageFile(io.BytesIO(data), name=name))
        image._set_image_file_metadata()
        image.save()
        model._default_manager.create(image=image)


def prepare() -> None:
    """Wagtail finds its image operations on first use, through every app's hooks (about 1 s)."""
    from wagtail.images.models import Filter

    assert Filter(spec=SPEC).operations


def selected(model: Any) -> Any:
    return model._default_manager.select_related("image")


def prefetched(model: Any) -> Any:
    return model._default_manager.select_related("image").prefetch_related("image__renditions")


CONTENDERS = (
    Contender(
        "wagtail",
        "Wagtail images",
        "Wagtail images",
        'A foreign key to Wagtail\'s `Image`, rows with `select_related("image")`, '
        "`{% image p.image fill-200x150 format-jpeg jpegquality-80 %}`: renditions "
        "found in the Django cache, else in Wagtail's table.",
        "WagtailPhoto",
        PAGE,
        app="wagtail.images",
        extra_apps=APPS,
        settings=SETTINGS,
        model_change=CHANGE,
        upload=UPLOAD,
        rows=SELECTED,
        prepare=PREPARE,
    ),
    Contender(
        "wagtail-prefetch",
        "Wagtail images, renditions prefetched",
        "Wagtail, renditions prefetched",
        'The same rows with `prefetch_related("image__renditions")`: '
        "every rendition of the page in one query.",
        "WagtailPhoto",
        PAGE,
        app="wagtail.images",
        extra_apps=APPS,
        settings=SETTINGS,
        model_change=CHANGE,
        upload=UPLOAD,
        rows=PREFETCHED,
        prepare=PREPARE,
    ),
    Contender(
        "wagtail-ik",
        "Wagtail images on ikstorage",
        "Wagtail images on ikstorage",
        "Wagtail images (`select_related`), on ikstorage.",
        "WagtailPhoto",
        PAGE,
        app="wagtail.images",
        extra_apps=APPS,
        settings=SETTINGS,
        cached=True,
        model_change=CHANGE,
        upload=UPLOAD,
        rows=SELECTED,
        prepare=PREPARE,
    ),
)
