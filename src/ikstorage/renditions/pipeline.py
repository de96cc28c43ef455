"""Decode once, render many: the Pillow pipeline behind every rendition.

For one source and the specs that apply to it, :func:`render`

1. refuses an empty stream, a format outside :data:`SOURCE_FORMATS` and a
   header claiming more than ``max_pixels`` pixels, before any pixel is
   decoded (``Image.open`` reads the header only);
2. asks libjpeg for the smallest scale (1/2, 1/4, 1/8) that still gives the
   most demanding spec enough pixels (``Image.draft``: shrink-on-load, so a
   24-megapixel photo decodes at 3 megapixels for a 1600 px rendition and at
   0.4 for a thumbnail), then decodes once;
3. renders every spec from that decode: the region it shows is resized with
   Lanczos after an integer box reduction (``reducing_gap``), in stored
   orientation, and only the small result is rotated upright (EXIF);
4. converts each output to sRGB (ICC profiles honoured, CMYK handled),
   decides alpha per format, strips all metadata and encodes it
   (:mod:`.encoders`);
5. computes the placeholder from the smallest full-frame image at hand.

Animated GIF, WebP and APNG sources stay animated in formats that animate
(WebP, GIF) while the frames fit the budget; otherwise the first frame is
rendered and a note says so.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from PIL import ExifTags, Image, UnidentifiedImageError

from ikstorage.exceptions import TooManyPixelsError, UnreadableImageError
from ikstorage.renditions.colour import for_format, has_alpha, to_srgb, working
from ikstorage.renditions.encoders import OUTPUTS, encode, encode_frames, output_format
from ikstorage.renditions.geometry import (
    TRANSPOSE,
    Plan,
    plan,
    stored_box,
    stored_size,
    upright_size,
)
from ikstorage.renditions.placeholder import SAMPLE_SIZE, Placeholder, make_placeholder, shrink
from ikstorage.renditions.specs import Spec

__all__ = [
    "DEFAULT_MAX_FRAMES",
    "DEFAULT_MAX_PIXELS",
    "REDUCING_GAP",
    "SOURCE_FORMATS",
    "Output",
    "Rendered",
    "render",
]

#: 50 megapixels: a 48- or 50-megapixel phone photo passes; more is refused.
#: Formats without shrink-on-load hold 4 bytes per pixel while rendering.
DEFAULT_MAX_PIXELS = 50_000_000
#: Animations with more frames are rendered as their first frame.
DEFAULT_MAX_FRAMES = 300
#: Integer box reduction first, Lanczos for the last factor of at least 3:
#: Pillow documents 3 as indistinguishable from a full Lanczos resize.
REDUCING_GAP = 3.0
#: Source formats (Pillow plugin names) accepted; others are not opened at all,
#: so exotic plugins (EPS through Ghostscript, PSD, ...) never see uploads.
#: HEIF counts only where a plugin such as pillow-heif registered it.
SOURCE_FORMATS = ("JPEG", "MPO", "PNG", "GIF", "WEBP", "AVIF", "TIFF", "BMP", "HEIF")
_ANIMATED_SOURCES = frozenset({"GIF", "WEBP", "PNG", "AVIF"})
#: Formats whose decoder can scale down while decoding (libjpeg's scaled IDCT).
_SHRINK_ON_LOAD = frozenset({"JPEG", "MPO"})
#: What Pillow's plugins raise on bad input (a truncated file, a broken header).
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    struct.error,
    zlib.error,
)


@dataclass(frozen=True, slots=True)
class Output:
    """One rendition, encoded; ``width`` and ``height`` as shown (upright)."""

    spec: Spec
    data: bytes
    width: int
    height: int
    #: ``"jpeg"``, ``"png"``, ``"webp"``, ``"avif"`` or ``"gif"``.
    format: str
    extension: str
    content_type: str
    #: 1 for a still image.
    frames: int = 1

    @property
    def size(self) -> int:
        """Bytes the storage will hold."""
        return len(self.data)


@dataclass(frozen=True, slots=True)
class Rendered:
    """Everything one decode produced."""

    #: Pillow's name of the source's format (``"JPEG"``, ``"PNG"``, ...).
    source_format: str
    #: The source's size as shown (EXIF orientation applied).
    width: int
    height: int
    #: Frames in the source (1 unless animated).
    frames: int
    #: One per spec, in the order the specs were given.
    outputs: tuple[Output, ...]
    placeholder: Placeholder | None
    #: Things worth a log line that did not stop rendering (an ignored ICC profile,
    #: an animation over budget).
    notes: tuple[str, ...] = ()


def render(
    source: IO[bytes],
    specs: Sequence[Spec],
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_frames: int = DEFAULT_MAX_FRAMES,
    placeholder: bool = True,
) -> Rendered:
    """Decode ``source`` (seekable, binary, read from its start) once and render ``specs``.

    The stream's position is restored. Raises
    :class:`~ikstorage.exceptions.UnreadableImageError` (empty, not an
    image, corrupt, truncated) or
    :class:`~ikstorage.exceptions.TooManyPixelsError` (more than
    ``max_pixels`` in the header, refused before decoding); no partial result.
    """
    position = source.tell()
    try:
        with _open(source, max_pixels) as image:
            return _Job(image, list(specs), max_pixels, max_frames).run(placeholder)
    finally:
        source.seek(position)


def _open(source: IO[bytes], max_pixels: int) -> Image.Image:
    source.seek(0)
    if not source.read(1):
        raise UnreadableImageError("The source is empty (0 bytes).", reason="empty")
    source.seek(0)
    Image.init()
    accepted = [name for name in SOURCE_FORMATS if name in Image.OPEN]
    with _decoding(max_pixels, "header"):
        try:
            image = Image.open(source, formats=accepted)
        except UnidentifiedImageError as exc:
            raise UnreadableImageError(
                f"The source is not an image in an accepted format ({', '.join(accepted)}).",
                reason="not-an-image",
            ) from exc
    width, height = image.size
    if width * height > max_pixels:
        # Not image.close(): that would close the caller's stream too.
        raise TooManyPixelsError(
            f"The source is {width}x{height} = {width * height} pixels, more than the "
            f"{max_pixels} allowed; it was not decoded.",
            width=width,
            height=height,
            limit=max_pixels,
        )
    return image


@contextmanager
def _decoding(max_pixels: int, what: str) -> Iterator[None]:
    """Pillow's errors on bad input, as the typed errors a caller can record."""
    try:
        yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own limit (Image.MAX_IMAGE_PIXELS) struck first; its warning is
        # an exception where warnings are errors.
        raise TooManyPixelsError(
            f"The source is refused as a decompression bomb: {exc}", limit=max_pixels
        ) from exc
    except _DECODE_ERRORS as exc:
        raise UnreadableImageError(
            f"The source's {what} could not be read ({type(exc).__name__}: {exc}); "
            "it is corrupt or truncated.",
            reason="corrupt",
        ) from exc


class _Job:
    """One source, its specs and what was learned about it along the way."""

    def __init__(
        self, image: Image.Image, specs: list[Spec], max_pixels: int, max_frames: int
    ) -> None:
        self.image = image
        self.specs = specs
        self.max_pixels = max_pixels
        self.max_frames = max_frames
        self.stored = image.size
        self.frames = _frame_count(image)
        pixels = self.stored[0] * self.stored[1]
        self.animate = 1 < self.frames <= max_frames and self.frames * pixels <= max_pixels
        self.icc: bytes | None = image.info.get("icc_profile") or None
        self.notes: list[str] = []
        # Set by _prepare(), once the orientation is known:
        self.orientation = 1
        self.upright = self.stored
        self.plans: list[tuple[Spec, Plan, str]] = []
        #: The smallest full-frame image so far, and whether it is upright already.
        self.sample: tuple[Image.Image, bool] | None = None

    def run(self, placeholder: bool) -> Rendered:
        if self.image.format in _SHRINK_ON_LOAD:
            self._prepare()  # the orientation decides which scale to ask for
            self._draft(placeholder)
            base = self._decode()
        else:
            # Decode first: some formats (PNG) look for EXIF after the pixels, and an
            # error met there must not be mistaken for "no orientation".
            base = self._decode()
            self._prepare()
        self.sample = (base, False)
        outputs: dict[int, Output] = {}
        moving = []
        #: One resize and colour conversion per region: a spec's formats share them.
        ready: dict[Plan, Image.Image] = {}
        for index, (spec, where, fmt) in enumerate(self.plans):
            if self.animate and OUTPUTS[fmt].animation:
                moving.append(index)
                continue
            colour = ready.get(where)
            if colour is None:
                pixels = self._resize(base, where)
                self._offer_sample(pixels, where)
                colour = ready[where] = self._srgb(pixels)
            outputs[index] = self._finish(colour, spec, fmt)
        made = self._placeholder() if placeholder else None
        if moving:
            try:
                outputs.update(self._animate(base, moving))
            except (UnreadableImageError, TooManyPixelsError) as exc:
                # A broken later frame: the first one decoded fine, so show that.
                self.notes.append(f"{exc} The first frame is rendered instead.")
                for index in moving:
                    spec, where, fmt = self.plans[index]
                    colour = self._srgb(self._resize(base, where))
                    outputs[index] = self._finish(colour, spec, fmt)
        return Rendered(
            source_format=self.image.format or "",
            width=self.upright[0],
            height=self.upright[1],
            frames=self.frames,
            outputs=tuple(outputs[i] for i in range(len(self.plans))),
            placeholder=made,
            notes=tuple(self.notes),
        )

    def _prepare(self) -> None:
        """Orientation, the plan and output format of each spec, and the animation verdict."""
        self.orientation = _orientation(self.image)
        self.upright = upright_size(*self.stored, self.orientation)
        alpha = has_alpha(self.image)
        self.plans = [
            (spec, plan(spec, *self.upright), output_format(spec.format, self.image.format, alpha))
            for spec in self.specs
        ]
        if (
            self.frames > 1
            and not self.animate
            and any(OUTPUTS[fmt].animation for _, _, fmt in self.plans)
        ):
            self.notes.append(
                f"{self.frames} frames of {self.stored[0]}x{self.stored[1]} exceed the budget "
                f"({self.max_frames} frames, {self.max_pixels} pixels in all): first frame only."
            )

    def _decode(self) -> Image.Image:
        with _decoding(self.max_pixels, "pixels"):
            self.image.load()
            base = working(self.image)
        if base is self.image and self.animate:
            base = self.image.copy()  # seeking to later frames changes self.image
        return base

    def _draft(self, placeholder: bool) -> None:
        """Shrink-on-load (JPEG only): the smallest scale every spec still has enough pixels at."""
        width, height = self.upright
        need_w, need_h = 1.0, 1.0
        for _, where, _ in self.plans:
            left, top, right, bottom = where.box
            need_w = max(need_w, width * where.size[0] / (right - left))
            need_h = max(need_h, height * where.size[1] / (bottom - top))
        if placeholder:
            longest = max(width, height)
            need_w = max(need_w, width * min(1.0, SAMPLE_SIZE / longest))
            need_h = max(need_h, height * min(1.0, SAMPLE_SIZE / longest))
        request = stored_size(math.ceil(need_w), math.ceil(need_h), self.orientation)
        with _decoding(self.max_pixels, "header"):
            self.image.draft(None, request)

    def _resize(self, base: Image.Image, where: Plan) -> Image.Image:
        """The region ``where`` shows, at its output size, upright."""
        stored_w, stored_h = self.stored
        box = stored_box(where.box, self.orientation, stored_w, stored_h)
        decoded_w, decoded_h = base.size
        sx, sy = decoded_w / stored_w, decoded_h / stored_h
        box = (
            max(0.0, box[0] * sx),
            max(0.0, box[1] * sy),
            min(float(decoded_w), box[2] * sx),
            min(float(decoded_h), box[3] * sy),
        )
        size = stored_size(*where.size, self.orientation)
        if where.exact and (decoded_w, decoded_h) == self.stored:
            result = base.crop(tuple(round(v) for v in box))  # type: ignore[arg-type]
        else:
            result = base.resize(size, Image.Resampling.LANCZOS, box=box, reducing_gap=REDUCING_GAP)
        transpose = TRANSPOSE.get(self.orientation)
        return result.transpose(transpose) if transpose is not None else result

    def _offer_sample(self, pixels: Image.Image, where: Plan) -> None:
        if not where.full_frame or self.sample is None:
            return
        current, _ = self.sample
        if pixels.width * pixels.height < current.width * current.height:
            self.sample = (pixels, True)

    def _finish(self, colour: Image.Image, spec: Spec, fmt: str) -> Output:
        """``colour`` (resized, in sRGB) encoded as ``fmt``."""
        ready = _encodable(for_format(colour, OUTPUTS[fmt].alpha, spec.background), fmt)
        return self._output(spec, fmt, encode(ready, fmt, spec.quality), colour.size, 1)

    def _srgb(self, pixels: Image.Image) -> Image.Image:
        colour, ignored = to_srgb(pixels, self.icc)
        if ignored:
            note = "The embedded ICC profile is unusable: pixels were taken as sRGB."
            if note not in self.notes:
                self.notes.append(note)
        return colour

    def _placeholder(self) -> Placeholder:
        assert self.sample is not None
        image, upright = self.sample
        sample = shrink(image, SAMPLE_SIZE)
        transpose = TRANSPOSE.get(self.orientation)
        if not upright and transpose is not None:
            sample = sample.transpose(transpose)
        return make_placeholder(self._srgb(sample))

    def _animate(self, first: Image.Image, indexes: list[int]) -> dict[int, Output]:
        """Every frame through every animated spec; frames are whole (Pillow composites them)."""
        sequences: dict[int, list[Image.Image]] = {index: [] for index in indexes}
        durations: list[int] = []
        loop = int(self.image.info.get("loop", 0))
        for number in range(self.frames):
            if number == 0:
                frame = first
            else:
                with _decoding(self.max_pixels, f"frame {number}"):
                    self.image.seek(number)
                    self.image.load()
                    frame = working(self.image)
            durations.append(int(self.image.info.get("duration", 0) or 0))
            for index in indexes:
                sequences[index].append(self._resize(frame, self.plans[index][1]))
        outputs = {}
        for index, frames in sequences.items():
            spec, _, fmt = self.plans[index]
            ready = [self._srgb(f).convert("RGBA") for f in frames]
            data = encode_frames(ready, durations, loop, fmt, spec.quality)
            outputs[index] = self._output(spec, fmt, data, ready[0].size, len(ready))
        return outputs

    @staticmethod
    def _output(spec: Spec, fmt: str, data: bytes, size: tuple[int, int], frames: int) -> Output:
        info = OUTPUTS[fmt]
        return Output(
            spec=spec,
            data=data,
            width=size[0],
            height=size[1],
            format=fmt,
            extension=info.extension,
            content_type=info.content_type,
            frames=frames,
        )


def _orientation(image: Image.Image) -> int:
    """The EXIF (or XMP) orientation, 1-8; 1 when absent or unreadable."""
    try:
        value = image.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # a broken EXIF block must not stop the rendition: show as stored
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _frame_count(image: Image.Image) -> int:
    """Frames of an animated source (counted from headers, nothing decoded); 1 otherwise."""
    if image.format not in _ANIMATED_SOURCES:
        return 1
    try:
        return int(getattr(image, "n_frames", 1))
    except _DECODE_ERRORS:
        return 1


def _encodable(image: Image.Image, fmt: str) -> Image.Image:
    """The mode the encoder for ``fmt`` takes without guessing."""
    if fmt == "jpeg" and image.mode not in ("RGB", "L"):
        return image.convert("RGB")
    if fmt in ("webp", "avif") and image.mode in ("L", "LA"):
        return image.convert("RGBA" if image.mode == "LA" else "RGB")
    return image
