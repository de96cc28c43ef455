"""Markup for renditions: ``srcset``/``sizes``, ``<picture>`` and placeholders, as plain functions.

They take :class:`~.shown.Rendition` objects and only format, so the markup
is tested without a storage (:mod:`.html` looks the renditions up).
Everything is built with :func:`~django.utils.html.format_html`, so URLs,
``alt`` text and extra attributes are escaped (values already marked safe are
not escaped twice) and nothing else is marked safe.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from ikstorage.renditions.image.encoders import OUTPUTS
from ikstorage.renditions.shown import Rendition

__all__ = [
    "MIME_TYPES",
    "attributes",
    "candidates",
    "default_sizes",
    "picture_markup",
    "placeholder_style",
    "srcset_attributes",
    "srcset_value",
]

#: The ``type`` of a ``<source>`` for each output format (the encoders' own list).
MIME_TYPES: dict[str, str] = {name: output.content_type for name, output in OUTPUTS.items()}

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


def default_sizes(width: int) -> str:
    """``(max-width: Wpx) 100vw, Wpx`` for an image shown ``width`` pixels wide.

    ``width`` is the first spec's (the ``<img>``'s ``width`` attribute): the
    image is taken to be shown at that size, never wider than the viewport, and
    the larger candidates serve screens of more than one pixel per CSS pixel.
    A layout that shows it at another size (a grid column, a full-width hero
    from a thumbnail-first list) should pass its own ``sizes``.
    """
    return f"(max-width: {width}px) 100vw, {width}px"


def _shown_width(first: Rendition | None, listed: Sequence[Rendition]) -> int:
    """The width an image is shown at: the first spec's, else the widest candidate's."""
    if first is not None and first.width:
        return first.width
    return max(r.width or 0 for r in listed)


def srcset_attributes(renditions: Iterable[Rendition], sizes: str | None = None) -> SafeString:
    """``srcset="…" sizes="…"`` for an ``<img>``; empty when there is nothing to list.

    ``sizes`` defaults to :func:`default_sizes` when there are ``w``
    descriptors (the width of the first rendition given: the spec named
    first), and is left out for a lone candidate unless given.
    """
    given = list(renditions)
    listed = candidates(given)
    if not listed:
        return SafeString("")
    html = format_html('srcset="{}"', srcset_value(listed))
    sizes = _sizes(listed, sizes, default_sizes(_shown_width(given[0], listed)))
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
    eager: bool = False,
    attrs: Mapping[str, Any] | None = None,
) -> SafeString:
    """``<picture>`` with a ``<source>`` per ``(format, renditions)`` and the ``<img>``.

    ``img`` gives the ``<img>``'s ``src``, ``width`` and ``height``;
    ``img_srcset`` its ``srcset`` when there are several candidates. ``attrs``
    go on the ``<img>`` (``alt``, ``loading`` and ``decoding`` replace the
    defaults ``""``, ``"lazy"``, ``"async"``); ``style`` follows the placeholder.
    ``eager`` is for an image at the top of the page: ``loading="eager"``
    and ``fetchpriority="high"`` unless ``attrs`` say otherwise.
    """
    given = dict(attrs or {})
    if eager:
        given.setdefault("loading", "eager")
        given.setdefault("fetchpriority", "high")
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
    # One default for the whole element, the <img>'s width: the sources and the
    # <img> fill the same box.
    described = [r for _, found in listed_sources if len(found) > 1 for r in found]
    described += listed_img if len(listed_img) > 1 else []
    default = default_sizes(_shown_width(img, described)) if described else None
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
