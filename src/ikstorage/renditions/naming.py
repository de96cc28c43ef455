"""Rendition names: derived from the source's name, its bytes and the spec, never reused.

``renditions/photos/2024/img-1234.thumb.3f9a2c7d1e4b5a60.webp``: the source's
folder and stem (as readable ASCII, for whoever lists the bucket), the spec's
name, a digest and the format's extension. The digest covers the exact source
name, a digest of the source *bytes*, the spec's fingerprint and the output
format, so

* a changed source or spec never reuses a URL: a CDN may cache renditions
  forever (:data:`IMMUTABLE_CACHE_CONTROL`);
* two sources with the same bytes under different names do not share a
  rendition, so deleting one never breaks the other;
* the readable part may lose characters (unicode, dots, length) without two
  sources ever colliding.

Names are ASCII ``[a-z0-9_./-]``, at most about 230 characters with the
default prefix, so they are valid on S3, GCS, Azure and every file system.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from typing import IO

from ikstorage.renditions.image.encoders import OUTPUTS
from ikstorage.renditions.specs import Spec

__all__ = [
    "DEFAULT_PREFIX",
    "IMMUTABLE_CACHE_CONTROL",
    "rendition_name",
    "source_digest",
]

#: Where renditions go, so a bucket rule (lifecycle, CDN cache policy) can target them.
DEFAULT_PREFIX = "renditions/"
#: A ``Cache-Control`` for renditions: their bytes never change under a name.
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"

_UNSAFE = re.compile(r"[^a-z0-9_-]+")
_STEM_LIMIT = 40
_PART_LIMIT = 40
_FOLDER_LIMIT = 100
_CHUNK = 1 << 20


def source_digest(content: IO[bytes]) -> str:
    """SHA-256 (hex) of a seekable binary stream from its first byte; its position is kept.

    SHA-256 runs at about 1.6 GB/s here (6.6 ms for a 10 MB photo), faster than
    BLAKE2b on CPUs with SHA extensions.
    """
    position = content.tell()
    content.seek(0)
    digest = hashlib.sha256()
    try:
        while block := content.read(_CHUNK):
            digest.update(block)
    finally:
        content.seek(position)
    return digest.hexdigest()


def rendition_name(
    source_name: str, digest: str, spec: Spec, fmt: str, *, prefix: str = DEFAULT_PREFIX
) -> str:
    """The storage name of ``spec`` rendered from the source stored as ``source_name``.

    ``digest`` is :func:`source_digest` of the source's bytes; ``fmt`` is the
    output's format (``Output.format``: a spec with ``format=None`` follows the
    source). Pass the name the storage actually used (after
    ``get_available_name``), so the same file always gets the same names.
    """
    if not spec.name:
        raise ValueError("rendition_name needs a named Spec (the name is part of the file name).")
    if fmt not in OUTPUTS:
        raise ValueError(f"Unknown output format {fmt!r}; expected one of {', '.join(OUTPUTS)}.")
    if not digest:
        raise ValueError("rendition_name needs the digest of the source's bytes.")
    key = "\0".join((source_name, digest, spec.fingerprint(), fmt))
    token = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    folder, stem = _readable(source_name)
    where = f"{prefix}{folder}/" if folder else prefix
    return f"{where}{stem}.{spec.name}.{token}.{OUTPUTS[fmt].extension}"


def _readable(source_name: str) -> tuple[str, str]:
    """ASCII folder and stem that resemble the source's; never empty, never ``..``."""
    parts = os.fspath(source_name).replace("\\", "/").split("/")
    stem = _slug(os.path.splitext(parts[-1])[0], _STEM_LIMIT) or "image"
    folders = [slug for part in parts[:-1] if (slug := _slug(part, _PART_LIMIT))]
    while folders and len("/".join(folders)) > _FOLDER_LIMIT:
        folders.pop()
    return "/".join(folders), stem


def _slug(text: str, limit: int) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _UNSAFE.sub("-", ascii_text.lower()).strip("-_")[:limit].strip("-_")
