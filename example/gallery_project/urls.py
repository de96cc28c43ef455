"""URLs of the example: the gallery at ``/gallery/``, and ``/`` sends you there."""

from __future__ import annotations

from django.urls import path
from django.views.generic import RedirectView

from gallery import views

urlpatterns = [
    path("", RedirectView.as_view(url="/gallery/")),
    path("gallery/", views.index, name="gallery"),
]
