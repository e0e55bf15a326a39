"""Zipmap (read only): crafted from the format description."""

from __future__ import annotations

import struct

import pytest

from hush.formats import zipmap


def craft(pairs: list[tuple[bytes, bytes]], free: int = 0) -> bytes:
    def length(n: int) -> bytes:
        return bytes((n,)) if n < 254 else b"\xfe" + struct.pack("<I", n)

    body = b""
    for field, value in pairs:
        body += length(len(field)) + field + length(len(value)) + bytes((free,)) + value + b"\0" * free
    return bytes((min(len(pairs), 254),)) + body + b"\xff"


def test_pairs_with_free_space_and_long_values():
    pairs = [(b"f1", b"v1"), (b"f2", b"x" * 300)]
    assert zipmap.decode(craft(pairs, free=3)) == pairs


@pytest.mark.parametrize("blob", [
    b"",
    b"\x01\x02f1\x02\x00v\xff",
    b"\x02\x02f1\x02\x00v1\xff",   # count mismatch
    b"\x01\x02f1\xff",
])
def test_corrupt_blobs_raise(blob):
    with pytest.raises(zipmap.ZipmapError):
        zipmap.decode(blob)
