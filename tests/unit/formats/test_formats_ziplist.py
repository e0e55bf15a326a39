"""Ziplist (read only): entries crafted from the format description."""

from __future__ import annotations

import struct

import pytest

from hush.formats import ziplist


def craft(entries: list[bytes]) -> bytes:
    """A ziplist around already-encoded entries (encoding byte(s) and data), with prevlens."""
    body = b""
    prev = 0
    last = 10
    for entry in entries:
        prevlen = bytes((prev,)) if prev < 254 else b"\xfe" + struct.pack("<I", prev)
        last = 10 + len(body)
        body += prevlen + entry
        prev = len(prevlen) + len(entry)
    return struct.pack("<IIH", 10 + len(body) + 1, last, len(entries)) + body + b"\xff"


def test_every_entry_encoding():
    entries = [
        b"\x05hello",                                  # 6-bit string
        b"\x41\x2c" + b"y" * 300,                      # 14-bit string
        b"\x80\x00\x00\x00\x03abc",                    # 32-bit string
        b"\xc0" + struct.pack("<h", -2),               # int16
        b"\xd0" + struct.pack("<i", 100000),           # int32
        b"\xe0" + struct.pack("<q", 6000000000),       # int64
        b"\xf0" + (-5).to_bytes(3, "little", signed=True),  # int24
        b"\xfe\x80",                                   # int8 (-128)
        b"\xf1",                                       # immediate 0
        b"\xfd",                                       # immediate 12
    ]
    assert ziplist.decode(craft(entries)) == [
        b"hello", b"y" * 300, b"abc", b"-2", b"100000", b"6000000000", b"-5", b"-128", b"0", b"12",
    ]


def test_large_prevlen():
    entries = [b"\x41\x2c" + b"z" * 300, b"\x01q"]
    assert ziplist.decode(craft(entries)) == [b"z" * 300, b"q"]


@pytest.mark.parametrize("blob", [
    b"",
    craft([b"\x05hel"])[:-1] + b"\xff",     # string past the end
    craft([b"\x05hello"])[:-2] + b"\xff",
    struct.pack("<IIH", 11, 10, 2) + b"\xff",  # count mismatch
    craft([b"\xc1\x00"]),                  # unknown encoding
    craft([b"\xc0\x01"]),                  # int16 past the end
])
def test_corrupt_blobs_raise(blob):
    with pytest.raises(ziplist.ZiplistError):
        ziplist.decode(blob)
