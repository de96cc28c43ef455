"""A CachedStorage on moto S3 with specs, as the ``Photo`` model's storage."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from ikstorage import CachedStorage
from ikstorage.renditions.shapes import forget_warnings
from tests.testapp.models import Photo

SPECS: dict[str, Any] = {
    "thumb": {"fill": [200, 150], "formats": ["webp", "jpeg"]},
    "medium": {"fit": [300, 300]},
    "large": {"fit": [1600, 1600]},
}


def picture_bytes(size: tuple[int, int]) -> bytes:
    """A JPEG of one colour, so the placeholder colour is known."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 60)).save(buffer, format="JPEG")
    return buffer.getvalue()


def make_storage(s3_storage: Any, monkeypatch: pytest.MonkeyPatch, **options: Any) -> Any:
    storage = CachedStorage(storage=s3_storage, specs=options.pop("specs", SPECS), **options)
    monkeypatch.setattr(Photo._meta.get_field("image"), "storage", storage)
    return storage


@pytest.fixture
def storage(s3_storage: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    return make_storage(s3_storage, monkeypatch)


@pytest.fixture(autouse=True)
def _warn_again() -> None:
    """Each test sees the once-per-process markup warnings afresh."""
    forget_warnings()
