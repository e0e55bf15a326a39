"""CRC-64 (Jones) against Redis's own test vectors (src/crc64.c's self-test)."""

from __future__ import annotations

from hush.formats.crc64 import crc64

LOREM = (
    b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
    b"incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
    b"exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure "
    b"dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. "
    b"Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt "
    b"mollit anim id est laborum."
)


def test_redis_check_value():
    assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA


def test_redis_lorem_vector():
    # Redis's test hashes the C array, terminating NUL included.
    assert crc64(LOREM + b"\0") == 0xC7794709E69683B3


def test_empty_input_is_zero():
    assert crc64(b"") == 0


def test_continues_from_a_previous_crc():
    data = bytes(range(256)) * 40
    assert crc64(data[1000:], crc64(data[:1000])) == crc64(data)


def test_accepts_memoryview():
    assert crc64(memoryview(b"xx123456789")[2:]) == 0xE9C6D914C4B8D9CA
