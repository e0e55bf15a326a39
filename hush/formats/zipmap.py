"""Zipmap: the hash encoding of Redis 2.x (read only; Redis 7.0 still loads it).

Layout: a 1-byte count (254 or more means "count them"), then pairs of
(length, field, length, free, value, free padding), ending with 0xFF. A length
is one byte below 254, or 254 and 4 bytes little endian.
"""

from __future__ import annotations

from struct import Struct

_U32 = Struct("<I")


class ZipmapError(ValueError):
    """A zipmap blob that is not well formed."""


def _length(blob: bytes, pos: int, end: int) -> tuple[int, int]:
    if pos >= end:
        raise ZipmapError("zipmap entry past the end")
    first = blob[pos]
    if first < 254:
        return first, pos + 1
    if first == 254 and pos + 5 <= end:
        return _U32.unpack_from(blob, pos + 1)[0], pos + 5
    raise ZipmapError("bad zipmap length")


def decode(blob: bytes) -> list[tuple[bytes, bytes]]:
    """The (field, value) pairs of a zipmap, in order."""
    if len(blob) < 2 or blob[-1] != 0xFF:
        raise ZipmapError("zipmap without its terminator")
    end = len(blob) - 1
    pos = 1
    pairs: list[tuple[bytes, bytes]] = []
    while pos < end:
        n, pos = _length(blob, pos, end)
        if pos + n > end:
            raise ZipmapError("zipmap field past the end")
        field = blob[pos:pos + n]
        pos += n
        n, pos = _length(blob, pos, end)
        if pos >= end:
            raise ZipmapError("zipmap value past the end")
        free = blob[pos]
        pos += 1
        if pos + n + free > end:
            raise ZipmapError("zipmap value past the end")
        pairs.append((field, blob[pos:pos + n]))
        pos += n + free
    if pos != end:
        raise ZipmapError("zipmap entries overrun the terminator")
    if blob[0] < 254 and blob[0] != len(pairs):
        raise ZipmapError("zipmap count does not match its entries")
    return pairs
