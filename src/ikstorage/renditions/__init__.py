"""Renditions: thumbnails and resized copies made from the bytes in hand when a file is saved.

The pieces, one job each:

* :mod:`.specs` — :class:`Spec`, ``OPTIONS["specs"]`` validation, ``match`` globs,
  the fingerprint names are derived from;
* :mod:`.pipeline` — :func:`render`: decode once (shrink-on-load), render every
  spec, typed errors for bad input;
* :mod:`.geometry`, :mod:`.colour`, :mod:`.encoders` — sizes and regions, sRGB
  and alpha, per-format encoder options;
* :mod:`.naming` — :func:`rendition_name` and :func:`source_digest`;
* :mod:`.placeholder` — dominant colour and a tiny WebP preview.

Nothing here touches a storage or a cache: the caller writes ``Output.data``
under ``rendition_name(...)`` and records plain values.

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
    "DEFAULT_MAX_FRAMES": "pipeline",
    "DEFAULT_MAX_PIXELS": "pipeline",
    "SOURCE_FORMATS": "pipeline",
    "Output": "pipeline",
    "Rendered": "pipeline",
    "render": "pipeline",
    "DEFAULT_PREFIX": "naming",
    "IMMUTABLE_CACHE_CONTROL": "naming",
    "rendition_name": "naming",
    "source_digest": "naming",
    "Placeholder": "placeholder",
    "FORMATS": "specs",
    "Spec": "specs",
    "parse_specs": "specs",
    "spec_errors": "specs",
    "specs_for": "specs",
}

if TYPE_CHECKING:
    from ikstorage.renditions.naming import (
        DEFAULT_PREFIX,
        IMMUTABLE_CACHE_CONTROL,
        rendition_name,
        source_digest,
    )
    from ikstorage.renditions.pipeline import (
        DEFAULT_MAX_FRAMES,
        DEFAULT_MAX_PIXELS,
        SOURCE_FORMATS,
        Output,
        Rendered,
        render,
    )
    from ikstorage.renditions.placeholder import Placeholder
    from ikstorage.renditions.specs import FORMATS, Spec, parse_specs, spec_errors, specs_for


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'ikstorage.renditions' has no attribute {name!r}")
    return getattr(importlib.import_module(f"ikstorage.renditions.{home}"), name)
