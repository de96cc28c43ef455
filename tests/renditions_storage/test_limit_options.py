"""The render limits are storage options: ``max_frames`` and ``max_pixels`` reach the renderer."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from ikstorage.exceptions import ConfigurationError
from ikstorage.profiler import count_calls
from tests.hostile.gifs import Frame, gif
from tests.renditions_storage.helpers import cached

SPECS: dict[str, Any] = {"moving": {"fit": [40, 30], "format": "webp"}}
FIVE_FRAMES = gif((40, 30), [Frame((40, 30), colour=1 + n % 3) for n in range(5)])


@pytest.mark.parametrize(("max_frames", "frames"), [(300, 5), (5, 5), (4, 1)])
def test_max_frames_decides_whether_an_animation_stays_animated(
    s3: Any, s3_storage: Any, max_frames: int, frames: int
) -> None:
    storage = cached(s3_storage, specs=SPECS, max_frames=max_frames)
    with count_calls() as calls:
        storage.save("anim/a.gif", ContentFile(FIVE_FRAMES))
    assert calls.s3 == {"PutObject": 2}  # the source and its one rendition
    shown = storage.rendition("anim/a.gif", "moving")
    assert (shown.fallback, shown.width, shown.height) == (False, 40, 30)
    rendered = s3.get_object(Bucket="media", Key=storage.metadata("anim/a.gif").renditions[0].name)
    with Image.open(rendered["Body"]) as image:
        assert getattr(image, "n_frames", 1) == frames


@pytest.mark.parametrize("value", [0, -1, 1.5, "300", None])
def test_max_frames_must_be_a_positive_whole_number(s3_storage: Any, value: Any) -> None:
    with pytest.raises(ConfigurationError, match="'max_frames'"):
        cached(s3_storage, specs=SPECS, max_frames=value)
