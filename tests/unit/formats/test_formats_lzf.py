"""LZF: round trips, a payload made by redis-server 7.0.15, and corrupt streams."""

from __future__ import annotations

import random

import pytest

from hush.formats import lzf

# DUMP of SET lzf ("abcdefgh" * 12 + "0123456789" * 3) in redis-server 7.0.15:
# type 0, 0xC3, compressed length 29 (1 byte), original length 126 (2 bytes), LZF bytes.
REDIS_DUMP = bytes.fromhex(
    "00c31d407e08616263646566676861e04e070930313233343536373839e00a0900390a00782d524e97079375"
)
ORIGINAL = b"abcdefgh" * 12 + b"0123456789" * 3


def test_decompresses_redis_output():
    compressed = REDIS_DUMP[5:5 + 29]
    assert lzf.decompress(compressed, 126) == ORIGINAL


def test_compresses_like_redis():
    assert lzf.compress(ORIGINAL, len(ORIGINAL) - 4) == REDIS_DUMP[5:5 + 29]


@pytest.mark.parametrize("data", [
    b"a" * 1000,
    b"abc" * 3000,
    bytes(range(256)) * 50,
    b"the quick brown fox jumps over the lazy dog " * 30,
    b"xy",
    b"z",
])
def test_round_trip(data):
    packed = lzf.compress(data)
    assert packed is not None
    assert lzf.decompress(packed, len(data)) == data


def test_round_trip_random_mixtures():
    rng = random.Random(7)
    for _ in range(50):
        parts = [rng.choice([b"abc", b"hello", bytes([rng.randrange(256)])]) * rng.randrange(1, 40)
                 for _ in range(rng.randrange(1, 30))]
        data = b"".join(parts) + rng.randbytes(rng.randrange(0, 50))
        packed = lzf.compress(data)
        assert packed is not None
        assert lzf.decompress(packed, len(data)) == data


def test_incompressible_data_refused_within_the_limit():
    data = random.Random(1).randbytes(200)
    assert lzf.compress(data, len(data) - 4) is None


def test_long_back_reference_and_overlap():
    data = b"ab" + b"b" * 600
    packed = lzf.compress(data)
    assert len(packed) < 20
    assert lzf.decompress(packed, len(data)) == data


@pytest.mark.parametrize("stream,length", [
    (b"\x05abc", 6),            # literal run past the end
    (b"\x00a\x20\x05", 10),     # back reference before the start
    (b"\x00a\xe0", 10),         # truncated long back reference
    (b"\x00a\x20\x00", 100),    # shorter than announced
    (b"\x02abc", 2),            # longer than announced
    (b"\x00a\xe0\xff\x00", 5),  # a back reference past the announced length
])
def test_corrupt_streams_raise(stream, length):
    with pytest.raises(lzf.LzfError):
        lzf.decompress(stream, length)
