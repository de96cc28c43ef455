"""What a browser gets from a page's image URLs: fetched anonymously and decoded.

A page that says ``width="240" height="180"`` about a URL that answers 403, or
an image of another size, is broken however few S3 calls it made. The demo
fetches every URL of the thumbnail page as a browser would (plain HTTP GET, no
credentials: the objects are public-read) and decodes each with Pillow.
These requests bypass boto3, so they are in none of the demo's counts.
"""

from __future__ import annotations

import io
import urllib.request
from dataclasses import dataclass

from PIL import Image

from gallery.demo.page import Figure

#: Pillow's format name for each type a <source> may declare.
_FORMATS = {"image/avif": "AVIF", "image/webp": "WEBP", "image/jpeg": "JPEG", "image/png": "PNG"}


@dataclass(frozen=True)
class Served:
    url: str
    content_type: str
    format: str
    width: int
    height: int


def fetch(url: str, timeout: float = 30.0) -> Served:
    """GET ``url`` anonymously and decode it; raises ``OSError`` (or ``ValueError``) if it fails."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        content_type = response.headers.get_content_type()
        data = response.read()
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return Served(url, content_type, image.format or "", image.width, image.height)


def problems(figure: Figure, expected_link: tuple[int, int] | None = None) -> list[str]:
    """Everything wrong with what a browser gets for one figure (empty when all is well).

    The ``<img>`` must decode to its ``width`` x ``height``, each ``<source>`` to
    the same size in the type it declares, and the link (when
    ``expected_link`` is given) to an image of that size.
    """
    found: list[str] = []
    size = (int(figure.width), int(figure.height))
    wanted = [("img", figure.src, "")]
    wanted += [(f"<source {s.type}>", url, s.type) for s in figure.sources for url in s.urls]
    for what, url, declared in wanted:
        try:
            got = fetch(url)
        except (OSError, ValueError) as exc:
            found.append(f"{what} {url}: {exc}")
            continue
        if (got.width, got.height) != size:
            found.append(f"{what} {url} is {got.width}x{got.height}, the page says {size}")
        if declared and (got.content_type != declared or got.format != _FORMATS.get(declared)):
            found.append(f"{what} {url} is {got.content_type} ({got.format}), not {declared}")
    if expected_link is not None:
        try:
            got = fetch(figure.href)
        except (OSError, ValueError) as exc:
            found.append(f"link {figure.href}: {exc}")
        else:
            if (got.width, got.height) != expected_link:
                found.append(f"link {figure.href} is {got.width}x{got.height}, not {expected_link}")
    return found
