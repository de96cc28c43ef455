"""JPEG scans, counted from the markers before decoding: what bounds the time a JPEG takes.

libjpeg decodes a progressive JPEG one scan at a time, and every scan walks
the coefficients of the whole image, at any decode scale (shrink-on-load
scales the output, not the coefficients). A file may hold any number of
scans, and a scan that refines a flat picture can be 75 bytes: 2000 of them
over a 7071x7071 picture make a 740 KB file that takes over a minute to
decode. libjpeg-turbo leaves the limit to the application (``djpeg
-maxscans``, TurboJPEG's scan limit); Pillow sets none.

So the scans are counted first, in one pass over the bytes that decodes
nothing: marker segments are skipped by their length, entropy-coded data up
to the next marker (a ``0xFF`` that is neither stuffing nor a restart), until
the end of the image. Encoders write 1 to 4 scans for a sequential JPEG and
about 10 for a progressive one (libjpeg's default script; mozjpeg's
optimized scripts stay near it).
"""

from __future__ import annotations

import os
from typing import IO

__all__ = ["MAX_SCANS", "scan_count"]

#: More scans than this and a JPEG is refused: 100 scans of 50 megapixels decode in seconds.
MAX_SCANS = 100

_CHUNK = 1 << 20
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0-7: no length follows
_SOS, _EOI = 0xDA, 0xD9


def scan_count(source: IO[bytes], stop_after: int = MAX_SCANS) -> int:
    """Start-of-scan markers of the JPEG ``source`` up to its end of image, counting at
    most ``stop_after + 1``; 0 if it is not a JPEG. The stream is left at its start."""
    source.seek(0)
    try:
        reader = _Reader(source)
        if reader.take(2) != b"\xff\xd8":
            return 0
        scans = 0
        while scans <= stop_after:
            marker = reader.next_marker()
            if marker is None or marker == _EOI:
                break
            if marker in _STANDALONE:
                continue
            length = reader.take(2)
            if len(length) < 2:
                break
            reader.skip(int.from_bytes(length, "big") - 2)
            if marker == _SOS:
                scans += 1
                reader.skip_entropy_coded()
        return scans
    finally:
        source.seek(0)


class _Reader:
    """Forward reads over a stream, a megabyte at a time, with ``bytes.find`` for markers."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.buffer = b""
        self.at = 0

    def _fill(self, need: int) -> bool:
        """At least ``need`` unread bytes in the buffer; False at the end of the stream."""
        while len(self.buffer) - self.at < need:
            more = self.source.read(_CHUNK)
            if not more:
                return False
            self.buffer = self.buffer[self.at :] + more
            self.at = 0
        return True

    def take(self, count: int) -> bytes:
        self._fill(count)
        taken = self.buffer[self.at : self.at + count]
        self.at += len(taken)
        return taken

    def skip(self, count: int) -> None:
        held = len(self.buffer) - self.at
        if count <= held:
            self.at += count
            return
        self.source.seek(count - held, os.SEEK_CUR)
        self.buffer, self.at = b"", 0

    def next_marker(self) -> int | None:
        """The code of the next marker (bytes before it and fill bytes skipped, as libjpeg does)."""
        while self._fill(1):
            found = self.buffer.find(b"\xff", self.at)
            if found < 0:
                self.at = len(self.buffer)
                continue
            self.at = found + 1
            while self._fill(1) and self.buffer[self.at] == 0xFF:
                self.at += 1
            code = self.take(1)
            if code and code[0] != 0:
                return code[0]
        return None

    def skip_entropy_coded(self) -> None:
        """To the ``0xFF`` of the marker after a scan's data (stuffing and restarts are data)."""
        while self._fill(1):
            found = self.buffer.find(b"\xff", self.at)
            if found < 0:
                self.at = len(self.buffer)
                continue
            self.at = found
            if not self._fill(2):
                return
            code = self.buffer[self.at + 1]
            if code == 0 or 0xD0 <= code <= 0xD7:
                self.at += 2
            elif code == 0xFF:
                self.at += 1
            else:
                return
