"""Models as each thumbnail library's documentation tells users to write them.

Each library's models exist only when that library is installed, so the test
suite still loads (and the library's tests skip) without it.
"""

from __future__ import annotations

import importlib.util

from django.db import models

#: What every library is asked for: a 100x100 crop, saved as JPEG.
THUMB_SIZE = (100, 100)


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


if installed("imagekit"):
    from imagekit.models import ImageSpecField
    from imagekit.processors import ResizeToFill

    class KitPhoto(models.Model):
        """A plain ``ImageField`` source and an ``ImageSpecField`` (default JustInTime)."""

        image = models.ImageField(upload_to="kit/", max_length=255)
        thumb = ImageSpecField(
            source="image",
            processors=[ResizeToFill(*THUMB_SIZE)],
            format="JPEG",
            options={"quality": 80},
        )

        class Meta:
            app_label = "thumbapp"

    class OptimisticKitPhoto(models.Model):
        """The same spec with the Optimistic strategy: generated when the source is saved."""

        image = models.ImageField(upload_to="kit-optimistic/", max_length=255)
        thumb = ImageSpecField(
            source="image",
            processors=[ResizeToFill(*THUMB_SIZE)],
            format="JPEG",
            options={"quality": 80},
            cachefile_strategy="imagekit.cachefiles.strategies.Optimistic",
        )

        class Meta:
            app_label = "thumbapp"


if installed("easy_thumbnails"):
    from easy_thumbnails.fields import ThumbnailerImageField

    class EasyPhoto(models.Model):
        """easy-thumbnails' own field: the file is a ``Thumbnailer``."""

        image = ThumbnailerImageField(upload_to="easy/", max_length=255)

        class Meta:
            app_label = "thumbapp"


if installed("sorl"):
    from sorl.thumbnail import ImageField as SorlImageField

    class SorlPhoto(models.Model):
        """sorl-thumbnail's ``ImageField`` (a plain ``ImageField`` that also cleans up)."""

        image = SorlImageField(upload_to="sorl/", max_length=255)

        class Meta:
            app_label = "thumbapp"
