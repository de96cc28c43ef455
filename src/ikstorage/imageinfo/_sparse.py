"""When a probe may skip bytes, and which format's plan decides them.

Skipping is sound only if every parser that reads the skipped bytes ignores
their content. The format plans (``jpeg``, ``webp``, ``bmff``) answer that for
the one Pillow plugin that claims the file; this module checks that no other
registered plugin could read there. ``Image.open`` may try other plugins on
the same bytes first (the order of Pillow's registry depends on what the
process imported), so each must be known to stop within the first
``ALWAYS_REAL`` bytes, which are never skipped: a plugin whose accept test
rejects the first 16 bytes never reads, the six plugins without an accept test
are checked against their own first checks, and an unknown plugin (a
third-party opener such as pillow-heif's) that could claim the file turns
skipping off, so it reads real bytes like Django would.
"""

from __future__ import annotations

from collections.abc import Callable

from ikstorage.imageinfo import bmff, jpeg, webp
from ikstorage.imageinfo._source import ALWAYS_REAL, Source

# Format name -> (plugin module that must serve it, plan for its files).
_JPEG = {"JPEG": "PIL.JpegImagePlugin", "MPO": "PIL.JpegImagePlugin"}
_WEBP = {"WEBP": "PIL.WebPImagePlugin"}
_BMFF = {"AVIF": "PIL.AvifImagePlugin"}


def plan(source: Source) -> None:
    """Mark skippable ranges in ``source`` when its format has a plan and skipping is safe."""
    head = source.real(0, ALWAYS_REAL)
    if head.startswith(b"\xff\xd8\xff"):
        owners, planner = _JPEG, jpeg.plan
    elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        owners, planner = _WEBP, webp.plan
    elif head[4:8] == b"ftyp":
        owners, planner = _BMFF, bmff.plan
    else:
        return
    if _only_owners_read_far(head, owners):
        planner(source)


def _only_owners_read_far(head: bytes, owners: dict[str, str]) -> bool:
    """True if no registered plugin but ``owners`` may read past ``ALWAYS_REAL`` bytes."""
    from PIL import Image

    Image.preinit()  # the order Image.open itself loads plugins in
    Image.init()
    prefix = head[:16]  # what Image.open passes to accept tests
    for name, (factory, accept) in list(Image.OPEN.items()):
        module = getattr(factory, "__module__", "")
        if name in owners:
            if module != owners[name]:
                return False
            continue
        if accept is None:
            check = _STAYS_NEAR_START.get(name)
            if check is None or not module.startswith("PIL.") or not check(head):
                return False
            continue
        try:
            claimed = accept(prefix)
        except Exception:
            return False
        if claimed and not isinstance(claimed, str):  # a string only warns, it never opens
            return False
    return True


def _im(head: bytes) -> bool:
    """IM reads a text header line by line; a first line that is not ``Key: value`` ends it."""
    from PIL import ImImagePlugin

    if b"\n" not in head[:100]:
        return True
    line = head.lstrip(b"\r").split(b"\n", 1)[0]
    if line.endswith(b"\r"):
        line = line[:-1]
    return ImImagePlugin.split.match(line) is None


def _imt(head: bytes) -> bool:
    """IM Tools: a first line that is not ``key value``, a comment or a form feed ends it."""
    return b"\n" not in head[:100] or (
        head[:1] not in (b" ", b"*", b"\x0c") and not (head[:1].isalpha() and head[:1].islower())
    )


def _iptc(head: bytes) -> bool:
    """IPTC wants 0x1C first (five zero bytes make it fail in a way Django does not catch)."""
    return head[:1] != b"\x1c" and bool(head[:5].strip(b"\x00"))


def _pcd(head: bytes) -> bool:
    """PhotoCD reads 1539 bytes at 2048, all inside ALWAYS_REAL."""
    return True


def _spider(head: bytes) -> bool:
    """SPIDER reads a 108-byte header of floats and stops unless it is a valid one."""
    import struct

    from PIL import SpiderImagePlugin

    if len(head) < 108:
        return True
    for endian in (">", "<"):
        values = struct.unpack(endian + "27f", head[:108])
        try:
            if SpiderImagePlugin.isSpiderHeader(values):
                return False
        except (ValueError, OverflowError):
            return False
    return True


def _tga(head: bytes) -> bool:
    """TGA reads an 18-byte header, then a palette only if the header's fields make sense."""
    if len(head) < 18:
        return True
    width, height = int.from_bytes(head[12:14], "little"), int.from_bytes(head[14:16], "little")
    return (
        head[1] not in (0, 1)
        or width <= 0
        or height <= 0
        or head[16] not in (1, 8, 16, 24, 32)
        or head[2] not in (1, 2, 3, 9, 10, 11)
    )


_STAYS_NEAR_START: dict[str, Callable[[bytes], bool]] = {
    "IM": _im,
    "IMT": _imt,
    "IPTC": _iptc,
    "PCD": _pcd,
    "SPIDER": _spider,
    "TGA": _tga,
}
