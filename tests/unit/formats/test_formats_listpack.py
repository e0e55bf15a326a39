"""Listpack: Redis's entry encodings at every boundary, a Redis-made listpack, corrupt blobs."""

from __future__ import annotations

import struct

import pytest

from hush.formats import listpack

# DUMP of HSET h a 1 b hello c -300 d 70000 in redis-server 7.0.15: type 16,
# string length 0x24, then the listpack.
REDIS_HASH_DUMP = bytes.fromhex(
    "102424000000080081610201018162028568656c6c6f06816302ded402816402f270110104ff"
    "0a00b13f56e39a31cbeb"
)
REDIS_LISTPACK = REDIS_HASH_DUMP[2:2 + 0x24]


def test_encodes_like_redis():
    entries = [b"a", b"1", b"b", b"hello", b"c", b"-300", b"d", b"70000"]
    assert listpack.encode(entries) == REDIS_LISTPACK
    assert listpack.decode(REDIS_LISTPACK) == entries
    assert listpack.decode_items(REDIS_LISTPACK) == [b"a", 1, b"b", b"hello", b"c", -300, b"d", 70000]


@pytest.mark.parametrize("number,encoded", [
    (0, b"\x00\x01"),
    (127, b"\x7f\x01"),
    (128, b"\xc0\x80\x02"),
    (-1, b"\xdf\xff\x02"),
    (4095, b"\xcf\xff\x02"),
    (-4096, b"\xd0\x00\x02"),
    (4096, b"\xf1\x00\x10\x03"),
    (-32768, b"\xf1\x00\x80\x03"),
    (32768, b"\xf2\x00\x80\x00\x04"),
    (-8388608, b"\xf2\x00\x00\x80\x04"),
    (8388608, b"\xf3\x00\x00\x80\x00\x05"),
    (2**31 - 1, b"\xf3\xff\xff\xff\x7f\x05"),
    (2**31, b"\xf4" + struct.pack("<q", 2**31) + b"\x09"),
    (-(2**63), b"\xf4" + struct.pack("<q", -(2**63)) + b"\x09"),
])
def test_integer_encodings(number, encoded):
    assert listpack.encode_entry(number) == encoded
    assert listpack.encode_entry(b"%d" % number) == encoded
    assert listpack.decode_items(listpack.build([encoded])) == [number]


@pytest.mark.parametrize("text", [b"012", b"+1", b"-0", b" 1", b"1 ", b"1_0", b"9223372036854775808",
                                  b"-9223372036854775809", b"", b"1.5", b"\xd9\xa1"])
def test_non_canonical_numbers_stay_strings(text):
    entry = listpack.encode_entry(text)
    assert entry[0] & 0xC0 == 0x80
    assert listpack.decode(listpack.build([entry])) == [text]


@pytest.mark.parametrize("size,header,backlen_size", [
    (0, 1, 1), (63, 1, 1), (64, 2, 1), (125, 2, 1), (126, 2, 2), (4095, 2, 2),
    (4096, 5, 2), (16378, 5, 2), (16379, 5, 3), (70000, 5, 3),
])
def test_string_encodings_and_backlen(size, header, backlen_size):
    value = b"x" * size
    entry = listpack.encode_entry(value)
    assert len(entry) == header + size + backlen_size
    # The backlen, read from its last byte backwards, gives header + data.
    length, shift = 0, 0
    for byte in reversed(entry[header + size:]):
        length |= (byte & 127) << shift
        shift += 7
    assert length == header + size
    assert listpack.decode(listpack.encode([value, b"7"])) == [value, b"7"]


def test_count_saturates():
    blob = listpack.encode([b"1"] * 70000)
    assert struct.unpack_from("<H", blob, 4)[0] == 65535
    assert len(listpack.decode(blob)) == 70000


@pytest.mark.parametrize("blob", [
    b"",
    b"\x07\x00\x00\x00\x00\x00",                        # shorter than a header
    b"\x08\x00\x00\x00\x00\x00\xff\x00",                # size header != length
    b"\x07\x00\x00\x00\x00\x00\x00",                    # no terminator
    b"\x0a\x00\x00\x00\x01\x00\x85ab\xff",              # string past the end
    b"\x09\x00\x00\x00\x02\x00\x01\x01\xff",            # count mismatch
    b"\x09\x00\x00\x00\x01\x00\xf5\x01\xff",            # unknown encoding
    b"\x0c\x00\x00\x00\x01\x00\xf4\x01\x02\x03\x04\xff",  # integer past the end
])
def test_corrupt_blobs_raise(blob):
    with pytest.raises(listpack.ListpackError):
        listpack.decode(blob)
