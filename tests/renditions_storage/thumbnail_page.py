"""Show the thumbnails of 100 photos in a brand-new process; print what it cost as JSON.

Run by ``test_new_process_page.py``. This process shares only the cache (named
on the command line) and the S3 endpoint with the one that saved the photos.
The page is shown twice, each time from fresh model instances: first with an
empty L1, then warm. Prints, per round, the S3 calls, the cache round trips
and a digest of every ``(url, width, height)`` shown.
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
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()
    from ikstorage import rendition
    from ikstorage.profiler import count_calls
    from tests.testapp.models import Photo

    result: dict[str, Any] = {}
    for label in ("first", "second"):
        photos = [Photo(id=i, image=name) for i, name in enumerate(config["names"], 1)]
        with count_calls() as calls:
            shown = [rendition(p.image, "thumb") for p in photos]
        page = json.dumps([[r.url, r.width, r.height, r.fallback] for r in shown if r])
        result[label] = {
            "s3": calls.s3,
            "storage": calls.storage,
            "round_trips": calls.round_trips,
            "page": hashlib.sha256(page.encode()).hexdigest(),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
