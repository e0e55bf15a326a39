"""Listpack: Redis 7's compact sequence of strings and integers.

Layout: a 4-byte total size and a 2-byte element count (both little endian;
the count saturates at 65535), the entries, and a 0xFF terminator. Each entry
is an encoding byte (with the small lengths or numbers packed into it), its
data, and a "backlen": the entry's size written backwards in 7-bit groups so
the list can be walked from the tail.

:func:`encode` writes exactly the entry encodings Redis picks: a string that
reads as a canonical 64-bit integer ("12", "-7", not "012" nor "+1") is stored
as the smallest integer encoding that holds it, other strings with the
smallest length prefix. So a listpack built here from the entries Redis would
append is byte for byte the one Redis builds.

:func:`decode` returns the entries as bytes (integers as their decimal
text, which is what Redis replies with); :func:`decode_items` keeps integers
as ``int`` for callers that want numbers (stream metadata). Both check every
length against the blob and raise :class:`ListpackError` on a corrupt one.
"""

from __future__ import annotations

from collections.abc import Iterable
from struct import Struct

_HEADER = Struct("<IH")
_U16 = Struct("<H")
_I16 = Struct("<h")
_I32 = Struct("<i")
_I64 = Struct("<q")
_U32 = Struct("<I")
HEADER_SIZE = 6
EOF = 0xFF
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_NUMERIC_START = frozenset(b"-0123456789")


class ListpackError(ValueError):
    """A listpack blob that is not well formed."""


def string_to_int(value: bytes) -> int | None:
    """The int64 that ``value`` spells canonically, as Redis's string2ll sees it, or None."""
    if not value or len(value) > 20 or value[0] not in _NUMERIC_START:
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    if not _INT64_MIN <= number <= _INT64_MAX or b"%d" % number != value:
        return None
    return number


def _backlen(size: int) -> bytes:
    """The backwards-readable length of an entry of ``size`` bytes."""
    if size < 128:
        return bytes((size,))
    if size < 16384:
        return bytes((size >> 7, (size & 127) | 128))
    if size < 2097152:
        return bytes((size >> 14, ((size >> 7) & 127) | 128, (size & 127) | 128))
    if size < 268435456:
        return bytes((size >> 21, ((size >> 14) & 127) | 128, ((size >> 7) & 127) | 128,
                      (size & 127) | 128))
    return bytes((size >> 28, ((size >> 21) & 127) | 128, ((size >> 14) & 127) | 128,
                  ((size >> 7) & 127) | 128, (size & 127) | 128))


def _backlen_size(size: int) -> int:
    if size < 128:
        return 1
    if size < 16384:
        return 2
    if size < 2097152:
        return 3
    if size < 268435456:
        return 4
    return 5


def encode_int(number: int) -> bytes:
    """One integer entry (encoding, data, backlen)."""
    if 0 <= number <= 127:
        return bytes((number, 1))
    if -4096 <= number <= 4095:
        if number < 0:
            number += 1 << 13
        return bytes((0xC0 | (number >> 8), number & 0xFF, 2))
    if -32768 <= number <= 32767:
        return b"\xf1" + _I16.pack(number) + b"\x03"
    if -8388608 <= number <= 8388607:
        if number < 0:
            number += 1 << 24
        return bytes((0xF2, number & 0xFF, (number >> 8) & 0xFF, number >> 16, 4))
    if -2147483648 <= number <= 2147483647:
        return b"\xf3" + _I32.pack(number) + b"\x05"
    return b"\xf4" + _I64.pack(number) + b"\x09"


def encode_string(value: bytes) -> bytes:
    """One string entry; Redis would store a canonical integer string as an integer instead."""
    size = len(value)
    if size < 64:
        return bytes((0x80 | size,)) + value + _backlen(size + 1)
    if size < 4096:
        return bytes((0xE0 | (size >> 8), size & 0xFF)) + value + _backlen(size + 2)
    return b"\xf0" + _U32.pack(size) + value + _backlen(size + 5)


def encode_entry(value: bytes | int) -> bytes:
    """One entry the way Redis's lpAppend stores it."""
    if isinstance(value, int):
        return encode_int(value)
    number = string_to_int(value)
    if number is not None:
        return encode_int(number)
    return encode_string(value)


def build(encoded_entries: list[bytes]) -> bytes:
    """A listpack around entries already encoded with :func:`encode_entry`."""
    body = b"".join(encoded_entries)
    count = len(encoded_entries)
    return _HEADER.pack(HEADER_SIZE + len(body) + 1, count if count < 65535 else 65535) + body + b"\xff"


def encode(entries: Iterable[bytes | int]) -> bytes:
    """A listpack holding ``entries`` (bytes or ints), as Redis would build it by appending."""
    return build([encode_entry(value) for value in entries])


def _parse(blob: bytes, as_bytes: bool) -> list:
    """Walk a listpack; integers come back as bytes when ``as_bytes``."""
    size = len(blob)
    if size < HEADER_SIZE + 1:
        raise ListpackError("listpack shorter than its header")
    total, count = _HEADER.unpack_from(blob)
    if total != size:
        raise ListpackError("listpack size header does not match its length")
    if blob[-1] != EOF:
        raise ListpackError("listpack without its terminator")
    out: list = []
    append = out.append
    pos = HEADER_SIZE
    end = size - 1
    while pos < end:
        enc = blob[pos]
        if enc < 0x80:  # 7-bit unsigned integer
            append(b"%d" % enc if as_bytes else enc)
            pos += 2
            continue
        if enc < 0xC0:  # string up to 63 bytes
            n = enc & 0x3F
            start = pos + 1
            stop = start + n
            if stop > end:
                raise ListpackError("string entry past the end of the listpack")
            append(blob[start:stop])
            pos = stop + (1 if n + 1 < 128 else 2)
            continue
        if enc < 0xE0:  # 13-bit signed integer
            if pos + 1 >= end:
                raise ListpackError("integer entry past the end of the listpack")
            number = ((enc & 0x1F) << 8) | blob[pos + 1]
            if number >= 4096:
                number -= 8192
            append(b"%d" % number if as_bytes else number)
            pos += 3
            continue
        if enc < 0xF0:  # string up to 4095 bytes
            if pos + 1 >= end:
                raise ListpackError("string entry past the end of the listpack")
            n = ((enc & 0x0F) << 8) | blob[pos + 1]
            start = pos + 2
            stop = start + n
            if stop > end:
                raise ListpackError("string entry past the end of the listpack")
            append(blob[start:stop])
            pos = stop + _backlen_size(n + 2)
            continue
        if enc == 0xF0:  # string with a 32-bit length
            if pos + 5 > end:
                raise ListpackError("string entry past the end of the listpack")
            n = _U32.unpack_from(blob, pos + 1)[0]
            start = pos + 5
            stop = start + n
            if stop > end:
                raise ListpackError("string entry past the end of the listpack")
            append(blob[start:stop])
            pos = stop + _backlen_size(n + 5)
            continue
        if enc == 0xF1:
            width, fmt = 2, _I16
        elif enc == 0xF2:
            width, fmt = 3, None
        elif enc == 0xF3:
            width, fmt = 4, _I32
        elif enc == 0xF4:
            width, fmt = 8, _I64
        else:
            raise ListpackError("unknown listpack entry encoding 0x%02x" % enc)
        if pos + 1 + width > end:
            raise ListpackError("integer entry past the end of the listpack")
        if fmt is None:
            number = blob[pos + 1] | (blob[pos + 2] << 8) | (blob[pos + 3] << 16)
            if number >= 1 << 23:
                number -= 1 << 24
        else:
            number = fmt.unpack_from(blob, pos + 1)[0]
        append(b"%d" % number if as_bytes else number)
        pos += 2 + width
    if pos != end:
        raise ListpackError("listpack entries overrun the terminator")
    if count != 65535 and count != len(out):
        raise ListpackError("listpack count header does not match its entries")
    return out


def decode(blob: bytes) -> list[bytes]:
    """The entries of a listpack, integers as their decimal text."""
    return _parse(blob, True)


def decode_items(blob: bytes) -> list[bytes | int]:
    """The entries of a listpack, integers as ``int``."""
    return _parse(blob, False)
