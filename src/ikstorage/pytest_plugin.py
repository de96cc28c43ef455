"""pytest fixtures that turn S3 call counts into assertions.

Loaded through the ``pytest11`` entry point when ikstorage is installed.
``assert_max_s3_calls`` works like pytest-django's
``django_assert_max_num_queries``::

    def test_gallery_is_free(client, assert_max_s3_calls):
        with assert_max_s3_calls(0):
            client.get("/gallery/")

ikstorage is imported inside the fixtures, not here, so merely having the
plugin installed imports nothing of Django in test runs that do not use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ikstorage.profiler import Calls

AssertMaxS3Calls = Callable[[int], AbstractContextManager["Calls"]]


@pytest.fixture
def s3_calls() -> Iterator[Calls]:
    """Counts of every S3, storage and cache call made during the test."""
    from ikstorage.profiler import count_calls

    with count_calls() as calls:
        yield calls


@pytest.fixture
def assert_max_s3_calls() -> AssertMaxS3Calls:
    """``with assert_max_s3_calls(n):`` fails if the block makes more than ``n`` S3 calls."""
    from ikstorage.profiler import count_calls
    from ikstorage.profiler.report import operations, plural

    @contextmanager
    def check(limit: int) -> Iterator[Calls]:
        with count_calls() as calls:
            yield calls
        if calls.s3_total > limit:
            pytest.fail(
                f"Expected at most {plural(limit, 'S3 call')}, "
                f"{calls.s3_total} were made: {operations(calls.s3)}",
                pytrace=False,
            )

    return check
