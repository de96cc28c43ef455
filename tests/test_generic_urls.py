"""Signed URLs from a storage without an adapter: memoized only until their stated expiry.

The generic adapter cannot read a third-party storage's settings, so it reads
each URL: the expiry the common signing schemes write into the query string
(``ikstorage.backends.url_expiry``). A signed URL is handed out until
``url_expiry_margin`` before that time, then signed again; a signed URL whose
expiry cannot be read is never memoized; a URL with no signature is
memoized for good.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.utils.deconstruct import deconstructible

from ikstorage import CachedStorage
from ikstorage.backends.generic import GenericAdapter
from ikstorage.backends.url_expiry import url_expires
from ikstorage.cache import clear_local
from tests.conftest import Events
from tests.identity_storages import FolderStorage
from tests.images import image_bytes

NOW = 1_800_000_000.0
#: ``NOW`` (2027-01-15 08:00:00 UTC) as AWS and GCS write a signing date.
STAMP = datetime.fromtimestamp(NOW, tz=UTC).strftime("%Y%m%dT%H%M%SZ")


@pytest.mark.parametrize(
    ("query", "expires"),
    [
        ("", None),
        ("?v=3&w=200", None),
        (f"?X-Amz-Algorithm=AWS4&X-Amz-Date={STAMP}&X-Amz-Expires=3600&X-Amz-Signature=ab", 3600),
        (f"?x-amz-date={STAMP}&x-amz-expires=60&x-amz-signature=ab", 60),
        (f"?X-Goog-Date={STAMP}&X-Goog-Expires=86400&X-Goog-Signature=ab", 86400),
        (f"?AWSAccessKeyId=K&Signature=s&Expires={int(NOW) + 900}", 900),
        (f"?GoogleAccessId=a&Expires={int(NOW) + 120}&Signature=s", 120),
        (f"?Expires={int(NOW) + 600}&Signature=s&Key-Pair-Id=K", 600),  # CloudFront, canned
        ("?sv=2024-08-04&se=2027-01-15T09%3A00%3A00Z&sr=b&sp=r&sig=x", 3600),
        ("?se=2027-01-15T08:20:00.1234567Z&sig=x", 1200.123456),
        ("?se=2027-01-16&sig=x", 16 * 3600),  # a date alone: its midnight, UTC
        # Two schemes: the earlier expiry.
        (f"?X-Amz-Date={STAMP}&X-Amz-Expires=3600&Expires={int(NOW) + 30}&Signature=s", 30),
        # Signed, but no expiry to read: already expired (never memoized).
        ("?Policy=eyJTdGF0ZW1lbnQiOltdfQ__&Signature=s&Key-Pair-Id=K", 0),
        ("?sig=abc", 0),
        ("?X-Amz-Signature=ab&X-Amz-Credential=c", 0),
        (f"?X-Amz-Date={STAMP}&X-Amz-Signature=ab", 0),  # a date without a lifetime
        ("?X-Amz-Date=yesterday&X-Amz-Expires=3600&X-Amz-Signature=ab", 0),
        ("?Expires=soon&Signature=s", 0),
        ("?se=tomorrow&sig=x", 0),
        ("?expires=later", 0),  # an expiry parameter that does not parse: not trusted
    ],
)
def test_expiry_read_from_the_url(query: str, expires: float | None) -> None:
    found = url_expires(f"https://files.example.com/a%20b.jpg{query}", NOW)
    if expires is None:
        assert found is None
    else:
        assert found == pytest.approx(NOW + expires, abs=1e-6)


@deconstructible
class SigningStorage(FolderStorage):
    """A storage ikstorage has no adapter for, whose URLs are signed its own way:
    ``query`` is formatted with the time of signing, as ``stamp`` (AWS and GCS
    V4's date) and ``hour`` (a POSIX time an hour later, as V2's ``Expires``)."""

    def __init__(self, location: str, query: str = "", clock: Any = None) -> None:
        super().__init__(location)
        self.query = query
        self.clock = clock or (lambda: NOW)

    def url(self, name: str | None) -> str:
        now = self.clock()
        stamp = datetime.fromtimestamp(now, tz=UTC).strftime("%Y%m%dT%H%M%SZ")
        return f"https://files.example.com/{name}" + self.query.format(
            stamp=stamp, hour=int(now) + 3600
        )


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The time ikstorage and the storage see (one clock, moved by the test)."""
    import ikstorage.core.answers

    now = [NOW]
    monkeypatch.setattr(ikstorage.core.answers.time, "time", lambda: now[0])
    return now


def cached(tmp_path: Path, query: str, clock: list[float], **options: Any) -> CachedStorage:
    storage = SigningStorage(str(tmp_path / "files"), query, clock=lambda: clock[0])
    return CachedStorage(storage=storage, url_expiry_margin=300, **options)


@pytest.mark.parametrize(
    "query",
    [
        "?X-Amz-Date={stamp}&X-Amz-Expires=3600&X-Amz-Signature=ab",
        "?X-Goog-Date={stamp}&X-Goog-Expires=3600&X-Goog-Signature=ab",
        "?GoogleAccessId=a&Expires={hour}&Signature=s",
    ],
)
def test_signed_url_is_memoized_until_the_margin(
    tmp_path: Path, clock: list[float], events: Events, query: str
) -> None:
    storage = cached(tmp_path, query, clock)
    assert isinstance(storage.core.files, GenericAdapter)
    first = storage.url("a.jpg")
    assert storage.url("a.jpg") == first
    clock[0] += 3600 - 300 - 1  # still outside the margin
    assert storage.url("a.jpg") == first
    assert events.storage["url"] == 1
    clock[0] += 2  # inside the margin: signed again
    clear_local()
    second = storage.url("a.jpg")
    assert second != first
    assert storage.url("a.jpg") == second
    assert events.storage["url"] == 2


def test_url_shorter_lived_than_the_margin_is_never_memoized(
    tmp_path: Path, clock: list[float], events: Events
) -> None:
    storage = cached(tmp_path, "?X-Amz-Date={stamp}&X-Amz-Expires=300&X-Amz-Signature=ab", clock)
    for _ in range(5):
        storage.url("a.jpg")
    assert events.storage["url"] == 5


def test_signed_url_without_a_readable_expiry_is_never_memoized(
    tmp_path: Path, clock: list[float], events: Events
) -> None:
    storage = cached(tmp_path, "?Policy=e30_&Signature=s&Key-Pair-Id=K", clock)
    urls = {storage.url("a.jpg") for _ in range(4)}
    assert urls == {"https://files.example.com/a.jpg?Policy=e30_&Signature=s&Key-Pair-Id=K"}
    assert events.storage["url"] == 4


def test_public_url_is_memoized_for_good(
    tmp_path: Path, clock: list[float], events: Events
) -> None:
    storage = cached(tmp_path, "?v=2", clock)
    first = storage.url("a.jpg")
    clock[0] += 10 * 365 * 86400
    clear_local()
    assert storage.url("a.jpg") == first == "https://files.example.com/a.jpg?v=2"
    assert events.storage["url"] == 1


@pytest.mark.parametrize(("query", "kept"), [("", True), ("?se=2099-01-01&sig=x", False)])
def test_rendition_url_is_kept_in_the_record_only_if_public(
    tmp_path: Path, clock: list[float], events: Events, query: str, kept: bool
) -> None:
    """A signed rendition URL is not written into its source's record (it would
    outlive its expiry there): the page asks for it, memoized within the margin."""
    specs = {"thumb": {"fit": [20, 20], "format": "png"}}
    storage = cached(tmp_path, query, clock, specs=specs)
    name = storage.save("src.png", ContentFile(image_bytes((40, 40), "PNG")))
    (info,) = storage.metadata(name).renditions
    assert (info.url is not None) is kept
    assert events.storage["url"] == 1
    shown = storage.rendition(name, "thumb")
    assert shown.url == f"https://files.example.com/{info.name}{query}"
    assert storage.rendition(name, "thumb").url == shown.url
    assert events.storage["url"] == (1 if kept else 2)
