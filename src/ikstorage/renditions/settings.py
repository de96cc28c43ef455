"""The rendition options of one storage, as the renditions feature reads them.

They come from the storage's OPTIONS (``docs/settings.md`` gives each default
and the reason for it); the core never sees them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ikstorage.exceptions import ConfigurationError
from ikstorage.renditions.specs import Spec

__all__ = ["MISSING_CHOICES", "RENDER_CHOICES", "Settings"]

#: When renditions of a new upload are made.
RENDER_CHOICES = ("save", "defer")
#: What a lookup does for a source whose rendition does not exist (yet).
MISSING_CHOICES = ("generate", "fallback", "error")


@dataclass(frozen=True, slots=True)
class Settings:
    """``specs`` and the options that say how they are made and shown."""

    #: ``{name: Spec}``; empty: this storage makes no renditions.
    specs: Mapping[str, Spec]
    #: ``"save"`` (in the save hook) or ``"defer"`` (a task after the commit).
    render: str = "save"
    #: ``"generate"``, ``"fallback"`` or ``"error"`` (see :mod:`.lookup`).
    missing: str = "generate"
    #: Sources whose header claims more pixels are refused before decoding.
    max_pixels: int = 50_000_000
    #: Frames an animation may have and stay animated (more: its first frame only).
    max_frames: int = 300
    #: Folder of rendition files, relative, ending in ``/``.
    prefix: str = "renditions/"
    #: ``Cache-Control`` of rendition files where the backend has such a thing.
    cache_control: str | None = None
    #: How long rendering waits for the source's lease (``write_lease_timeout``).
    lease_wait: float = 30.0

    def spec(self, name: str) -> Spec:
        """The spec called ``name``; a :class:`ConfigurationError` listing the specs if none."""
        found = self.specs.get(name)
        if found is None:
            known = ", ".join(map(repr, self.specs)) or "none (OPTIONS 'specs' is empty)"
            # An unquoted name in a template ({% picture p.image thumb %}) is an
            # undefined variable, which Django renders as "".
            hint = (
                ' (quote the spec name in a template: "thumb", not thumb)'
                if name in ("", None)
                else ""
            )
            raise ConfigurationError(
                f"No rendition spec {name!r} on this storage{hint}; its specs are {known}."
            )
        return found
