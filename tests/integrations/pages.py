"""Render a page of thumbnails the way each library documents it, and count its S3 calls.

One *run* uploads a page of photos and renders it five times, counting the S3
API calls of each step (``ikstorage.profiler.count_calls``):

``upload``
    the photos are created (``Model.objects.create(image=...)``);
``cold``
    the first render: no thumbnail exists yet;
``warm``
    the same process renders again, with fresh model instances from the
    database, as the next request would;
``new_process``
    another process sharing the Django cache and the database: ikstorage's
    in-process L1 and every library's in-process state are dropped, the
    Django cache (L2) and the database survive;
``cache_flushed``
    the Django cache was flushed (a Redis restart): ikstorage's records and
    any library state kept in the Django cache are gone, the bucket and the
    database are not.

The same run is made with plain ``S3Storage`` and with ``CachedStorage``
wrapping it, both under the ``default`` alias (where ``ImageField``,
imagekit, easy-thumbnails and sorl-thumbnail all look by default), on moto S3
in-process, so the two runs differ in the storage only.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.core.signals import setting_changed
from django.db import models
from django.template import Context, Engine, Template
from django.test import override_settings
from django.utils.functional import empty

from ikstorage.cache import clear_local
from ikstorage.profiler import count_calls
from tests.images import image_bytes

#: Photos on the page; the counts asserted are for the whole page.
PAGE_SIZE = 10
BUCKET = "media"
#: Where moto's in-process S3 serves the bucket (``querystring_auth`` off).
MEDIA_URL = f"https://{BUCKET}.s3.amazonaws.com/"

S3: dict[str, Any] = {
    "BACKEND": "storages.backends.s3.S3Storage",
    "OPTIONS": {"bucket_name": BUCKET, "querystring_auth": False},
}
CACHED: dict[str, Any] = {"BACKEND": "ikstorage.CachedStorage", "OPTIONS": {"storage": "s3"}}
STATIC: dict[str, Any] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}


#: Apps whose tables hold photos or thumbnail state.
STATEFUL_APPS = frozenset({"tests.integrations.thumbapp", "easy_thumbnails", "sorl.thumbnail"})


def storages_setting(*, cached: bool) -> dict[str, Any]:
    """``STORAGES`` with the default alias on plain S3, or on ikstorage wrapping it."""
    return {"s3": S3, "default": CACHED if cached else S3, "staticfiles": STATIC}


def engine(library: str) -> Engine:
    """A template engine that loads ``library`` as ``{% load thumbnail %}``.

    easy-thumbnails and sorl-thumbnail both name their library ``thumbnail``;
    an engine of its own gives each template the one its users load.
    """
    return Engine(libraries={"thumbnail": library})


def each(**per_image: int) -> dict[str, int]:
    """S3 calls for the whole page, written per image: ``each(HeadObject=2)``."""
    return {operation: count * PAGE_SIZE for operation, count in per_image.items()}


@dataclass(frozen=True)
class Costs:
    """S3 API calls by operation, for the whole page, at each step of a run."""

    upload: dict[str, int]
    cold: dict[str, int]
    warm: dict[str, int]
    new_process: dict[str, int]
    cache_flushed: dict[str, int]


class Render(NamedTuple):
    s3: dict[str, int]
    l2_round_trips: int
    html: str


@dataclass(frozen=True)
class Run:
    costs: Costs
    html: str
    #: ikstorage's Django-cache round trips in the new process: proof it read L2.
    new_process_l2_round_trips: int


def source_size(index: int) -> tuple[int, int]:
    """Sources of different sizes, so a wrong dimension cannot hide behind a right one."""
    return (200 + 10 * index, 150)


def forget_process_state() -> None:
    """Drop what a new process would not have; keep the Django cache, database and bucket.

    A new process has no ikstorage L1 and builds its storages afresh: the
    storages are rebuilt the way Django does when ``STORAGES`` changes, so no
    storage instance carries an L1 over from before (``clear_local()`` alone
    does not reach the L1 of a storage built before an earlier
    ``clear_local()``). sorl-thumbnail keeps its storage and key-value store
    in module-level singletons; they are rebuilt too. django-imagekit keeps
    its cache-file backend as a process-wide singleton, and the backend keeps
    the cache object it first used (under whatever ``CACHES`` an earlier test
    had); a new process starts without it.
    """
    clear_local()
    setting_changed.send(
        sender=type(settings._wrapped), setting="STORAGES", value=settings.STORAGES, enter=True
    )
    if "sorl.thumbnail.default" in sys.modules:
        from sorl.thumbnail import default

        default.storage._wrapped = empty
        default.kvstore._wrapped = empty
    if "imagekit.utils" in sys.modules:
        from imagekit import utils

        utils._singletons.clear()


def render_page(model: type[models.Model], template: Template) -> Render:
    """Render the page for fresh instances from the database, counting what it cost."""
    photos = list(model._default_manager.order_by("pk"))
    with count_calls() as calls:
        html = template.render(Context({"photos": photos}))
    return Render(calls.s3, calls.round_trips_total, html)


def run(model: type[models.Model], template: Template, *, cached: bool) -> Run:
    """Upload a page of photos and render it cold, warm, in a new process, after a flush."""
    with override_settings(STORAGES=storages_setting(cached=cached)):
        forget_process_state()
        with count_calls() as upload:
            for index in range(PAGE_SIZE):
                name = f"p{index}.jpg"
                model._default_manager.create(
                    image=ContentFile(image_bytes(source_size(index)), name=name)
                )
        cold = render_page(model, template)
        warm = render_page(model, template)
        forget_process_state()
        new_process = render_page(model, template)
        caches["default"].clear()
        forget_process_state()
        cache_flushed = render_page(model, template)
    renders = (cold, warm, new_process, cache_flushed)
    assert {render.html for render in renders} == {cold.html}, "every render shows the same page"
    costs = Costs(upload.s3, *(render.s3 for render in renders))
    return Run(costs, cold.html, new_process.l2_round_trips)


def render_in_new_process(model: type[models.Model], template: Template, *, cached: bool) -> Render:
    """Render the page once more, in a "new process" configured plain or cached.

    After a plain run, ``cached=True`` measures the first page an existing
    site serves once it switches to ikstorage.
    """
    with override_settings(STORAGES=storages_setting(cached=cached)):
        forget_process_state()
        return render_page(model, template)


def reset_world(s3: Any) -> None:
    """Empty the bucket, the test app's tables, the libraries' tables and every cache.

    Lets one test make a plain run and a cached run from the same starting point.
    """
    listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    if listed:
        objects = [{"Key": item["Key"]} for item in listed]
        s3.delete_objects(Bucket=BUCKET, Delete={"Objects": objects})
    for config in apps.get_app_configs():
        if config.name in STATEFUL_APPS:
            for table in config.get_models():
                table._default_manager.all().delete()
    caches["default"].clear()
    forget_process_state()
