"""What a contender is, and what every one of them is asked for.

Kept apart from :mod:`.contenders` (the list) so that each newer library's
module (:mod:`.django_pictures`, :mod:`.wagtail_images`, :mod:`.easy_images`)
can describe its contenders without importing the list it is part of.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: What every thumbnail library is asked for: a 200x150 crop, JPEG quality 80.
THUMB_SIZE = (200, 150)
QUALITY = 80

#: An ``<img>`` with the three facts a page prints per photo, as most libraries write it.
IMG = '<img src="{{ %s.url }}" width="{{ %s.width }}" height="{{ %s.height }}">'


@dataclass(frozen=True)
class Contender:
    slug: str
    #: The row's name in the tables (Markdown).
    label: str
    #: The bar's name in the chart (plain text).
    short: str
    #: What the page does, for the docs.
    about: str
    model: str
    page: str
    #: The thumbnail library's app, if any (an optional dependency of the benchmark).
    app: str | None = None
    #: ``STORAGES["default"]`` is a ``CachedStorage`` wrapping the S3 storage.
    cached: bool = False
    #: The page shows 200x150 thumbnails; otherwise it shows the sources at their size.
    thumbnails: bool = True
    specs: dict[str, Any] | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    #: Apps the library needs besides its own (Wagtail's core, django-taggit...).
    extra_apps: tuple[str, ...] = ()
    #: What a project changes in its models to adopt the library, for the docs.
    model_change: str = "none"
    #: ``"module:function"`` creating every photo, ``(model, [(name, bytes)...]) -> None``,
    #: where the library's documented upload is more than ``create(image=...)``.
    upload: str | None = None
    #: ``"module:function"`` giving the page's rows, ``(model) -> QuerySet``, where
    #: the library documents a ``select_related`` or a prefetch for its pages.
    rows: str | None = None
    #: ``"module:function"``, ``() -> None``: a once-per-process cost of the library
    #: that no page should pay (an import it defers), paid before anything is measured.
    prepare: str | None = None
    #: ``"module:function"``, ``() -> dict``: what the page's template needs besides
    #: the rows (an object the library's tag is given, defined once by the project).
    context: str | None = None

    @property
    def module(self) -> str | None:
        return self.app.partition(".")[0] if self.app else None

    @property
    def installed(self) -> bool:
        return self.module is None or importlib.util.find_spec(self.module) is not None


def hook(path: str) -> Callable[..., Any]:
    """The function named by ``"module:function"`` (imported only in the contender's process)."""
    module, _, name = path.partition(":")
    function: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return function
