"""RDB primitives: lengths, strings, doubles, times; errors carry the byte offset."""

from __future__ import annotations

import math
import struct

import pytest

from hush.formats import rdb
from hush.formats.rdb import RdbError, Reader, Truncated


@pytest.mark.parametrize("n,encoded", [
    (0, b"\x00"),
    (63, b"\x3f"),
    (64, b"\x40\x40"),
    (16383, b"\x7f\xff"),
    (16384, b"\x80\x00\x00\x40\x00"),
    (2**32 - 1, b"\x80\xff\xff\xff\xff"),
    (2**32, b"\x81\x00\x00\x00\x01\x00\x00\x00\x00"),
    (2**64 - 1, b"\x81" + b"\xff" * 8),
])
def test_lengths(n, encoded):
    assert rdb.encode_length(n) == encoded
    reader = Reader(encoded)
    assert reader.length() == n
    assert reader.pos == len(encoded)


def test_unknown_length_encoding_names_its_offset():
    reader = Reader(b"\x00\x00\x85")
    reader.pos = 2
    with pytest.raises(RdbError) as info:
        reader.length()
    assert info.value.offset == 2
    assert "Unknown length encoding 133" in str(info.value)
    assert str(info.value).startswith("Internal error in RDB reading offset 2")


@pytest.mark.parametrize("value,encoded", [
    (b"0", b"\xc0\x00"),
    (b"-128", b"\xc0\x80"),
    (b"127", b"\xc0\x7f"),
    (b"128", b"\xc1\x80\x00"),
    (b"-32768", b"\xc1\x00\x80"),
    (b"32768", b"\xc2\x00\x80\x00\x00"),
    (b"-2147483648", b"\xc2\x00\x00\x00\x80"),
    (b"2147483648", b"\x0a2147483648"),   # does not fit 32 bits: a plain string
    (b"012", b"\x03012"),
    (b"+5", b"\x02+5"),
    (b"-0", b"\x02-0"),
    (b"hello", b"\x05hello"),
    (b"", b"\x00"),
])
def test_string_integer_encodings(value, encoded):
    assert rdb.encode_string(value) == encoded
    assert Reader(encoded).string() == value


def test_long_strings_compress_only_when_it_saves_four_bytes():
    compressible = b"a" * 100
    encoded = rdb.encode_string(compressible)
    assert encoded[0] == 0xC3
    assert Reader(encoded).string() == compressible
    assert rdb.encode_string(compressible, compress=False) == b"\x40\x64" + compressible
    random_bytes = bytes(range(21, 121))
    assert rdb.encode_string(random_bytes) == b"\x40\x64" + random_bytes
    # 20 bytes or fewer are never compressed
    assert rdb.encode_string(b"a" * 20) == b"\x14" + b"a" * 20


def test_lzf_string_claiming_a_huge_length_is_refused():
    data = b"\xc3\x03\x81\x00\x00\x01\x00\x00\x00\x00\x00\x00\x61\x20\x00"
    with pytest.raises(RdbError) as info:
        Reader(data).string()
    assert info.value.reason == "Invalid LZF compressed string"
    assert not isinstance(info.value, Truncated)


def test_corrupt_lzf_string():
    with pytest.raises(RdbError, match="Invalid LZF compressed string"):
        Reader(b"\xc3\x02\x05\x01ab").string()


def test_unknown_string_encoding():
    with pytest.raises(RdbError, match="Unknown RDB string encoding type 4"):
        Reader(b"\xc4").string()


@pytest.mark.parametrize("data", [b"", b"\x05abc", b"\x40", b"\x80\x00\x00", b"\xc1\x00", b"\xc2\x00\x00",
                                  b"\xc3\x05", b"\x81\x00\x00\x00\x10\x00\x00\x00\x00"])
def test_truncated_strings(data):
    with pytest.raises(Truncated) as info:
        Reader(data, base=100).string()
    assert info.value.offset == 100 + len(data)


def test_absurd_length_does_not_allocate():
    # A string claiming 2^60 bytes in a 10-byte input is truncated, not allocated.
    with pytest.raises(Truncated):
        Reader(b"\x81\x10" + b"\x00" * 7 + b"x").string()


@pytest.mark.parametrize("value", [0.0, -0.0, 1.5, -2.25, 1e300, 5e-324, math.inf, -math.inf])
def test_binary_double(value):
    encoded = rdb.encode_binary_double(value)
    assert encoded == struct.pack("<d", value)
    assert Reader(encoded).binary_double() == value


@pytest.mark.parametrize("value,encoded", [
    (1.0, b"\x011"),
    (-3.0, b"\x02-3"),
    (0.5, b"\x030.5"),
    (0.1, b"\x130.10000000000000001"),
    (math.inf, b"\xfe"),
    (-math.inf, b"\xff"),
])
def test_string_double(value, encoded):
    assert rdb.encode_string_double(value) == encoded
    assert Reader(encoded).string_double() == value


def test_string_double_nan_and_garbage():
    assert math.isnan(Reader(b"\xfd").string_double())
    with pytest.raises(RdbError, match="Invalid double"):
        Reader(b"\x03abc").string_double()


@pytest.mark.parametrize("value,text", [
    (1.0, b"1"), (-0.0, b"-0"), (0.0, b"0"), (1.5, b"1.5"), (0.1, b"0.10000000000000001"),
    (math.inf, b"inf"), (-math.inf, b"-inf"), (1e300, b"1.0000000000000001e+300"),
    (4611686018427387904.0, b"4611686018427387904"), (9223372036854775808.0, b"9.2233720368547758e+18"),
])
def test_format_double_like_d2string(value, text):
    assert rdb.format_double(value) == text


def test_times():
    assert Reader(rdb.encode_ms_time(1_700_000_000_123)).ms_time() == 1_700_000_000_123
    assert Reader(struct.pack("<i", 1_700_000_000)).sec_time() == 1_700_000_000
    with pytest.raises(Truncated):
        Reader(b"\x00" * 7).ms_time()


def test_module_type_name():
    # A module id packs 9 characters of 6 bits above a 10-bit encoding version.
    chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    name = "hellotype"
    module_id = 0
    for char in name:
        module_id = (module_id << 6) | chars.index(char)
    assert rdb.module_type_name((module_id << 10) | 3) == name


def test_threshold_defaults_are_redis_defaults():
    th = rdb.Thresholds()
    assert (th.list_max_listpack_size, th.hash_max_listpack_entries, th.hash_max_listpack_value,
            th.set_max_intset_entries, th.zset_max_listpack_entries, th.zset_max_listpack_value,
            th.stream_node_max_entries, th.stream_node_max_bytes, th.rdb_compression) == (
        -2, 512, 64, 512, 128, 64, 100, 4096, True)
