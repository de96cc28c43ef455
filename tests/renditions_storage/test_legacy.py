"""Sources saved before ikstorage: rendered once on first use, across all processes.

``missing_renditions`` says what a missing rendition does: ``"generate"``
(default) renders every missing spec of the source from one download under
the source's lease (on a first view, the probe's own GET read on), while
askers that find the lease taken are shown the source; ``"fallback"`` shows
the source; ``"error"`` raises.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
from django.core.files.base import ContentFile

from ikstorage import cache as ik_cache
from ikstorage.exceptions import MissingRenditionError
from ikstorage.lease import Lease
from ikstorage.profiler import count_calls
from tests.child import pythonpath
from tests.renditions_storage.helpers import OUTPUTS, SOURCE, cached, listing, reset_moto
from tests.s3_settings import s3_options
from tests.servers import Server, free_port, unavailable

NAME = "legacy/old.jpg"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def legacy(s3: Any) -> str:
    """A JPEG put in the bucket behind ikstorage's back."""
    s3.put_object(Bucket="media", Key=NAME, Body=SOURCE)
    return NAME


def test_first_use_renders_every_missing_spec_from_one_download(
    s3: Any, s3_storage: Any, legacy: str
) -> None:
    storage = cached(s3_storage)
    with count_calls() as calls:
        thumb = storage.rendition(legacy, "thumb")
    # One GET: the probe reads the header, then on through the photo; one PUT per output.
    assert calls.s3 == {"GetObject": 1, "PutObject": OUTPUTS}
    assert calls.storage == {"probe": 1, "write": OUTPUTS, "url": OUTPUTS}
    assert calls.bytes_downloaded == len(SOURCE)
    assert calls.round_trips == {"get_many": 2, "add": 2, "set_many": 1, "delete_many": 1}
    assert (thumb.width, thumb.height, thumb.fallback) == (200, 150, False)
    names = sorted(r.name for r in storage.metadata(legacy).renditions)
    assert listing(s3) == sorted([legacy, *names])
    with count_calls() as calls:
        large = storage.rendition(legacy, "large")
        webp = storage.rendition(legacy, "thumb", "webp")
    assert calls.s3 == {}
    assert [(r.width, r.format, r.fallback) for r in (large, webp)] == [
        (800, "jpeg", False),
        (200, "webp", False),
    ]
    ik_cache.clear_local()  # another process: the record in the shared cache lists them
    with count_calls() as calls:
        assert storage.rendition(legacy, "thumb").url == thumb.url
    assert (calls.s3, calls.round_trips) == ({}, {"get_many": 1})


def test_a_spec_added_later_renders_only_what_is_missing(s3: Any, s3_storage: Any) -> None:
    first = cached(s3_storage, specs={"thumb": {"fill": [200, 150], "format": "webp"}})
    first.save(NAME, ContentFile(SOURCE))
    (thumb,) = first.metadata(NAME).renditions
    both = cached(s3_storage, specs={**first.options.specs, "large": {"fit": [800, 800]}})
    with count_calls() as calls:
        large = both.rendition(NAME, "large")
    assert calls.s3 == {"GetObject": 1, "PutObject": 1}  # the record was known: no probe
    assert (large.width, large.height, large.fallback) == (800, 600, False)
    assert [r.name for r in both.metadata(NAME).renditions] == [thumb.name, large.name]
    assert listing(s3) == sorted([NAME, thumb.name, large.name])


def test_fallback_shows_the_source_and_writes_nothing(
    s3: Any, s3_storage: Any, legacy: str
) -> None:
    storage = cached(s3_storage, missing_renditions="fallback")
    for expected in ({"GetObject": 1}, {}):
        with count_calls() as calls:
            shown = storage.rendition(legacy, "thumb")
        assert calls.s3 == expected
        assert (shown.url, shown.name, shown.fallback) == (storage.url(legacy), legacy, True)
        assert (shown.width, shown.height, shown.spec) == (1200, 900, "thumb")
    assert listing(s3) == [legacy]


def test_error_raises_and_writes_nothing(s3: Any, s3_storage: Any, legacy: str) -> None:
    storage = cached(s3_storage, missing_renditions="error")
    with count_calls() as calls, pytest.raises(MissingRenditionError) as caught:
        storage.rendition(legacy, "thumb")
    assert calls.s3 == {"GetObject": 1}
    assert caught.value.reason == "not made yet"
    assert "thumb" in str(caught.value)
    assert legacy in str(caught.value)
    assert listing(s3) == [legacy]
    # ikstorage_prewarm's way: render them explicitly; then they are found.
    assert storage.render_missing(legacy) == OUTPUTS
    assert storage.rendition(legacy, "thumb").fallback is False


def test_askers_finding_the_lease_taken_are_shown_the_source_at_once(
    s3: Any, s3_storage: Any, legacy: str
) -> None:
    storage = cached(s3_storage)
    held = Lease(storage.core.cache, storage.core.keys.lease(legacy), ttl=30)
    held.acquire(wait=0)  # another process is rendering (or writing) this source
    with count_calls() as calls:
        shown = storage.rendition(legacy, "thumb")
    # The probe's read stops after the header: the lease is another's.
    assert (calls.s3, calls.probe_bytes) == ({"GetObject": 1}, 64 * 1024)
    # One attempt at the lease (a waiter would poll it with more ``add``s), then the source.
    assert calls.round_trips == {"get_many": 1, "add": 2, "set_many": 1}
    assert (shown.fallback, shown.url) == (True, storage.url(legacy))
    held.release()
    with count_calls() as calls:
        assert storage.rendition(legacy, "thumb").fallback is False
    assert calls.s3 == {"GetObject": 1, "PutObject": OUTPUTS}  # the record was kept: a download


def test_a_missing_source_is_not_rendered(s3: Any, s3_storage: Any) -> None:
    storage = cached(s3_storage)
    with count_calls() as calls:
        shown = storage.rendition("legacy/none.jpg", "thumb")
    assert calls.s3 == {"GetObject": 1}  # the probe's 404
    assert (shown.fallback, shown.width, shown.height) == (True, None, None)
    assert listing(s3) == []


def test_a_process_with_an_older_record_in_memory_does_not_render_again(
    s3: Any, s3_storage: Any, legacy: str
) -> None:
    storage = cached(s3_storage)
    before = storage.metadata(legacy)  # process B's L1: the record the probe filled
    assert storage.render_missing(legacy) == OUTPUTS  # process A renders
    # B's L1, unchanged:
    storage.core.cache.keep_locally(storage.core.keys.record(legacy), before, None)
    with count_calls() as calls:
        shown = storage.rendition(legacy, "thumb")
    assert shown.fallback is False
    assert calls.s3 == {}, "downloaded and rendered a second time"


# -- two processes, ten threads each -------------------------------------------------


def run_askers(config: dict[str, Any], processes: int) -> list[list[dict[str, Any]]]:
    env = {**os.environ, "PYTHONPATH": pythonpath()}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    started = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.renditions_storage.legacy_askers",
                json.dumps({**config, "me": me, "processes": processes}),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for me in range(processes)
    ]
    results = []
    try:
        for process in started:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        # A failure leaves no process running and no pipe open for a later test to trip on.
        for process in started:
            if process.poll() is None:
                process.kill()
            process.wait()
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()
    return results


def total(results: list[list[dict[str, Any]]], step: int, kind: str) -> dict[str, int]:
    """Calls of one kind in one step, summed over the processes."""
    summed: dict[str, int] = {}
    for result in results:
        for operation, count in result[step][kind].items():
            summed[operation] = summed.get(operation, 0) + count
    return summed


#: A legacy source each process meets for the first time in step 0, and one that both
#: processes have read the record of (step 1) before its renditions are asked for.
FRESH, KNOWN = "legacy/fresh.jpg", "legacy/known.jpg"
STEPS = [["ask", FRESH], ["warm", KNOWN], ["ask", KNOWN], ["ask", KNOWN]]
#: A large PNG besides the thumbnail: its encoding holds the lease for a few hundred ms,
#: well past the moment the last of the twenty requests arrives.
TWO_PROCESS_SPECS = {"thumb": {"fill": [200, 150]}, "large": {"fit": [1200, 1200], "format": "png"}}


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """:data:`STEPS` run by 2 processes x 10 threads, sharing moto S3 and Redis.

    Module scope: the tests below read the one run. The servers are started
    here (the ``moto_server`` and ``redis_server`` fixtures are per test).
    """
    from moto.server import ThreadedMotoServer

    redis = shutil.which("redis-server")
    if redis is None:
        unavailable("the two-process rendition test needs the 'redis-server' binary on PATH")
        raise AssertionError("unreachable")
    folder = tmp_path_factory.mktemp("askers")
    port = free_port()
    cache = Server(redis, ["--port", str(port), "--bind", "127.0.0.1", "--save", ""], port)
    s3_port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=s3_port, verbose=False)
    endpoint = f"http://127.0.0.1:{s3_port}"
    cache.start()
    moto.start()
    try:
        reset_moto(endpoint)
        keys = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
        with mock.patch.dict(os.environ, keys):
            client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
            client.create_bucket(Bucket="media")
            for name in (FRESH, KNOWN):
                client.put_object(Bucket="media", Key=name, Body=SOURCE)
            options = s3_options(endpoint)
            config = {
                "cache": {
                    "BACKEND": "django.core.cache.backends.redis.RedisCache",
                    "LOCATION": f"redis://127.0.0.1:{port}/0",
                },
                "storages": {
                    "s3": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
                    "default": {
                        "BACKEND": "ikstorage.CachedStorage",
                        "OPTIONS": {"storage": "s3", "specs": TWO_PROCESS_SPECS},
                    },
                },
                "folder": str(folder),
                "threads": 10,
                "steps": STEPS,
                "spec": "thumb",
            }
            results = run_askers(config, processes=2)
            made = {}  # the rendition files of each source
            for name in (FRESH, KNOWN):
                stem = f"renditions/{name.removesuffix('.jpg')}."
                made[name] = [
                    f"{endpoint}/media/{k}" for k in listing(client) if k.startswith(stem)
                ]
        yield {"results": results, "made": made, "endpoint": endpoint}
    finally:
        reset_moto(endpoint)
        moto.stop()
        cache.stop()


@pytest.mark.server
@pytest.mark.redis
@pytest.mark.slow
def test_twenty_first_requests_from_two_processes_download_and_render_once(
    two_processes: dict[str, Any],
) -> None:
    results, endpoint = two_processes["results"], two_processes["endpoint"]
    files = two_processes["made"][FRESH]
    assert len(files) == len(TWO_PROCESS_SPECS)
    (made,) = [url for url in files if ".thumb." in url]
    # At most one probe per process (single flight; a process that finds the record
    # in the shared cache makes none), one download, one PutObject per rendition.
    probes = [r[0]["storage"].get("probe", 0) for r in results]
    assert max(probes) == 1
    # The process whose record was kept read on through the photo: no download besides.
    assert total(results, 0, "storage").get("read") is None
    assert total(results, 0, "s3") == {"GetObject": sum(probes), "PutObject": 2}
    # The others were shown the source meanwhile (they do not wait for the lease).
    shown = [tuple(s) for r in results for s in r[0]["shown"]]
    assert set(shown) <= {(made, False), (f"{endpoint}/media/{FRESH}", True)}
    assert (made, False) in shown


@pytest.mark.server
@pytest.mark.redis
@pytest.mark.slow
def test_a_process_holding_the_older_record_does_not_render_again(
    two_processes: dict[str, Any],
) -> None:
    results = two_processes["results"]
    (made,) = [url for url in two_processes["made"][KNOWN] if ".thumb." in url]
    assert all(r[1]["s3"] in ({}, {"GetObject": 1}) for r in results)  # at most one probe
    # Both processes held the record before the renditions were asked for. Over the
    # two rounds of twenty requests: one download, one render, a PutObject per rendition...
    rounds = [total(results, step, "storage").get("read", 0) for step in (2, 3)]
    puts = [total(results, step, "s3").get("PutObject", 0) for step in (2, 3)]
    assert (sum(rounds), sum(puts)) == (1, len(TWO_PROCESS_SPECS))
    # ...and the second round is served from the record by both, with no S3 call.
    assert [r[3]["s3"] for r in results] == [{}, {}]
    assert [tuple(s) for r in results for s in r[3]["shown"]] == [(made, False)] * 20
