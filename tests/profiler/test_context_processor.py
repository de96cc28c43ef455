"""The current request's counts, readable by its template while it renders."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template import Context, Template
from django.test import RequestFactory, override_settings

from ikstorage.profiler.context_processors import storage_calls
from ikstorage.profiler.middleware import StorageProfilerMiddleware


def test_the_template_sees_the_counts_of_its_own_request(fs: Any) -> None:
    seen: dict[str, Any] = {}

    def view(request: HttpRequest) -> HttpResponse:
        fs.exists("x.txt")
        context = storage_calls(request)
        seen["calls"] = context["ikstorage_calls"]
        page = Template("{{ ikstorage_calls.s3_total }} S3 calls")
        return HttpResponse(page.render(Context(context)))

    with override_settings(IKSTORAGE_PROFILER={"ENABLED": True}):
        response = StorageProfilerMiddleware(view)(RequestFactory().get("/"))
    assert response.content == b"0 S3 calls"
    assert seen["calls"] is not None


def test_not_profiled_gives_none() -> None:
    with override_settings(IKSTORAGE_PROFILER={"ENABLED": False}):
        request = RequestFactory().get("/")
        response = StorageProfilerMiddleware(lambda r: HttpResponse("ok"))(request)
    assert response.content == b"ok"
    assert storage_calls(request) == {"ikstorage_calls": None}
