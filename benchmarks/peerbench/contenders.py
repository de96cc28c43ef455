"""The contenders: each one a model, a page and the settings of its own process.

Every page shows the same photos with the same facts per photo - a URL,
a width and a height - written the way each library's documentation writes
it. The thumbnail libraries and ikstorage's renditions show a 200x150 crop
(JPEG, quality 80). Two pages show the source itself, as a project without a
thumbnail library does: a plain ``ImageField`` on ``S3Storage``, and the same
unchanged model on ikstorage. The physical limit reads the same facts from
the model's own row.

"On ikstorage" means only that ``STORAGES["default"]`` is a
``CachedStorage`` wrapping the same ``S3Storage``: the models, the library's
settings and the page do not change. Every library keeps its thumbnails in the
default storage unless told otherwise, so that is all a project changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.peerbench import django_pictures, easy_images, wagtail_images
from benchmarks.peerbench.contender import IMG, QUALITY, THUMB_SIZE, Contender

__all__ = ["BY_SLUG", "CONTENDERS", "LIMIT", "QUALITY", "THUMB_SIZE", "Contender"]

#: Entries the file cache may hold before Django culls a third of them at random.
#: Django's default, 300, is less than one 100-photo page leaves in the cache
#: with most contenders (see ``docs/benchmark.md``); a culled entry costs S3
#: calls again, which would be counted against the library, not the page.
MAX_ENTRIES = 10_000
REGION = "us-east-1"
#: ikstorage's rendition, the same thumbnail every library is asked for.
SPECS = {"thumb": {"fill": [200, 150], "format": "jpeg", "quality": 80}}

_IMG = IMG

SOURCE_PAGE = "{% for p in photos %}" + _IMG % (("p.image",) * 3) + "{% endfor %}"
ROW_PAGE = (
    "{% for p in photos %}"
    '<img src="{{ p.thumb_url }}" width="{{ p.thumb_width }}" height="{{ p.thumb_height }}">'
    "{% endfor %}"
)
IMAGEKIT_PAGE = "{% for p in photos %}" + _IMG % (("p.thumb",) * 3) + "{% endfor %}"
SORL_PAGE = (
    "{% load thumbnail %}{% for p in photos %}"
    '{% thumbnail p.image "200x150" crop="center" quality=80 as im %}'
    + _IMG % (("im",) * 3)
    + "{% endthumbnail %}{% endfor %}"
)
EASY_PAGE = (
    "{% load thumbnail %}{% for p in photos %}"
    "{% thumbnail p.image 200x150 crop quality=80 as t %}" + _IMG % (("t",) * 3) + "{% endfor %}"
)
IKSTORAGE_PAGE = (
    "{% load ikstorage %}{% for p in photos %}"
    '{% with t=p.image|rendition:"thumb" %}' + _IMG % (("t",) * 3) + "{% endwith %}"
    "{% endfor %}"
)


KIT_CHANGE = "an `ImageSpecField` (no column)"
SORL_CHANGE = "sorl's `ImageField` (no column); its key-value table"
EASY_CHANGE = "`ThumbnailerImageField` (no column); its three tables"

_CLASSIC: tuple[Contender, ...] = (
    Contender(
        "row",
        "physical limit: the facts in the row",
        "physical limit (row)",
        "`PhotoRow` holds the thumbnail's URL, width and height in columns, "
        "written at upload; the page prints them. No storage, no cache.",
        "PhotoRow",
        ROW_PAGE,
        model_change="columns for the thumbnail's URL, width and height",
    ),
    Contender(
        "s3",
        "`ImageField` on `S3Storage`",
        "ImageField, S3Storage",
        "A plain `ImageField`; the page prints `image.url`, `.width`, `.height` "
        "(no thumbnail library).",
        "Photo",
        SOURCE_PAGE,
        thumbnails=False,
    ),
    Contender(
        "ik-field",
        "`ImageField` on ikstorage",
        "ImageField, ikstorage",
        "The same model and page, `STORAGES['default']` a `CachedStorage`.",
        "Photo",
        SOURCE_PAGE,
        cached=True,
        thumbnails=False,
    ),
    Contender(
        "kit",
        "django-imagekit (JustInTime)",
        "imagekit JustInTime",
        "`ImageSpecField(ResizeToFill(200, 150))`, imagekit's default strategy; "
        "the page prints `p.thumb.url`, `.width`, `.height`.",
        "KitPhoto",
        IMAGEKIT_PAGE,
        app="imagekit",
        model_change=KIT_CHANGE,
    ),
    Contender(
        "kit-ik",
        "django-imagekit (JustInTime) on ikstorage",
        "imagekit JustInTime on ikstorage",
        "The same, on ikstorage.",
        "KitPhoto",
        IMAGEKIT_PAGE,
        app="imagekit",
        cached=True,
        model_change=KIT_CHANGE,
    ),
    Contender(
        "kit-opt",
        "django-imagekit (Optimistic)",
        "imagekit Optimistic",
        "The same spec with `cachefile_strategy=Optimistic`: made when the source is saved.",
        "OptimisticKitPhoto",
        IMAGEKIT_PAGE,
        app="imagekit",
        model_change=KIT_CHANGE,
    ),
    Contender(
        "kit-opt-ik",
        "django-imagekit (Optimistic) on ikstorage",
        "imagekit Optimistic on ikstorage",
        "The same, on ikstorage.",
        "OptimisticKitPhoto",
        IMAGEKIT_PAGE,
        app="imagekit",
        cached=True,
        model_change=KIT_CHANGE,
    ),
    Contender(
        "sorl",
        "sorl-thumbnail",
        "sorl-thumbnail",
        'sorl\'s `ImageField`, `{% thumbnail p.image "200x150" crop="center" %}`, '
        "its default `cached_db` key-value store.",
        "SorlPhoto",
        SORL_PAGE,
        app="sorl.thumbnail",
        model_change=SORL_CHANGE,
    ),
    Contender(
        "sorl-ik",
        "sorl-thumbnail on ikstorage",
        "sorl-thumbnail on ikstorage",
        "The same, on ikstorage.",
        "SorlPhoto",
        SORL_PAGE,
        app="sorl.thumbnail",
        model_change=SORL_CHANGE,
        cached=True,
    ),
    Contender(
        "easy",
        "easy-thumbnails",
        "easy-thumbnails",
        "`ThumbnailerImageField`, `{% thumbnail p.image 200x150 crop %}`, default settings.",
        "EasyPhoto",
        EASY_PAGE,
        app="easy_thumbnails",
        model_change=EASY_CHANGE,
    ),
    Contender(
        "easy-dims",
        "easy-thumbnails, `THUMBNAIL_CACHE_DIMENSIONS`",
        "easy-thumbnails, dimensions in DB",
        "The same with `THUMBNAIL_CACHE_DIMENSIONS = True`: dimensions kept in its table.",
        "EasyPhoto",
        EASY_PAGE,
        app="easy_thumbnails",
        model_change=EASY_CHANGE,
        settings={"THUMBNAIL_CACHE_DIMENSIONS": True},
    ),
    Contender(
        "easy-ik",
        "easy-thumbnails on ikstorage",
        "easy-thumbnails on ikstorage",
        "easy-thumbnails with default settings, on ikstorage.",
        "EasyPhoto",
        EASY_PAGE,
        app="easy_thumbnails",
        model_change=EASY_CHANGE,
        cached=True,
    ),
    Contender(
        "ik",
        "ikstorage renditions",
        "ikstorage renditions",
        "A plain `ImageField` on ikstorage with a `thumb` spec (fill 200x150, JPEG 80), "
        'made when the photo is saved; the page uses `p.image\\|rendition:"thumb"`.',
        "Photo",
        IKSTORAGE_PAGE,
        cached=True,
        specs=SPECS,
        model_change="none (the spec is a setting)",
    ),
)

#: ikstorage's renditions last, after the newer libraries.
CONTENDERS = (
    _CLASSIC[:-1]
    + django_pictures.CONTENDERS
    + wagtail_images.CONTENDERS
    + easy_images.CONTENDERS
    + _CLASSIC[-1:]
)
#: A paragraph per newer library on what it does better, by the slug of its first contender.
STRENGTHS = {
    "pictures": django_pictures.STRENGTHS,
    "wagtail": wagtail_images.STRENGTHS,
    "easy-images": easy_images.STRENGTHS,
}
BY_SLUG = {contender.slug: contender for contender in CONTENDERS}
#: The denominator of every time ratio.
LIMIT = "row"


def bucket(contender: Contender) -> str:
    """Each contender's own bucket, so no two share a file name or a listing."""
    return f"peers-{contender.slug}"


def django_settings(contender: Contender, *, endpoint: str, workdir: Path) -> dict[str, Any]:
    """The settings of one contender's processes: its database, its cache, its bucket."""
    s3 = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket(contender),
            "endpoint_url": endpoint,
            "region_name": REGION,
            "access_key": "testing",
            "secret_key": "testing",
            # Public objects and plain URLs, as for most media buckets.
            "querystring_auth": False,
        },
    }
    options: dict[str, Any] = {"storage": "s3", "cache": "default"}
    if contender.specs:
        options["specs"] = contender.specs
    default = {"BACKEND": "ikstorage.CachedStorage", "OPTIONS": options} if contender.cached else s3
    apps = ["django.contrib.contenttypes"]
    if contender.app:
        apps.append(contender.app)
    apps += contender.extra_apps
    if contender.cached:
        apps.append("ikstorage")
    apps.append("benchmarks.peerbench")
    return {
        "SECRET_KEY": "peers-benchmark",
        "DEBUG": False,
        "USE_TZ": True,
        "INSTALLED_APPS": apps,
        "DATABASES": {
            "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": workdir / "db.sqlite3"}
        },
        "CACHES": {
            "default": {
                "BACKEND": "benchmarks.peerbench.counting.CountingFileBasedCache",
                "LOCATION": workdir / "cache",
                "OPTIONS": {"MAX_ENTRIES": MAX_ENTRIES},
            }
        },
        "STORAGES": {
            "s3": s3,
            "default": default,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        "TEMPLATES": [
            {"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}
        ],
        "DEFAULT_AUTO_FIELD": "django.db.models.AutoField",
        # django-imagekit makes a django-rq job at import when django-rq is importable
        # (the test environment has it, for the RQ task engine), which needs a queue
        # named; nothing is enqueued on it.
        "RQ_QUEUES": {"default": {"URL": "redis://127.0.0.1:6379/0"}},
        **contender.settings,
    }
