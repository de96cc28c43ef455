"""What the renditions-in-the-storage tests share: specs, sources, a bucket listing."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image
from storages.backends.s3 import S3Storage

from ikstorage import CachedStorage
from tests.renditions.sources import photo

#: Two specs, three outputs: ``thumb`` in WebP and JPEG, ``large`` like the source.
SPECS: dict[str, Any] = {
    "thumb": {"fill": [200, 150], "formats": ["webp", "jpeg"]},
    "large": {"fit": [800, 800]},
}
#: Outputs per image source under :data:`SPECS` (the ``k`` of "1 + k PutObject").
OUTPUTS = 3
#: The size each output of a 1200x900 source has, by (spec, format).
SHAPES = {
    ("thumb", "webp"): (200, 150),
    ("thumb", "jpeg"): (200, 150),
    ("large", "jpeg"): (800, 600),
}
IMMUTABLE = "public, max-age=31536000, immutable"

#: A 1200x900 JPEG that compresses like a photograph.
SOURCE = photo((1200, 900))
#: Another version of it (an overwrite): other bytes, other size.
SOURCE_V2 = photo((1000, 750))


def cached(s3_storage: S3Storage, **options: Any) -> CachedStorage:
    """A ``CachedStorage`` over ``s3_storage`` with :data:`SPECS` unless ``specs`` is given."""
    options.setdefault("specs", SPECS)
    return CachedStorage(storage=s3_storage, **options)


def listing(client: Any, bucket: str = "media") -> list[str]:
    """Every key in the bucket, sorted (every page of the listing)."""
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return sorted(keys)


def decoded(data: bytes) -> tuple[str, tuple[int, int], str]:
    """``(format, size, mode)`` of image bytes, as Pillow reads them."""
    with Image.open(io.BytesIO(data)) as image:
        return str(image.format), image.size, image.mode


def reset_moto(endpoint: str) -> None:
    """Empty every moto backend: moto servers started in one process share their state."""
    import urllib.request

    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
