"""JPEG: which bytes Pillow reads but never interprets, so a probe can skip them.

Pillow's JPEG plugin reads every segment before the start of scan in full,
though it looks inside few of them: the frame header (SOF, and DHP, which it
treats as one), the quantisation tables, the first bytes of each APPn segment
(JFIF density, the Adobe transform, the ICC sequence number), a Photoshop
block, the MPF index, and, when no JFIF density is given, two tags of the EXIF
IFD0 (ResolutionUnit and XResolution, to guess a DPI; a malformed XResolution
can make Pillow reject the file). Everything else in those payloads (the bulk
of EXIF, ICC profiles, XMP, comments, Huffman tables) is skipped here: served
as zeros, never fetched. The walk mirrors Pillow's marker loop byte for byte
(junk between segments, fill bytes, markers without a length), so the
segment boundaries are the ones Pillow finds.
"""

from __future__ import annotations

import re
import struct

from ikstorage.imageinfo._source import Source

_INTERPRETED_APP_BYTES = 32  # covers every prefix test and field Pillow reads in APPn
_EXIF = b"Exif\x00\x00"
_EXIF_TAGS = (0x011A, 0x0128)  # XResolution, ResolutionUnit: read by _read_dpi_from_exif
_MAX_STEPS = 1 << 16  # markers and junk runs walked before giving up on skipping


def plan(source: Source) -> None:
    """Mark the skippable ranges of the JPEG segments before the start of scan."""
    from PIL import JpegImagePlugin

    markers = JpegImagePlugin.MARKER
    exif: list[tuple[int, int]] = []  # (payload offset, payload length) of APP1 Exif segments
    pos, current = 3, 0xFF  # after SOI and the first byte of the first marker
    for _ in range(_MAX_STEPS):
        if current != 0xFF:  # junk between segments: Pillow reads on until a 0xFF
            found = _find_ff(source, pos)
            if found is None:
                break
            pos, current = found + 1, 0xFF
            continue
        second = source.byte(pos)
        if second is None:
            break
        pos += 1
        marker = 0xFF00 | second
        if marker in markers:
            handler = markers[marker][2]
            if handler is not None:
                length = source.real(pos, 2)
                if len(length) < 2:
                    break
                count = max(struct.unpack(">H", length)[0] - 2, 0)
                start = pos + 2
                if not _plan_segment(source, marker, handler, start, count, exif):
                    break
                pos = start + count
            if marker == 0xFFDA:  # start of scan: Pillow stops reading
                break
            nxt = source.byte(pos)
            if nxt is None:
                break
            pos, current = pos + 1, nxt
        elif marker == 0xFFFF:  # fill byte: the second 0xFF starts the next marker
            current = 0xFF
        elif marker == 0xFF00:
            nxt = source.byte(pos)
            if nxt is None:
                break
            pos, current = pos + 1, nxt
        else:  # Pillow: "no marker found"
            break
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


def _plan_segment(
    source: Source,
    marker: int,
    handler: object,
    start: int,
    count: int,
    exif: list[tuple[int, int]],
) -> bool:
    """Skip what Pillow's handler for this segment does not look at. False: stop planning."""
    from PIL import JpegImagePlugin

    end = start + count
    if handler is JpegImagePlugin.Skip or handler is JpegImagePlugin.COM:
        source.skip(start, end)  # stored or dropped, never parsed
    elif handler is JpegImagePlugin.APP:
        head = source.real(start, min(count, _INTERPRETED_APP_BYTES))
        if marker == 0xFFED and head.startswith(b"Photoshop 3.0\x00"):
            return True  # parsed resource by resource: read for real
        if marker == 0xFFE2 and head.startswith(b"MPF\x00"):
            return True  # the MP index decides between JPEG and MPO
        if marker == 0xFFE1 and head.startswith(_EXIF):
            exif.append((start, count))
        source.skip(start + _INTERPRETED_APP_BYTES, end)
    elif handler is JpegImagePlugin.SOF or handler is JpegImagePlugin.DQT:
        pass  # parsed in full
    else:  # a handler this module does not know: read everything from here on
        return False
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
