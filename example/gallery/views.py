"""The gallery page: every photo with its URL, width, height and file size.

Nothing ikstorage-specific: a new process fetches the whole page's metadata
from the shared cache in one round trip by itself (the names are noted as the
photos are loaded), so the view needs no ``prefetch()``.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from gallery.models import Photo


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "gallery/index.html", {"photos": Photo.objects.all()})
