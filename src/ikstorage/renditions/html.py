"""``srcset`` and ``<picture>`` for a field file: its renditions from one record lookup a tag.

:func:`srcset` and :func:`picture` take a field file (or a name) and spec
names, read the source's record once (no storage call once it is cached:
L1, or the page's one batched round trip in a new process), pick the current
renditions of each spec from it (:mod:`.current`) and hand them to the plain
markup functions of :mod:`.markup`. A spec with no current rendition is
handled once, as ``missing_renditions`` says (:mod:`.lookup`). The template
tags in :mod:`ikstorage.templatetags.ikstorage` are one-line wrappers of these.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings as django_settings
from django.utils.safestring import SafeString

from ikstorage.records import Record
from ikstorage.renditions.binding import Renditions, located, rendition, required
from ikstorage.renditions.current import by_format, current
from ikstorage.renditions.markup import candidates, picture_markup, srcset_attributes
from ikstorage.renditions.shapes import same_shape, warn_once
from ikstorage.renditions.shown import Rendition, shown
from ikstorage.renditions.specs import FORMATS

__all__ = ["parse_formats", "picture", "rendition_or_empty", "srcset"]


def rendition_or_empty(image: Any, spec: str) -> Rendition | str:
    """``rendition(image, spec)``, or ``""`` for an empty field (prints nothing, is falsy)."""
    found = rendition(image, spec)
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
    ``missing_renditions``); equal widths are listed once, and a spec whose
    rendition has another aspect ratio than the first spec's is left out
    (:mod:`.shapes`, with a warning). ``""`` for an empty field.
    """
    found = located(image, storage)
    if found is None:
        return SafeString("")
    name, where = found
    wanted = _specs(specs)
    renditions = required(name, where)
    record = renditions.record(name, wanted[0])  # a first view: one read, renditions made
    own = [_own(renditions, name, record, spec) for spec in wanted]
    return srcset_attributes(_one_shape(own, wanted, "{% srcset %}"), sizes)


def picture(
    image: Any,
    *specs: str,
    formats: str | Iterable[str] | None = None,
    sizes: str | None = None,
    placeholder: bool | str = False,
    eager: bool = False,
    storage: Any = None,
    **attrs: Any,
) -> SafeString:
    """``<picture>`` for the renditions ``specs`` of ``image``, in the formats that exist.

    ``formats`` (default: the first spec's own) lists the wanted formats,
    most efficient first. Those the source has no rendition in are dropped;
    the last one left is the ``<img>``, the others become ``<source>``\\ s.
    When none is left the ``<img>`` is the spec's own rendition, or the source
    if that is missing too. The first spec gives the ``<img>``'s ``src``,
    ``width`` and ``height``; further specs of the same aspect ratio add ``w``
    candidates (equal widths listed once), others are left out. A
    ``<source>`` without the widest candidate is left out too, so that no
    browser misses it. Both warn (:mod:`.shapes`). ``eager`` marks an image at
    the top of the page. ``""`` for an empty field.
    """
    found = located(image, storage)
    if found is None:
        return SafeString("")
    name, where = found
    wanted = parse_formats(formats)
    names = _specs(specs)
    renditions = required(name, where)
    record = renditions.record(name, names[0])  # the tag's one record lookup
    shown_specs = [_Shown.of(renditions, name, record, spec, wanted) for spec in names]
    first = shown_specs[0]
    kept = _one_shape([s.img for s in shown_specs], names, "{% picture %}")
    group = [s for s in shown_specs if s.img in kept]
    img_format = first.img.format
    img_srcset = [s.by_format.get(img_format or "", s.img) for s in group]
    widest = max((r.width or 0 for r in candidates(img_srcset)), default=0)
    sources = []
    for fmt in first.by_format:
        if fmt == img_format:
            continue
        listed = [s.by_format[fmt] for s in group if fmt in s.by_format]
        if max((r.width or 0 for r in candidates(listed)), default=0) < widest:
            lacking = [s.img.spec for s in group if fmt not in s.by_format]
            warn_once(
                ("{% picture %} formats", fmt, *names),
                f"{_quoted(lacking)} made no {fmt}: the {fmt} <source> is left out, "
                f"so that browsers showing {fmt} still get the widest candidate. Give the specs "
                "of one <picture> the same formats.",
            )
            continue
        sources.append((fmt, listed))
    if "alt" not in attrs and django_settings.DEBUG:
        warn_once(
            ("alt", *names),
            f"{{% picture %}} of {_quoted(names)} without alt: pass alt=… "
            '(or alt="" for a decorative image).',
        )
    return picture_markup(
        first.img,
        sources,
        img_srcset,
        sizes=sizes,
        placeholder=placeholder,
        eager=eager,
        attrs=attrs,
    )


def _one_shape(shown_list: list[Rendition], names: Sequence[str], tag: str) -> list[Rendition]:
    """The renditions of the first one's aspect ratio; a warning names the specs left out."""
    first = shown_list[0]
    kept = [r for r in shown_list if same_shape(r, first)]
    if len(kept) < len(shown_list):
        left = [r.spec for r in shown_list if r not in kept]
        warn_once(
            (tag, *names),
            f"{tag} of {_quoted(names)}: {_quoted(left)} left out where the aspect ratio "
            f"is not {first.spec!r}'s (one srcset holds one picture at several sizes). "
            "Use specs of one ratio, or a tag per ratio.",
        )
    return kept


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(repr(n) for n in names)


def _own(renditions: Renditions, name: str, record: Record, spec: str) -> Rendition:
    """The spec's own rendition from ``record``; when missing, handled as the options say."""
    info = current(record, renditions.settings.spec(spec))
    if info is not None:
        return shown(renditions.host, record, info)
    return renditions.find(name, spec)


@dataclass(frozen=True, slots=True)
class _Shown:
    """One spec of a ``<picture>``: its ``<img>`` rendition and the wanted formats it has."""

    img: Rendition
    #: Wanted format → rendition, in the order wanted, for the formats that exist.
    by_format: dict[str, Rendition]

    @classmethod
    def of(
        cls, renditions: Renditions, name: str, record: Record, spec: str, wanted: list[str] | None
    ) -> _Shown:
        declared = renditions.settings.spec(spec)
        found = by_format(record, declared)
        base: Rendition | None = None
        if not found:
            # None yet: handled once, as ``missing_renditions`` says (made now,
            # the source shown, or an error); then the record as it is now.
            base = renditions.find(name, spec)
            if base.fallback:
                return cls(img=base, by_format={})
            record = renditions.host.metadata(name)
            found = by_format(record, declared)
        chosen = {
            fmt: shown(renditions.host, record, found[fmt])
            for fmt in (found if wanted is None else wanted)
            if fmt in found
        }
        # The last wanted format that exists; with none, the spec's own rendition.
        img = chosen[list(chosen)[-1]] if chosen else base or renditions.find(name, spec)
        return cls(img=img, by_format=chosen)


def _specs(specs: Sequence[str]) -> Sequence[str]:
    if not specs:
        raise ValueError('Name at least one rendition spec, such as "thumb".')
    return specs
