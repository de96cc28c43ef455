"""One process of a rolling deploy: page views in turns with the other, or the prune command.

Run by ``test_deploy_processes.py``: two processes with different ``specs``
over one bucket (moto over HTTP) and one Redis. In ``pages`` mode, process
``me`` renders its page (every source, every spec it declares, through
``{% load ikstorage %}``'s ``rendition`` filter, as a template does) at turns
``me``, ``me + 2``, ``me + 4``...: it waits for the other's turn to end
(marker files in a shared folder) before each. In ``prune`` mode it runs
``ikstorage_prune`` (a dry run, then ``--delete``) and renders its page once.

Each page view is served as by a worker with nothing in memory yet (one of a
pool): what it shows comes from the shared cache. Prints one JSON line: per
page view, the S3 calls by operation, the storage calls, the ``(url,
width)`` of each ``<img>`` and those whose file is not in the bucket.
"""

from __future__ import annotations

import io
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

PAGE = (
    "{% load ikstorage %}{% for name in names %}{% for spec in specs %}"
    '{% with r=name|rendition:spec %}<img src="{{ r.url }}" width="{{ r.width }}">'
    "{% endwith %}{% endfor %}{% endfor %}"
)
IMG = re.compile(r'<img src="([^"]*)" width="([^"]*)">')


def wait_for(marker: Path) -> None:
    deadline = time.monotonic() + 60
    while not marker.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the other process never finished {marker.name!r}")
        time.sleep(0.005)


def main(config: dict[str, Any]) -> None:
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "ikstorage"],
        CACHES={"default": config["cache"]},
        STORAGES=config["storages"],
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates"}],
        USE_TZ=True,
    )
    django.setup()
    from django.core.files.storage import storages
    from django.core.management import call_command
    from django.template import Context, Engine

    from ikstorage import cache as ik_cache
    from ikstorage.profiler import count_calls

    storage: Any = storages["default"]
    template = Engine.get_default().from_string(PAGE)
    context = {"names": config["names"], "specs": config["specs"]}

    def view() -> dict[str, Any]:
        # Served by a worker with nothing in memory yet (one of many): what it shows
        # comes from the shared cache, where the other process's work shows.
        ik_cache.clear_local()
        with count_calls() as calls:
            html = template.render(Context(context))
        shown = IMG.findall(html)
        # Outside the count: which of the files shown are not in the bucket (broken images).
        broken = [url for url, _ in shown if not storage.wrapped.exists(url.split("/media/")[1])]
        return {"s3": calls.s3, "storage": calls.storage, "shown": shown, "broken": broken}

    if config["mode"] == "prune":
        summaries = []
        for extra in ([], ["--delete"]):
            out = io.StringIO()
            call_command("ikstorage_prune", "--prefix", "legacy/", "--json", *extra, stdout=out)
            summaries.append(json.loads(out.getvalue()))
        print(json.dumps({"dry_run": summaries[0], "delete": summaries[1], "page": view()}))
        return
    folder, me = Path(config["folder"]), config["me"]
    views = []
    for turn in range(me, 2 * config["rounds"], 2):
        if turn:
            wait_for(folder / f"done-{turn - 1}")
        views.append(view())
        (folder / f"done-{turn}").touch()
    print(json.dumps(views))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
