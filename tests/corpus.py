"""Pillow's own test images, fetched from PyPI once and kept in a cache directory.

Pillow's source distribution carries ``Tests/images/``: a thousand files that
exercise every plugin, many of them crafted (truncated headers, decompression
bombs, fuzzer finds). The version fetched is the installed Pillow's, so the
images match the plugins they were made for. The cache lives in
``$IKSTORAGE_TEST_DATA`` (default ``~/.cache/ikstorage-test-data``); only
``Tests/images/`` is extracted. Nothing but PyPI is contacted.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import urllib.request
from pathlib import Path

PYPI_SIMPLE = "https://pypi.org/simple/{name}/"
_ACCEPT = "application/vnd.pypi.simple.v1+json"
_IMAGES = "Tests/images/"
_TIMEOUT = 60


class CorpusUnavailable(Exception):
    """The corpus could not be fetched (offline, PyPI down, no sdist for this version)."""


def cache_root() -> Path:
    root = os.environ.get("IKSTORAGE_TEST_DATA") or "~/.cache/ikstorage-test-data"
    return Path(root).expanduser()


def pillow_images() -> Path:
    """The directory holding the installed Pillow's ``Tests/images``, fetched if needed."""
    import PIL

    version = PIL.__version__
    target = cache_root() / f"pillow-{version}" / "images"
    if (target / ".complete").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    url, sha256 = _sdist_url("pillow", f"pillow-{version}.tar.gz")
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        archive = Path(scratch) / "sdist.tar.gz"
        _download(url, archive, sha256)
        staging = Path(scratch) / "images"
        _extract_images(archive, staging)
        (staging / ".complete").write_text(f"{url}\n")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    return target


def _sdist_url(project: str, filename: str) -> tuple[str, str]:
    """The download URL and SHA-256 of ``filename`` from PyPI's JSON simple index."""
    request = urllib.request.Request(PYPI_SIMPLE.format(name=project), headers={"Accept": _ACCEPT})
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
            index = json.load(response)
    except (OSError, ValueError) as exc:
        raise CorpusUnavailable(f"PyPI index for {project}: {exc}") from exc
    for entry in index.get("files", []):
        if entry.get("filename", "").lower() == filename.lower():
            digest = entry.get("hashes", {}).get("sha256")
            if not digest:
                raise CorpusUnavailable(f"{filename} has no sha256 on PyPI")
            return entry["url"], digest
    raise CorpusUnavailable(f"{filename} is not on PyPI")


def _download(url: str, path: Path, sha256: str) -> None:
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT) as response, path.open("wb") as out:
            while block := response.read(1 << 20):
                digest.update(block)
                out.write(block)
    except OSError as exc:
        raise CorpusUnavailable(f"download of {url}: {exc}") from exc
    if digest.hexdigest() != sha256:
        raise CorpusUnavailable(f"{url}: sha256 {digest.hexdigest()} is not {sha256}")


def _extract_images(archive: Path, staging: Path) -> None:
    """Extract only ``*/Tests/images/**`` regular files, flattened below ``staging``."""
    staging.mkdir()
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            _, _, inside = member.name.partition("/")
            if not member.isfile() or not inside.startswith(_IMAGES):
                continue
            relative = Path(inside[len(_IMAGES) :])
            if relative.is_absolute() or ".." in relative.parts:
                continue
            destination = staging / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            if source is None:
                continue
            with source, destination.open("wb") as out:
                shutil.copyfileobj(source, out)


def corpus_files(root: Path) -> list[Path]:
    """Every file under ``root`` (subfolders included), in a stable order."""
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != ".complete")


# -- readers and the reference answer, shared by the imageinfo tests ------------------


class ProbeReader:
    """``read_at`` that behaves like the S3 probe: one first read, bounded follow-ups, a budget.

    The first read fetches ``first`` bytes from the start; a read the fetched
    ranges cannot answer fetches ``max(length, follow)`` bytes from its offset;
    once ``budget`` bytes were fetched, a further fetch raises
    ProbeLimitExceeded. ``fetched`` and ``calls`` count what a backend served.
    """

    def __init__(
        self, data: bytes, first: int = 64 << 10, follow: int = 16 << 10, budget: int = 512 << 10
    ) -> None:
        self.data, self.first, self.follow, self.budget = data, first, follow, budget
        self.chunks: list[tuple[int, bytes]] = []
        self.fetched = 0
        self.calls = 0

    def __call__(self, offset: int, length: int) -> bytes:
        from ikstorage.imageinfo import ProbeLimitExceeded

        length = min(length, len(self.data) - offset)
        if length <= 0:
            return b""
        for start, chunk in self.chunks:
            if start <= offset and offset + length <= start + len(chunk):
                return chunk[offset - start : offset - start + length]
        if self.fetched >= self.budget:
            raise ProbeLimitExceeded(offset)
        want = self.first if not self.chunks else max(length, self.follow)
        want = min(want, self.budget - self.fetched, len(self.data) - offset)
        chunk = self.data[offset : offset + want]
        self.chunks.append((offset, chunk))
        self.fetched += len(chunk)
        self.calls += 1
        return chunk[:length]


def django_answer(data: bytes) -> tuple[int | None, int | None] | None:
    """Django's ``get_image_dimensions`` on ``data`` as production sees it; None if it raises.

    Warnings are what they are in production (printed, not raised), so pytest's
    warnings-as-errors does not turn a DecompressionBombWarning into an answer.
    """
    import io
    import warnings

    from django.core.files.images import get_image_dimensions

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            width, height = get_image_dimensions(io.BytesIO(data))
        except Exception:
            return None
    return width, height
