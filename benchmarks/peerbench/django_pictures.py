"""django-pictures: a ``PictureField`` and its ``{% picture %}`` tag, as its README sets them up.

The field keeps the source's width and height in two columns of the model
(``width_field``/``height_field``, which the library's system check asks
for), and makes every size of the srcset when the photo is saved: widths of
100 to 1200 px in steps of the 12-column grid, at 1x and 2x, up to the
source's size, in one 4:3 crop. Its processor here is the default one,
``pictures.tasks.process_picture``, which runs in the request; a project with a
task queue names another (see ``docs/benchmark.md``).

WebP, as the README's settings show it (the library's default is AVIF, whose
encoder takes about six times as long per size on the sample photos).

The page is the tag's own ``<picture>``: a ``<source>`` whose srcset lists
every size, and an ``<img>`` of the source with its width and height from the
row. The harness checks that ``<img>``: the source's URL and its size.
"""

from __future__ import annotations

from benchmarks.peerbench.contender import Contender

#: The crop every size is made in: the thumbnails' 4:3.
RATIO = "4/3"
SETTINGS = {
    "PICTURES": {
        "FILE_TYPES": ["WEBP"],
        "CONTAINER_WIDTH": 1200,
        "GRID_COLUMNS": 12,
        "PIXEL_DENSITIES": [1, 2],
        "USE_PLACEHOLDERS": False,
        # The processor Django 5.2 projects without a task queue get, named here
        # because ``pictures.tasks`` switches to a queue's (django-rq, Celery,
        # Dramatiq, Django 6's tasks) whenever one is importable.
        "PROCESSOR": "pictures.tasks._process_picture",
    },
    # Read only if django-rq is installed: ``pictures.tasks`` then declares its
    # RQ job at import, which needs a queue of that name (never used here).
    "RQ_QUEUES": {"pictures": {"URL": "redis://127.0.0.1:6379/0"}},
}
PAGE = (
    "{% load pictures %}{% for p in photos %}"
    '{% picture p.image img_alt="" ratio="4/3" m=6 l=4 %}'
    "{% endfor %}"
)
ABOUT = (
    '`PictureField(aspect_ratios=["4/3"], width_field=..., height_field=...)`, '
    '`{% picture p.image ratio="4/3" m=6 l=4 %}`; every width of the srcset '
    "(WebP) made when the photo is saved, in the request (the default processor)."
)
CHANGE = "`PictureField` and two integer columns (a migration)"

#: What it does better than the page measured here shows, for the docs.
STRENGTHS = (
    "**django-pictures** answers a different question than one small crop: its "
    "`<picture>` offers every width of the grid, so a browser downloads the size "
    "its layout needs at each breakpoint and pixel density. It writes AVIF by "
    "default (WebP here, as its README's settings show; AVIF's encoder took about "
    "six times as long per size on these photos). Its processor is a setting: with "
    "a task queue (Django's tasks framework, django-rq, Celery, Dramatiq) the sizes "
    "are enqueued with `transaction.on_commit`, so the upload request only saves "
    "the source and a rolled-back save enqueues nothing; the run above uses the "
    "in-request processor, so its upload time is all the resizing. The width and "
    "height columns mean no page ever opens the source for its size. What a page "
    "pays is one `S3Storage.url()` per srcset candidate (ten or so per photo); on "
    "ikstorage those URLs come from its records, at one cache round trip per "
    "candidate in a new process (their names are not model fields, so they are not "
    "batched)."
)

CONTENDERS = (
    Contender(
        "pictures",
        "django-pictures",
        "django-pictures",
        ABOUT,
        "PicturesPhoto",
        PAGE,
        app="pictures",
        thumbnails=False,
        settings=SETTINGS,
        model_change=CHANGE,
    ),
    Contender(
        "pictures-ik",
        "django-pictures on ikstorage",
        "django-pictures on ikstorage",
        "The same, on ikstorage.",
        "PicturesPhoto",
        PAGE,
        app="pictures",
        cached=True,
        thumbnails=False,
        settings=SETTINGS,
        model_change=CHANGE,
    ),
)
