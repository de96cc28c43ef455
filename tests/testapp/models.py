"""Models as users write them: a plain ImageField, no width_field, no model changes."""

from __future__ import annotations

from django.db import models


class Photo(models.Model):
    title = models.CharField(max_length=100, blank=True)
    image = models.ImageField(upload_to="photos/", max_length=255)

    class Meta:
        app_label = "testapp"


class PhotoRow(models.Model):
    """The physical limit: a row that already holds everything the page prints."""

    title = models.CharField(max_length=100, blank=True)
    url = models.CharField(max_length=255)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()

    class Meta:
        app_label = "testapp"
