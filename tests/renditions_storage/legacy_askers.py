"""Ask for renditions of legacy sources from many threads at once; print what it cost.

Run by ``test_legacy.py`` in two processes that share the S3 endpoint (moto
over HTTP) and the cache (Redis). The processes run the same steps and wait
for each other before each one (marker files in a shared folder):

* ``["warm", name]``: read the source's record (as a page showing its
  ``width`` would), twice, so this process holds it in memory;
* ``["ask", name]``: ``threads`` threads ask for its rendition at the same
  moment.

Prints one JSON line: per step, the S3 calls, the storage calls and, for
``ask``, what each request was shown (``[url, fallback]``).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any


def wait_for_all(folder: Path, step: str, me: int, processes: int) -> None:
    (folder / f"{step}-{me}").touch()
    deadline = time.monotonic() + 60
    while not all((folder / f"{step}-{i}").exists() for i in range(processes)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the other process never reached step {step!r}")
        time.sleep(0.001)


def main(config: dict[str, Any]) -> None:
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "ikstorage"],
        CACHES={"default": config["cache"]},
        STORAGES=config["storages"],
        USE_TZ=True,
    )
    django.setup()
    from django.core.files.storage import storages
    from PIL import Image

    from ikstorage.profiler import count_calls

    Image.init()
    with count_calls():  # hook botocore before any thread builds a client
        pass
    storage = storages["default"]
    folder, me, threads = Path(config["folder"]), config["me"], config["threads"]
    steps: list[tuple[str, str]] = [(action, name) for action, name in config["steps"]]
    shown: list[list[Any]] = [[None] * threads for _ in steps]
    # The same threads ask in every step: each builds its boto3 client once, up front
    # (S3Storage keeps one per thread), then all start together at each ``go``.
    go, done = (
        threading.Barrier(threads + 1, timeout=60),
        threading.Barrier(threads + 1, timeout=60),
    )

    def asker(i: int) -> None:
        storage.wrapped.connection  # noqa: B018
        for index, (action, name) in enumerate(steps):
            if action == "ask":
                go.wait()
                try:
                    found = storage.rendition(name, config["spec"])
                    shown[index][i] = [found.url, found.fallback]
                except Exception as exc:  # reported, so the test shows it
                    shown[index][i] = ["error", f"{type(exc).__name__}: {exc}"]
                done.wait()

    workers = [threading.Thread(target=asker, args=(i,), daemon=True) for i in range(threads)]
    for worker in workers:
        worker.start()
    results: list[dict[str, Any]] = []
    for index, (action, name) in enumerate(steps):
        wait_for_all(folder, f"{index}-{action}", me, config["processes"])
        with count_calls() as calls:
            if action == "warm":
                storage.metadata(name)
                storage.metadata(name)
            else:
                go.wait()
                done.wait()
        results.append({"s3": calls.s3, "storage": calls.storage, "shown": shown[index]})
    print(json.dumps(results))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
