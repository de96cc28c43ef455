"""AVIF and HEIF (ISO BMFF): the item structure, and which bytes a parser may skip.

A still AVIF or HEIC is a ``ftyp`` box, a ``meta`` box that describes items
(``pitm`` names the primary one, ``iinf`` gives each item's type, ``iloc``
where its bytes are, ``iprp`` its properties: ``ispe`` the stored width and
height, ``irot``/``imir``/``clap`` a rotation, mirror and crop to apply on
display), and an ``mdat`` box with the coded images. Pillow's AVIF plugin
hands the whole file to libavif, which parses the boxes, reads the bytes of
the metadata items it needs (Exif, XMP, a grid description) and checks each
item's size against the file's; it does not look inside the coded image
payloads until asked to decode. Those payloads are skipped here (but for
their first bytes), so the size comes from the header while the answer stays
libavif's: the primary item's ``ispe``, as stored (Pillow reports the
rotation as an EXIF orientation, not in the size, and ignores ``clap``).

:func:`primary_size` reads that ``ispe`` natively; it documents and tests
what the header says, and never replaces the answer of the plugin Pillow uses.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from ikstorage.imageinfo._source import Source

_CODED = frozenset({b"av01", b"av02", b"hvc1", b"hev1", b"vvc1", b"vvi1", b"avc1", b"avc3"})
_KEPT = 256  # bytes of each coded payload read for real
_MAX_BOXES = 1 << 12
_MAX_META = 4 << 20  # a meta box larger than this is not planned (read as it comes)


@dataclass
class Item:
    kind: bytes = b""
    method: int = 0  # iloc construction method: 0 file offsets, 1 idat, 2 item
    extents: list[tuple[int, int]] = field(default_factory=list)  # (offset, length; 0 = to EOF)
    properties: list[int] = field(default_factory=list)  # 1-based indexes into ipco


@dataclass
class Meta:
    primary: int | None = None
    items: dict[int, Item] = field(default_factory=dict)
    properties: list[tuple[bytes, bytes]] = field(default_factory=list)  # (type, payload)


class _Malformed(Exception):
    """The boxes are not what this reader understands: nothing is skipped."""


def plan(source: Source) -> None:
    """Mark the skippable ranges of an ISO BMFF image file."""
    try:
        boxes = _top_level(source)
        metas = [(start, end) for kind, start, end in boxes if kind == b"meta"]
        if len(metas) != 1 or any(kind == b"moov" for kind, _, _ in boxes):
            return  # sequences (moov) and unusual layouts are read as they come
        meta = parse_meta(source.real(metas[0][0], metas[0][1] - metas[0][0]))
    except _Malformed:
        return
    if any(item.method not in (0, 1) for item in meta.items.values()):
        return
    kept: list[tuple[int, int]] = []
    for item in meta.items.values():
        if item.method != 0:
            continue  # in idat, inside the meta box: read for real
        for offset, length in item.extents:
            end = source.size if length == 0 else offset + length
            if end is None:
                return
            kept.append((offset, min(end, offset + _KEPT) if item.kind in _CODED else end))
    for kind, start, end in boxes:
        if kind not in (b"ftyp", b"meta", b"moov"):
            source.skip(start, end)  # payloads libavif skips over by their size
    for start, end in kept:
        source.keep(start, end)


def _top_level(source: Source) -> list[tuple[bytes, int, int]]:
    """(type, payload start, end) of each top-level box, walked to the end of the file."""
    boxes: list[tuple[bytes, int, int]] = []
    pos = 0
    for _ in range(_MAX_BOXES):
        header = source.real(pos, 16)
        if not header:
            return boxes
        if len(header) < 8:
            raise _Malformed
        size, kind = struct.unpack(">I4s", header[:8])
        start = pos + 8
        if size == 1:
            if len(header) < 16:
                raise _Malformed
            (size,) = struct.unpack(">Q", header[8:16])
            start = pos + 16
        elif size == 0:
            if source.size is None:
                raise _Malformed
            size = source.size - pos
        if size < start - pos:
            raise _Malformed
        end = pos + size
        if kind == b"meta" and size > _MAX_META:
            raise _Malformed
        boxes.append((kind, start, end))
        if source.size is not None and end >= source.size:
            return boxes
        pos = end
    raise _Malformed


def _children(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload start, end) of the boxes in ``data[start:end]``."""
    boxes: list[tuple[bytes, int, int]] = []
    pos = start
    while pos < end:
        if pos + 8 > end:
            raise _Malformed
        size, kind = struct.unpack_from(">I4s", data, pos)
        head = 8
        if size == 1:
            if pos + 16 > end:
                raise _Malformed
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            head = 16
        elif size == 0:
            size = end - pos
        if size < head or pos + size > end:
            raise _Malformed
        boxes.append((kind, pos + head, pos + size))
        pos += size
    return boxes


class _Reader:
    """Big-endian fields from a box payload; running past the end is _Malformed."""

    def __init__(self, data: bytes, pos: int, end: int) -> None:
        self.data, self.pos, self.end = data, pos, end

    def uint(self, size: int) -> int:
        if size == 0:
            return 0
        if self.pos + size > self.end:
            raise _Malformed
        value = int.from_bytes(self.data[self.pos : self.pos + size], "big")
        self.pos += size
        return value

    def raw(self, size: int) -> bytes:
        if self.pos + size > self.end:
            raise _Malformed
        value = self.data[self.pos : self.pos + size]
        self.pos += size
        return value


def parse_meta(payload: bytes) -> Meta:
    """Items, their locations and properties from a ``meta`` box payload."""
    meta = Meta()
    if len(payload) < 4:
        raise _Malformed
    for kind, start, end in _children(payload, 4, len(payload)):  # after version and flags
        if kind == b"pitm":
            reader = _Reader(payload, start, end)
            version = reader.uint(4) >> 24
            meta.primary = reader.uint(2 if version == 0 else 4)
        elif kind == b"iloc":
            _parse_iloc(meta, _Reader(payload, start, end))
        elif kind == b"iinf":
            _parse_iinf(meta, payload, start, end)
        elif kind == b"iprp":
            _parse_iprp(meta, payload, start, end)
    return meta


def _item(meta: Meta, item_id: int) -> Item:
    return meta.items.setdefault(item_id, Item())


def _parse_iloc(meta: Meta, reader: _Reader) -> None:
    version = reader.uint(4) >> 24
    if version > 2:
        raise _Malformed
    sizes = reader.uint(2)
    offset_size, length_size = sizes >> 12, (sizes >> 8) & 15
    base_size, index_size = (sizes >> 4) & 15, (sizes & 15) if version in (1, 2) else 0
    count = reader.uint(2 if version < 2 else 4)
    for _ in range(count):
        item = _item(meta, reader.uint(2 if version < 2 else 4))
        item.method = reader.uint(2) & 15 if version in (1, 2) else 0
        reader.uint(2)  # data reference index
        base = reader.uint(base_size)
        for _ in range(reader.uint(2)):
            reader.uint(index_size)
            offset = reader.uint(offset_size)
            item.extents.append((base + offset, reader.uint(length_size)))


def _parse_iinf(meta: Meta, payload: bytes, start: int, end: int) -> None:
    reader = _Reader(payload, start, end)
    version = reader.uint(4) >> 24
    reader.uint(2 if version == 0 else 4)  # entry count: the boxes say it too
    for kind, box_start, box_end in _children(payload, reader.pos, end):
        if kind != b"infe":
            continue
        entry = _Reader(payload, box_start, box_end)
        entry_version = entry.uint(4) >> 24
        if entry_version < 2:
            continue  # no item type before version 2
        item_id = entry.uint(2 if entry_version == 2 else 4)
        entry.uint(2)  # protection index
        _item(meta, item_id).kind = entry.raw(4)


def _parse_iprp(meta: Meta, payload: bytes, start: int, end: int) -> None:
    for kind, box_start, box_end in _children(payload, start, end):
        if kind == b"ipco":
            meta.properties = [
                (prop, payload[s:e]) for prop, s, e in _children(payload, box_start, box_end)
            ]
        elif kind == b"ipma":
            reader = _Reader(payload, box_start, box_end)
            header = reader.uint(4)
            version, flags = header >> 24, header & 0xFFFFFF
            for _ in range(reader.uint(4)):
                item = _item(meta, reader.uint(2 if version < 1 else 4))
                for _ in range(reader.uint(1)):
                    value = reader.uint(2 if flags & 1 else 1)
                    item.properties.append(value & (0x7FFF if flags & 1 else 0x7F))


@dataclass(frozen=True, slots=True)
class Geometry:
    """The primary item's stored size and the display transforms its properties name."""

    width: int
    height: int
    rotation: int  # irot angle in quarter turns, anticlockwise
    mirror: int | None  # imir axis, if any
    crop: bool  # a clap property is present


def primary_size(meta: Meta) -> Geometry | None:
    """The primary item's ``ispe`` (the first one associated), with its transforms."""
    if meta.primary is None or meta.primary not in meta.items:
        return None
    size: tuple[int, int] | None = None
    rotation, mirror, crop = 0, None, False
    for index in meta.items[meta.primary].properties:
        if not 1 <= index <= len(meta.properties):
            continue
        kind, payload = meta.properties[index - 1]
        if kind == b"ispe" and size is None and len(payload) >= 12:
            width, height = struct.unpack_from(">II", payload, 4)
            size = (width, height)
        elif kind == b"irot" and payload:
            rotation = payload[0] & 3
        elif kind == b"imir" and payload:
            mirror = payload[0] & 1
        elif kind == b"clap":
            crop = True
    if size is None:
        return None
    return Geometry(size[0], size[1], rotation, mirror, crop)
