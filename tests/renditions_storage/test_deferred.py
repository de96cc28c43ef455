"""``render="defer"``: the save stores the source and queues a task when the transaction
commits; until a worker ran it, ``rendition()`` shows the source.

In-process tests use Django's own task backends (immediate: inline at commit;
dummy: kept in a list). The real worker tests run on each task engine of
:mod:`tests.task_engines` (django-tasks-db's ``db_worker``; two RQ workers), in
processes of their own sharing a SQLite file, a file cache, moto S3 over HTTP
and the engine's queue with the web process.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import boto3
import pytest
from django.core.files.base import ContentFile
from django.test import override_settings

from ikstorage import CachedStorage
from ikstorage import cache as ik_cache
from ikstorage.exceptions import ConfigurationError
from ikstorage.lease import Lease, State
from ikstorage.profiler import count_calls
from tests.child import pythonpath, run_module
from tests.renditions_storage import deferred_settings
from tests.renditions_storage.helpers import SOURCE, SOURCE_V2, listing, reset_moto
from tests.servers import free_port
from tests.task_engines import Engine, workers

NAME = "photos/a.jpg"
WEBP_THUMB = {"thumb": {"fill": [200, 150], "format": "webp"}}
#: Django's Tasks framework: built in from Django 6.0, the ``django-tasks`` backport before.
TASKS = "django.tasks" if importlib.util.find_spec("django.tasks") else "django_tasks"


def deferring(**options: Any) -> dict[str, Any]:
    """``STORAGES`` with a deferring ``CachedStorage`` under the alias ``media``."""
    return {
        "media": {
            "BACKEND": "ikstorage.CachedStorage",
            "OPTIONS": {
                "storage": {
                    "BACKEND": "storages.backends.s3.S3Storage",
                    "OPTIONS": {"bucket_name": "media", "querystring_auth": False},
                },
                "specs": WEBP_THUMB,
                "render": "defer",
                **options,
            },
        },
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }


@pytest.fixture
def media(s3: Any) -> Iterator[Callable[..., CachedStorage]]:
    """Builds the deferring storage under ``settings.STORAGES`` (the task finds it by alias)."""
    overrides: list[Any] = []

    def build(tasks: str = "immediate", **options: Any) -> CachedStorage:
        backend = {
            "immediate": f"{TASKS}.backends.immediate.ImmediateBackend",
            "dummy": f"{TASKS}.backends.dummy.DummyBackend",
        }[tasks]
        override = override_settings(
            STORAGES=deferring(**options), TASKS={"default": {"BACKEND": backend}}
        )
        override.enable()
        overrides.append(override)
        from django.core.files.storage import storages

        storage = storages["media"]
        assert isinstance(storage, CachedStorage)
        return storage

    yield build
    for override in reversed(overrides):
        override.disable()


def queued() -> list[Any]:
    """The tasks the dummy backend was handed."""
    from ikstorage.renditions.tasks import render_renditions

    return list(render_renditions.get_backend().results)


@pytest.mark.django_db
def test_the_immediate_backend_renders_when_the_transaction_commits(
    s3: Any, media: Callable[..., CachedStorage], django_capture_on_commit_callbacks: Any
) -> None:
    storage = media()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with count_calls() as calls:
            storage.save(NAME, ContentFile(SOURCE))
        assert calls.s3 == {"PutObject": 1}  # the source only
        assert storage.rendition(NAME, "thumb").fallback is True  # not committed yet
        assert storage.metadata(NAME).renditions == ()
        assert listing(s3) == [NAME]
    assert len(callbacks) >= 1
    with count_calls() as calls:
        thumb = storage.rendition(NAME, "thumb")
    assert calls.s3 == {}
    assert (thumb.width, thumb.height, thumb.format, thumb.fallback) == (200, 150, "webp", False)
    assert listing(s3) == sorted([NAME, thumb.name])


@pytest.mark.django_db
def test_the_inline_task_downloads_the_source_once_and_writes_each_rendition(
    s3: Any, media: Callable[..., CachedStorage], django_capture_on_commit_callbacks: Any
) -> None:
    storage = media()
    with count_calls() as calls, django_capture_on_commit_callbacks(execute=True):
        storage.save(NAME, ContentFile(SOURCE))
    assert calls.s3 == {"PutObject": 2, "GetObject": 1}
    assert calls.storage == {
        "get_available_name": 1,
        "_save": 1,
        "read": 1,
        "write": 1,
        "url": 1,
    }


@pytest.mark.django_db(transaction=True)
def test_the_immediate_backend_in_autocommit_does_not_wait_for_the_save_lease(
    s3: Any, media: Callable[..., CachedStorage]
) -> None:
    storage = media(write_lease_timeout=3)
    with count_calls() as calls:
        storage.save(NAME, ContentFile(SOURCE))
    assert calls.s3 == {"PutObject": 2, "GetObject": 1}
    assert storage.rendition(NAME, "thumb").fallback is False
    # Each ``add`` succeeded at the first try: a task run while the save still held its
    # lease would poll it with more, until the 3 s timeout.
    assert calls.round_trips == {"add": 3, "get_many": 2, "set_many": 2, "delete_many": 2}


@pytest.mark.django_db
def test_the_task_has_json_arguments_and_is_idempotent(
    s3: Any, media: Callable[..., CachedStorage], django_capture_on_commit_callbacks: Any
) -> None:
    from ikstorage.renditions.tasks import render_renditions

    storage = media(tasks="dummy")
    with django_capture_on_commit_callbacks(execute=True):
        storage.save(NAME, ContentFile(SOURCE))
    (result,) = queued()
    assert result.task.module_path == "ikstorage.renditions.tasks.render_renditions"
    assert (result.args, result.kwargs) == (["media", NAME], {})
    assert json.loads(json.dumps(result.args)) == result.args
    assert storage.rendition(NAME, "thumb").fallback is True  # queued, not run
    # A worker running it twice (a retry, two workers) does the work once.
    runs = []
    for _ in range(2):
        with count_calls() as calls:
            runs.append((render_renditions.call("media", NAME), calls.s3))
    assert runs == [(1, {"GetObject": 1, "PutObject": 1}), (1, {})]
    assert storage.rendition(NAME, "thumb").fallback is False
    assert len(listing(s3)) == 2


@pytest.mark.django_db
def test_pages_finding_a_rendition_missing_queue_one_task(
    s3: Any, media: Callable[..., CachedStorage], django_capture_on_commit_callbacks: Any
) -> None:
    s3.put_object(Bucket="media", Key="legacy/old.jpg", Body=SOURCE)
    storage = media(tasks="dummy")
    with count_calls() as calls, django_capture_on_commit_callbacks(execute=True):
        shown = [storage.rendition("legacy/old.jpg", "thumb") for _ in range(5)]
    assert calls.s3 == {"GetObject": 1}  # the record's probe; nothing rendered here
    # The record's fill, then one ``add`` marking the task queued: the four pages after
    # the first ask this process's note, not the shared cache.
    assert calls.round_trips == {"get_many": 1, "add": 2, "set_many": 1}
    assert {(r.fallback, r.name) for r in shown} == {(True, "legacy/old.jpg")}
    assert [r.args for r in queued()] == [["media", "legacy/old.jpg"]]


@pytest.mark.django_db
def test_a_save_and_the_pages_before_the_worker_ran_queue_one_task(
    s3: Any, media: Callable[..., CachedStorage], django_capture_on_commit_callbacks: Any
) -> None:
    storage = media(tasks="dummy")
    with django_capture_on_commit_callbacks(execute=True):
        storage.save(NAME, ContentFile(SOURCE))
        shown = [storage.rendition(NAME, "thumb") for _ in range(3)]
    assert {r.fallback for r in shown} == {True}
    assert [r.args for r in queued()] == [["media", NAME]]


@pytest.mark.django_db
def test_defer_outside_storages_fails_before_writing_anything(
    s3: Any, s3_storage: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with override_settings(STORAGES={"default": deferring()["default"]}):
        storage = CachedStorage(
            storage=s3_storage, specs=WEBP_THUMB, render="defer", write_lease_timeout=3
        )
        with pytest.raises(ConfigurationError), django_capture_on_commit_callbacks(execute=True):
            storage.save(NAME, ContentFile(SOURCE))
        assert listing(s3) == []
        # The save gave its lease back: the next writer to the name takes it at the first try.
        lease = Lease(storage.core.cache, storage.core.keys.lease(NAME), ttl=3)
        assert lease.acquire(wait=0) is State.HELD
        assert lease.attempts == 1
        lease.release()


# -- a real worker ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def worker_run(
    task_engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """Save v1 (no worker yet), start the workers, wait; overwrite with v2, wait.

    Module scope: the two tests below read the one run of each engine.
    """
    from moto.server import ThreadedMotoServer

    folder = tmp_path_factory.mktemp("deferred")
    s3_port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=s3_port, verbose=False)
    moto.start()
    endpoint = f"http://127.0.0.1:{s3_port}"
    reset_moto(endpoint)
    cache = str(folder / "cache")
    env = {
        **os.environ,
        "PYTHONPATH": pythonpath(),
        "DJANGO_SETTINGS_MODULE": "tests.renditions_storage.deferred_settings",
        "IKSTORAGE_TEST_DB": str(folder / "db.sqlite3"),
        "IKSTORAGE_TEST_CACHE": cache,
        "IKSTORAGE_TEST_S3": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        **task_engine.environ(),
    }
    database = folder / "db.sqlite3"

    def web(source: bytes) -> dict[str, Any]:
        (folder / "upload").write_bytes(source)
        return run_module(  # type: ignore[no-any-return]
            "tests.renditions_storage.deferred_web", NAME, folder / "upload", env=env
        )

    def show() -> dict[str, Any]:
        """What a third process sees: the record in the shared cache, and its cost."""
        settings = {
            "STORAGES": deferred_settings.storages_for(endpoint),
            "CACHES": deferred_settings.caches_for(cache),
        }
        with override_settings(**settings):
            from django.core.files.storage import storages

            ik_cache.clear_local()
            storage = storages["default"]
            with count_calls() as calls:
                made = storage.metadata(NAME).renditions
                thumb = storage.rendition(NAME, "thumb") if made else None
            ik_cache.clear_local()
        return {
            "s3": calls.s3,
            "renditions": [(r.name, r.width, r.height) for r in made],
            "thumb": None if thumb is None else [thumb.name, thumb.fallback],
            "listing": listing(client),
        }

    try:
        with mock.patch.dict(os.environ, {k: env[k] for k in env if k.startswith("AWS_")}):
            client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
            client.create_bucket(Bucket="media")
            first = web(SOURCE)
            shown_before = show()
            with workers(task_engine, env, folder) as names:
                done_first = task_engine.wait(database, [t["id"] for t in first["queued"]])
                shown_first = show()
                second = web(SOURCE_V2)
                done_second = task_engine.wait(database, [t["id"] for t in second["queued"]])
                shown_second = show()
                yield {
                    "first": first,
                    "shown_before": shown_before,
                    "done_first": [(o.status, o.return_value) for o in done_first],
                    "shown_first": shown_first,
                    "second": second,
                    "done_second": [(o.status, o.return_value) for o in done_second],
                    "shown_second": shown_second,
                    "endpoint": endpoint,
                    # Which of the test's workers ran each task (one each).
                    "ran_on": [
                        [w in names for w in o.worker_ids] for o in [*done_first, *done_second]
                    ],
                }
    finally:
        reset_moto(endpoint)
        moto.stop()


@pytest.mark.server
@pytest.mark.slow
def test_a_real_worker_renders_what_the_save_queued(worker_run: dict[str, Any]) -> None:
    first = worker_run["first"]
    # The web process wrote the source only, and queued the task at commit, not before.
    assert first["saved"] == NAME
    assert first["s3"] == {"PutObject": 1}
    assert first["queued_before_commit"] == 0
    assert first["shown_before_commit"][1] is True
    # The save's task, and one more from the page that asked before the commit (see
    # test_a_save_and_the_pages_before_the_worker_ran_queue_one_task).
    assert len(first["queued"]) in (1, 2)
    for task in first["queued"]:
        assert task["task_path"] == "ikstorage.renditions.tasks.render_renditions"
        assert task["args_kwargs"] == {"args": ["default", NAME], "kwargs": {}}
    # Until the worker ran, pages show the source (no rendition in the record).
    before = worker_run["shown_before"]
    assert (before["renditions"], before["listing"]) == ([], [NAME])
    # A worker ran it: one rendition, listed by the record; showing it costs nothing. With
    # two tasks, each reports the one rendition, whichever of them rendered it.
    assert worker_run["done_first"] == [("SUCCESSFUL", 1)] * len(first["queued"])
    assert all(ran_on == [True] for ran_on in worker_run["ran_on"])
    shown = worker_run["shown_first"]
    ((made, width, height),) = shown["renditions"]
    assert (width, height) == (200, 150)
    assert shown["thumb"] == [made, False]
    assert shown["s3"] == {}
    assert shown["listing"] == sorted([NAME, made])


@pytest.mark.server
@pytest.mark.slow
def test_a_running_worker_renders_an_overwrite(worker_run: dict[str, Any]) -> None:
    second = worker_run["second"]
    # The overwrite wrote the source and deleted v1's rendition (it is obsolete).
    assert second["s3"] == {"PutObject": 1, "DeleteObjects": 1}
    assert len(second["queued"]) in (1, 2)
    assert worker_run["done_second"] == [("SUCCESSFUL", 1)] * len(second["queued"])
    shown = worker_run["shown_second"]
    assert len(shown["renditions"]) == 1
    ((made, _, _),) = shown["renditions"]
    assert made != worker_run["shown_first"]["renditions"][0][0]
    assert shown["listing"] == sorted([NAME, made])
