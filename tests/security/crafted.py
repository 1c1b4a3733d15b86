"""Hostile images made in code: tiny compressed files that claim (and decode to) huge sizes."""

from __future__ import annotations

import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int, height: int, *, complete: bool = True) -> bytes:
    """A valid 1-bit grayscale PNG of ``width`` x ``height`` black pixels: about 20 KiB for
    13000x13000 (169 megapixels), which Pillow decodes to hundreds of MiB. ``complete=False``
    cuts the pixel data short (a damaged image whose header is fine)."""
    row = b"\x00" + bytes((width + 7) // 8)  # filter byte, then the packed bits
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row) for _ in range(height)]
    data = b"".join(parts) + compressor.flush()
    if not complete:
        data = data[: len(data) // 2]
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", data)
        + _chunk(b"IEND", b"")
    )
