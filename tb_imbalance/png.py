"""PNG files of RGB pictures, encoded for speed: no row filters, zlib at level 1.

The confusion-matrix pictures are flat colour, so leaving out PNG's row
filters halves a general encoder's time for a few percent more bytes.
:class:`PngCanvas` goes further for a picture redrawn every epoch in the same
frame: its pixels live in the PNG's row layout (no copy before compressing),
and the rows above the part that changes are compressed once. A zlib stream
is a header, deflate blocks and a checksum; the static rows' blocks end on a
byte boundary (a sync flush), so the blocks of the changing rows, compressed
afresh each time, follow them in one valid stream. Pixels that did not change
since the last :meth:`PngCanvas.encode` give its bytes again, without compressing.

Example:
    >>> import io, numpy as np
    >>> from PIL import Image
    >>> frame = np.full((4, 3, 3), 255, dtype=np.uint8)
    >>> canvas = PngCanvas(frame, static_rows=2)
    >>> canvas.pixels[2:, 1] = (8, 48, 107)
    >>> picture = Image.open(io.BytesIO(canvas.encode()))
    >>> picture.size, picture.getpixel((1, 3)), picture.getpixel((1, 0))
    ((3, 4), (8, 48, 107), (255, 255, 255))
    >>> same = Image.open(io.BytesIO(encode_png(canvas.pixels)))
    >>> np.array_equal(np.asarray(same), np.asarray(picture))
    True
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

__all__ = ["PngCanvas", "encode_png"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_LEVEL = 1
_ZLIB_HEADER = b"\x78\x01"  # deflate, 32 kB window, fastest level: what zlib.compress(data, 1) starts with
_RAW = -15  # wbits of a bare deflate stream, no header or checksum


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


def _png(width: int, height: int, compressed: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return _SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", compressed) + _chunk(b"IEND", b"")


def _png_rows(height: int, width: int) -> np.ndarray:
    return np.zeros((height, 1 + width * 3), dtype=np.uint8)  # each row: filter byte 0 (none), then pixels


def encode_png(pixels: np.ndarray) -> bytes:
    """PNG bytes of an ``[H, W, 3]`` uint8 array."""
    pixels = np.asarray(pixels, dtype=np.uint8)
    height, width = pixels.shape[:2]
    rows = _png_rows(height, width)
    rows[:, 1:] = pixels.reshape(height, width * 3)
    return _png(width, height, zlib.compress(rows, _LEVEL))


class PngCanvas:
    """An ``[H, W, 3]`` picture kept in PNG row layout, whose top ``static_rows`` never change.

    Draw into :attr:`pixels` (below ``static_rows``), then :meth:`encode`.
    Not for concurrent use: callers draw and encode under one lock.

    Args:
        background: the first picture (copied); its top ``static_rows`` rows
            are compressed once, here.
        static_rows: rows that no drawing changes.
    """

    def __init__(self, background: np.ndarray, static_rows: int) -> None:
        self.height, self.width = background.shape[:2]
        self._rows = _png_rows(self.height, self.width)
        #: The picture, a view of the PNG rows: what is drawn here is encoded.
        self.pixels = self._rows[:, 1:].reshape(self.height, self.width, 3)
        self.pixels[:] = background
        self._static = static_rows
        static = self._rows[:static_rows]
        deflate = zlib.compressobj(_LEVEL, zlib.DEFLATED, _RAW)
        self._head = _ZLIB_HEADER + deflate.compress(static) + deflate.flush(zlib.Z_SYNC_FLUSH)
        self._static_check = zlib.adler32(static)
        self._encoded: tuple[bytes, bytes] | None = None  # the changing rows last encoded, and their PNG
        #: What the caller last drew here, for it to skip redrawing what has not changed (never read here).
        self.source: object = None

    def encode(self) -> bytes:
        """PNG bytes of :attr:`pixels` as they are now (the same bytes again while they have not changed)."""
        changing = self._rows[self._static:]
        raw = changing.tobytes()
        if self._encoded is not None and self._encoded[0] == raw:  # a matrix that did not change between epochs
            return self._encoded[1]
        deflate = zlib.compressobj(_LEVEL, zlib.DEFLATED, _RAW)  # no reference back into the static rows
        blocks = deflate.compress(raw) + deflate.flush()
        check = struct.pack(">I", zlib.adler32(raw, self._static_check))
        png = _png(self.width, self.height, self._head + blocks + check)
        self._encoded = (raw, png)
        return png
