"""The bucket layout the per-backend ``--prefix`` tests share, and what a run must leave.

Under ``p/``: 20 images and 13 files that are not images (a listing describes
them fully); beside it, names a ``p/`` walk must not reach. The same layout on
moto, SeaweedFS, Azurite and the GCS emulators, so one check says what every
backend's run leaves behind.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from ikstorage import CachedStorage
from ikstorage import cache as ik_cache

IMAGES = [f"p/{i:02d}.jpg" for i in range(20)]
OTHERS = [f"p/docs/{i}.txt" for i in range(10)] + [f"p/video/{i}.mp4" for i in range(3)]
#: Outside the ``p/`` prefix: ``pq.jpg`` starts with "p", not "p/".
OUTSIDE = ["other/outside.jpg", "pq.jpg"]


def assert_answered_without_requests(
    cached: CachedStorage,
    plain: Any,
    counting: Callable[[], AbstractContextManager[dict[str, int]]],
    *,
    not_recorded: list[str] = OUTSIDE,
) -> None:
    """After a ``--prefix p/`` run, in a fresh L1: every fact a page asks costs no request.

    Sizes, existence, an image's dimensions and the listed files' modified
    times come from the cache, and the modified times equal the plain
    storage's; nothing outside the prefix was recorded.
    """
    ik_cache.clear_local()
    with counting() as requests:
        assert [cached.size(name) for name in OTHERS] == [100 + i for i in range(13)]
        assert all(cached.exists(name) for name in [*IMAGES, *OTHERS])
        assert cached.image_dimensions(IMAGES[0]) == (33, 22)
        modified = [cached.get_modified_time(name) for name in OTHERS]
    assert requests == {}
    assert modified == [plain.get_modified_time(name) for name in OTHERS]
    assert not cached.core.cached_records(not_recorded)
