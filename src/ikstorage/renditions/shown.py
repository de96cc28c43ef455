"""What a template shows for a rendition: :class:`Rendition`, built from the source's record.

A rendition's URL, width and height come from the record of its source, so a
page showing it costs no storage call: a public URL is in the record itself,
a signed one is memoized beside it (one L1 lookup). When a rendition is
missing, the source is shown instead, marked ``fallback``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ikstorage.records import Record, RenditionInfo
from ikstorage.renditions.host import Host

__all__ = ["Rendition", "shown", "source"]


@dataclass(frozen=True, slots=True)
class Rendition:
    """A rendition as a template shows it; ``str()`` is its URL."""

    name: str
    url: str
    width: int | None
    height: int | None
    spec: str
    format: str | None = None
    #: Dominant colour (``#rrggbb``) of the source, when known.
    color: str | None = None
    #: A tiny ``data:`` URI preview of the source, when known.
    lqip: str | None = None
    #: True when this is the source itself, shown because the rendition is missing.
    fallback: bool = False

    def __str__(self) -> str:
        return self.url

    @property
    def placeholder(self) -> dict[str, str] | None:
        """``{"color": ..., "lqip": ...}`` for templates, or ``None``."""
        if self.color is None or self.lqip is None:
            return None
        return {"color": self.color, "lqip": self.lqip}


def shown(host: Host, record: Record, info: RenditionInfo) -> Rendition:
    """The rendition ``info`` of the source whose record is ``record``."""
    placeholder = record.placeholder or (None, None)
    return Rendition(
        name=info.name,
        url=info.url if info.url is not None else host.url(info.name),
        width=info.width,
        height=info.height,
        spec=info.spec,
        format=info.format,
        color=placeholder[0],
        lqip=placeholder[1],
    )


def source(host: Host, name: str, record: Record, spec: str) -> Rendition:
    """The source itself, shown for its missing rendition of ``spec``."""
    width, height = record.dimensions if record.dimensions_known else (None, None)
    placeholder = record.placeholder or (None, None)
    return Rendition(
        name=name,
        url=host.url(name),
        width=width,
        height=height,
        spec=spec,
        color=placeholder[0],
        lqip=placeholder[1],
        fallback=True,
    )
