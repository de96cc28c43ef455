"""StorageProfilerMiddleware: a Server-Timing header and one log line per profiled request."""

from __future__ import annotations

import logging
import re
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from ikstorage.profiler import StorageProfilerMiddleware

pytestmark = pytest.mark.urls("tests.profiler.urls")

MIDDLEWARE = ["ikstorage.profiler.StorageProfilerMiddleware"]
WORK_TIMING = re.compile(
    r'ikstorage-s3;desc="3 S3 calls", ikstorage-storage;desc="1 storage call", '
    r'ikstorage-cache;desc="1 cache round trip", ikstorage-time;dur=\d+\.\d$'
)
WORK_LOG = re.compile(
    r"GET /work/\?page=2 200: 3 S3 calls \(HeadObject=2 GetObject=1\), 0 retries, "
    r"0 presigned URLs, 1 storage call \(exists=1\), L1 2 hit/1 miss, L2 0 hit/1 miss, "
    r"1 cache round trip, 1024 bytes downloaded, \d+\.\d ms$"
)


@pytest.fixture
def profiled(settings: Any, photos: Any) -> None:
    settings.MIDDLEWARE = MIDDLEWARE
    settings.IKSTORAGE_PROFILER = {"ENABLED": True}


def test_header_and_log_line(
    profiled: None, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="ikstorage.profiler"):
        response = client.get("/work/?page=2")

    assert response.status_code == 200
    assert WORK_TIMING.match(response.headers["Server-Timing"])
    [record] = [r for r in caplog.records if r.name == "ikstorage.profiler"]
    assert record.levelno == logging.INFO
    assert WORK_LOG.match(record.getMessage())


def test_appends_to_an_existing_server_timing_header(settings: Any, photos: Any) -> None:
    settings.IKSTORAGE_PROFILER = {"ENABLED": True}

    def view(request: HttpRequest) -> HttpResponse:
        response = HttpResponse()
        response.headers["Server-Timing"] = "db;dur=1.0"
        return response

    response = StorageProfilerMiddleware(view)(RequestFactory().get("/"))

    assert response.headers["Server-Timing"].startswith(
        'db;dur=1.0, ikstorage-s3;desc="0 S3 calls"'
    )


@pytest.mark.parametrize(
    ("enabled", "debug", "profiled"),
    [("debug", True, True), ("debug", False, False), (True, False, True), (False, True, False)],
)
def test_enabled_follows_the_setting(
    settings: Any, photos: Any, client: Client, enabled: object, debug: bool, profiled: bool
) -> None:
    settings.MIDDLEWARE = MIDDLEWARE
    settings.DEBUG = debug
    settings.IKSTORAGE_PROFILER = {"ENABLED": enabled}

    response = client.get("/work/")

    assert ("Server-Timing" in response.headers) is profiled


def test_default_is_debug_only(settings: Any, photos: Any, client: Client) -> None:
    settings.MIDDLEWARE = MIDDLEWARE
    del settings.IKSTORAGE_PROFILER  # not set at all
    settings.DEBUG = True
    assert "Server-Timing" in client.get("/work/").headers
    settings.DEBUG = False
    assert "Server-Timing" not in client.get("/work/").headers


def test_sample_rate_draws_per_request(settings: Any, photos: Any, client: Client) -> None:
    settings.MIDDLEWARE = MIDDLEWARE
    settings.IKSTORAGE_PROFILER = {"ENABLED": True, "SAMPLE_RATE": 0.25}

    with mock.patch("ikstorage.profiler.conf.random.random", side_effect=[0.1, 0.3, 0.24, 0.9]):
        headers = ["Server-Timing" in client.get("/work/").headers for _ in range(4)]

    assert headers == [True, False, True, False]


def test_zero_sample_rate_never_profiles(settings: Any, photos: Any, client: Client) -> None:
    settings.MIDDLEWARE = MIDDLEWARE
    settings.IKSTORAGE_PROFILER = {"ENABLED": True, "SAMPLE_RATE": 0}

    assert not any("Server-Timing" in client.get("/work/").headers for _ in range(20))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"ENABLE": True}, "unknown key 'ENABLE'"),
        ({"ENABLED": "yes"}, "must be 'debug', True or False, not 'yes'"),
        ({"SAMPLE_RATE": 1.5}, "must be a number from 0 to 1, not 1.5"),
        ({"SAMPLE_RATE": True}, "must be a number from 0 to 1, not True"),
        ([("ENABLED", True)], "IKSTORAGE_PROFILER must be a dict"),
    ],
)
def test_bad_settings_are_errors(
    settings: Any, client: Client, value: object, message: str
) -> None:
    settings.MIDDLEWARE = MIDDLEWARE
    settings.IKSTORAGE_PROFILER = value

    with pytest.raises(ImproperlyConfigured, match=re.escape(message)):
        client.get("/missing/")
