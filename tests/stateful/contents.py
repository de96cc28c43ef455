"""Every kind of content Django's ``Storage.save`` accepts, as hypothesis strategies.

A ``Content`` is a recipe, not a file: ``save`` consumes its file object, and
the same content is saved twice (through ``CachedStorage`` and through an
uncached twin storage), so each call to :meth:`Content.build` makes a fresh
one. Its ``repr`` is the call that makes it, so a failing sequence printed by
hypothesis reads as code.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import strategies as st

from tests.images import image_bytes

#: Pillow format -> (extension, content type) of the images the machine saves.
IMAGE_FORMATS = {
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
    "GIF": ("gif", "image/gif"),
}


@dataclass(frozen=True)
class Content:
    """One content to save: ``kind`` says which Django file object carries ``data``."""

    kind: str
    data: bytes | str
    fmt: str = ""
    width: int = 0
    height: int = 0

    def build(self) -> Any:
        """A fresh file object, positioned at its start."""
        data = self.data
        if self.kind in ("bytes", "text", "image"):
            return ContentFile(data)
        if self.kind == "stringio":
            assert isinstance(data, str)
            return File(io.StringIO(data))
        assert isinstance(data, bytes)
        if self.kind == "bytesio":
            return File(io.BytesIO(data))
        if self.kind == "upload":
            return SimpleUploadedFile("upload.bin", data, "application/octet-stream")
        if self.kind == "image_upload":
            ext, content_type = IMAGE_FORMATS[self.fmt]
            return SimpleUploadedFile(f"photo.{ext}", data, content_type)
        raise ValueError(f"unknown content kind {self.kind!r}")

    def __repr__(self) -> str:
        if self.fmt:
            return f"{self.kind}({self.fmt!r}, {self.width}, {self.height})"
        return f"{self.kind}({self.data!r})"


def _image(kind: str, fmt: str, width: int, height: int) -> Content:
    return Content(kind, image_bytes((width, height), fmt), fmt, width, height)


_bytes = st.binary(max_size=64)
_text = st.text(max_size=16)
_images = st.tuples(st.sampled_from(sorted(IMAGE_FORMATS)), st.integers(1, 40), st.integers(1, 40))

#: Bytes in a ``ContentFile``, a ``BytesIO`` in a ``File``, an upload.
binary_contents: st.SearchStrategy[Content] = st.one_of(
    _bytes.map(lambda b: Content("bytes", b)),
    _bytes.map(lambda b: Content("bytesio", b)),
    _bytes.map(lambda b: Content("upload", b)),
)
#: Text: ``ContentFile("…")`` and a ``StringIO`` in a ``File``.
text_contents: st.SearchStrategy[Content] = st.one_of(
    _text.map(lambda t: Content("text", t)),
    _text.map(lambda t: Content("stringio", t)),
)
#: Real images whose dimensions Django can read, as bytes and as an upload.
image_contents: st.SearchStrategy[Content] = st.one_of(
    _images.map(lambda i: _image("image", *i)),
    _images.map(lambda i: _image("image_upload", *i)),
)
