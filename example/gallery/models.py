"""``Photo`` as projects write it: a plain ``ImageField``, nothing ikstorage-specific.

No ``width_field``/``height_field``: the dimensions are not copied into the
database, so every ``photo.image.width`` asks the storage. On S3 that is where
the calls come from, and what ikstorage answers from its cache instead.
"""

from __future__ import annotations

from django.db import models


class Photo(models.Model):
    title = models.CharField(max_length=200)
    image = models.ImageField(upload_to="photos/", max_length=255)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title
