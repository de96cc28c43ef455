"""Answer sizes and dimensions of GCS files in a brand-new process; print them as JSON.

Run by ``tests/test_gcs.py``: the only things this process shares with the one
that saved the files are the Redis cache and the service-account key file its
credentials are built from (a new credentials object, so the storage's
identity must come from what the key says, not from the object).
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
    from google.oauth2 import service_account
    from storages.backends.gcloud import GoogleCloudStorage

    from ikstorage import CachedStorage
    from tests.gcs_server import SCOPES

    creds = service_account.Credentials.from_service_account_file(config["key_file"], scopes=SCOPES)
    storage = CachedStorage(
        storage=GoogleCloudStorage(
            bucket_name="media", project_id="test", credentials=creds, querystring_auth=False
        )
    )
    answers = [[*storage.image_dimensions(name), storage.size(name)] for name in config["names"]]
    print(json.dumps({"answers": answers}))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
