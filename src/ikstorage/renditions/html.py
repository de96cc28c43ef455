"""Markup for renditions: ``srcset``/``sizes``, ``<picture>`` and placeholders.

Two layers, so that the markup can be tested without a storage:

* plain functions over :class:`~ikstorage.renditions.lookup.Rendition` objects
  (:func:`srcset_value`, :func:`srcset_attributes`, :func:`picture_markup`,
  :func:`placeholder_style`, :func:`attributes`) that only format;
* :func:`srcset` and :func:`picture`, which take a field file (or a name) and
  spec names, look the renditions up in the source's record (no storage call
  once the record is cached) and hand them to the plain functions. The
  template tags in :mod:`ikstorage.templatetags.ikstorage` are one-line
  wrappers of these.

Everything is built with :func:`~django.utils.html.format_html`, so URLs,
``alt`` text and extra attributes are escaped (values already marked safe are
not escaped twice) and nothing else is marked safe.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from ikstorage.renditions import lookup
from ikstorage.renditions.lookup import Rendition
from ikstorage.renditions.specs import FORMATS, Spec

__all__ = [
    "MIME_TYPES",
    "attributes",
    "candidates",
    "default_sizes",
    "parse_formats",
    "picture",
    "picture_markup",
    "placeholder_style",
    "rendition_or_empty",
    "srcset",
    "srcset_attributes",
    "srcset_value",
]

#: The ``type`` of a ``<source>`` for each output format.
MIME_TYPES: dict[str, str] = {
    "avif": "image/avif",
    "webp": "image/webp",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
}

#: Attributes the markup writes itself: passing them would give an element two of each.
_GENERATED = frozenset({"src", "srcset", "width", "height", "type"})
#: ``<img>`` attributes with a default that a keyword argument replaces.
_DEFAULTS: dict[str, str] = {"alt": "", "loading": "lazy", "decoding": "async"}
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_:.-]*\Z")
#: What a record holds as a placeholder; anything else (a corrupted cache entry)
#: is left out rather than written into a ``style`` attribute.
_COLOR = re.compile(r"#[0-9a-fA-F]{6}\Z")
_LQIP = re.compile(r"data:image/(?:webp|png|jpeg|gif);base64,[A-Za-z0-9+/]+={0,2}\Z")
_SPACE = re.compile(r"[\t\n\f\r ]")


# -- plain markup, from renditions ------------------------------------------------


def candidates(renditions: Iterable[Rendition]) -> list[Rendition]:
    """The renditions a ``srcset`` lists: each file once, each width once, narrowest first.

    A source smaller than a spec gives renditions at the source's own size,
    so two specs (or two fallbacks to the source) can have the same width; a
    ``srcset`` may not list a width twice, so the first one given is kept.
    With several candidates, one of unknown width cannot have a ``w``
    descriptor and is left out; a single candidate needs none.
    """
    unique = list({r.url: r for r in reversed(list(renditions))}.values())[::-1]
    if len(unique) <= 1:
        return unique
    by_width: dict[int, Rendition] = {}
    for r in unique:
        if r.width is not None and r.width not in by_width:
            by_width[r.width] = r
    return [by_width[width] for width in sorted(by_width)]


def srcset_value(renditions: Sequence[Rendition]) -> str:
    """``"a.webp 200w, b.webp 400w"``; a lone candidate is its bare URL (no descriptor)."""
    if len(renditions) == 1:
        return _candidate_url(renditions[0].url)
    return ", ".join(f"{_candidate_url(r.url)} {r.width}w" for r in renditions)


def default_sizes(renditions: Sequence[Rendition]) -> str:
    """``(max-width: Wpx) 100vw, Wpx`` for the widest candidate ``W``.

    The image is taken to be shown at most at its widest rendition's width and
    never wider than the viewport; a layout that shows it smaller (a grid
    column) should pass its own ``sizes`` so the browser fetches less.
    """
    widest = max(r.width or 0 for r in renditions)
    return f"(max-width: {widest}px) 100vw, {widest}px"


def srcset_attributes(renditions: Iterable[Rendition], sizes: str | None = None) -> SafeString:
    """``srcset="…" sizes="…"`` for an ``<img>``; empty when there is nothing to list.

    ``sizes`` defaults to :func:`default_sizes` when there are ``w``
    descriptors, and is left out for a lone candidate unless given.
    """
    listed = candidates(renditions)
    if not listed:
        return SafeString("")
    html = format_html('srcset="{}"', srcset_value(listed))
    sizes = _sizes(listed, sizes, default_sizes(listed))
    if sizes is not None:
        html += format_html(' sizes="{}"', sizes)
    return html


def placeholder_style(rendition: Rendition, kind: bool | str = True) -> str | None:
    """A CSS ``background`` showing the placeholder behind the ``<img>`` while it loads.

    ``kind``: ``True`` or ``"lqip"`` (the dominant colour and the tiny preview
    over it, scaled to cover), ``"color"`` (the colour alone, no data URI in
    the page), ``False``/``None`` (none). ``None`` when the record holds no
    placeholder.
    """
    if kind is False or kind is None or kind == "":
        return None
    if kind not in (True, "lqip", "color"):
        raise ValueError(f"placeholder must be True, 'lqip', 'color' or False, not {kind!r}.")
    color = rendition.color if rendition.color and _COLOR.match(rendition.color) else None
    lqip = rendition.lqip if rendition.lqip and _LQIP.match(rendition.lqip) else None
    if kind == "color":
        return f"background:{color}" if color else None
    layers = [color, f"url({lqip}) center/cover no-repeat" if lqip else None]
    shown = " ".join(layer for layer in layers if layer)
    return f"background:{shown}" if shown else None


def attributes(pairs: Iterable[tuple[str, Any]]) -> SafeString:
    """`` name="value"`` for each pair, escaped; ``True`` alone, ``False``/``None`` left out.

    An ``_`` in a name becomes ``-`` (``aria_label`` → ``aria-label``), since
    template keyword arguments cannot contain ``-``.
    """
    parts: list[str] = []
    for name, value in pairs:
        if value is None or value is False:
            continue
        if not isinstance(name, str) or not _ATTRIBUTE_NAME.match(name):
            raise ValueError(f"{name!r} is not an HTML attribute name.")
        name = name.replace("_", "-")
        parts.append(f" {name}" if value is True else f' {name}="{conditional_escape(value)}"')
    # Safe: each name matched _ATTRIBUTE_NAME (no quote, no "<", no space) and each
    # value went through conditional_escape. One join instead of a format_html per
    # attribute: this runs for every image of a page.
    return mark_safe("".join(parts))


def picture_markup(
    img: Rendition,
    sources: Sequence[tuple[str, Sequence[Rendition]]] = (),
    img_srcset: Sequence[Rendition] = (),
    *,
    sizes: str | None = None,
    placeholder: bool | str = False,
    attrs: Mapping[str, Any] | None = None,
) -> SafeString:
    """``<picture>`` with a ``<source>`` per ``(format, renditions)`` and the ``<img>``.

    ``img`` gives the ``<img>``'s ``src``, ``width`` and ``height``;
    ``img_srcset`` its ``srcset`` when there are several candidates. ``attrs``
    go on the ``<img>`` (``alt``, ``loading`` and ``decoding`` replace the
    defaults ``""``, ``"lazy"``, ``"async"``); ``style`` follows the placeholder.
    """
    given = dict(attrs or {})
    taken = sorted(
        name for name in given if name.replace("_", "-").lower() in _GENERATED | {"sizes"}
    )
    if taken:
        raise ValueError(
            f"{', '.join(taken)} cannot be passed: the markup sets them from the rendition."
        )
    listed_sources = [(fmt, candidates(found)) for fmt, found in sources]
    listed_sources = [(fmt, found) for fmt, found in listed_sources if found]
    listed_img = candidates(img_srcset)
    # One default for the whole element, from every candidate with a descriptor:
    # the sources and the <img> fill the same box.
    described = [r for _, found in listed_sources if len(found) > 1 for r in found]
    described += listed_img if len(listed_img) > 1 else []
    default = default_sizes(described) if described else None
    html = SafeString("<picture>")
    for fmt, found in listed_sources:
        html += format_html(
            "<source{}>",
            attributes(
                [
                    ("type", MIME_TYPES[fmt]),
                    ("srcset", srcset_value(found)),
                    ("sizes", _sizes(found, sizes, default)),
                ]
            ),
        )
    img_pairs: list[tuple[str, Any]] = [("src", img.url)]
    if len(listed_img) > 1:
        img_pairs += [
            ("srcset", srcset_value(listed_img)),
            ("sizes", _sizes(listed_img, sizes, default)),
        ]
    img_pairs += [("width", img.width), ("height", img.height)]
    img_pairs += [(name, given.pop(name, value)) for name, value in _DEFAULTS.items()]
    style = placeholder_style(img, placeholder)
    user_style = given.pop("style", None)
    if style and user_style:
        style = format_html("{};{}", style, user_style)
    img_pairs += [*given.items(), ("style", style or user_style)]
    html += format_html("<img{}></picture>", attributes(img_pairs))
    return html


def _sizes(listed: Sequence[Rendition], given: str | None, default: str | None) -> str | None:
    """``sizes`` for one ``srcset``: as given; else ``default`` when it has ``w`` descriptors."""
    if given is not None:
        return given
    return default if len(listed) > 1 else None


def _candidate_url(url: str) -> str:
    """``url`` as one ``srcset`` candidate: whitespace splits one, a trailing comma is dropped."""
    url = _SPACE.sub(lambda m: f"%{ord(m.group()):02X}", url)
    if url.endswith(","):
        url = url[:-1] + "%2C"
    return url


# -- from a field file, through the source's record -------------------------------------


def rendition_or_empty(image: Any, spec: str) -> Rendition | str:
    """``rendition(image, spec)``, or ``""`` for an empty field (prints nothing, is falsy)."""
    found = lookup.rendition(image, spec)
    return "" if found is None else found


def parse_formats(formats: str | Iterable[str] | None) -> list[str] | None:
    """``"avif webp jpeg"`` (spaces or commas) or a list, as output format names.

    ``jpg`` is ``jpeg``; an unknown name raises :class:`ValueError` (a typo
    would otherwise silently drop a ``<source>``).
    """
    if formats is None:
        return None
    items = formats.replace(",", " ").split() if isinstance(formats, str) else list(formats)
    found: list[str] = []
    for item in items:
        fmt = str(item).lower()
        fmt = "jpeg" if fmt == "jpg" else fmt
        if fmt not in FORMATS:
            raise ValueError(f"formats lists {item!r}; output formats are {', '.join(FORMATS)}.")
        if fmt not in found:
            found.append(fmt)
    return found


def srcset(image: Any, *specs: str, sizes: str | None = None, storage: Any = None) -> SafeString:
    """``srcset="…" sizes="…"`` from the renditions ``specs`` of ``image``.

    Each spec contributes its ``<img>`` rendition (the last of its
    ``formats``), or the source when the rendition is missing (see
    ``missing_renditions``); equal widths are listed once. ``""`` for an
    empty field.
    """
    located = _located(image, storage)
    if located is None:
        return SafeString("")
    name, where = located
    shown = [_required(lookup.rendition(name, spec, storage=where)) for spec in _specs(specs)]
    return srcset_attributes(shown, sizes)


def picture(
    image: Any,
    *specs: str,
    formats: str | Iterable[str] | None = None,
    sizes: str | None = None,
    placeholder: bool | str = False,
    storage: Any = None,
    **attrs: Any,
) -> SafeString:
    """``<picture>`` for the renditions ``specs`` of ``image``, in the formats that exist.

    ``formats`` (default: the first spec's own) lists the wanted formats,
    most efficient first. Those the source has no rendition in are dropped;
    the last one left is the ``<img>``, the others become ``<source>``\\ s.
    When none is left the ``<img>`` is the spec's own rendition, or the source
    if that is missing too. The first spec gives the ``<img>``'s ``src``,
    ``width`` and ``height``; further specs add ``w`` candidates (equal widths
    listed once). ``""`` for an empty field.
    """
    located = _located(image, storage)
    if located is None:
        return SafeString("")
    name, where = located
    wanted = parse_formats(formats)
    _checked(name, where, _specs(specs)[0])
    shown = [_Shown.of(where, name, spec, wanted) for spec in _specs(specs)]
    first = shown[0]
    img_format = first.img.format
    sources = [
        (fmt, [s.by_format[fmt] for s in shown if fmt in s.by_format])
        for fmt in first.by_format
        if fmt != img_format
    ]
    img_srcset = [s.by_format.get(img_format or "", s.img) for s in shown]
    return picture_markup(
        first.img,
        sources,
        img_srcset,
        sizes=sizes,
        placeholder=placeholder,
        attrs=attrs,
    )


@functools.lru_cache(maxsize=256)
def _formats_of(spec: Spec) -> tuple[str | None, ...]:
    """The formats of a spec's variants, in declared order (memoized, as fingerprints are)."""
    return tuple(v.format for v in spec.variants())


@dataclass(frozen=True, slots=True)
class _Shown:
    """One spec of a ``<picture>``: its ``<img>`` rendition and the wanted formats it has."""

    img: Rendition
    #: Wanted format → rendition, in the order wanted, for the formats that exist.
    by_format: dict[str, Rendition]

    @classmethod
    def of(cls, storage: Any, name: str, spec: str, wanted: list[str] | None) -> _Shown:
        declared = lookup.spec_named(storage, spec)
        order = _formats_of(declared)
        fingerprints = lookup._fingerprints(declared, None)

        def existing() -> dict[str, str]:
            """Format → its rendition's name, for the current renditions of this spec."""
            found = {
                r.format: r.name
                for r in storage.metadata(name).renditions
                if r.spec == spec and r.fingerprint in fingerprints
            }
            return dict(sorted(found.items(), key=lambda f: _index(order, f[0])))

        found = existing()
        base: Rendition | None = None
        if not found:
            # None yet: handled once, as ``missing_renditions`` says (made now,
            # the source shown, or an error).
            base = _required(lookup.rendition(name, spec, storage=storage))
            if base.fallback:
                return cls(img=base, by_format={})
            found = existing()
        # Only formats the record has are asked for by format: one the spec does
        # not make would be handled as a missing rendition.
        by_format = {
            fmt: storage.rendition(name, spec, fmt)
            for fmt in (found if wanted is None else wanted)
            if fmt in found
        }
        if by_format:
            img = by_format[list(by_format)[-1]]
        else:  # none of the wanted formats: the spec's own rendition
            img = base or _required(lookup.rendition(name, spec, storage=storage))
        return cls(img=img, by_format=by_format)


def _index(order: Sequence[str | None], fmt: str) -> int:
    """Where ``fmt`` comes in a spec's ``formats`` (a format "like the source" comes last)."""
    return order.index(fmt) if fmt in order else len(order)


def _checked(name: str, storage: Any, spec: str) -> None:
    """Raise ``rendition()``'s error for a storage that is not a ``CachedStorage``."""
    if getattr(storage, "ikstorage_batches", False) is not True:
        lookup.rendition(name, spec, storage=storage)  # raises ConfigurationError
        raise TypeError(f"{type(storage).__name__} is not a CachedStorage.")


def _located(image: Any, storage: Any) -> tuple[str, Any] | None:
    """``(name, storage)`` of a field file or a name, as ``rendition()`` finds them."""
    if isinstance(image, str | os.PathLike):
        name: Any = image
    else:
        name = getattr(image, "name", None)
        storage = storage if storage is not None else getattr(image, "storage", None)
    if not name:
        return None
    if storage is None:
        from django.core.files.storage import default_storage

        storage = default_storage
    return str(name), storage


def _specs(specs: Sequence[str]) -> Sequence[str]:
    if not specs:
        raise ValueError('Name at least one rendition spec, such as "thumb".')
    return specs


def _required(found: Rendition | None) -> Rendition:
    if found is None:  # not reached: the name was checked to be non-empty
        raise ValueError("A rendition of an empty name was asked for.")
    return found
