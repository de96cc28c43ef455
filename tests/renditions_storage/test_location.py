"""``match`` globs are tested against the name the model field holds, not the object key.

With ``S3Storage(location="media")`` the file a field names ``avatars/a.jpg``
is the object ``media/avatars/a.jpg``; ``"avatars/*"`` must match it on a
save, on a page that finds its rendition missing, and in a prewarm.
"""

from __future__ import annotations

import io
import json
from typing import Any

from django.core.cache import caches
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import override_settings
from storages.backends.s3 import S3Storage

from ikstorage import CachedStorage
from ikstorage.profiler import count_calls
from tests.renditions_storage.helpers import SOURCE, listing

SPECS: dict[str, Any] = {
    "avatar": {"fill": [96, 96], "format": "webp", "match": ["avatars/*"]},
    "thumb": {"fill": [200, 150], "format": "webp", "match": ["photos/*"]},
}


def media(s3: Any) -> CachedStorage:
    inner = S3Storage(bucket_name="media", location="media", querystring_auth=False)
    return CachedStorage(storage=inner, specs=SPECS)


def specs_listed(storage: CachedStorage, name: str) -> list[tuple[str, int]]:
    return [(r.spec, r.width) for r in storage.metadata(name).renditions]


def test_a_save_renders_the_specs_whose_globs_match_the_fields_name(s3: Any) -> None:
    storage = media(s3)
    with count_calls() as calls:
        assert storage.save("avatars/a.jpg", ContentFile(SOURCE)) == "avatars/a.jpg"
        assert storage.save("photos/p.jpg", ContentFile(SOURCE)) == "photos/p.jpg"
        assert storage.save("other/o.jpg", ContentFile(SOURCE)) == "other/o.jpg"
    # Three sources, one rendition each for the two that a glob matches.
    assert calls.s3 == {"PutObject": 5}
    assert specs_listed(storage, "avatars/a.jpg") == [("avatar", 96)]
    assert specs_listed(storage, "photos/p.jpg") == [("thumb", 200)]
    assert specs_listed(storage, "other/o.jpg") == []
    keys = listing(s3)
    assert all(key.startswith("media/") for key in keys)
    # A rendition's key has the location once, then the rendition folder and the field's name.
    made = sorted(k for k in keys if "/renditions/" in k)
    assert [k.rsplit(".", 3)[0] for k in made] == [
        "media/renditions/avatars/a",
        "media/renditions/photos/p",
    ]
    assert storage.rendition("avatars/a.jpg", "avatar").url.startswith(
        "https://media.s3.amazonaws.com/media/renditions/avatars/a.avatar."
    )


def test_a_page_renders_a_missing_rendition_whose_glob_matches(s3: Any) -> None:
    s3.put_object(Bucket="media", Key="media/avatars/b.jpg", Body=SOURCE)
    storage = media(s3)
    with count_calls() as calls:
        shown = storage.rendition("avatars/b.jpg", "avatar")
    # The probe (read on through the source), the one rendition the globs give this name.
    assert calls.s3 == {"GetObject": 1, "PutObject": 1}
    assert (shown.width, shown.height, shown.fallback) == (96, 96, False)
    with count_calls() as calls:
        other = storage.rendition("avatars/b.jpg", "thumb")  # its glob does not match
    assert (calls.s3, other.fallback) == ({}, True)


def test_prewarm_renders_what_matching_sources_lack(s3: Any) -> None:
    for key in ("media/avatars/c.jpg", "media/photos/d.jpg"):
        s3.put_object(Bucket="media", Key=key, Body=SOURCE)
    config = {
        "s3": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {"bucket_name": "media", "location": "media", "querystring_auth": False},
        },
        "default": {
            "BACKEND": "ikstorage.CachedStorage",
            "OPTIONS": {"storage": "s3", "specs": SPECS},
        },
    }
    with override_settings(STORAGES=config):
        caches["default"].clear()
        out = io.StringIO()
        call_command("ikstorage_prewarm", "--prefix", "", "--renditions", "--json", stdout=out)
        summary = json.loads(out.getvalue())
    assert summary["renditions_made"] == 2
    # One GET per source (the probe's read, gone on with for the one whose spec applies).
    assert summary["s3"] == {"ListObjectsV2": 1, "GetObject": 2, "PutObject": 2}
