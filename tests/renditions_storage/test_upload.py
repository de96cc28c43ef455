"""An upload writes the source and its renditions: 1 + k PutObject, nothing else on S3.

Renditions are rendered from the bytes in hand (no GET of what was just
written, no HeadObject), each stored with one ``PutObject`` that carries its
``Content-Type`` and an immutable ``Cache-Control``; the source's record lists
them, so showing them costs no S3 call, in this process or a new one.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.files.base import ContentFile

from ikstorage import cache as ik_cache
from ikstorage import rendition
from ikstorage.profiler import count_calls
from ikstorage.renditions.current import current
from tests.images import image_bytes
from tests.renditions_storage.helpers import (
    IMMUTABLE,
    OUTPUTS,
    SHAPES,
    SOURCE,
    cached,
    decoded,
    listing,
)


def test_upload_is_one_put_for_the_source_and_one_per_rendition(s3: Any, s3_storage: Any) -> None:
    storage = cached(s3_storage)
    with count_calls() as calls:
        name = storage.save("photos/a.jpg", ContentFile(SOURCE))
    assert name == "photos/a.jpg"
    assert calls.s3 == {"PutObject": 1 + OUTPUTS}
    # The wrapped storage is asked for a free name and writes the source; the
    # adapter writes each rendition. No exists(), no open(), no size().
    assert calls.storage == {"get_available_name": 1, "_save": 1, "write": OUTPUTS, "url": OUTPUTS}

    record = storage.metadata(name)
    assert (record.width, record.height, record.size) == (1200, 900, len(SOURCE))
    assert record.digest == hashlib.sha256(SOURCE).hexdigest()
    assert record.rendition_error is None
    assert record.placeholder is not None
    shapes = {(r.spec, r.format): (r.width, r.height) for r in record.renditions}
    assert shapes == SHAPES
    assert listing(s3) == sorted([name, *(r.name for r in record.renditions)])
    for info in record.renditions:
        assert info.name.startswith("renditions/photos/a.")
        assert info.url == f"https://media.s3.amazonaws.com/{info.name}"
        stored = s3.get_object(Bucket="media", Key=info.name)
        data = stored["Body"].read()
        assert len(data) == info.size
        assert stored["ContentType"] == f"image/{info.format}"
        assert stored["CacheControl"] == IMMUTABLE
        fmt, size, mode = decoded(data)
        assert (fmt.lower(), size, mode) == (info.format, (info.width, info.height), "RGB")
    source = s3.get_object(Bucket="media", Key=name)
    assert source["Body"].read() == SOURCE
    assert "CacheControl" not in source


def test_showing_renditions_costs_no_s3_call_warm_or_in_a_new_process(
    s3: Any, s3_storage: Any
) -> None:
    storage = cached(s3_storage)
    name = storage.save("photos/a.jpg", ContentFile(SOURCE))
    record = storage.metadata(name)
    wanted = [("thumb", None), ("thumb", "webp"), ("thumb", "jpeg"), ("large", None)]
    for fresh in (False, True):
        if fresh:
            ik_cache.clear_local()  # a new process: only the shared cache is left
        with count_calls() as calls:
            shown = [storage.rendition(name, spec, fmt) for spec, fmt in wanted]
        assert calls.s3 == {}
        assert calls.storage == {}
        assert calls.round_trips == ({"get_many": 1} if fresh else {})
        assert [(r.spec, r.format, r.width, r.height, r.fallback) for r in shown] == [
            ("thumb", "jpeg", 200, 150, False),  # the last format listed is the <img> one
            ("thumb", "webp", 200, 150, False),
            ("thumb", "jpeg", 200, 150, False),
            ("large", "jpeg", 800, 600, False),
        ]
        specs = storage.options.specs
        assert [r.url for r in shown] == [
            getattr(current(record, specs[spec], fmt), "url", None) for spec, fmt in wanted
        ]
        color, lqip = record.placeholder or ("", "")
        assert all(r.placeholder == {"color": color, "lqip": lqip} for r in shown)


def test_rendition_of_a_field_file_and_of_an_empty_field(s3: Any, s3_storage: Any) -> None:
    from django.core.files.storage import Storage

    storage = cached(s3_storage)
    name = storage.save("photos/a.jpg", ContentFile(SOURCE))

    class FieldFile:  # what rendition() reads from an ImageField's value
        def __init__(self, name: str, storage: Storage) -> None:
            self.name, self.storage = name, storage

    with count_calls() as calls:
        shown = rendition(FieldFile(name, storage), "large")
        empty = rendition(FieldFile("", storage), "large")
    assert calls.s3 == {}
    assert shown is not None
    assert (shown.width, shown.height, shown.fallback) == (800, 600, False)
    assert str(shown) == shown.url
    assert empty is None


def test_files_that_are_not_images_get_no_renditions(s3: Any, s3_storage: Any) -> None:
    storage = cached(s3_storage)
    with count_calls() as calls:
        storage.save("docs/a.txt", ContentFile(b"plain text"))
        storage.save("docs/b.pdf", ContentFile(b"%PDF-1.4 not really"))
    assert calls.s3 == {"PutObject": 2}
    assert listing(s3) == ["docs/a.txt", "docs/b.pdf"]
    assert storage.metadata("docs/b.pdf").renditions == ()


def test_match_prefix_and_cache_control_options(s3: Any, s3_storage: Any) -> None:
    storage = cached(
        s3_storage,
        specs={
            "avatar": {"fill": [32, 32], "format": "png", "match": ["avatars/*"]},
            "thumb": {"fit": [40, 40], "format": "webp"},
        },
        rendition_prefix="thumbs/",
        rendition_cache_control=None,
    )
    with count_calls() as calls:
        storage.save("avatars/me.png", ContentFile(image_bytes((64, 64), "PNG")))
        storage.save("photos/p.png", ContentFile(image_bytes((64, 48), "PNG")))
    assert calls.s3 == {"PutObject": 2 + 2 + 1}
    names = ("avatars/me.png", "photos/p.png")
    made = {n: [(r.spec, r.width, r.height) for r in storage.metadata(n).renditions] for n in names}
    assert made == {
        "avatars/me.png": [("avatar", 32, 32), ("thumb", 40, 40)],
        "photos/p.png": [("thumb", 40, 30)],
    }
    renditions = [k for k in listing(s3) if k not in names]
    assert len(renditions) == 3
    assert all(k.startswith("thumbs/") for k in renditions)
    assert all("CacheControl" not in s3.head_object(Bucket="media", Key=k) for k in renditions)


def test_browser_uploads_in_memory_and_on_disk_get_their_renditions(
    s3: Any, s3_storage: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile

    storage = cached(s3_storage)
    on_disk = TemporaryUploadedFile("disk.jpg", "image/jpeg", len(SOURCE), None)
    on_disk.write(SOURCE)
    on_disk.seek(0)
    uploads = [SimpleUploadedFile("memory.jpg", SOURCE, "image/jpeg"), on_disk]
    for upload in uploads:
        with count_calls() as calls:
            name = storage.save(f"up/{upload.name}", upload)
        assert calls.s3 == {"PutObject": 1 + OUTPUTS}
        assert s3.get_object(Bucket="media", Key=name)["Body"].read() == SOURCE
        assert len(storage.metadata(name).renditions) == OUTPUTS
    on_disk.close()
