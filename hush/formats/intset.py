"""Intset: Redis's sorted array of distinct integers, for small all-integer sets.

Layout: a 4-byte element width (2, 4 or 8), a 4-byte count, then the
integers in ascending order, all little endian. Redis picks the smallest width
that holds every member; :func:`encode` does the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from struct import Struct

_HEADER = Struct("<II")
_FORMATS = {2: "h", 4: "i", 8: "q"}


class IntsetError(ValueError):
    """An intset blob that is not well formed."""


def _width(low: int, high: int) -> int:
    if -32768 <= low and high <= 32767:
        return 2
    if -2147483648 <= low and high <= 2147483647:
        return 4
    return 8


def encode(members: Iterable[int]) -> bytes:
    """An intset holding the distinct ``members`` (int64 values)."""
    values = sorted(set(members))
    width = _width(values[0], values[-1]) if values else 2
    return _HEADER.pack(width, len(values)) + Struct(
        "<%d%s" % (len(values), _FORMATS[width])
    ).pack(*values)


def decode(blob: bytes) -> list[int]:
    """The members of an intset, ascending; strictly increasing or :class:`IntsetError`."""
    if len(blob) < 8:
        raise IntsetError("intset shorter than its header")
    width, count = _HEADER.unpack_from(blob)
    fmt = _FORMATS.get(width)
    if fmt is None:
        raise IntsetError("intset with an unknown width")
    if len(blob) != 8 + width * count:
        raise IntsetError("intset size does not match its count")
    values = list(Struct("<%d%s" % (count, fmt)).unpack_from(blob, 8))
    for i in range(1, count):
        if values[i - 1] >= values[i]:
            raise IntsetError("intset members out of order")
    return values
