"""Renditions: thumbnails and resized copies made from the bytes in hand when a file is saved.

Two halves. The pure half takes bytes and specs and returns bytes and plain
values; it touches no storage and no cache, so it is tested on bytes alone:

* :mod:`.specs` — :class:`Spec`, ``OPTIONS["specs"]`` validation, ``match`` globs,
  the fingerprint names are derived from (the value checks in :mod:`.spec_values`);
* :mod:`.naming` — :func:`rendition_name` and :func:`source_digest`;
* :mod:`.image` — the pixel work: :func:`render` decodes once (shrink-on-load),
  renders every spec and encodes it, with typed errors for bad input; also the
  :class:`Placeholder` (dominant colour and a tiny WebP preview).

The other half joins a storage: it writes what the pure half returns under
``rendition_name(...)``, lists it in the source's record, and finds it again.
It reaches the storage's core only through :class:`~.host.Host` (a
``Protocol`` the core satisfies), never through the storage facade:

* :mod:`.binding` — :class:`~.binding.Renditions`, one storage's specs bound to
  its core and plugged into its writes (the core's write hook);
  :func:`~.binding.rendition` and :func:`~.binding.renditions_of`;
* :mod:`.settings` — the rendition OPTIONS as this half reads them;
* :mod:`.saving` — rendered before the source is written, stored under its lease;
* :mod:`.current` — which renditions a record lists are current (one place);
* :mod:`.lookup` — :func:`~.lookup.find`: from the source's record, a missing
  one handled as ``missing_renditions`` says; :mod:`.making` renders what a
  source lacks, once across processes; :mod:`.shown` is what a template gets;
* :mod:`.queue` and :mod:`.tasks` — deferred renditions on Django's task workers;
* :mod:`.html` — ``srcset`` and ``<picture>`` from one record lookup a tag,
  formatted by :mod:`.markup`.

Names are imported on first use, so a settings module that declares specs
(``from ikstorage.renditions import Spec``) loads neither Pillow nor LittleCMS.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "DEFAULT_MAX_FRAMES",
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_PREFIX",
    "FORMATS",
    "IMMUTABLE_CACHE_CONTROL",
    "SOURCE_FORMATS",
    "Output",
    "Placeholder",
    "Rendered",
    "Spec",
    "parse_specs",
    "render",
    "rendition_name",
    "source_digest",
    "spec_errors",
    "specs_for",
]

_HOMES = {
    "DEFAULT_MAX_FRAMES": "image.pipeline",
    "DEFAULT_MAX_PIXELS": "image.pipeline",
    "SOURCE_FORMATS": "image.pipeline",
    "Output": "image.results",
    "Rendered": "image.results",
    "render": "image.pipeline",
    "DEFAULT_PREFIX": "naming",
    "IMMUTABLE_CACHE_CONTROL": "naming",
    "rendition_name": "naming",
    "source_digest": "naming",
    "Placeholder": "image.placeholder",
    "FORMATS": "spec_values",
    "Spec": "specs",
    "parse_specs": "specs",
    "spec_errors": "specs",
    "specs_for": "specs",
}

if TYPE_CHECKING:
    from ikstorage.renditions.image.pipeline import (
        DEFAULT_MAX_FRAMES,
        DEFAULT_MAX_PIXELS,
        SOURCE_FORMATS,
        render,
    )
    from ikstorage.renditions.image.placeholder import Placeholder
    from ikstorage.renditions.image.results import Output, Rendered
    from ikstorage.renditions.naming import (
        DEFAULT_PREFIX,
        IMMUTABLE_CACHE_CONTROL,
        rendition_name,
        source_digest,
    )
    from ikstorage.renditions.spec_values import FORMATS
    from ikstorage.renditions.specs import Spec, parse_specs, spec_errors, specs_for


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'ikstorage.renditions' has no attribute {name!r}")
    return getattr(importlib.import_module(f"ikstorage.renditions.{home}"), name)
