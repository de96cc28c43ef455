"""Pillow's own test images (a thousand files, many crafted to crash decoders) through render().

Every file either renders (every output decodes, at the size reported, with
no metadata) or raises a RenditionError with a reason; nothing else escapes.
"""

from __future__ import annotations

import io
from collections import Counter

import PIL
import pytest
from PIL import Image

from ikstorage.exceptions import RenditionError
from ikstorage.renditions import Spec, render
from tests.corpus import CorpusUnavailable, corpus_files, pillow_images
from tests.servers import unavailable

pytestmark = pytest.mark.filterwarnings("ignore:::PIL")  # production prints them and goes on

SPECS = [
    Spec("thumb", fill=(32, 24), format="webp"),
    Spec("fit", fit=(64, 64)),
    Spec("jpeg", width=40, format="jpeg"),
]
#: Outcomes recorded with Pillow 13.0.0's 1060 test files.
RECORDED_PILLOW = "13.0.0"
RECORDED = {"ok": 691, "not-an-image": 339, "corrupt": 26, "too-many-pixels": 4}


def test_every_file_renders_or_raises_a_typed_error() -> None:
    try:
        root = pillow_images()
    except CorpusUnavailable as exc:
        unavailable(f"Pillow's test images are not available: {exc}")
        return
    outcomes: Counter[str] = Counter()
    for path in corpus_files(root):
        try:
            rendered = render(io.BytesIO(path.read_bytes()), SPECS)
        except RenditionError as exc:
            outcomes[exc.reason] += 1
            continue
        outcomes["ok"] += 1
        assert len(rendered.outputs) == len(SPECS)
        assert rendered.placeholder is not None
        for output in rendered.outputs:
            with Image.open(io.BytesIO(output.data)) as image:
                image.load()
                assert image.size == (output.width, output.height), path.name
                assert not image.getexif(), path.name
                assert "icc_profile" not in image.info, path.name
    if PIL.__version__ == RECORDED_PILLOW:
        assert dict(outcomes) == RECORDED
    assert outcomes["ok"] > 500
