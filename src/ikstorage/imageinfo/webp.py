"""WebP: which bytes libwebp's demuxer reads when Pillow opens a file.

Pillow hands the whole file to libwebp (``WebPAnimDecoder``), which answers
only if the RIFF container is complete and well formed, so Django finds no
size in a WebP cut short by a single byte. Opening does not decode: the
demuxer walks the chunk headers, reads the VP8X, ANIM and ANMF headers and the
first bytes of each bitstream (its frame header), and keeps ICC/EXIF/XMP
payloads as bytes. The rest of every payload, and anything past the RIFF
size, is skipped here, so a WebP is sized from its chunk headers while the
answer stays libwebp's own.

The walk mirrors the demuxer's: chunks follow each other at their padded
sizes, and the chunks inside an ANMF frame are walked the same way. Where
the layout is not the plain one (a frame whose chunks do not fill it exactly,
a simple file with something after its bitstream) nothing further is skipped.
"""

from __future__ import annotations

import struct

from ikstorage.imageinfo._source import Source

_KEPT = 64  # bytes of each payload read for real (bitstream and frame headers need <= 16)
_MAX_CHUNKS = 1 << 14
_IMAGE = (b"VP8 ", b"VP8L")
_MAX_CHUNK_PAYLOAD = 0xFFFFFFFF - 8 - 1  # libwebp's MAX_CHUNK_PAYLOAD


def plan(source: Source) -> None:
    """Mark the skippable ranges of a RIFF/WEBP file."""
    header = source.real(0, 12)
    if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WEBP":
        return
    (riff_size,) = struct.unpack("<I", header[4:8])
    if riff_size < 8 or riff_size > _MAX_CHUNK_PAYLOAD:
        return
    riff_end = riff_size + 8
    if source.size is not None and source.size > riff_end:
        source.skip(riff_end, source.size)  # libwebp cuts the data at the RIFF size
    end = riff_end if source.size is None else min(riff_end, source.size)
    first = _chunk(source, 12, end)
    if first is None:
        return
    if first[0] in _IMAGE:  # simple format: one bitstream, then the end of the RIFF
        if first[2] == end:
            source.skip(first[1] + _KEPT, first[2])
        return
    if first[0] != b"VP8X":
        return
    pos = first[2]
    for _ in range(_MAX_CHUNKS):
        chunk = _chunk(source, pos, end)
        if chunk is None:
            return
        kind, payload, chunk_end = chunk
        if kind == b"ANMF":
            if not _plan_frame(source, payload + 16, chunk_end):
                return
        else:
            source.skip(payload + _KEPT, chunk_end)
        pos = chunk_end


def _chunk(source: Source, pos: int, end: int) -> tuple[bytes, int, int] | None:
    """(fourcc, payload offset, padded end) of the chunk at ``pos``, if it fits before ``end``."""
    if pos + 8 > end:
        return None
    header = source.real(pos, 8)
    if len(header) < 8:
        return None
    (size,) = struct.unpack("<I", header[4:])
    chunk_end = pos + 8 + size + (size & 1)
    if size > _MAX_CHUNK_PAYLOAD or chunk_end > end:
        return None
    return header[:4], pos + 8, chunk_end


def _plan_frame(source: Source, pos: int, frame_end: int) -> bool:
    """An ANMF frame: optional ALPH, then one bitstream, filling the frame exactly."""
    chunks: list[tuple[bytes, int, int]] = []
    while pos < frame_end and len(chunks) < 2:
        chunk = _chunk(source, pos, frame_end)
        if chunk is None:
            return False
        chunks.append(chunk)
        pos = chunk[2]
    kinds = [kind for kind, _, _ in chunks]
    if pos != frame_end or kinds not in ([b"VP8 "], [b"VP8L"], [b"ALPH", b"VP8 "]):
        return False
    for _, payload, chunk_end in chunks:
        source.skip(payload + _KEPT, chunk_end)
    return True
