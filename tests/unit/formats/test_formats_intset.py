"""Intset: widths as Redis picks them, round trips, corrupt blobs."""

from __future__ import annotations

import struct

import pytest

from hush.formats import intset

# DUMP of SADD s 1 2 3 in redis-server 7.0.15 carries this intset.
REDIS_INTSET = bytes.fromhex("0200000003000000010002000300")


def test_like_redis():
    assert intset.encode([3, 1, 2]) == REDIS_INTSET
    assert intset.decode(REDIS_INTSET) == [1, 2, 3]


@pytest.mark.parametrize("members,width", [
    ([1, -32768, 32767], 2),
    ([32768], 4),
    ([-2147483648, 2147483647], 4),
    ([2147483648], 8),
    ([-(2**63), 2**63 - 1], 8),
])
def test_smallest_width(members, width):
    blob = intset.encode(members)
    assert struct.unpack_from("<I", blob)[0] == width
    assert intset.decode(blob) == sorted(members)


@pytest.mark.parametrize("blob", [
    b"\x02\x00\x00",
    b"\x03\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00",       # unknown width
    b"\x02\x00\x00\x00\x02\x00\x00\x00\x01\x00",           # short
    b"\x02\x00\x00\x00\x02\x00\x00\x00\x02\x00\x01\x00",   # out of order
    b"\x02\x00\x00\x00\x02\x00\x00\x00\x01\x00\x01\x00",   # duplicate
])
def test_corrupt_blobs_raise(blob):
    with pytest.raises(intset.IntsetError):
        intset.decode(blob)
