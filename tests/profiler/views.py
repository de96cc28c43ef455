"""Views with known costs, for the middleware, command and panel tests."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
from django.core.files.storage import storages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.template import engines

from ikstorage import metrics

BUCKET = "photos"
NAMES = ["a.jpg", "b.jpg", "c.jpg"]
GALLERY = engines["django"].from_string(
    "{% for photo in photos %}<img src='{{ photo.url }}' data-size='{{ photo.size }}'>{% endfor %}"
)


def work(request: HttpRequest) -> HttpResponse:
    """2 HeadObject, 1 GetObject (1024 bytes), and one of each storage-layer event."""
    client = boto3.client("s3", region_name="us-east-1")
    client.head_object(Bucket=BUCKET, Key="blob.bin")
    client.head_object(Bucket=BUCKET, Key="blob.bin")
    client.get_object(Bucket=BUCKET, Key="blob.bin")["Body"].read()
    metrics.storage_call("exists")
    metrics.cache("l1", 2, 1)
    metrics.cache("l2", 0, 1)
    metrics.round_trip("get_many")
    return HttpResponse("ok")


def gallery(request: HttpRequest) -> HttpResponse:
    """The url and size of three photos from the ``gallery`` storage."""
    storage = storages["gallery"]
    photos = [{"url": storage.url(name), "size": storage.size(name)} for name in NAMES]
    return HttpResponse(GALLERY.render({"photos": photos}))


def stream(request: HttpRequest) -> StreamingHttpResponse:
    """Two HeadObject calls, made while the body is read, after the view returned."""
    client = boto3.client("s3", region_name="us-east-1")

    def body() -> Iterator[bytes]:
        for _ in range(2):
            client.head_object(Bucket=BUCKET, Key="blob.bin")
            yield b"chunk"

    return StreamingHttpResponse(body())


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("the view failed")


def missing(request: HttpRequest) -> HttpResponse:
    raise Http404("no such gallery")
