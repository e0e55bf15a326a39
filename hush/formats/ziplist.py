"""Ziplist, the compact encoding of Redis before 7.0 (read only).

Redis 7.0 still loads RDB files whose lists (inside quicklist 1 nodes and
the old list type), hashes and sorted sets are ziplists, and converts them;
Hush reads them the same way and never writes them.

Layout: 4-byte total size, 4-byte offset of the last entry, 2-byte count
(little endian, saturating at 65535), the entries, 0xFF. Each entry is the
previous entry's length (1 byte, or 0xFE and 4 bytes), an encoding and data.
"""

from __future__ import annotations

from struct import Struct

_HEADER = Struct("<IIH")
_U32 = Struct("<I")
_BE32 = Struct(">I")
_I16 = Struct("<h")
_I32 = Struct("<i")
_I64 = Struct("<q")
HEADER_SIZE = 10


class ZiplistError(ValueError):
    """A ziplist blob that is not well formed."""


def decode(blob: bytes) -> list[bytes]:
    """The entries of a ziplist, integers as their decimal text."""
    size = len(blob)
    if size < HEADER_SIZE + 1:
        raise ZiplistError("ziplist shorter than its header")
    total, tail, count = _HEADER.unpack_from(blob)
    if total != size or blob[-1] != 0xFF:
        raise ZiplistError("ziplist size header does not match its length")
    if tail >= size:
        raise ZiplistError("ziplist tail offset outside the ziplist")
    out: list[bytes] = []
    pos = HEADER_SIZE
    end = size - 1
    while pos < end:
        pos += 5 if blob[pos] == 0xFE else 1
        if pos >= end:
            raise ZiplistError("ziplist entry past the end")
        enc = blob[pos]
        kind = enc >> 6
        if kind == 0:
            n = enc & 0x3F
            pos += 1
        elif kind == 1:
            if pos + 2 > end:
                raise ZiplistError("ziplist entry past the end")
            n = ((enc & 0x3F) << 8) | blob[pos + 1]
            pos += 2
        elif kind == 2:
            if enc != 0x80 or pos + 5 > end:
                raise ZiplistError("bad ziplist string encoding")
            n = _BE32.unpack_from(blob, pos + 1)[0]
            pos += 5
        else:
            pos += 1
            if enc == 0xC0:
                width, number = 2, None
            elif enc == 0xD0:
                width, number = 4, None
            elif enc == 0xE0:
                width, number = 8, None
            elif enc == 0xF0:
                width, number = 3, None
            elif enc == 0xFE:
                width, number = 1, None
            elif 0xF1 <= enc <= 0xFD:
                width, number = 0, (enc & 0x0F) - 1
            else:
                raise ZiplistError("unknown ziplist entry encoding 0x%02x" % enc)
            if pos + width > end:
                raise ZiplistError("ziplist entry past the end")
            if number is None:
                raw = blob[pos:pos + width]
                number = int.from_bytes(raw, "little", signed=True)
            out.append(b"%d" % number)
            pos += width
            continue
        stop = pos + n
        if stop > end:
            raise ZiplistError("ziplist entry past the end")
        out.append(blob[pos:stop])
        pos = stop
    if pos != end:
        raise ZiplistError("ziplist entries overrun the terminator")
    if count != 65535 and count != len(out):
        raise ZiplistError("ziplist count header does not match its entries")
    return out
