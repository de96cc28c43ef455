"""JPEG: which bytes Pillow reads but never interprets, so a probe can skip them.

Pillow's JPEG plugin reads every segment before the start of scan in full,
though it looks inside few of them: the frame header (SOF, and DHP, which it
treats as one), the quantisation tables, the first bytes of each APPn segment
(JFIF density, the Adobe transform, the ICC sequence number), a Photoshop
block, the MPF index, and, when no JFIF density is given, two tags of the EXIF
IFD0 (ResolutionUnit and XResolution, to guess a DPI; a malformed XResolution
can make Pillow reject the file). Everything else in those payloads (the bulk
of EXIF, ICC profiles, XMP, comments, large Huffman tables) is skipped here,
when at least ``MIN_SKIP`` bytes long: served as zeros, never fetched. The
walk mirrors Pillow's marker loop byte for byte (junk between segments, fill
bytes, markers without a length), so the segment boundaries are the ones
Pillow finds; and from them, which of Django's prefixes Pillow cannot open,
so the replay need not try them (see :func:`plan`).
"""

from __future__ import annotations

import functools
import re
import struct

from ikstorage.imageinfo._source import Source

_INTERPRETED_APP_BYTES = 32  # covers every prefix test and field Pillow reads in APPn
_EXIF = b"Exif\x00\x00"
_EXIF_TAGS = (0x011A, 0x0128)  # XResolution, ResolutionUnit: read by _read_dpi_from_exif
_FIRST_PREFIX = 1024  # Django's first prefix; each next one adds twice the chunk before
#: A payload shorter than this is read, not skipped: fetching it costs less than a
#: skipped range does (a hole in every read around it, a piece in every serve).
MIN_SKIP = 512

# What the walk does with a marker, by the Pillow handler it has.
_NO_LENGTH, _STORED, _APP, _FRAME, _TABLES, _UNKNOWN = range(6)
#: APPn segments whose first bytes Pillow looks at beyond storing them.
_LOOKED_AT = {0xFFE1: _EXIF, 0xFFE2: b"MPF\x00", 0xFFED: b"Photoshop 3.0\x00"}


@functools.cache
def _kinds() -> dict[int, int]:
    """Pillow's JPEG markers, by what the walk does with each (Pillow's table is fixed)."""
    from PIL import JpegImagePlugin as Jpeg

    by_handler = {Jpeg.Skip: _STORED, Jpeg.COM: _STORED, Jpeg.APP: _APP}
    by_handler |= {Jpeg.SOF: _FRAME, Jpeg.DQT: _TABLES}
    return {
        marker: _NO_LENGTH if handler is None else by_handler.get(handler, _UNKNOWN)
        for marker, (_, _, handler) in Jpeg.MARKER.items()
    }


def plan(source: Source) -> None:
    """Mark the skippable ranges of the JPEG segments before the start of scan.

    When the walk reaches the start of scan, it also tells the replay
    (:mod:`._django`) which of Django's prefixes Pillow cannot open for want
    of bytes, so Django feeds more (``Source.short_prefixes``): a prefix cut
    inside a segment (every handler first reads its length and its whole
    payload: ``struct.error`` or "Truncated File Read"), and a prefix cut
    anywhere before the first frame header and the first APP1 (no size yet,
    and no EXIF for the DPI lookup that runs where the walk ends). And it tells
    that Pillow reads nothing past the scan header (``Source.read_end``).

    The walk costs a few operations per segment, whatever their number (a file
    of empty comment segments has a hundred thousand): it indexes the cached
    bytes directly, asks the source only for bytes it does not hold, and calls
    nothing for a segment it has nothing to skip in.
    """
    kinds = _kinds()
    exif: list[tuple[int, int]] = []  # (payload offset, payload length) of APP1 Exif segments
    short: set[int] = set()
    prefix, chunk = _FIRST_PREFIX, 2 * _FIRST_PREFIX  # Django's next prefix, and what it adds
    early = True  # before any frame header and any APP1: no prefix cut here opens
    base, block, size = 0, b"", 0  # cached bytes at ``base``, and how many
    pos, current = 3, 0xFF  # after SOI and the first byte of the first marker
    while True:
        if current != 0xFF:  # junk between segments: Pillow reads on until a 0xFF
            found = _find_ff(source, pos)
            if found is None:
                break
            pos, current = found + 1, 0xFF
            continue
        at = pos - base
        if at >= size:
            base, block = source.around(pos)
            at, size = pos - base, len(block)
            if not block:
                break
        marker = 0xFF00 | block[at]
        pos += 1
        kind = kinds.get(marker)
        if kind is None:
            if marker == 0xFFFF:  # fill byte: the second 0xFF starts the next marker
                continue
            if marker != 0xFF00:  # Pillow: "no marker found"
                break
        elif kind != _NO_LENGTH:
            if at + 3 <= size:
                length = (block[at + 1] << 8) | block[at + 2]
            else:
                field = source.real(pos, 2)
                if len(field) < 2:
                    break
                length = (field[0] << 8) | field[1]
            end = pos + length if length > 2 else pos + 2
            if prefix < end:  # Django's prefixes up to the end of this segment
                while prefix < end:
                    if early or prefix >= pos:
                        short.add(prefix)
                    prefix, chunk = prefix + chunk, 2 * chunk
            if kind == _FRAME or marker == 0xFFE1:
                early = False
            count = end - pos - 2
            skipped = False
            if kind == _STORED:
                skipped = count >= MIN_SKIP
                if skipped:
                    source.skip(pos + 2, end)  # stored or dropped, never parsed
            elif kind == _APP:
                looked = _LOOKED_AT.get(marker)
                wanted = min(count, _INTERPRETED_APP_BYTES)
                head = block[at + 3 : at + 3 + wanted] if looked is not None else b""
                if count >= _INTERPRETED_APP_BYTES + MIN_SKIP or (
                    looked is not None and (len(head) < wanted or head.startswith(looked))
                ):  # something to skip, or a head Pillow looks into (read in full if cut here)
                    skipped = _plan_app(source, marker, head, pos + 2, count, exif)
            elif kind == _UNKNOWN:  # a handler this module does not know
                break
            if not skipped and end > base + size:
                # Pillow reads this payload: fetched now, in order, not as a hole later.
                source.real(base + size, end - base - size)
            pos = end
            if marker == 0xFFDA:  # start of scan: Pillow stops reading
                source.short_prefixes = short
                source.read_end = pos
                break
        at = pos - base
        if at < size:
            current = block[at]
        else:
            nxt = source.byte(pos)
            if nxt is None:
                break
            current = nxt
        pos += 1
    if len(exif) == 1:
        _plan_exif(source, *exif[0])
    else:  # Pillow joins several EXIF blocks into one stream: read them as they are
        for start, count in exif:
            source.keep(start, start + count)


def _find_ff(source: Source, pos: int) -> int | None:
    """Offset of the next 0xFF byte at or after ``pos``."""
    while True:
        block = source.real(pos, 4096)
        if not block:
            return None
        index = block.find(b"\xff")
        if index >= 0:
            return pos + index
        pos += len(block)


def _plan_app(
    source: Source, marker: int, head: bytes, start: int, count: int, exif: list[tuple[int, int]]
) -> bool:
    """Skip what Pillow's APP handler does not look at; True if something was skipped.

    ``head`` is what the walk holds of the segment's first bytes.
    """
    wanted = min(count, _INTERPRETED_APP_BYTES)
    if len(head) < wanted:
        head = source.real(start, wanted)
    if marker == 0xFFED and head.startswith(_LOOKED_AT[0xFFED]):
        return False  # parsed resource by resource: read for real
    if marker == 0xFFE2 and head.startswith(_LOOKED_AT[0xFFE2]):
        return False  # the MP index decides between JPEG and MPO
    if marker == 0xFFE1 and head.startswith(_EXIF):
        exif.append((start, count))
    if count - _INTERPRETED_APP_BYTES < MIN_SKIP:
        return False
    source.skip(start + _INTERPRETED_APP_BYTES, start + count)
    return True


def _plan_exif(source: Source, start: int, count: int) -> None:
    """Read for real the parts of the EXIF block that Pillow's DPI lookup interprets.

    Pillow strips one or two ``Exif\\0\\0`` prefixes, reads the TIFF header and
    the IFD0 entry table, and converts the values of the two tags it asks for.
    Out-of-line data of other tags is read but never converted.
    """
    from PIL import TiffImagePlugin

    payload_head = source.real(start, min(count, 20))
    stripped = re.sub(b"^(Exif\x00\x00){1,2}", b"", payload_head)
    tiff = start + len(payload_head) - len(stripped)
    length = start + count - tiff  # the TIFF stream Pillow parses
    source.keep(tiff, tiff + 8)
    try:
        ifd = TiffImagePlugin.ImageFileDirectory_v2(source.real(tiff, 8))
    except (SyntaxError, struct.error, ValueError, IndexError):
        return  # Pillow gives up on this EXIF block the same way
    entry_size, count_size = (20, 8) if ifd._bigtiff else (12, 2)
    endian = ifd._endian
    table = ifd.next
    if table >= length:
        return
    raw_count = source.real(tiff + table, count_size)
    source.keep(tiff + table, tiff + table + count_size)
    if len(raw_count) < count_size:
        return
    (entries,) = struct.unpack(endian + ("Q" if ifd._bigtiff else "H"), raw_count)
    inline = 8 if ifd._bigtiff else 4
    table_end = min(length, table + count_size + entries * entry_size + inline)
    source.keep(tiff + table, tiff + table_end)
    body = source.real(tiff + table + count_size, table_end - table - count_size)
    dispatch = TiffImagePlugin.ImageFileDirectory_v2._load_dispatch
    for at in range(0, len(body) - entry_size + 1, entry_size):
        if ifd._bigtiff:
            tag, kind, values, data = struct.unpack_from(endian + "HHQ8s", body, at)
        else:
            tag, kind, values, data = struct.unpack_from(endian + "HHL4s", body, at)
        if tag not in _EXIF_TAGS or kind not in dispatch:
            continue
        size = values * dispatch[kind][0]
        if size > inline:
            (offset,) = struct.unpack(endian + ("Q" if ifd._bigtiff else "L"), data)
            if offset < length:
                source.keep(tiff + offset, tiff + min(length, offset + size))
