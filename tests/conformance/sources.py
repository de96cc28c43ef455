"""Upstream test suites, fetched from their PyPI source distributions and cached.

Django's ``tests/`` tree and django-storages' ``tests/`` ship in the sdists,
not in the wheels that are installed. The sdist matching the *installed*
version is downloaded once (PyPI's JSON API gives its URL and SHA-256), the
few members the suites need are extracted, and the result is kept under
``$IKSTORAGE_TEST_DATA`` (default ``~/.cache/ikstorage-test-data``) so later
runs, and every tox env with the same version, read it from disk.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

PYPI = "https://pypi.org/pypi"
TIMEOUT = 60


class SourceUnavailable(Exception):
    """The sdist could not be fetched (no network, unknown version, bad checksum)."""


@dataclass(frozen=True)
class Sdist:
    """Which members of one project's sdist a suite needs."""

    project: str
    version: str
    #: Paths inside the sdist's top folder; a path ending in "/" takes the whole folder.
    members: tuple[str, ...]

    @property
    def folder(self) -> str:
        # The member list is part of the name: a harness that needs more files
        # extracts again instead of finding an older, smaller extraction.
        digest = hashlib.sha256("\n".join(self.members).encode()).hexdigest()[:8]
        return f"{self.project.lower()}-{self.version}-{digest}"


def data_dir() -> Path:
    default = Path.home() / ".cache" / "ikstorage-test-data"
    return Path(os.environ.get("IKSTORAGE_TEST_DATA") or default)


def fetch(sdist: Sdist) -> Path:
    """The extracted members of ``sdist``, downloaded on first use; returns their root.

    The root mirrors the sdist's top folder (``<root>/tests/...``). Extraction
    goes to a temporary folder renamed into place, so an interrupted run leaves
    nothing half-written behind.
    """
    root = data_dir() / sdist.folder
    if (root / ".complete").is_file():
        return root
    url, sha256 = _sdist_url(sdist)
    payload = _get(url)
    if hashlib.sha256(payload).hexdigest() != sha256:
        raise SourceUnavailable(f"{url}: SHA-256 does not match PyPI's ({sha256})")
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{sdist.folder}-", dir=root.parent))
    try:
        _extract(payload, sdist, staging)
        (staging / ".complete").write_text(f"{url}\n{sha256}\n")
        try:
            staging.rename(root)
        except OSError:
            if not (root / ".complete").is_file():  # not a concurrent run that won
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root


def _get(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            return bytes(response.read())
    except (urllib.error.URLError, OSError) as exc:
        raise SourceUnavailable(f"cannot download {url}: {exc}") from exc


def _sdist_url(sdist: Sdist) -> tuple[str, str]:
    """URL and SHA-256 of the sdist, from PyPI's JSON API (per-release, else per-project)."""
    files = None
    errors = []
    for url in (f"{PYPI}/{sdist.project}/{sdist.version}/json", f"{PYPI}/{sdist.project}/json"):
        try:
            data = json.loads(_get(url))
        except (SourceUnavailable, ValueError) as exc:
            errors.append(str(exc))
            continue
        files = data.get("releases", {}).get(sdist.version)
        if not files and data.get("info", {}).get("version") == sdist.version:
            files = data.get("urls")
        if files:
            break
    for entry in files or ():
        if entry.get("packagetype") == "sdist":
            # Mirrors of the API may list file URLs relative to the JSON page.
            return urljoin(url, str(entry["url"])), str(entry["digests"]["sha256"])
    detail = "; ".join(errors) or "no sdist listed for that version"
    raise SourceUnavailable(f"no sdist of {sdist.project}=={sdist.version} on PyPI ({detail})")


def _extract(payload: bytes, sdist: Sdist, target: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as archive:
        chosen = []
        for member in archive.getmembers():
            inner = member.name.partition("/")[2]
            if not (member.isfile() or member.isdir()) or not _wanted(inner, sdist.members):
                continue
            member.name = inner
            chosen.append(member)
        if not any(m.isfile() for m in chosen):
            raise SourceUnavailable(f"{sdist.folder} sdist holds none of {sdist.members}")
        if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4
            archive.extractall(target, members=chosen, filter="data")
        else:  # pragma: no cover
            archive.extractall(target, members=chosen)  # SHA-256 checked against PyPI


def _wanted(inner: str, members: tuple[str, ...]) -> bool:
    return any(inner == m or (m.endswith("/") and (inner + "/").startswith(m)) for m in members)
