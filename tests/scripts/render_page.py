"""Render the 100-image page in a brand-new process and print its S3 calls as JSON.

Run by ``tests/test_new_process.py``: the only thing this process shares with
the one that saved the images is the Django cache named on the command line
(and the S3 endpoint). Prints ``{"s3": {...}, "html_sha": ..., "round_trips": ...}``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from typing import Any


def main(config: dict[str, Any]) -> None:
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "ikstorage", "tests.testapp"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        CACHES={"default": config["cache"]},
        STORAGES=config["storages"],
        USE_TZ=True,
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates"}],
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()
    from django.template import Context, Template

    from ikstorage.profiler import count_calls
    from tests.testapp.models import Photo

    page = Template(config["template"])
    photos = [Photo(id=i, image=name) for i, name in enumerate(config["names"], 1)]
    result: dict[str, Any] = {}
    for label in ("first", "second"):
        photos = [Photo(id=p.id, image=p.image.name) for p in photos]  # fresh instances
        if config.get("prefetch") and label == "first":
            photos[0].image.storage.prefetch(p.image for p in photos)
        with count_calls() as calls:
            html = page.render(Context({"photos": photos}))
        result[label] = {
            "s3": calls.s3,
            "round_trips": calls.round_trips,
            "html_sha": hashlib.sha256(html.encode()).hexdigest(),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
