"""Build storages from their description in a brand-new process and ask them about a file.

Run by ``tests/test_identity_processes.py``: this process shares only the
cache (and the bucket and folders) with the one that saved the files. Each
storage is built as the parent built it (``CachedStorage(**options)``, the
wrapped storage given as a dict, not an alias), asked for the file's URL,
existence, size and dimensions, and what that cost is printed as JSON:
``{label: {"url": ..., "s3": {...}, "presigned": {...}, "storage": {...}}}``.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def main(config: dict[str, Any]) -> None:
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["ikstorage"],
        CACHES={"default": config["cache"]},
        USE_TZ=True,
    )
    django.setup()
    from ikstorage import CachedStorage
    from ikstorage.profiler import count_calls

    result: dict[str, Any] = {}
    for label, options in config["storages"].items():
        storage = CachedStorage(**options)
        with count_calls() as calls:
            answers = {
                "url": storage.url(config["name"]),
                "exists": storage.exists(config["name"]),
                "size": storage.size(config["name"]),
                "dimensions": list(storage.image_dimensions(config["name"])),
            }
        result[label] = {
            **answers,
            "s3": calls.s3,
            "presigned": calls.presigned,
            "storage": calls.storage,
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
