"""Which renditions a record lists are current: made for the specs as declared now.

A record lists the renditions made for one version of its source, each with
the fingerprint of the spec variant it was made for (:meth:`Spec.fingerprint`).
One declared differently since (a new size, another quality) no longer
matches: it is missing, not shown. Everything that asks "is there a current
rendition" (a lookup, ``{% picture %}``, a prewarm, a render, a prune) asks here.

A record may list renditions no spec of this process declares: those of
another process's specs during a rolling deploy, including another variant of
a spec of the same name. They are kept (that process shows them) and never
shown here: a spec's current rendition is the one with its own fingerprint.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from ikstorage.imageinfo import is_image_name
from ikstorage.records import Record, RenditionInfo
from ikstorage.renditions.specs import Spec

__all__ = ["by_format", "current", "fingerprints", "missing", "undeclared", "variants_for"]


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
    """Every output to make for a file saved as ``name``: matching specs, one per format.

    ``name`` is the name a model field holds (``Adapter.relative`` of the
    stored name): what the ``match`` globs are written against, without the
    storage's ``location``.
    """
    if not is_image_name(name):  # only image-like names are decoded (invariant 7)
        return []
    return [variant for spec in specs if spec.matches(name) for variant in spec.variants()]


def missing(specs: Iterable[Spec], name: str, record: Record) -> list[Spec]:
    """The spec variants that apply to ``name`` and have no current rendition in ``record``."""
    have = {(r.spec, r.fingerprint) for r in record.renditions}
    return [v for v in variants_for(specs, name) if (v.name, v.fingerprint()) not in have]


def undeclared(specs: Iterable[Spec], name: str, record: Record) -> list[RenditionInfo]:
    """The renditions ``record`` lists that none of ``specs`` makes for ``name`` now.

    Another process's (a rolling deploy), or a spec since removed, declared
    differently or no longer matching: pages keep them, ``ikstorage_prune``
    removes them.
    """
    made = {(v.name, v.fingerprint()) for v in variants_for(specs, name)}
    return [r for r in record.renditions if (r.spec, r.fingerprint) not in made]
