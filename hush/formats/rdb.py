"""RDB primitives: Redis 7.0's lengths, strings, numbers and times, read and written.

Everything in an RDB file or a DUMP payload is built from these:

- a *length*: ``00xxxxxx`` (6 bits), ``01xxxxxx xxxxxxxx`` (14 bits, big
  endian), ``0x80`` + 4 bytes or ``0x81`` + 8 bytes (big endian);
- a *string*: a length and that many bytes, or ``11xxxxxx`` for a special
  encoding: an 8/16/32-bit little-endian integer, or LZF (compressed length,
  original length, compressed bytes);
- doubles: 8 bytes little endian (the binary form Redis 7 writes) or the old
  string form (a length byte, 253/254/255 for nan/+inf/-inf);
- times: milliseconds as a little-endian int64, old seconds as an int32.

:class:`Reader` reads them from a bytes buffer with bounds checks: running
past the end raises :class:`Truncated`, anything else malformed raises
:class:`RdbError`, both carrying the byte offset. A length read from the input
never causes an allocation larger than the input left to read.

The ``encode_*`` functions write them, choosing what Redis chooses (a short
string that spells an integer is stored as one; with compression on, a string
over 20 bytes is stored LZF-compressed when that saves at least 4 bytes).

:class:`Thresholds` holds the encoding settings (Redis's config names and
defaults) that decide which encoding a value gets when written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from struct import Struct

from hush.formats import lzf

RDB_VERSION = 10

# Value types.
TYPE_STRING = 0
TYPE_LIST = 1
TYPE_SET = 2
TYPE_ZSET = 3
TYPE_HASH = 4
TYPE_ZSET_2 = 5
TYPE_MODULE = 6
TYPE_MODULE_2 = 7
TYPE_HASH_ZIPMAP = 9
TYPE_LIST_ZIPLIST = 10
TYPE_SET_INTSET = 11
TYPE_ZSET_ZIPLIST = 12
TYPE_HASH_ZIPLIST = 13
TYPE_LIST_QUICKLIST = 14
TYPE_STREAM_LISTPACKS = 15
TYPE_HASH_LISTPACK = 16
TYPE_ZSET_LISTPACK = 17
TYPE_LIST_QUICKLIST_2 = 18
TYPE_STREAM_LISTPACKS_2 = 19

OBJECT_TYPES = frozenset(range(0, 8)) | frozenset(range(9, 20))

# Opcodes between records.
OPCODE_FUNCTION2 = 245
OPCODE_FUNCTION = 246
OPCODE_MODULE_AUX = 247
OPCODE_IDLE = 248
OPCODE_FREQ = 249
OPCODE_AUX = 250
OPCODE_RESIZEDB = 251
OPCODE_EXPIRETIME_MS = 252
OPCODE_EXPIRETIME = 253
OPCODE_SELECTDB = 254
OPCODE_EOF = 255

_BE32 = Struct(">I")
_BE64 = Struct(">Q")
_I16 = Struct("<h")
_I32 = Struct("<i")
_I64 = Struct("<q")
_F64 = Struct("<d")
_F32 = Struct("<f")

_MODULE_NAME_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


class RdbError(ValueError):
    """Malformed RDB data; ``offset`` is the byte offset where reading failed."""

    def __init__(self, reason: str, offset: int) -> None:
        super().__init__(f"Internal error in RDB reading offset {offset} -> {reason}")
        self.reason = reason
        self.offset = offset


class Truncated(RdbError):
    """The data ended in the middle of a value."""


class EmptyKey(RdbError):
    """A value with no elements: Redis skips such keys when loading a file."""


@dataclass(frozen=True)
class Thresholds:
    """The encoding settings that decide how a value is written, with Redis 7.0's defaults.

    The store passes its live config (``list-max-listpack-size`` ... ) so that a
    written value gets the encoding Redis would have given it.
    ``list_packed_threshold`` is Redis's internal size from which a list
    element gets a node of its own (1 GiB; DEBUG QUICKLIST-PACKED-THRESHOLD).
    """

    list_max_listpack_size: int = -2
    hash_max_listpack_entries: int = 512
    hash_max_listpack_value: int = 64
    set_max_intset_entries: int = 512
    zset_max_listpack_entries: int = 128
    zset_max_listpack_value: int = 64
    stream_node_max_entries: int = 100
    stream_node_max_bytes: int = 4096
    rdb_compression: bool = True
    list_packed_threshold: int = 1 << 30


DEFAULT_THRESHOLDS = Thresholds()


def module_type_name(module_id: int) -> str:
    """The 9-character module type name packed into a module id (its upper 54 bits)."""
    module_id >>= 10
    chars = []
    for _ in range(9):
        chars.append(_MODULE_NAME_CHARS[module_id & 63])
        module_id >>= 6
    return "".join(reversed(chars))


class Reader:
    """Reads RDB primitives from ``data[pos:end]``; offsets in errors add ``base``.

    The attributes are public on purpose: the object decoders read ``data`` and
    advance ``pos`` inline on their hot paths.
    """

    __slots__ = ("data", "pos", "end", "base")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None, base: int = 0) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end
        self.base = base

    def error(self, reason: str) -> RdbError:
        """An :class:`RdbError` at the current position."""
        return RdbError(reason, self.base + self.pos)

    def truncated(self) -> Truncated:
        return Truncated("Unexpected EOF reading RDB file", self.base + self.end)

    def remaining(self) -> int:
        return self.end - self.pos

    def byte(self) -> int:
        pos = self.pos
        if pos >= self.end:
            raise self.truncated()
        self.pos = pos + 1
        return self.data[pos]

    def take(self, n: int) -> bytes:
        pos = self.pos
        stop = pos + n
        if stop > self.end:
            raise self.truncated()
        self.pos = stop
        return self.data[pos:stop]

    def length(self) -> int:
        """A length (Redis's rdbLoadLen: a special-encoding byte yields its 6-bit code)."""
        data = self.data
        pos = self.pos
        if pos >= self.end:
            raise self.truncated()
        first = data[pos]
        kind = first >> 6
        if kind == 0:
            self.pos = pos + 1
            return first
        if kind == 1:
            if pos + 2 > self.end:
                raise self.truncated()
            self.pos = pos + 2
            return ((first & 0x3F) << 8) | data[pos + 1]
        if kind == 3:
            self.pos = pos + 1
            return first & 0x3F
        if first == 0x80:
            if pos + 5 > self.end:
                raise self.truncated()
            self.pos = pos + 5
            return _BE32.unpack_from(data, pos + 1)[0]
        if first == 0x81:
            if pos + 9 > self.end:
                raise self.truncated()
            self.pos = pos + 9
            return _BE64.unpack_from(data, pos + 1)[0]
        raise self.error("Unknown length encoding %d in rdbLoadLen()" % first)

    def string(self) -> bytes:
        """A string in any of its encodings, as bytes (integers as their decimal text)."""
        data = self.data
        pos = self.pos
        end = self.end
        if pos >= end:
            raise self.truncated()
        first = data[pos]
        kind = first >> 6
        if kind == 0:
            start = pos + 1
            stop = start + first
        elif kind == 1:
            if pos + 2 > end:
                raise self.truncated()
            start = pos + 2
            stop = start + (((first & 0x3F) << 8) | data[pos + 1])
        elif kind == 3:
            return self._special_string(first & 0x3F)
        else:
            n = self.length()
            start = self.pos
            stop = start + n
        if stop > end:
            raise self.truncated()
        self.pos = stop
        return data[start:stop]

    def _special_string(self, code: int) -> bytes:
        pos = self.pos + 1
        data = self.data
        if code == 0:
            if pos + 1 > self.end:
                raise self.truncated()
            self.pos = pos + 1
            value = data[pos]
            return b"%d" % (value - 256 if value > 127 else value)
        if code == 1:
            if pos + 2 > self.end:
                raise self.truncated()
            self.pos = pos + 2
            return b"%d" % _I16.unpack_from(data, pos)[0]
        if code == 2:
            if pos + 4 > self.end:
                raise self.truncated()
            self.pos = pos + 4
            return b"%d" % _I32.unpack_from(data, pos)[0]
        if code == 3:
            self.pos = pos
            return self.lzf_string()
        raise self.error("Unknown RDB string encoding type %d" % code)

    def lzf_string(self) -> bytes:
        """The body of an LZF string (after its 0xC3 marker)."""
        start = self.pos
        clen = self.length()
        ulen = self.length()
        data = self.take(clen)
        # A back reference of 3 bytes expands to at most 264: a larger claim
        # is corrupt, and refusing it keeps the output bounded by the input.
        if ulen == 0 or ulen > clen * 88 + 32:
            self.pos = start
            raise self.error("Invalid LZF compressed string")
        try:
            return lzf.decompress(data, ulen)
        except lzf.LzfError:
            self.pos = start
            raise self.error("Invalid LZF compressed string") from None

    def binary_double(self) -> float:
        pos = self.pos
        if pos + 8 > self.end:
            raise self.truncated()
        self.pos = pos + 8
        return _F64.unpack_from(self.data, pos)[0]

    def binary_float(self) -> float:
        pos = self.pos
        if pos + 4 > self.end:
            raise self.truncated()
        self.pos = pos + 4
        return _F32.unpack_from(self.data, pos)[0]

    def string_double(self) -> float:
        """The old double encoding: a length byte (253 nan, 254 inf, 255 -inf) and text."""
        n = self.byte()
        if n == 253:
            return math.nan
        if n == 254:
            return math.inf
        if n == 255:
            return -math.inf
        text = self.take(n)
        try:
            return float(text)
        except ValueError:
            raise self.error("Invalid double value") from None

    def ms_time(self) -> int:
        pos = self.pos
        if pos + 8 > self.end:
            raise self.truncated()
        self.pos = pos + 8
        return _I64.unpack_from(self.data, pos)[0]

    def sec_time(self) -> int:
        pos = self.pos
        if pos + 4 > self.end:
            raise self.truncated()
        self.pos = pos + 4
        return _I32.unpack_from(self.data, pos)[0]


def encode_length(n: int) -> bytes:
    """A length in the shortest of Redis's forms."""
    if n < 64:
        return bytes((n,))
    if n < 16384:
        return bytes((0x40 | (n >> 8), n & 0xFF))
    if n <= 0xFFFFFFFF:
        return b"\x80" + _BE32.pack(n)
    return b"\x81" + _BE64.pack(n)


# Lengths below 64 are one byte: a table saves the call on the hot path.
_SHORT_LENGTHS = [bytes((n,)) for n in range(64)]
_INT_START = frozenset(b"-0123456789")


def _int_encoding(value: bytes) -> bytes | None:
    """Redis's rdbTryIntegerEncoding: a canonical int that fits 32 bits, as 0xC0/C1/C2."""
    try:
        number = int(value)
    except ValueError:
        return None
    if b"%d" % number != value:
        return None
    if -128 <= number <= 127:
        return bytes((0xC0, number & 0xFF))
    if -32768 <= number <= 32767:
        return b"\xc1" + _I16.pack(number)
    if -2147483648 <= number <= 2147483647:
        return b"\xc2" + _I32.pack(number)
    return None


def encode_string(value: bytes, compress: bool = True) -> bytes:
    """A string as Redis's rdbSaveRawString writes it."""
    n = len(value)
    if n <= 11 and n and value[0] in _INT_START:
        encoded = _int_encoding(value)
        if encoded is not None:
            return encoded
    if compress and n > 20:
        packed = lzf.compress(value, n - 4)
        if packed is not None:
            return b"\xc3" + encode_length(len(packed)) + encode_length(n) + packed
    if n < 64:
        return _SHORT_LENGTHS[n] + value
    return encode_length(n) + value


def encode_binary_double(value: float) -> bytes:
    return _F64.pack(value)


def format_double(value: float) -> bytes:
    """Redis's d2string: integers in ±2^62 without a dot, others as %.17g."""
    if math.isnan(value):
        return b"nan"
    if math.isinf(value):
        return b"inf" if value > 0 else b"-inf"
    if value == 0:
        return b"-0" if math.copysign(1.0, value) < 0 else b"0"
    if -4611686018427387903.0 <= value <= 4611686018427387903.0 and value == int(value):
        return b"%d" % int(value)
    return b"%.17g" % value


def encode_string_double(value: float) -> bytes:
    """The old string form of a double (Redis's rdbSaveDoubleValue)."""
    if math.isnan(value):
        return b"\xfd"
    if math.isinf(value):
        return b"\xfe" if value > 0 else b"\xff"
    if -4611686018427387903.0 <= value <= 4611686018427387903.0 and value == int(value):
        text = b"%d" % int(value)
    else:
        text = b"%.17g" % value
    return bytes((len(text),)) + text


def encode_ms_time(ms: int) -> bytes:
    return _I64.pack(ms)
