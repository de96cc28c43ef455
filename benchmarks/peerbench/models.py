"""The benchmark's models: one per contender kind, as each library documents it.

A library's model is defined only when that library's app is installed in the
running process: each contender's process installs one library, and importing
easy-thumbnails' or sorl-thumbnail's fields pulls in their own models, which
need their apps.
"""

from __future__ import annotations

from django.apps import apps
from django.db import models

from benchmarks.peerbench.contenders import QUALITY, THUMB_SIZE


class Photo(models.Model):
    """A plain ``ImageField``: what a project has before any thumbnail library."""

    image = models.ImageField(upload_to="photos/", max_length=255)

    class Meta:
        app_label = "peerbench"


class PhotoRow(models.Model):
    """The physical limit: the row already holds every fact the page prints.

    The source's name, URL and size, and the thumbnail's URL and size, written
    when the photo was uploaded. A page of these costs one query and nothing
    else: no storage, no cache.
    """

    name = models.CharField(max_length=255)
    url = models.CharField(max_length=500)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    thumb_url = models.CharField(max_length=500)
    thumb_width = models.PositiveIntegerField()
    thumb_height = models.PositiveIntegerField()

    class Meta:
        app_label = "peerbench"


if apps.is_installed("imagekit"):
    from imagekit.models import ImageSpecField
    from imagekit.processors import ResizeToFill

    class KitPhoto(models.Model):
        """A plain ``ImageField`` source and an ``ImageSpecField`` (JustInTime, the default)."""

        image = models.ImageField(upload_to="photos/", max_length=255)
        thumb = ImageSpecField(
            source="image",
            processors=[ResizeToFill(*THUMB_SIZE)],
            format="JPEG",
            options={"quality": QUALITY},
        )

        class Meta:
            app_label = "peerbench"

    class OptimisticKitPhoto(models.Model):
        """The same spec with the Optimistic strategy: made when the source is saved."""

        image = models.ImageField(upload_to="photos/", max_length=255)
        thumb = ImageSpecField(
            source="image",
            processors=[ResizeToFill(*THUMB_SIZE)],
            format="JPEG",
            options={"quality": QUALITY},
            cachefile_strategy="imagekit.cachefiles.strategies.Optimistic",
        )

        class Meta:
            app_label = "peerbench"


if apps.is_installed("easy_thumbnails"):
    from easy_thumbnails.fields import ThumbnailerImageField

    class EasyPhoto(models.Model):
        """easy-thumbnails' own field: the file is a ``Thumbnailer``."""

        image = ThumbnailerImageField(upload_to="photos/", max_length=255)

        class Meta:
            app_label = "peerbench"


if apps.is_installed("sorl.thumbnail"):
    from sorl.thumbnail import ImageField as SorlImageField

    class SorlPhoto(models.Model):
        """sorl-thumbnail's ``ImageField`` (a plain ``ImageField`` that also cleans up)."""

        image = SorlImageField(upload_to="photos/", max_length=255)

        class Meta:
            app_label = "peerbench"


if apps.is_installed("pictures"):
    from pictures.models import PictureField

    class PicturesPhoto(models.Model):
        """django-pictures' field, with the width and height columns its system check asks for."""

        image = PictureField(
            upload_to="photos/",
            max_length=255,
            aspect_ratios=["4/3"],
            width_field="image_width",
            height_field="image_height",
        )
        image_width = models.PositiveIntegerField(editable=False)
        image_height = models.PositiveIntegerField(editable=False)

        class Meta:
            app_label = "peerbench"


if apps.is_installed("wagtail.images"):

    class WagtailPhoto(models.Model):
        """A model pointing at Wagtail's ``Image``, as a page model points at its images."""

        image = models.ForeignKey("wagtailimages.Image", on_delete=models.CASCADE, related_name="+")

        class Meta:
            app_label = "peerbench"


if apps.is_installed("easy_images"):

    class EasyImagesPhoto(models.Model):
        """A plain ``ImageField``: django-easy-images keeps its thumbnails in its own table."""

        image = models.ImageField(upload_to="photos/", max_length=255)

        class Meta:
            app_label = "peerbench"
