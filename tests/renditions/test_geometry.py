"""Output sizes and source regions, exactly, and the orientation mapping against Pillow's own."""

from __future__ import annotations

import itertools

import pytest
from PIL import Image

from ikstorage.renditions import Spec
from ikstorage.renditions.image.geometry import TRANSPOSE, plan, stored_box, upright_size


@pytest.mark.parametrize(
    ("spec", "source", "size", "box"),
    [
        # fill: exact box, centred crop of the box's aspect ratio.
        (Spec(fill=(200, 150)), (6000, 4000), (200, 150), (333.33, 0, 5666.67, 4000)),
        (Spec(fill=(200, 150)), (4000, 6000), (200, 150), (0, 1500, 4000, 4500)),
        (Spec(fill=(100, 100)), (640, 480), (100, 100), (80, 0, 560, 480)),
        (Spec(fill=(100, 100), anchor="left"), (640, 480), (100, 100), (0, 0, 480, 480)),
        (Spec(fill=(100, 100), anchor="right"), (640, 480), (100, 100), (160, 0, 640, 480)),
        (Spec(fill=(100, 100), anchor=(0.25, 0)), (640, 480), (100, 100), (40, 0, 520, 480)),
        (Spec(fill=(100, 50), anchor="bottom"), (400, 400), (100, 50), (0, 200, 400, 400)),
        # fill, source smaller than the box: largest crop of the box's aspect, unscaled...
        (Spec(fill=(200, 150)), (100, 100), (100, 75), (0, 12, 100, 87)),
        (Spec(fill=(200, 150), anchor="top"), (100, 100), (100, 75), (0, 0, 100, 75)),
        # ...unless upscale is asked for.
        (Spec(fill=(200, 150), upscale=True), (100, 100), (200, 150), (0, 12.5, 100, 87.5)),
        # fit: inside the box, never cropped, never enlarged by default.
        (Spec(fit=(1600, 1600)), (6000, 4000), (1600, 1067), (0, 0, 6000, 4000)),
        (Spec(fit=(1600, 1600)), (4000, 6000), (1067, 1600), (0, 0, 4000, 6000)),
        (Spec(fit=(300, 100)), (640, 480), (133, 100), (0, 0, 640, 480)),
        (Spec(fit=(1600, 1600)), (640, 480), (640, 480), (0, 0, 640, 480)),
        (Spec(fit=(1280, 1280), upscale=True), (640, 480), (1280, 960), (0, 0, 640, 480)),
        # width / height only.
        (Spec(width=800), (6000, 4000), (800, 533), (0, 0, 6000, 4000)),
        (Spec(width=800), (640, 480), (640, 480), (0, 0, 640, 480)),
        (Spec(width=800, upscale=True), (640, 480), (800, 600), (0, 0, 640, 480)),
        (Spec(height=300), (6000, 4000), (450, 300), (0, 0, 6000, 4000)),
        (Spec(height=300), (200, 100), (200, 100), (0, 0, 200, 100)),
        (Spec(height=300, upscale=True), (200, 100), (600, 300), (0, 0, 200, 100)),
        # extreme aspect ratios never give a zero side.
        (Spec(width=100), (10000, 10), (100, 1), (0, 0, 10000, 10)),
        (Spec(fit=(50, 50)), (1, 5000), (1, 50), (0, 0, 1, 5000)),
    ],
)
def test_sizes_and_regions(
    spec: Spec,
    source: tuple[int, int],
    size: tuple[int, int],
    box: tuple[float, float, float, float],
) -> None:
    made = plan(spec, *source)
    assert made.size == size
    assert made.box == pytest.approx(box, abs=0.01)


def test_exact_crops_and_full_frames_are_flagged() -> None:
    small = plan(Spec(fill=(200, 150)), 100, 100)
    assert small.exact
    assert not small.full_frame
    assert plan(Spec(fill=(200, 150)), 100, 75).full_frame  # the whole source, unscaled
    assert plan(Spec(fill=(200, 150)), 400, 300).full_frame  # same aspect: nothing cropped
    assert not plan(Spec(fill=(200, 150)), 400, 400).full_frame
    assert plan(Spec(fit=(10, 10)), 400, 400).full_frame
    assert not plan(Spec(fit=(10, 10)), 400, 400).exact


def test_upright_size_swaps_for_quarter_turns() -> None:
    assert [upright_size(60, 40, o) for o in range(1, 9)] == [(60, 40)] * 4 + [(40, 60)] * 4


@pytest.mark.parametrize("orientation", range(1, 9))
def test_stored_box_shows_the_same_pixels_as_rotating_first(orientation: int) -> None:
    """Crop the mapped box from the stored pixels and rotate == rotate, then crop the box."""
    stored = Image.new("RGB", (13, 7))
    stored.putdata([(x * 19, y * 36, (x * y) % 256) for y in range(7) for x in range(13)])
    method = TRANSPOSE.get(orientation)
    upright = stored.transpose(method) if method is not None else stored
    width, height = upright.size
    for left, top in itertools.product(range(0, width - 2, 2), range(0, height - 2, 2)):
        box = (left, top, min(width, left + 3), min(height, top + 2))
        expected = upright.crop(box)
        mapped = stored_box(tuple(map(float, box)), orientation, *stored.size)  # type: ignore[arg-type]
        region = stored.crop(tuple(round(v) for v in mapped))  # type: ignore[arg-type]
        got = region.transpose(method) if method is not None else region
        assert got.tobytes() == expected.tobytes(), (orientation, box, mapped)
