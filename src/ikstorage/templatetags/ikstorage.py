"""``{% load ikstorage %}``: the ``rendition`` filter and the ``srcset`` and ``picture`` tags.

One-line wrappers: the work (and its tests) is in :mod:`ikstorage.renditions.html`
(and the plain markup in :mod:`ikstorage.renditions.markup`).
See ``docs/templates.md``.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from ikstorage.renditions import html
from ikstorage.renditions.shown import Rendition

register = template.Library()


@register.filter(name="rendition")
def rendition(image: Any, spec: str) -> Rendition | str:
    """``{{ photo.image|rendition:"thumb" }}``: ``url``, ``width``, ``height``, ``name``…"""
    return html.rendition_or_empty(image, spec)


@register.simple_tag
def srcset(image: Any, *specs: str, sizes: str | None = None) -> SafeString:
    """``<img src="…" {% srcset photo.image "thumb" "large" %}>``."""
    return html.srcset(image, *specs, sizes=sizes)


@register.simple_tag
def picture(image: Any, *specs: str, **options: Any) -> SafeString:
    """``{% picture photo.image "thumb" formats="avif webp jpeg" alt=photo.title %}``."""
    return html.picture(image, *specs, **options)
