"""One source and its specs: one decode, then per region a resize and a colour conversion.

The order of the work (shrink-on-load before the decode, resizing in stored
orientation, colour on the small result, each region's pixels shared by the
formats of its spec) is what keeps a render cheap; :mod:`.pipeline` says why
each step is where it is. Animated outputs take their frames from :mod:`.frames`.
"""

from __future__ import annotations

import math

from PIL import Image

from ikstorage.exceptions import TooManyPixelsError, UnreadableImageError
from ikstorage.renditions.image.bad_input import decoding
from ikstorage.renditions.image.colour import for_format, has_alpha, to_srgb, working
from ikstorage.renditions.image.declared import Declared
from ikstorage.renditions.image.encoders import (
    OUTPUTS,
    encodable,
    encode,
    encode_frames,
    output_format,
)
from ikstorage.renditions.image.frames import (
    fits_budget,
    frame_count,
    frame_pixels,
    loop_count,
    max_canvas,
    whole_frames,
)
from ikstorage.renditions.image.geometry import (
    TRANSPOSE,
    Plan,
    exif_orientation,
    plan,
    stored_box,
    stored_size,
    upright_size,
)
from ikstorage.renditions.image.placeholder import (
    SAMPLE_SIZE,
    Placeholder,
    make_placeholder,
    shrink,
)
from ikstorage.renditions.image.results import Output, Rendered
from ikstorage.renditions.specs import Spec

__all__ = ["REDUCING_GAP", "Job"]

#: Integer box reduction first, Lanczos for the last factor of at least 3:
#: Pillow documents 3 as indistinguishable from a full Lanczos resize.
REDUCING_GAP = 3.0
#: Formats whose decoder can scale down while decoding (libjpeg's scaled IDCT).
_SHRINK_ON_LOAD = frozenset({"JPEG", "MPO"})


class Job:
    """One source, its specs and what was learned about it along the way."""

    def __init__(
        self,
        image: Image.Image,
        specs: list[Spec],
        max_pixels: int,
        max_frames: int,
        headers: Declared | None = None,
    ) -> None:
        self.image = image
        self.specs = specs
        self.max_pixels = max_pixels
        self.max_frames = max_frames
        self.stored = image.size
        counted = None if headers is None else headers.frames
        self.frames = frame_count(image) if counted is None else counted
        #: The canvas every frame is composited at: a GIF's later frames may grow it.
        self.canvas = self.stored if headers is None else max_canvas(self.stored, headers.largest)
        self.frame_pixels = frame_pixels(image, specs, self.stored, self.canvas)
        self.animate = fits_budget(self.frames, self.frame_pixels, max_frames, max_pixels)
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
        self.orientation = exif_orientation(self.image)
        self.upright = upright_size(*self.stored, self.orientation)
        alpha = has_alpha(self.image)
        self.plans = [
            (spec, plan(spec, *self.upright), output_format(spec.format, self.image.format, alpha))
            for spec in self.specs
        ]
        self._refuse_large_outputs()
        if (
            self.frames > 1
            and not self.animate
            and any(OUTPUTS[fmt].animation for _, _, fmt in self.plans)
        ):
            width, height = self.canvas
            why = ""
            if self.frame_pixels > width * height:
                why = f" (an output of {self.frame_pixels} pixels a frame)"
            elif self.canvas != self.stored:
                why = f" (later frames grow the {self.stored[0]}x{self.stored[1]} canvas)"
            self.notes.append(
                f"{self.frames} frames of {width}x{height}{why} exceed the budget "
                f"({self.max_frames} frames, {self.max_pixels} pixels in all): first frame only."
            )

    def _refuse_large_outputs(self) -> None:
        """``output-too-large`` when a spec would make more than ``max_pixels``.

        An upscaling spec multiplies the source: ``width=2000, upscale=True``
        on a 1x1000 strip plans 2000x2,000,000 pixels from a source that
        passed every input check. The output is held in memory like a decoded
        source, so the same cap applies, before anything is decoded.
        """
        for spec, where, _ in self.plans:
            width, height = where.size
            if width * height > self.max_pixels:
                source_w, source_h = self.upright
                raise TooManyPixelsError(
                    f"{spec!r} on this {source_w}x{source_h} source plans a "
                    f"{width}x{height} output ({width * height} pixels), more than the "
                    f"{self.max_pixels} allowed (max_pixels); nothing was rendered.",
                    width=width,
                    height=height,
                    limit=self.max_pixels,
                    reason="output-too-large",
                )

    def _decode(self) -> Image.Image:
        with decoding(self.max_pixels, "pixels"):
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
        with decoding(self.max_pixels, "header"):
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
        ready = encodable(for_format(colour, OUTPUTS[fmt].alpha, spec.background), fmt)
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
        """Every frame through every animated spec (see :mod:`.frames`)."""
        sequences: dict[int, list[Image.Image]] = {index: [] for index in indexes}
        durations: list[int] = []
        loop = loop_count(self.image)
        decoded = whole_frames(self.image, first, self.frames, self.canvas, self.max_pixels)
        for frame, duration in decoded:
            durations.append(duration)
            for index in indexes:
                sequences[index].append(self._resize(frame, self.plans[index][1]))
        outputs = {}
        for index in indexes:
            spec, _, fmt = self.plans[index]
            resized = sequences.pop(index)[::-1]
            ready = []
            while resized:  # each resized frame dropped once converted: one copy held, not two
                ready.append(self._srgb(resized.pop()).convert("RGBA"))
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
