"""The gallery page: every photo with its URL, width, height and file size."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from gallery.models import Photo


def index(request: HttpRequest) -> HttpResponse:
    """List the photos; ``?prefetch=0`` skips the prefetch, to measure what it saves.

    ``prefetch`` loads the cached metadata of the whole page in one cache
    round trip instead of one per photo. It is the only ikstorage-specific
    line here, and optional: without it the page makes the same (zero) S3
    calls, only more cache round trips.
    """
    photos = list(Photo.objects.all())
    prefetch = getattr(default_storage, "prefetch", None)  # Photo.image's storage
    if prefetch is not None and request.GET.get("prefetch") != "0":
        prefetch(photo.image for photo in photos)
    return render(request, "gallery/index.html", {"photos": photos})
