"""Read what a gallery page shows: its ``<main>``, and per photo the image a browser loads.

Parsed with the standard library's ``HTMLParser``, so the attribute order of
``{% picture %}``'s markup does not matter. One ``Figure`` per ``<figure>``:
the ``<img>`` (``src``, ``width``, ``height``), the ``<source>``s of a
``<picture>`` and the link around it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from typing import Any

_MAIN = re.compile(r"<main>(.*)</main>", re.DOTALL)


@dataclass(frozen=True)
class Source:
    type: str
    srcset: str

    @property
    def urls(self) -> list[str]:
        """The URLs of the ``srcset`` (without ``200w``-style descriptors)."""
        return [part.split()[0] for part in self.srcset.split(",") if part.strip()]


@dataclass(frozen=True)
class Figure:
    src: str
    width: str
    height: str
    href: str = ""  # the link around the image, if any
    sources: list[Source] = field(default_factory=list)
    placeholder: bool = False  # the <img> has an inline background (the placeholder)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Figure:
        sources = [Source(**s) for s in data.get("sources", [])]
        return cls(**{**data, "sources": sources})


@dataclass(frozen=True)
class Page:
    main: str
    figures: list[Figure]


def read_page(html: str) -> Page:
    """The ``<main>`` of ``html`` (empty if it has none) and its figures."""
    found = _MAIN.search(html)
    main = found.group(1) if found else ""
    parser = _Figures()
    parser.feed(main)
    parser.close()
    return Page(main=main, figures=parser.figures)


class _Figures(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.figures: list[Figure] = []
        self._href = ""
        self._sources: list[Source] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "figure":
            self._href, self._sources = "", []
        elif tag == "a":
            self._href = values.get("href", "")
        elif tag == "source":
            self._sources.append(Source(values.get("type", ""), values.get("srcset", "")))
        elif tag == "img":
            self.figures.append(
                Figure(
                    src=values.get("src", ""),
                    width=values.get("width", ""),
                    height=values.get("height", ""),
                    href=self._href,
                    sources=list(self._sources),
                    placeholder="background:" in values.get("style", ""),
                )
            )
