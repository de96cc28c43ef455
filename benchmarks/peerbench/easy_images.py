"""django-easy-images: an ``Img`` queued on upload, ``build_img_queue``, ``{% img %}``.

The model is a plain ``ImageField``: every thumbnail is a row of the
library's own ``EasyImage`` table (its file name, width and height), keyed by
a hash of the source's name and the options. Thumbnails are made with libvips
(pyvips, from ``pyvips-binary``).

Set up as its README describes: ``thumb = Img(...)`` in the project's
``images.py``; ``thumb.queue(Model, build="src")`` in ``apps.py``, which, when a
photo is saved, writes the rows of every size and builds the ``src`` in the
request; the ``build_img_queue`` command (a cron job) builds what is left, here
the 2x size of the srcset (the library's default ``densities=[2]``). The upload
phase is both: the saves, then the command once. The page passes the same
``Img`` to the tag, ``{% img p.image thumb alt="" %}``; the tag never builds.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from benchmarks.peerbench.contender import QUALITY, THUMB_SIZE, Contender

PAGE = '{% load easy_images %}{% for p in photos %}{% img p.image thumb alt="" %}{% endfor %}'
UPLOAD = "benchmarks.peerbench.easy_images:upload"
CONTEXT = "benchmarks.peerbench.easy_images:context"
ABOUT = (
    'A plain `ImageField`; `thumb = Img(width=200, ratio=4/3, format="jpeg")` '
    '(quality 80, the default 2x density), `thumb.queue(EasyImagesPhoto, build="src")`, '
    '`build_img_queue` after the uploads; `{% img p.image thumb alt="" %}`.'
)
CHANGE = "none (its `EasyImage` table)"


@cache
def thumb() -> Any:
    """The project's ``images.py``: one ``Img``, shared by the queue and the page.

    An ``Img`` is callable, so Django's templates would call it (with no
    source) when ``{% img p.image thumb %}`` resolves ``thumb``; the README's
    form of the tag works once the instance says not to be called.
    """
    from easy_images import Img

    width, height = THUMB_SIZE
    img = Img(width=width, ratio=width / height, format="jpeg", quality=QUALITY)
    img.do_not_call_in_templates = True
    return img


def upload(model: Any, sources: list[tuple[str, bytes]]) -> None:
    """The saves (the queue builds each ``src``), then the cron job's command once."""
    from django.core.files.base import ContentFile
    from django.core.management import call_command

    thumb().queue(model, build="src", dispatch_uid="peers-easy-images")
    for name, data in sources:
        model._default_manager.create(image=ContentFile(data, name=name))
    call_command("build_img_queue", verbosity=0)


def context() -> dict[str, Any]:
    return {"thumb": thumb()}


#: What it does better than the page measured here shows, for the docs.
STRENGTHS = (
    "**django-easy-images** never builds in a page's request: sizes not built "
    "yet are left out of the `<img>` (the source is shown) and queued, with a "
    "`queued_img` signal for a task runner, or built by the `build_img_queue` "
    "command from cron. libvips shrinks a JPEG on load and streams the rest, "
    "fast and light on memory (see [renditions](renditions.md#measured) for "
    "`thumbnail_buffer` against Pillow). The `srcset` densities and media sizes "
    "come with it, and the project's model does not change: every size is a row "
    "of its own table, keyed by the source's name and the options. What a page "
    "pays: two queries per photo, since each `{% img %}` builds its own batch (one "
    "to find the rows, one `exists` for the signal)."
)

CONTENDERS = (
    Contender(
        "easy-images",
        "django-easy-images",
        "django-easy-images",
        ABOUT,
        "EasyImagesPhoto",
        PAGE,
        app="easy_images",
        model_change=CHANGE,
        upload=UPLOAD,
        context=CONTEXT,
    ),
    Contender(
        "easy-images-ik",
        "django-easy-images on ikstorage",
        "django-easy-images on ikstorage",
        "The same, on ikstorage.",
        "EasyImagesPhoto",
        PAGE,
        app="easy_images",
        cached=True,
        model_change=CHANGE,
        upload=UPLOAD,
        context=CONTEXT,
    ),
)
