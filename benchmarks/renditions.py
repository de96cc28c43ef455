"""Rendition speed and memory on a 24-megapixel JPEG, against django-imagekit and the decode floor.

The source is made here (not committed): 6000x4000, gradients and grain so it
compresses like a photograph (about 10 MB at quality 90), written to a
temporary file that every contender reads from. For each output format
(JPEG, WebP, AVIF), all in the same run, best of several interleaved repeats:

* **floor** — the same file decoded at 1/8 scale (``Image.draft``) and nothing
  else: no thumbnail can be made with Pillow for less;
* **vips** — a second floor, from another engine: libvips's ``thumbnail``
  (``pyvips.Image.thumbnail_buffer``, shrink-on-load, crop to 200x150) and
  its encoder at the same quality, libvips's other defaults; the engine of
  django-easy-images, sorl-thumbnail's vips engine and imgproxy. Left out
  (``-``) when pyvips is not installed (the ``bench`` group installs it with
  ``pyvips-binary``);
* **ours** — ``render(file, [thumb])``, thumb = ``fill`` 200x150, placeholder
  included;
* **imagekit** — an ``imagekit.ImageSpec`` with pilkit's ``ResizeToFill(200,
  150)``, ``generate()`` and read, as django-imagekit runs it; it is given the
  same encoder options as ours (quality, progressive JPEG, WebP method, AVIF
  speed) so only decoding and resizing differ;
* **two specs** — thumb plus ``fit`` 1600x1600 from one ``render`` against
  imagekit generating both specs.

Peak memory is the rise of the resident set (``VmHWM`` over ``VmRSS``, reset
through ``/proc/self/clear_refs``) while one ``render`` of thumb + 1600 px
runs, in a fresh process; Pillow's pixel buffers are not Python objects, so
``tracemalloc`` cannot see them.

Targets (JPEG output): ours >= 3x faster than imagekit and <= 1.15x the floor
for the thumbnail, >= 3x faster for the two specs, peak <= 50 MiB. WebP and
AVIF are reported, not judged. Exit status 1 when a target is missed.

    .devenv/bin/python benchmarks/renditions.py
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SIZE = (6000, 4000)
REPEATS = 4
FORMATS = ("jpeg", "webp", "avif")
QUALITY = {"jpeg": 85, "webp": 80, "avif": 60}
SPEED_TARGET = 3.0
FLOOR_TARGET = 1.15
MEMORY_TARGET_MIB = 50.0


def make_source(path: Path) -> None:
    """A 24-megapixel JPEG with gradients, blotches and grain."""
    from PIL import Image, ImageChops

    width, height = SIZE
    grain = Image.effect_noise(SIZE, 12)
    low = Image.effect_noise((width // 40, height // 40), 60).resize(SIZE, Image.Resampling.BICUBIC)
    gradient = Image.linear_gradient("L").resize(SIZE)
    radial = Image.radial_gradient("L").resize(SIZE)
    red = ImageChops.add(ImageChops.multiply(gradient, low), grain, offset=-30)
    green = ImageChops.add(radial.transpose(Image.Transpose.FLIP_LEFT_RIGHT), grain, offset=-50)
    blue = ImageChops.blend(low, gradient.transpose(Image.Transpose.ROTATE_180), 0.5)
    Image.merge("RGB", (red, green, blue)).save(path, "JPEG", quality=90)


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()


def imagekit_spec(processor: Any, fmt: str) -> type:
    from imagekit import ImageSpec

    from ikstorage.renditions.image.encoders import OUTPUTS, _options

    return type(
        "Spec",
        (ImageSpec,),
        {
            "processors": [processor],
            "format": OUTPUTS[fmt].pillow,
            "options": _options(fmt, QUALITY[fmt]),
        },
    )


def interleaved_best(cases: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Best wall time of each case, in ms; cases alternate so load changes hit all alike."""
    best = dict.fromkeys(cases, float("inf"))
    for _ in range(repeats):
        for name, case in cases.items():
            started = time.perf_counter()
            case()
            best[name] = min(best[name], time.perf_counter() - started)
    return {name: seconds * 1000 for name, seconds in best.items()}


def measure_speed(path: Path) -> dict[str, dict[str, float]]:
    from django.core.files import File
    from PIL import Image
    from pilkit.processors import ResizeToFill, ResizeToFit

    from ikstorage.renditions import Spec, render

    def floor() -> None:
        with Image.open(path) as image:
            image.draft("RGB", (SIZE[0] // 8, SIZE[1] // 8))
            image.load()

    results = {}
    for fmt in FORMATS:
        vips = vips_thumbnail(path, fmt)
        thumb = Spec("thumb", fill=(200, 150), format=fmt, quality=QUALITY[fmt])
        large = Spec("large", fit=(1600, 1600), format=fmt, quality=QUALITY[fmt])
        kit_thumb = imagekit_spec(ResizeToFill(200, 150), fmt)
        kit_large = imagekit_spec(ResizeToFit(1600, 1600), fmt)

        def ours(specs: list[Spec]) -> Callable[[], object]:
            def run() -> object:
                with path.open("rb") as source:
                    return render(source, specs)

            return run

        def kit(*specs: type) -> Callable[[], object]:
            def run() -> object:
                with path.open("rb") as source:
                    return [spec(source=File(source)).generate().read() for spec in specs]

            return run

        repeats = REPEATS if fmt != "avif" else 2
        cases = {
            "floor": floor,
            "ours": ours([thumb]),
            "imagekit": kit(kit_thumb),
            "ours two": ours([thumb, large]),
            "imagekit two": kit(kit_thumb, kit_large),
        }
        if vips is not None:
            cases["vips"] = vips
        results[fmt] = interleaved_best(cases, repeats)
    return results


def vips_thumbnail(path: Path, fmt: str) -> Callable[[], object] | None:
    """libvips's whole thumbnail (read, shrink-on-load, crop, encode), or None without pyvips."""
    try:
        import pyvips
    except (ImportError, OSError):  # not installed, or no libvips to load
        return None
    suffix = {"jpeg": ".jpg", "webp": ".webp", "avif": ".avif"}[fmt]

    def run() -> object:
        thumb = pyvips.Image.thumbnail_buffer(path.read_bytes(), 200, height=150, crop="centre")
        return thumb.write_to_buffer(f"{suffix}[Q={QUALITY[fmt]}]")

    return run


def measure_placeholder(path: Path) -> dict[str, float]:
    """ms to make the placeholder from what render holds: the 1/8 decode, or a 1600 px output."""
    from PIL import Image

    from ikstorage.renditions.image.placeholder import SAMPLE_SIZE, make_placeholder, shrink

    with Image.open(path) as image:
        image.draft("RGB", (750, 500))
        image.load()
        eighth = image.copy()
    large = eighth.resize((1600, 1067))
    cases = {
        "from 750x500": lambda: make_placeholder(shrink(eighth, SAMPLE_SIZE)),
        "from 1600x1067": lambda: make_placeholder(shrink(large, SAMPLE_SIZE)),
    }
    return interleaved_best(cases, 50)


def measure_digest(path: Path) -> float:
    from ikstorage.renditions import source_digest

    def digest() -> None:
        with path.open("rb") as source:
            source_digest(source)

    return interleaved_best({"digest": digest}, 5)["digest"]


def peak_memory(path: Path, who: str) -> float:
    """MiB the resident set rose by while ``who`` made thumb + 1600 px, in a fresh process."""
    done = subprocess.run(
        [sys.executable, __file__, "--memory", who, str(path)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return float(done.stdout.strip().splitlines()[-1])


def memory_child(who: str, path: Path) -> None:
    setup_django()
    from django.core.files import File
    from pilkit.processors import ResizeToFill, ResizeToFit

    from ikstorage.renditions import Spec, render

    specs = [
        Spec("thumb", fill=(200, 150), format="jpeg"),
        Spec("l", fit=(1600, 1600), format="jpeg"),
    ]
    kit = [
        imagekit_spec(ResizeToFill(200, 150), "jpeg"),
        imagekit_spec(ResizeToFit(1600, 1600), "jpeg"),
    ]

    def run(source: Any) -> None:
        if who == "ours":
            render(source, specs)
        else:
            for spec in kit:
                spec(source=File(source, name="photo.jpg")).generate().read()

    warm = io.BytesIO()
    tiny_jpeg(warm)
    run(warm)  # load every plugin and codec first: code pages are not the render's
    Path("/proc/self/clear_refs").write_text("5")
    before = _status("VmRSS")
    with path.open("rb") as source:
        run(source)
    print(round((_status("VmHWM") - before) / 1024, 1))


def tiny_jpeg(buffer: io.BytesIO) -> None:
    from PIL import Image

    Image.effect_noise((320, 240), 40).convert("RGB").save(buffer, "JPEG")
    buffer.seek(0)


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])  # kB
    raise RuntimeError(f"{field} not in /proc/self/status")


def main() -> int:
    setup_django()
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "photo-24mp.jpg"
        make_source(path)
        megabytes = path.stat().st_size / 1e6
        speed = measure_speed(path)
        placeholder = measure_placeholder(path)
        digest = measure_digest(path)
        memory = {who: peak_memory(path, who) for who in ("ours", "imagekit")}
    print(f"source: {SIZE[0]}x{SIZE[1]} JPEG, {megabytes:.1f} MB; best of {REPEATS} (AVIF 2)")
    print()
    print(
        "thumbnail (fill 200x150)      floor     vips     ours  imagekit"
        "   vs imagekit   vs floor    vs vips"
    )
    for fmt, row in speed.items():
        vips = f"{row['vips']:7.1f}" if "vips" in row else "      -"
        versus_vips = f"{row['ours'] / row['vips']:7.2f}x" if "vips" in row else "      -"
        print(
            f"  {fmt:<26} {row['floor']:7.1f}  {vips}  {row['ours']:7.1f}  {row['imagekit']:8.1f}"
            f"   {row['imagekit'] / row['ours']:8.2f}x   {row['ours'] / row['floor']:7.2f}x"
            f"   {versus_vips}"
        )
    print()
    print("thumb + fit 1600x1600                  ours  imagekit   vs imagekit")
    for fmt, row in speed.items():
        print(
            f"  {fmt:<35} {row['ours two']:7.1f}  {row['imagekit two']:8.1f}"
            f"   {row['imagekit two'] / row['ours two']:8.2f}x"
        )
    print()
    print(
        f"peak memory, thumb + 1600 (JPEG): ours {memory['ours']:.1f} MiB, "
        f"imagekit {memory['imagekit']:.1f} MiB"
    )
    for name, ms in placeholder.items():
        print(f"placeholder {name:<16} {ms:6.2f} ms")
    print(f"source digest (SHA-256)      {digest:6.2f} ms")
    jpeg = speed["jpeg"]
    checks = {
        f"thumbnail >= {SPEED_TARGET}x faster than imagekit": jpeg["imagekit"] / jpeg["ours"]
        >= SPEED_TARGET,
        f"thumbnail <= {FLOOR_TARGET}x the decode floor": jpeg["ours"] / jpeg["floor"]
        <= FLOOR_TARGET,
        f"two specs >= {SPEED_TARGET}x faster than imagekit": jpeg["imagekit two"]
        / jpeg["ours two"]
        >= SPEED_TARGET,
        f"peak memory <= {MEMORY_TARGET_MIB} MiB": memory["ours"] <= MEMORY_TARGET_MIB,
    }
    print()
    for name, ok in checks.items():
        print(f"{'ok  ' if ok else 'MISS'} {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--memory":
        sys.path.insert(0, str(ROOT))
        memory_child(sys.argv[2], Path(sys.argv[3]))
        sys.exit(0)
    sys.exit(main())
