"""The test project's URLs: none of its own; test modules add theirs with ``urls=``."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
