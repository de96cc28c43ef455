"""What a render returns: encoded outputs and what was learned about the source.

Plain values only (bytes, strings, ints), so the caller can write and record
them without Pillow; kept apart from :mod:`.pipeline` because the job that
builds them and the pipeline that returns them both need them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ikstorage.renditions.image.placeholder import Placeholder
from ikstorage.renditions.specs import Spec

__all__ = ["Output", "Rendered"]


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
