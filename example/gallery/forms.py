"""The upload form: a plain ``ModelForm``, saved through the model like any other."""

from __future__ import annotations

from django import forms

from gallery.models import Photo


class PhotoForm(forms.ModelForm):
    class Meta:
        model = Photo
        fields = ["title", "image"]
