"""URLs of the example: the gallery at ``/gallery/``, its plain page, and ``/`` sends you there."""

from __future__ import annotations

from django.urls import path
from django.views.generic import RedirectView

from gallery import views

urlpatterns = [
    path("", RedirectView.as_view(url="/gallery/")),
    path("gallery/", views.index, name="gallery"),
    path("gallery/plain/", views.plain, name="gallery-plain"),
]
