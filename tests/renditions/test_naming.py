"""Rendition names: stable, safe everywhere, new whenever the bytes, spec or name change."""

from __future__ import annotations

import hashlib
import io
import re

import pytest

from ikstorage.renditions import Spec, rendition_name, source_digest

THUMB = Spec("thumb", fill=(200, 150), format="webp", quality=80)
DIGEST = hashlib.sha256(b"source bytes").hexdigest()
SAFE = re.compile(r"[a-z0-9_./-]+\Z")


def test_a_name_is_stable_across_processes_and_releases() -> None:
    name = rendition_name("photos/2024/IMG_1234.JPG", DIGEST, THUMB, "webp")
    assert name == "renditions/photos/2024/img_1234.thumb.3d40cec2341d7246.webp"


def test_the_digest_is_sha256_of_the_whole_stream_and_keeps_the_position() -> None:
    data = bytes(range(256)) * 9000  # more than one read block
    stream = io.BytesIO(data)
    stream.seek(123)
    assert source_digest(stream) == hashlib.sha256(data).hexdigest()
    assert stream.tell() == 123


def test_a_new_name_for_new_bytes_a_new_spec_a_new_format_or_another_source() -> None:
    base = rendition_name("a/b.jpg", DIGEST, THUMB, "webp")
    others = [
        rendition_name("a/b.jpg", hashlib.sha256(b"other bytes").hexdigest(), THUMB, "webp"),
        rendition_name("a/b.jpg", DIGEST, Spec("thumb", fill=(200, 150), format="webp"), "webp"),
        rendition_name("a/b.jpg", DIGEST, Spec("thumb", fill=(200, 150)), "jpeg"),
        rendition_name("a/b.jpg", DIGEST, Spec("thumb", fill=(200, 150)), "png"),
        rendition_name("a/B.jpg", DIGEST, THUMB, "webp"),  # same readable part...
        rendition_name("a/b.png", DIGEST, THUMB, "webp"),
        rendition_name(
            "a/b.jpg", DIGEST, Spec("other", fill=(200, 150), format="webp", quality=80), "webp"
        ),
    ]
    assert len({base, *others}) == len(others) + 1
    # ...but the digest differs, so two sources never share a rendition.
    assert others[4].rsplit(".", 3)[0] == base.rsplit(".", 3)[0]
    same = rendition_name(
        "a/b.jpg",
        DIGEST,
        Spec("thumb", fill=(200, 150), format="webp", quality=80, match=("a/*",)),
        "webp",
    )
    assert same == base


@pytest.mark.parametrize(
    ("source", "start"),
    [
        ("photos/été/Crème Brûlée.jpeg", "renditions/photos/ete/creme-brulee.thumb."),
        ("../../etc/passwd", "renditions/etc/passwd.thumb."),
        ("./x//y/./z.png", "renditions/x/y/z.thumb."),
        ("日本語/写真.jpg", "renditions/image.thumb."),
        ("a.b.c.tar.gz", "renditions/a-b-c-tar.thumb."),
        ("dir\\win\\file.JPG", "renditions/dir/win/file.thumb."),
        ("x" * 300 + ".jpg", "renditions/" + "x" * 40 + ".thumb."),
        ("/".join(["folder-name-long-enough"] * 20) + "/p.jpg", "renditions/folder-name"),
    ],
)
def test_names_are_short_ascii_and_safe_for_every_storage(source: str, start: str) -> None:
    name = rendition_name(source, DIGEST, THUMB, "webp")
    assert name.startswith(start)
    assert SAFE.match(name), name
    assert ".." not in name
    assert "//" not in name
    assert len(name) <= 230
    assert re.search(r"\.thumb\.[0-9a-f]{16}\.webp\Z", name)


def test_prefix_and_extensions() -> None:
    assert rendition_name("p.jpg", DIGEST, THUMB, "jpeg", prefix="cache/").startswith("cache/p.")
    for fmt, extension in [
        ("jpeg", "jpg"),
        ("png", "png"),
        ("webp", "webp"),
        ("avif", "avif"),
        ("gif", "gif"),
    ]:
        assert rendition_name("p.jpg", DIGEST, THUMB, fmt).endswith("." + extension)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("p.jpg", DIGEST, Spec(width=9), "webp"), "needs a named Spec"),
        (("p.jpg", DIGEST, THUMB, "tiff"), "Unknown output format 'tiff'"),
        (("p.jpg", "", THUMB, "webp"), "needs the digest"),
    ],
)
def test_wrong_arguments(args: tuple[str, str, Spec, str], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        rendition_name(*args)
