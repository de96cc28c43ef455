"""Placeholders: the dominant colour of the opaque pixels and a tiny WebP, as plain strings."""

from __future__ import annotations

import base64
import io
import pickle

from PIL import Image

from ikstorage.renditions import Placeholder, Spec, render
from ikstorage.renditions.image.placeholder import LQIP_SIZE, make_placeholder, shrink
from tests.renditions.sources import oriented_jpeg, save

PREFIX = "data:image/webp;base64,"


def preview(placeholder: Placeholder) -> Image.Image:
    assert placeholder.lqip.startswith(PREFIX)
    image = Image.open(io.BytesIO(base64.b64decode(placeholder.lqip[len(PREFIX) :])))
    image.load()
    return image


def test_the_colour_is_the_largest_group_not_the_average() -> None:
    image = Image.new("RGB", (100, 60), (20, 60, 200))  # mostly blue...
    image.paste((250, 250, 10), (0, 0, 30, 60))  # ...30 % yellow: the average would be grey-ish
    made = make_placeholder(image)
    assert made.color == "#143cc8"
    small = preview(made)
    assert small.size == (16, 10)
    assert small.format == "WEBP"
    assert not small.info.get("exif")
    assert len(made.lqip) < 300


def test_transparent_pixels_do_not_count_and_the_preview_keeps_alpha() -> None:
    image = Image.new("RGBA", (60, 60), (0, 0, 0, 0))  # mostly transparent black
    image.paste((200, 20, 20, 255), (0, 0, 20, 20))
    made = make_placeholder(image)
    assert made.color == "#c81414"
    small = preview(made)
    assert small.mode == "RGBA"
    assert small.getpixel((15, 15))[3] == 0  # type: ignore[index]
    everything_transparent = make_placeholder(Image.new("RGBA", (8, 8), (9, 9, 9, 0)))
    assert everything_transparent.color == "#090909"


def test_grey_and_tiny_sources() -> None:
    assert make_placeholder(Image.new("L", (300, 20), 100)).color == "#646464"
    tiny = make_placeholder(Image.new("RGB", (1, 1), (1, 2, 3)))
    assert tiny.color == "#010203"
    assert preview(tiny).size == (1, 1)
    assert max(preview(make_placeholder(Image.new("RGB", (2000, 30)))).size) == LQIP_SIZE


def test_the_rendered_placeholder_is_upright_and_full_frame() -> None:
    # Orientation 6 stores the picture turned; its preview must be landscape like the picture,
    # and a crop-only spec must not narrow it.
    rendered = render(io.BytesIO(oriented_jpeg(6, (64, 48))), [Spec("sq", fill=(10, 10))])
    assert rendered.placeholder is not None
    small = preview(rendered.placeholder).convert("RGB")
    assert small.size == (16, 12)
    red = small.getpixel((3, 3))
    assert isinstance(red, tuple)
    assert red[0] > 150 > red[2]  # top-left is red


def test_the_placeholder_is_plain_values() -> None:
    rendered = render(io.BytesIO(save(Image.new("RGB", (40, 30), (9, 99, 199)), "PNG")), [])
    made = rendered.placeholder
    assert made is not None
    plain = made.to_plain()
    assert plain == {"c": made.color, "l": made.lqip}
    assert all(type(v) is str for v in plain.values())
    assert Placeholder.from_plain(pickle.loads(pickle.dumps(plain))) == made
    assert Placeholder.from_plain({"c": 1, "l": "x"}) is None
    assert Placeholder.from_plain("x") is None


def test_shrinking_a_large_image_samples_it_closely_enough() -> None:
    # A horizontal gradient 2048 px wide: the sampled shrink stays within 2 levels of a full
    # box average, and touches a fraction of the pixels.
    image = Image.linear_gradient("L").rotate(90).resize((2048, 1024)).convert("RGB")
    sampled = shrink(image, 32)
    full = image.resize((32, 16), Image.Resampling.BOX)
    assert sampled.size == full.size == (32, 16)
    for x in range(32):
        a, b = sampled.getpixel((x, 8)), full.getpixel((x, 8))
        assert isinstance(a, tuple)
        assert isinstance(b, tuple)
        assert abs(a[0] - b[0]) <= 2, x
    assert shrink(image, 4096) is image
