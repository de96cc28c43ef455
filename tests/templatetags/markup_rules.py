"""An HTML checker for ``<picture>``, ``<source>`` and ``<img>``, apart from the code it checks.

The markup is parsed with the standard library's HTML tokenizer (attribute
values come back unescaped, as a browser reads them) and held to the HTML
rules for responsive images: the ``srcset`` candidate syntax, ``w``
descriptors only with ``sizes``, no two candidates with one descriptor or one
URL, a known image ``type``; and to what makes a ``<picture>`` right for every
browser, which a syntax checker cannot see but the renditions' real sizes
show: every candidate of one ``srcset`` — and of the whole ``<picture>``,
which fills one box — has the ``<img>``'s aspect ratio (±1 px of rounding),
its ``w`` is its real width, the ``<img>``'s ``width``/``height`` are its
``src``'s, each ``<source type>`` lists files of that type only, and no
``<source>`` lacks the widest candidate the ``<img>`` offers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

#: What the checker knows of each file: URL → (width, height, MIME type).
Files = dict[str, tuple[int, int, str]]

IMAGE_TYPES = {"image/avif", "image/webp", "image/jpeg", "image/png", "image/gif"}
_DESCRIPTOR = re.compile(r"(?:([1-9][0-9]*)w|([0-9]+(?:\.[0-9]+)?)x)\Z")


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = [name for name, _ in attrs]
        assert len(names) == len(set(names)), f"<{tag}> repeats an attribute: {names}"
        self.found.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        self.found.append((f"/{tag}", {}))


@dataclass(frozen=True)
class Candidate:
    url: str
    width: int | None  # the w descriptor


def parse_srcset(value: str) -> list[Candidate]:
    """The candidates of a ``srcset``, checked against the HTML candidate-string syntax."""
    found: list[Candidate] = []
    for part in value.split(","):
        words = part.split()
        assert 1 <= len(words) <= 2, f"bad candidate {part!r} in {value!r}"
        url = words[0]
        assert not url.startswith(","), url
        assert not url.endswith(","), url
        width = None
        if len(words) == 2:
            match = _DESCRIPTOR.match(words[1])
            assert match, f"bad descriptor {words[1]!r}"
            assert match.group(1), "density descriptors are not written by the tags"
            width = int(match.group(1))
        found.append(Candidate(url, width))
    widths = [c.width for c in found]
    assert len({c.url for c in found}) == len(found), f"a URL twice: {value!r}"
    assert len(set(widths)) == len(widths), f"a descriptor twice: {value!r}"
    if len(found) > 1:
        assert None not in widths, f"several candidates need w descriptors: {value!r}"
    return found


def _same_ratio(a: tuple[int, int], b: tuple[int, int]) -> bool:
    (sw, sh), (lw, lh) = sorted([a, b])
    return abs(sh - sw * lh / lw) <= 1 or abs(sw - sh * lw / lh) <= 1


def check_pictures(html: str, files: Files) -> list[dict[str, list[Candidate]]]:
    """Assert the rules above for every ``<picture>`` of ``html``; their srcsets by element."""
    parser = _Elements()
    parser.feed(html)
    parser.close()
    pictures: list[dict[str, list[Candidate]]] = []
    elements = parser.found
    while elements:
        tag, _ = elements.pop(0)
        if tag != "picture":
            continue
        children = []
        while elements[0][0] != "/picture":
            children.append(elements.pop(0))
        elements.pop(0)
        tags = [t for t, _ in children]
        assert tags == ["source"] * (len(tags) - 1) + ["img"], f"content model: {tags}"
        pictures.append(_check_one(children, files))
    return pictures


def _check_one(
    children: list[tuple[str, dict[str, str | None]]], files: Files
) -> dict[str, list[Candidate]]:
    img = children[-1][1]
    src = img.get("src")
    assert src, "an <img> needs a src"
    box = files[src][:2]
    if img.get("width") is not None or img.get("height") is not None:
        assert (int(img["width"] or 0), int(img["height"] or 0)) == box, (img, box)
    assert img.get("alt") is not None, "an <img> needs an alt"
    srcsets: dict[str, list[Candidate]] = {}
    img_widest = files[src][0]
    for tag, attrs in children:
        assert "sizes" not in attrs or "srcset" in attrs, f"sizes without srcset on <{tag}>"
        if tag == "source":
            assert "src" not in attrs, "a <source> in <picture> has no src"
            assert attrs.get("srcset"), "a <source> in <picture> has a srcset"
        if "srcset" not in attrs:
            continue
        listed = parse_srcset(attrs["srcset"] or "")
        if any(c.width is not None for c in listed):
            assert attrs.get("sizes"), f"w descriptors need sizes: {attrs}"
        for c in listed:
            width, height, mime = files[c.url]
            assert c.width in (None, width), f"{c.url} is {width} px wide, not {c.width}w"
            assert _same_ratio((width, height), box), f"{c.url} {width}x{height} in a {box} box"
            if tag == "source" and attrs.get("type") is not None:
                assert mime == attrs["type"], f"a {mime} in a <source type={attrs['type']}>"
        widest = max(files[c.url][0] for c in listed)
        key = "img" if tag == "img" else f"source {attrs.get('type')}"
        assert key not in srcsets, f"two {key}"
        srcsets[key] = listed
        if tag == "img":
            img_widest = max(img_widest, widest)
    for _, attrs in children[:-1]:
        assert attrs.get("type") is None or attrs["type"] in IMAGE_TYPES, attrs
        widest = max(files[c.url][0] for c in srcsets[f"source {attrs.get('type')}"])
        assert widest >= img_widest, f"<source {attrs.get('type')}> lacks the {img_widest}w image"
    return srcsets
