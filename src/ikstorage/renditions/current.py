"""Which renditions a record lists are current: made for the specs as declared now.

A record lists the renditions made for one version of its source, each with
the fingerprint of the spec variant it was made for (:meth:`Spec.fingerprint`).
One declared differently since (a new size, another quality) no longer
matches: it is missing, not shown. Everything that asks "is there a current
rendition" (a lookup, ``{% picture %}``, a prewarm, a render) asks here.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from ikstorage.imageinfo import is_image_name
from ikstorage.records import Record, RenditionInfo
from ikstorage.renditions.specs import Spec

__all__ = ["by_format", "current", "fingerprints", "missing", "variants_for"]


@functools.lru_cache(maxsize=256)
def fingerprints(spec: Spec, fmt: str | None) -> frozenset[str]:
    """Fingerprints of the variants of ``spec`` that can be in ``fmt`` (any when ``None``).

    Memoized: a page asks for each thumbnail, and a fingerprint is a JSON dump
    and a SHA-256.
    """
    variants = spec.variants()
    if fmt is not None:
        variants = [v for v in variants if v.format in (fmt, None)]
    return frozenset(v.fingerprint() for v in variants)


@functools.lru_cache(maxsize=256)
def _order(spec: Spec) -> tuple[str | None, ...]:
    """The formats of a spec's variants, in declared order (memoized, as fingerprints are)."""
    return tuple(v.format for v in spec.variants())


def current(record: Record, spec: Spec, fmt: str | None = None) -> RenditionInfo | None:
    """The record's current rendition of ``spec`` (in ``fmt``; else its last-listed one)."""
    allowed = fingerprints(spec, fmt)
    found = [r for r in record.renditions if r.spec == spec.name and r.fingerprint in allowed]
    if fmt is not None:
        found = [r for r in found if r.format == fmt]
    return found[-1] if found else None


def by_format(record: Record, spec: Spec) -> dict[str, RenditionInfo]:
    """Format → the record's current rendition of ``spec`` in it, in the spec's order.

    Formats come as ``formats`` declares them; a format "like the source" last.
    """
    allowed = fingerprints(spec, None)
    found = {
        r.format: r for r in record.renditions if r.spec == spec.name and r.fingerprint in allowed
    }
    order = _order(spec)
    return dict(
        sorted(found.items(), key=lambda f: order.index(f[0]) if f[0] in order else len(order))
    )


def variants_for(specs: Iterable[Spec], name: str) -> list[Spec]:
    """Every output to make for a file saved as ``name``: matching specs, one per format."""
    if not is_image_name(name):  # only image-like names are decoded (invariant 7)
        return []
    return [variant for spec in specs if spec.matches(name) for variant in spec.variants()]


def missing(specs: Iterable[Spec], stored: str, record: Record) -> list[Spec]:
    """The spec variants that apply to ``stored`` and have no current rendition in ``record``."""
    have = {(r.spec, r.fingerprint) for r in record.renditions}
    return [v for v in variants_for(specs, stored) if (v.name, v.fingerprint()) not in have]
