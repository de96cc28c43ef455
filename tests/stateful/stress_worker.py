"""One writer process of the stress test: threads that save, delete and read a few names.

Run by :mod:`tests.stateful.test_stress` as
``python -m tests.stateful.stress_worker '<json config>'``. The process shares
only the Redis cache and the ``FileSystemStorage`` directory with the others.
It talks to the test over its pipes, one line each way:

* ``churn`` mode: after ``ready`` it waits for commands on stdin. ``run``
  lets the threads go; ``quiet`` stops them, waits until no call is in
  flight and answers ``quiet``; ``stop`` ends the threads and answers
  ``done <json>`` with the operations done and the errors met.
* ``race`` mode: after ``ready`` and a ``run``, every thread saves
  ``saves`` new files to one name without overwriting, each holding its own
  token, and the process answers ``done <json>`` with ``[token, saved name]``
  pairs.

Every file's content is :func:`content` of a unique token: self-describing,
so the test can tell a whole file from one that two writes interleaved in.
"""

from __future__ import annotations

import json
import random
import secrets
import sys
import threading
from collections import Counter
from typing import Any

#: Errors ``FileSystemStorage`` itself raises when another thread deleted the file
#: first (``_save`` stats the file after writing it, to fix its group).
RACY = {
    "save": (FileNotFoundError,),
    "size": (FileNotFoundError,),
    "get_modified_time": (FileNotFoundError,),
}


def content(token: str, size: int) -> bytes:
    """``size`` bytes: a ``<token:size>`` header, then the token repeated."""
    header = f"<{token}:{size}>".encode()
    body = token.encode() * (size // len(token) + 1)
    return (header + body)[: max(size, len(header))]


def whole(data: bytes) -> bool:
    """True if ``data`` is exactly one ``content(...)``: no other write mixed into it."""
    if not data.startswith(b"<") or b">" not in data:
        return False
    token, _, size = data[1 : data.index(b">")].decode("ascii", "replace").partition(":")
    return size.isdigit() and data == content(token, int(size))


def configure(config: dict[str, Any]) -> Any:
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["ikstorage"],
        CACHES={"default": config["cache"]},
        STORAGES={
            "default": {"BACKEND": "ikstorage.CachedStorage", "OPTIONS": config["options"]},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        USE_TZ=True,
    )
    django.setup()
    from django.core.files.storage import default_storage

    return default_storage


class Churn:
    """Threads doing random calls on a few names, paused and resumed by the test."""

    def __init__(self, storage: Any, config: dict[str, Any]) -> None:
        self.storage = storage
        self.spellings: list[str] = config["spellings"]
        self.smallest, self.largest = config["sizes"]
        self.running = threading.Event()
        self.stopping = False
        self.ops: Counter[str] = Counter()
        self.racy: Counter[str] = Counter()
        self.errors: list[str] = []
        self.stats_lock = threading.Lock()
        self.locks = [threading.Lock() for _ in range(config["threads"])]
        self.threads = [
            threading.Thread(target=self.work, args=(lock, random.Random(config["seed"] + i)))
            for i, lock in enumerate(self.locks)
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def quiet(self) -> None:
        """Stop new calls and wait for the ones in flight: each runs holding its thread's lock."""
        self.running.clear()
        for lock in self.locks:
            with lock:
                pass

    def stop(self) -> None:
        self.quiet()
        self.stopping = True
        self.running.set()
        for thread in self.threads:
            thread.join()

    def work(self, lock: threading.Lock, rnd: random.Random) -> None:
        while True:
            self.running.wait()
            with lock:
                if self.stopping:
                    return
                if not self.running.is_set():
                    continue  # paused between our wait and our lock: no call now
                self.one_call(rnd)

    def one_call(self, rnd: random.Random) -> None:
        from django.core.files.base import ContentFile

        name = rnd.choice(self.spellings)
        op = rnd.choices(
            ["save", "delete", "exists", "size", "url", "get_modified_time"],
            weights=[30, 15, 25, 15, 5, 10],
        )[0]
        try:
            if op == "save":
                data = content(secrets.token_hex(4), rnd.randint(self.smallest, self.largest))
                self.storage.save(name, ContentFile(data))
            else:
                getattr(self.storage, op)(name)
        except RACY.get(op, ()) as exc:
            with self.stats_lock:
                self.racy[f"{op}: {type(exc).__name__}"] += 1
        except Exception as exc:
            with self.stats_lock:
                self.errors.append(f"{op}({name!r}): {type(exc).__name__}: {exc}")
        with self.stats_lock:
            self.ops[op] += 1

    def report(self) -> dict[str, Any]:
        with self.stats_lock:
            return {"ops": dict(self.ops), "racy": dict(self.racy), "errors": self.errors[:20]}


def race(storage: Any, config: dict[str, Any]) -> list[list[str]]:
    """Every thread saves ``saves`` files to one name at once; ``[token, saved name]`` each."""
    from django.core.files.base import ContentFile

    saved: list[list[str]] = []
    lock = threading.Lock()
    start = threading.Barrier(config["threads"])

    def work(index: int) -> None:
        start.wait()
        for i in range(config["saves"]):
            token = f"{config['worker']}-{index}-{i}-{secrets.token_hex(3)}"
            name = storage.save(config["name"], ContentFile(content(token, 64 + i)))
            with lock:
                saved.append([token, name])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(config["threads"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return saved


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(config: dict[str, Any]) -> None:
    storage = configure(config)
    say("ready")
    if config["mode"] == "race":
        sys.stdin.readline()
        say("done " + json.dumps(race(storage, config)))
        return
    churn = Churn(storage, config)
    churn.start()
    while command := sys.stdin.readline().strip():
        if command == "run":
            churn.running.set()
        elif command == "quiet":
            churn.quiet()
            say("quiet")
        elif command == "stop":
            break
    churn.stop()
    say("done " + json.dumps(churn.report()))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
