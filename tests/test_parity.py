"""Invariant 9: the wrapped storage's answers, for every name and content it accepts.

Each test here reproduces a difference once found between ``CachedStorage``
and the storage it wraps (FileSystemStorage and S3Storage on moto), and pins
the exact backend calls of the fixed behaviour.
"""

from __future__ import annotations

import io
import zoneinfo
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone

from ikstorage import CachedStorage
from ikstorage.cache import clear_local
from ikstorage.profiler import count_calls
from tests.conftest import CountingStorage, Events
from tests.images import image_bytes, jpeg_with_exif

# -- content ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [ContentFile("héllo"), File(io.StringIO("héllo"), name="notes.txt")],
    ids=["ContentFile(str)", "File(StringIO)"],
)
def test_text_content_is_saved_and_sized_in_bytes(fs: CountingStorage, content: Any) -> None:
    storage = CachedStorage(storage=fs)
    name = storage.save("notes.txt", content)
    assert name == "notes.txt"
    assert (Path(fs.location) / name).read_bytes() == "héllo".encode()
    fs.calls.clear()
    # The stored size depends on the backend's encoding: learned from it, once.
    assert storage.size(name) == 6
    assert storage.size(name) == 6
    assert fs.calls == {"exists": 1, "size": 1}


def test_text_content_on_s3(s3: Any, s3_storage: Any) -> None:
    storage = CachedStorage(storage=s3_storage)
    assert storage.save("notes.txt", ContentFile("héllo")) == "notes.txt"
    with count_calls() as calls:
        assert storage.size("notes.txt") == 6 == s3_storage.size("notes.txt")
        assert storage.size("notes.txt") == 6
    assert calls.s3 == {"HeadObject": 2}  # one for the record, one by S3Storage itself


def test_declared_size_is_not_trusted(fs: CountingStorage, events: Events) -> None:
    storage = CachedStorage(storage=fs)
    upload = SimpleUploadedFile("a.bin", b"0123456789")
    upload.size = 3  # a client that lied, or a stream changed after it was measured
    name = storage.save("a.bin", upload)
    fs.calls.clear()
    assert storage.size(name) == 10 == fs.size(name)
    assert fs.calls == {"size": 1}  # the direct fs.size above; the record answered


def test_gzip_decided_by_object_parameters_content_type(s3: Any) -> None:
    from storages.backends.s3 import S3Storage

    wrapped = S3Storage(
        bucket_name="media",
        querystring_auth=False,
        gzip=True,
        object_parameters={"ContentType": "text/css"},
    )
    storage = CachedStorage(storage=wrapped)
    data = b"body { color: red } " * 5  # 100 bytes; gzipped to fewer
    with count_calls() as calls:
        name = storage.save("data.bin", ContentFile(data))
    assert calls.s3 == {"PutObject": 1}
    stored = s3.head_object(Bucket="media", Key=name)["ContentLength"]
    assert stored < len(data)
    assert storage.size(name) == stored == wrapped.size(name)


def test_gzip_off_for_other_types_keeps_write_through(s3: Any) -> None:
    from storages.backends.s3 import S3Storage

    wrapped = S3Storage(bucket_name="media", querystring_auth=False, gzip=True)
    storage = CachedStorage(storage=wrapped)
    data = image_bytes((50, 40), "PNG")
    name = storage.save("p.png", ContentFile(data))
    with count_calls() as calls:
        assert storage.size(name) == len(data)
        assert storage.image_dimensions(name) == (50, 40)
    assert calls.s3 == {}


# -- names --------------------------------------------------------------------------


def outcome(call: Any, *args: Any) -> Any:
    """What a call returns, or the type of what it raises."""
    try:
        return call(*args)
    except Exception as exc:
        return type(exc)


NAMES = [None, "../../etc/passwd", "", "a\x00b.txt", 7, b"bytes.txt"]
METHODS = ["exists", "size", "url", "delete", "get_modified_time"]


@pytest.mark.parametrize("name", NAMES, ids=repr)
@pytest.mark.parametrize("method", METHODS)
def test_odd_names_answer_as_the_file_system_does(
    fs: CountingStorage, method: str, name: Any
) -> None:
    storage = CachedStorage(storage=fs)
    ours = outcome(getattr(storage, method), name)
    assert ours == outcome(getattr(fs, method), name)


@pytest.mark.parametrize("name", NAMES, ids=repr)
def test_odd_names_answer_as_s3_does(s3: Any, s3_storage: Any, name: Any) -> None:
    storage = CachedStorage(storage=s3_storage)
    for method in METHODS:
        ours = outcome(getattr(storage, method), name)
        assert ours == outcome(getattr(s3_storage, method), name), method


def test_path_names(fs: CountingStorage) -> None:
    storage = CachedStorage(storage=fs)
    name = storage.save(Path("p") / "a.jpg", ContentFile(image_bytes((20, 10))))
    assert name == "p/a.jpg"
    fs.calls.clear()
    path = Path("p/a.jpg")
    assert storage.exists(path) is True
    assert storage.size(path) == len(image_bytes((20, 10)))
    assert storage.image_dimensions(path) == (20, 10)
    assert storage.url(path) == fs.url(path) == "/media/p/a.jpg"
    assert fs.calls == {"url": 2}
    storage.delete(path)
    assert storage.exists("p/a.jpg") is False
    assert not (Path(fs.location) / "p/a.jpg").exists()


def test_one_record_per_stored_file(fs: CountingStorage) -> None:
    storage = CachedStorage(storage=fs)
    storage.save("y.txt", ContentFile(b"12345"))
    assert storage.exists("./y.txt") is True
    assert storage.size("d/../y.txt") == 5
    storage.delete("y.txt")
    assert storage.exists("./y.txt") is False
    storage.save("./y.txt", ContentFile(b"1234567"))
    assert storage.size("y.txt") == 7
    assert storage.core.keys.record("y.txt") == storage.core.keys.record(
        storage.core.canonical("./y.txt")
    )


@pytest.mark.parametrize("spelling", ["dir//x.txt", "dir/./x.txt", "./dir/x.txt", "dir\\x.txt"])
def test_one_record_per_s3_key(s3: Any, s3_storage: Any, spelling: str) -> None:
    storage = CachedStorage(storage=s3_storage)
    assert storage.save("dir/x.txt", ContentFile(b"12345")) == "dir/x.txt"
    with count_calls() as calls:
        assert storage.exists(spelling) is True
        assert storage.size(spelling) == 5
    assert calls.s3 == {}
    storage.delete(spelling)
    assert s3_storage.exists("dir/x.txt") is False
    with count_calls() as calls:
        assert storage.exists("dir/x.txt") is False
    assert calls.s3 == {}


# -- directories --------------------------------------------------------------------


def test_a_saved_file_brings_its_folders_into_existence(fs: CountingStorage) -> None:
    storage = CachedStorage(storage=fs)
    assert storage.exists("dir") is False  # a cached "missing"
    assert storage.exists("dir/sub") is False
    storage.save("dir/sub/f.txt", ContentFile(b"f"))
    assert storage.exists("dir") is True == fs.exists("dir")
    assert storage.exists("dir/sub") is True
    assert storage.listdir("dir") == fs.listdir("dir") == (["sub"], [])


def test_s3_has_no_folders(s3: Any, s3_storage: Any, events: Events) -> None:
    storage = CachedStorage(storage=s3_storage)
    assert storage.exists("dir") is False
    events.round_trips.clear()
    storage.save("dir/f.txt", ContentFile(b"f"))
    assert storage.exists("dir") is False == s3_storage.exists("dir")
    # No folder records to drop: the release deletes the lease key only.
    assert events.round_trips == {"add": 1, "set_many": 1, "delete_many": 1}


# -- modified times -----------------------------------------------------------------


@pytest.mark.parametrize("use_tz", [True, False])
def test_modified_time_matches_s3_in_any_time_zone(s3: Any, s3_storage: Any, use_tz: bool) -> None:
    s3.put_object(Bucket="media", Key="m.jpg", Body=image_bytes())
    storage = CachedStorage(storage=s3_storage)
    with override_settings(USE_TZ=use_tz, TIME_ZONE="UTC"):
        for zone in ("UTC", "Asia/Kathmandu", "America/St_Johns"):
            with timezone.override(zoneinfo.ZoneInfo(zone)):
                ours = storage.get_modified_time("m.jpg")
                assert ours == s3_storage.get_modified_time("m.jpg")
                assert (ours.tzinfo is None) is (not use_tz)


@pytest.mark.parametrize("use_tz", [True, False])
def test_modified_time_of_a_saved_file(s3: Any, s3_storage: Any, use_tz: bool) -> None:
    storage = CachedStorage(storage=s3_storage)
    storage.save("s.txt", ContentFile(b"s"))
    with override_settings(USE_TZ=use_tz), timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")):
        first = storage.get_modified_time("s.txt")
        with count_calls() as calls:
            assert storage.get_modified_time("s.txt") == first
        assert calls.s3 == {}
        assert first == s3_storage.get_modified_time("s.txt")


@pytest.mark.parametrize("use_tz", [True, False])
def test_modified_time_on_the_file_system(fs: CountingStorage, use_tz: bool) -> None:
    storage = CachedStorage(storage=fs)
    storage.save("t.txt", ContentFile(b"t"))
    with override_settings(USE_TZ=use_tz):
        expected = fs.get_modified_time("t.txt")
        assert storage.get_modified_time("t.txt") == expected
        fs.calls.clear()
        assert storage.get_modified_time("t.txt") == expected
        assert fs.calls == {}
        assert isinstance(expected, datetime)


# -- attributes ---------------------------------------------------------------------


def test_attributes_of_the_wrapped_storage_are_readable(s3: Any, s3_storage: Any) -> None:
    storage = CachedStorage(storage=s3_storage)
    assert storage.bucket_name == "media"
    assert storage.querystring_auth is False
    assert storage.location == ""
    files = CachedStorage(storage=FileSystemStorage(location="/srv/m", base_url="/m/"))
    assert files.location == "/srv/m"
    assert files.base_url == "/m/"
    with pytest.raises(AttributeError, match="no attribute '_private'"):
        _ = storage._private
    with pytest.raises(AttributeError):
        _ = storage.no_such_attribute


def test_setting_an_attribute_of_the_wrapped_storage_is_an_error(s3: Any, s3_storage: Any) -> None:
    storage = CachedStorage(storage=s3_storage)
    with pytest.raises(AttributeError, match=r"'bucket_name' belongs to the wrapped storage S3"):
        storage.bucket_name = "other"
    assert s3_storage.bucket_name == "media"
    storage.note = "own attributes are fine"
    assert storage.note == "own attributes are fine"


# -- dimensions ---------------------------------------------------------------------


def test_unknown_dimensions_are_read_djangos_way_once_and_remembered(
    fs: CountingStorage, events: Events
) -> None:
    """Invariant 11: a header the probe cannot size is read Django's way by the first asker."""
    from tests.testapp.models import Photo

    # A JPEG whose frame header sits past the probe's byte budget (a big EXIF block first).
    storage = CachedStorage(storage=fs, probe_bytes=1024, probe_limit=1024)
    Path(fs.location).mkdir(parents=True, exist_ok=True)
    (Path(fs.location) / "late.jpg").write_bytes(jpeg_with_exif((33, 22), 5000))
    assert storage.image_dimensions("late.jpg") is None  # unknown, not "no dimensions"

    photo = Photo(image="late.jpg")
    photo.image.storage = storage
    fs.calls.clear()
    assert (photo.image.width, photo.image.height) == (33, 22)
    assert fs.calls["open"] == 1
    clear_local()  # a new process
    fs.calls.clear()
    assert storage.image_dimensions("late.jpg") == (33, 22)
    assert fs.calls == {}
