"""Another web worker, for the broadcast tests: reads through ``CachedStorage`` on command.

Started by :class:`tests.broadcast_peers.Peer` with a JSON configuration (the
cache, the storage's OPTIONS); it then answers one JSON command per line on
stdin with one JSON line on stdout:

* ``{"op": "read", "names": [...]}``: each name's ``[exists, size]`` and what
  the reads cost (cache round trips, S3 calls);
* ``{"op": "watch", "expect": {name: [exists, size]}, "timeout": s}``: says
  ``{"watching": true}`` at once, then asks the storage about every name every
  millisecond until it answers as expected, and prints the wall-clock time
  (``time.time()``) each name first did (``null``: not within ``timeout``);
* ``{"op": "listening", "timeout": s}``: waits until the broadcast's
  subscription is confirmed;
* ``{"op": "status"}``: :func:`ikstorage.cache.broadcast.status`.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

ALIAS = "shared"


def answer(storage: Any, name: str) -> list[Any]:
    if not storage.exists(name):
        return [False, None]
    try:
        return [True, storage.size(name)]
    except FileNotFoundError:  # deleted between the two questions
        return [False, None]


def watch(storage: Any, expect: dict[str, list[Any]], timeout: float) -> dict[str, Any]:
    seen: dict[str, float | None] = dict.fromkeys(expect)
    deadline = time.monotonic() + timeout
    polls = 0
    while time.monotonic() < deadline and any(v is None for v in seen.values()):
        polls += 1
        for name, wanted in expect.items():
            if seen[name] is None and answer(storage, name) == wanted:
                seen[name] = time.time()
        time.sleep(0.001)
    return {"seen": seen, "polls": polls}


def main(config: dict[str, Any]) -> None:
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["ikstorage"],
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        USE_TZ=True,
    )
    settings.CACHES[ALIAS] = config["cache"]
    django.setup()
    from ikstorage import CachedStorage
    from ikstorage.cache import broadcast
    from ikstorage.profiler import count_calls

    storage = CachedStorage(cache=ALIAS, **config["options"])
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        op = command["op"]
        if op == "read":
            with count_calls() as calls:
                answers = {name: answer(storage, name) for name in command["names"]}
            result: dict[str, Any] = {
                "answers": answers,
                "round_trips": calls.round_trips,
                "s3": calls.s3,
            }
        elif op == "watch":
            print(json.dumps({"watching": True}), flush=True)
            result = watch(storage, command["expect"], command["timeout"])
        elif op == "listening":
            found = broadcast.status(ALIAS)
            sub = broadcast._broadcasts.get(ALIAS)
            listening = sub is not None and sub.subscriber.listening.wait(command["timeout"])
            result = {"listening": listening, "status": found}
        elif op == "status":
            result = broadcast.status(ALIAS)
        else:
            break
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
