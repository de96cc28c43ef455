"""Renditions made from the bytes in hand: rendered before the write, stored under the lease.

:func:`prepare` runs before the source is written (and before the write
lease is taken, so the CPU work holds up nobody): it decodes the bytes once
and renders every variant wanted. :func:`write` runs after the source was
stored, under the lease: one write per rendition through the backend adapter
(one ``PutObject`` each on S3), and the list the source's record keeps. A
rendition that cannot be written is left out of the list (the first page that
needs it renders it again); a source that cannot be rendered is recorded with
the reason, so it is not tried on every request. The source itself is always
saved.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from ikstorage.exceptions import RenditionError
from ikstorage.records import Record, RenditionInfo
from ikstorage.renditions.host import Host
from ikstorage.renditions.settings import Settings
from ikstorage.renditions.specs import Spec

if TYPE_CHECKING:
    from ikstorage.renditions.image.pipeline import Rendered

__all__ = ["Prepared", "attach", "obsolete", "prepare", "remove", "write"]

logger = logging.getLogger("ikstorage.renditions")


@dataclass(frozen=True, slots=True)
class Prepared:
    """What one decode of a source produced, before anything was written."""

    digest: str
    rendered: Rendered | None
    #: Why the source could not be rendered (``RenditionError.reason``), if it could not.
    error: str | None = None

    @property
    def placeholder(self) -> tuple[str, str] | None:
        found = None if self.rendered is None else self.rendered.placeholder
        return None if found is None else (found.color, found.lqip)


def prepare(settings: Settings, name: str, content: IO[bytes], wanted: Sequence[Spec]) -> Prepared:
    """Decode ``content`` (seekable, binary; its position is kept) once and render ``wanted``."""
    # Imported here: Pillow loads when something is rendered, not with the storage.
    from ikstorage.renditions.image.pipeline import render
    from ikstorage.renditions.naming import source_digest

    digest = source_digest(content)
    try:
        rendered = render(
            content, wanted, max_pixels=settings.max_pixels, max_frames=settings.max_frames
        )
    except RenditionError as exc:
        logger.warning("No renditions for %r: %s (%s).", name, exc, exc.reason)
        # Bad bytes stay bad: remembered, not retried. An encoder failure may pass.
        return Prepared(digest, None, None if exc.reason == "encode-failed" else exc.reason)
    except Exception as exc:
        # Not the image's fault (out of memory, a codec bug): the source is saved all
        # the same, and the failure is recorded so pages do not retry it on every
        # request; ikstorage_prewarm --renditions --refresh retries it.
        logger.exception("Rendering %r failed; the file is saved without renditions.", name)
        return Prepared(digest, None, f"failed: {type(exc).__name__}")
    for note in rendered.notes:
        logger.info("Renditions of %r: %s", name, note)
    return Prepared(digest, rendered)


def write(
    host: Host,
    settings: Settings,
    stored: str,
    prepared: Prepared,
    *,
    keep: Sequence[RenditionInfo] = (),
) -> tuple[RenditionInfo, ...]:
    """Store each output of ``prepared`` for the source stored as ``stored``.

    Returns what the record lists: ``keep`` (renditions still valid) plus
    every output written. Each output is one write through the adapter.
    """
    from ikstorage.renditions.naming import rendition_name

    if prepared.rendered is None:
        return tuple(keep)
    made: list[RenditionInfo] = list(keep)
    # Named after the field's name: the storage adds its ``location`` to both.
    source = host.files.relative(stored)
    for output in prepared.rendered.outputs:
        name = rendition_name(
            source, prepared.digest, output.spec, output.format, prefix=settings.prefix
        )
        try:
            host.files.write_file(
                name,
                output.data,
                content_type=output.content_type,
                cache_control=settings.cache_control,
            )
        except Exception as exc:  # the source is saved; this one is made again when asked
            logger.warning("Could not store rendition %r of %r: %s", name, stored, exc)
            continue
        made.append(
            RenditionInfo(
                spec=output.spec.name,
                fingerprint=output.spec.fingerprint(),
                format=output.format,
                name=name,
                width=output.width,
                height=output.height,
                size=output.size,
                url=host.public_url(name),
            )
        )
    return tuple(made)


def attach(
    host: Host, settings: Settings, stored: str, prepared: Prepared, record: Record
) -> tuple[Record, list[str]]:
    """Under the source's lease, after the source was written: store the renditions.

    Returns the record to write (listing them, the placeholder, the digest and
    any failure) and the names of renditions of the version it replaces that
    the new one does not use, already deleted. The replaced record is read
    from the shared cache, not this process's copy: another process may have
    saved the version being replaced.
    """
    made = write(host, settings, stored, prepared)
    updated = dataclasses.replace(
        record,
        renditions=made,
        placeholder=prepared.placeholder,
        digest=prepared.digest,
        rendition_error=prepared.error,
    )
    previous = host.shared_record(stored)
    gone: list[str] = []
    if previous is not None and previous.exists:
        gone = obsolete(previous.renditions, made)
        remove(host, gone)
    return updated, gone


def obsolete(old: Iterable[RenditionInfo], new: Iterable[RenditionInfo]) -> list[str]:
    """Rendition files of an earlier version of the source that the new one does not use."""
    keep = {info.name for info in new}
    return sorted({info.name for info in old if info.name not in keep})


def remove(host: Host, names: list[str]) -> None:
    """Delete rendition files; a failure is logged, never raised (the source write stands)."""
    if not names:
        return
    try:
        host.files.delete_files(names)
    except Exception as exc:
        logger.warning("Could not delete %d old rendition(s): %s", len(names), exc)
