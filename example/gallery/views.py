"""The gallery's two pages; neither has ikstorage code.

``index`` (``/gallery/``) is the page a visitor sees: an upload form and a
thumbnail per photo. ``plain`` (``/gallery/plain/``) is the page projects
already have: each photo's ``url``, ``width``, ``height`` and ``size``, which
renders the same with or without ikstorage, so the demo compares the two on it.

Neither calls ``prefetch()``: a new process fetches the whole page's metadata
from the shared cache in one round trip by itself (the names are noted as the
photos are loaded).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from gallery.forms import PhotoForm
from gallery.models import Photo


@require_http_methods(["GET", "HEAD", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    """The thumbnails and the upload form; a valid upload redirects back here."""
    if request.method == "POST":
        form = PhotoForm(request.POST, request.FILES)
        if form.is_valid():
            form.save()
            return HttpResponseRedirect(reverse("gallery"))
        status = 400
    else:
        form = PhotoForm()
        status = 200
    context = {"photos": Photo.objects.all(), "form": form}
    return render(request, "gallery/index.html", context, status=status)


@require_GET
def plain(request: HttpRequest) -> HttpResponse:
    return render(request, "gallery/plain.html", {"photos": Photo.objects.all()})
