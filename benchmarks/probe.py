"""The dimension probe against Django's own read of the same bytes, as a ratio.

The baseline is ``django.core.files.images.get_image_dimensions`` on the
whole file in memory: what Django does for ``ImageFile.width``. The probe is
``ikstorage.imageinfo.read_dimensions`` over the same bytes in memory (no
network, so the ratio is CPU only: what the probe's bookkeeping adds to
Pillow's own parsing). Both are timed in the same run, best of several
repeats, alternating.

The files are hostile headers, hundreds of kilobytes of tiny JPEG segments
before the frame: Pillow walks every segment of every prefix Django feeds
it, and a probe that replays those prefixes through a Python file object did
the same walks at a fraction of the speed (1.1 to 1.4 s for 400 to 800 KB of
empty comments). The target: at most Django's time on every one of them
(a ratio of at most 1.0). Two ordinary JPEGs are reported for scale, without
a target: there the probe's fixed cost (choosing what to skip) is a few tens
of microseconds, and what it saves is network reads, not CPU.

    python3 dev.py bench
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.0
REPEATS = 5


def hostile(segment: bytes, size: int, tail: bytes) -> bytes:
    """A JPEG whose header is ``size`` bytes of ``segment`` repeated before the frame."""
    return b"\xff\xd8" + segment * (size // len(segment)) + tail[2:]


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from django.conf import settings

    if not settings.configured:
        settings.configure()
    from django.core.files.images import get_image_dimensions

    from ikstorage.imageinfo import read_dimensions
    from tests.images import image_bytes, jpeg_with_exif

    tail = image_bytes((64, 48))
    cases = {
        "empty comments, 400 KB": hostile(b"\xff\xfe\x00\x02", 400_000, tail),
        "empty comments, 800 KB": hostile(b"\xff\xfe\x00\x02", 800_000, tail),
        "1-byte comments, 600 KB": hostile(b"\xff\xfe\x00\x03c", 600_000, tail),
        "restart markers, 600 KB": hostile(b"\xff\xd0", 600_000, tail),
        "fill bytes, 600 KB": hostile(b"\xff\xff\xff\xdb\x00\x02", 600_000, tail),
        "40-byte APP1, 600 KB": hostile(b"\xff\xe1\x00\x2a" + b"x" * 40, 600_000, tail),
    }
    ordinary = {
        "photo, 1600x1200": image_bytes((1600, 1200)),
        "12 MP, 64 KB EXIF": jpeg_with_exif((4000, 3000), 65_400, 4_000),
    }

    def best(runs: dict[str, Callable[[], object]]) -> dict[str, float]:
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(REPEATS):
            for name, run in runs.items():
                started = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - started)
        return {name: min(values) for name, values in times.items()}

    def measure(data: bytes) -> tuple[float, float]:
        def probe() -> object:
            return read_dimensions(lambda offset, length: data[offset : offset + length], len(data))

        def django() -> object:
            return get_image_dimensions(io.BytesIO(data))

        assert probe() == django(), "the probe must give Django's answer"
        measured = best({"probe": probe, "django": django})
        return measured["probe"], measured["django"]

    worst = 0.0
    print(f"{'file':28} {'probe':>10} {'Django':>10} {'ratio':>7}")
    for name, data in {**cases, **ordinary}.items():
        ours, theirs = measure(data)
        ratio = ours / theirs
        if name in cases:
            worst = max(worst, ratio)
        print(f"{name:28} {ours * 1e3:8.2f}ms {theirs * 1e3:8.2f}ms {ratio:6.2f}x")
    print(f"worst ratio, hostile headers {worst:8.2f}x   (target ≤ {TARGET}x)")
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
