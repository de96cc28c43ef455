"""The profiler test views plus the debug toolbar's own URLs.

Included directly: ``debug_toolbar_urls()`` returns nothing unless ``DEBUG`` is
on, and pytest-django turns ``DEBUG`` off for tests.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from tests.profiler.urls import urlpatterns as views

urlpatterns: list[URLPattern | URLResolver] = [
    *views,
    path("__debug__/", include("debug_toolbar.urls")),
]
