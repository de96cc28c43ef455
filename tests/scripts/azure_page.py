"""Answer sizes and dimensions of Azure blobs in a brand-new process; print them as JSON.

Run by ``tests/test_azure.py``: the only things this process shares with the one
that saved the files are the Redis cache and the connection string (so the
storage's identity must be spelled the same from the same settings).
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
    from storages.backends.azure_storage import AzureStorage

    from ikstorage import CachedStorage

    storage = CachedStorage(
        storage=AzureStorage(connection_string=config["connection_string"], azure_container="media")
    )
    answers = [[*storage.image_dimensions(name), storage.size(name)] for name in config["names"]]
    print(json.dumps({"answers": answers}))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
