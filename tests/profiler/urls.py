"""URLs of the profiler tests' views."""

from __future__ import annotations

from django.urls import path

from tests.profiler import views

urlpatterns = [
    path("work/", views.work),
    path("gallery/", views.gallery),
    path("stream/", views.stream),
    path("boom/", views.boom),
    path("missing/", views.missing),
]
