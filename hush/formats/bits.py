"""Bit operations on strings, as Redis 7.0's bitops.c does them.

Bit 0 is the most significant bit of the first byte. Reads past the end of
a string see zeros; writes grow the string with zero bytes, once, to the
highest bit the command touches.

Work on long strings is done by C code: popcounts with
``int.from_bytes(...).bit_count()``, AND/OR/XOR on whole strings as
integers, NOT with ``bytes.translate``, the bit search by converting 64 KB
chunks to integers. Measured on a loaded 2-core machine (random, all-ones
and all-zero data): BITCOUNT of 8 MB 5-16 ms, BITOP AND of two 8 MB strings
15-30 ms, NOT of 8 MB 5-8 ms, BITPOS through 8 MB 5-10 ms, SETBIT at bit
2**32-1 of a new key ~0.4 s (allocating 512 MB; redis-server: ~0.4 s too).

What the command handlers call (they look the key up and answer WRONGTYPE;
``value`` is the string, bytes or bytearray; ``buf`` a bytearray the key
holds and that is changed in place):

- SETBIT: :func:`parse_offset` ``(arg, proto_max_bulk_len)``,
  :func:`parse_bit_value` ``(arg)``, then :func:`setbit` ``(buf, offset, on)``
  -> ``(old bit, changed)`` (a missing key is an empty bytearray).
- GETBIT: :func:`parse_offset`, :func:`getbit` ``(value, offset)``.
- BITCOUNT: a missing key replies 0 before any argument is read; else the
  handler parses start and end as integers and calls :func:`bitcount`
  ``(value, start, end, unit)`` with the raw BYTE|BIT argument or None.
- BITPOS: :func:`parse_bitpos_bit` first (a missing key then replies
  ``-1 if bit else 0``); start, the unit (:func:`parse_unit`, checked before
  end is parsed) and end, then :func:`bitpos` ``(value, bit, start, end,
  unit)`` (None for what was not given).
- BITOP: :func:`parse_bitop` ``(op)``, :func:`check_bitop_sources`, then
  :func:`bitop` ``(op, values)`` (None for missing keys) -> the result; b""
  means the destination is deleted; the reply is its length.
- BITFIELD / BITFIELD_RO: the handler reads the subcommands with
  :func:`parse_bitfield_type` and :func:`parse_offset` ``(arg, limit,
  hash_bits=bits)`` into :class:`BitfieldOp`; then :func:`bitfield`
  ``(value, ops)`` -> ``(value, replies, changes)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hush.core.errors import SYNTAX, CommandError

NOT_OFFSET = "ERR bit offset is not an integer or out of range"
NOT_BIT = "ERR bit is not an integer or out of range"
NOT_INTEGER = "ERR value is not an integer or out of range"
BITPOS_BIT = "ERR The bit argument must be 1 or 0."
BITOP_NOT_ONE_KEY = "ERR BITOP NOT must be called with a single source key."
BAD_BITFIELD_TYPE = ("ERR Invalid bitfield type. Use something like i16 u8. "
                     "Note that u64 is not supported but i64 is.")
BAD_OVERFLOW = "ERR Invalid OVERFLOW type specified"
BITFIELD_RO_GET_ONLY = "ERR BITFIELD_RO only supports the GET subcommand"

_MASK64 = (1 << 64) - 1
_NOT = bytes(255 - b for b in range(256))
# Long strings are counted and searched in slices of this size, so that the
# integers made of them stay small.
_CHUNK = 1 << 20
_SEARCH_CHUNK = 1 << 16


# -- parsing ------------------------------------------------------------------------

def _string2ll(text: bytes) -> int | None:
    """Redis's strict integer syntax: no sign but '-', no leading zeros, no spaces."""
    if not text or len(text) >= 21:
        return None
    if text == b"0":
        return 0
    negative = text[:1] == b"-"
    digits = text[1:] if negative else text
    if not digits or not 0x31 <= digits[0] <= 0x39 or not digits.isdigit():
        return None
    value = int(digits)
    if negative:
        return -value if value <= 1 << 63 else None
    return value if value < 1 << 63 else None


def _int64(value: int) -> int:
    """Wrap to a signed 64-bit integer, as C arithmetic on long long does."""
    value &= _MASK64
    return value - (1 << 64) if value >> 63 else value


def parse_offset(arg: bytes, max_bytes: int | None, hash_bits: int = 0) -> int:
    """A bit offset (getBitOffsetFromArgument).

    ``max_bytes`` is proto-max-bulk-len (None for clients Redis does not
    limit: master and AOF); with ``hash_bits`` (BITFIELD) ``#N`` means
    ``N * hash_bits``.
    """
    use_hash = hash_bits > 0 and arg[:1] == b"#"
    value = _string2ll(arg[1:] if use_hash else arg)
    if value is None:
        raise CommandError(NOT_OFFSET)
    if use_hash:
        value = _int64(value * hash_bits)
    if value < 0 or (max_bytes is not None and (value >> 3) >= max_bytes):
        raise CommandError(NOT_OFFSET)
    return value


def parse_bit_value(arg: bytes) -> int:
    """SETBIT's value: 0 or 1."""
    value = _string2ll(arg)
    if value is None or value not in (0, 1):
        raise CommandError(NOT_BIT)
    return value


def parse_bitpos_bit(arg: bytes) -> int:
    """BITPOS's bit: an integer, then 0 or 1."""
    value = _string2ll(arg)
    if value is None:
        raise CommandError(NOT_INTEGER)
    if value not in (0, 1):
        raise CommandError(BITPOS_BIT)
    return value


def parse_unit(arg: bytes) -> bool:
    """BYTE or BIT (any case): True for BIT."""
    unit = arg.lower()
    if unit == b"bit":
        return True
    if unit == b"byte":
        return False
    raise CommandError(SYNTAX)


def parse_bitfield_type(arg: bytes) -> tuple[bool, int]:
    """``i1``..``i64`` or ``u1``..``u63``: (signed, bits)."""
    # Redis reads the type as a C string: it ends at a NUL byte.
    text = arg.split(b"\0", 1)[0]
    if text[:1] not in (b"i", b"u"):
        raise CommandError(BAD_BITFIELD_TYPE)
    signed = text[:1] == b"i"
    bits = _string2ll(text[1:])
    if bits is None or bits < 1 or bits > (64 if signed else 63):
        raise CommandError(BAD_BITFIELD_TYPE)
    return signed, bits


def parse_overflow(arg: bytes) -> str:
    """OVERFLOW's argument: ``"WRAP"``, ``"SAT"`` or ``"FAIL"``."""
    kind = arg.upper()
    if kind not in (b"WRAP", b"SAT", b"FAIL"):
        raise CommandError(BAD_OVERFLOW)
    return kind.decode()


def parse_bitop(op: bytes) -> str:
    """BITOP's operation: ``"AND"``, ``"OR"``, ``"XOR"`` or ``"NOT"``."""
    name = op.upper()
    if name not in (b"AND", b"OR", b"XOR", b"NOT"):
        raise CommandError(SYNTAX)
    return name.decode()


def check_bitop_sources(op: str, count: int) -> None:
    """NOT takes exactly one source key."""
    if op == "NOT" and count != 1:
        raise CommandError(BITOP_NOT_ONE_KEY)


# -- single bits --------------------------------------------------------------------

def grow(buf: bytearray, maxbit: int) -> bool:
    """Pad with zero bytes so that bit ``maxbit`` exists; True if it grew."""
    size = (maxbit >> 3) + 1
    if len(buf) >= size:
        return False
    # One extension: bytes(n) is calloc'ed, so a 512 MB SETBIT costs one copy.
    buf += bytes(size - len(buf))
    return True


def getbit(value: bytes | bytearray, offset: int) -> int:
    """GETBIT: the bit at ``offset`` (0 past the end)."""
    byte = offset >> 3
    if byte >= len(value):
        return 0
    return (value[byte] >> (7 - (offset & 7))) & 1


def setbit(buf: bytearray, offset: int, on: int) -> tuple[int, bool]:
    """SETBIT: ``(previous bit, whether the value changed)``; grows ``buf``."""
    grown = grow(buf, offset)
    byte = offset >> 3
    shift = 7 - (offset & 7)
    old = (buf[byte] >> shift) & 1
    if not grown and old == on:
        return old, False
    buf[byte] = (buf[byte] & ~(1 << shift) & 0xFF) | (on << shift)
    return old, True


# -- counting and searching ---------------------------------------------------------

def popcount(value: bytes | bytearray | memoryview) -> int:
    """Set bits in a byte string, in C-speed slices."""
    view = memoryview(value)
    return sum(int.from_bytes(view[i:i + _CHUNK], "big").bit_count()
               for i in range(0, len(view), _CHUNK))


def _range(length: int, start: int, end: int, in_bits: bool) -> tuple[int, int, int, int]:
    """Redis's start/end normalisation; with BIT, byte bounds and the masks
    of the bits outside the range in the first and the last byte."""
    total = length << 3 if in_bits else length
    if start < 0:
        start += total
    if end < 0:
        end += total
    start = max(start, 0)
    end = max(end, 0)
    if end >= total:
        end = total - 1
    first_mask = last_mask = 0
    if in_bits and start <= end:
        first_mask = ~((1 << (8 - (start & 7))) - 1) & 0xFF
        last_mask = (1 << (7 - (end & 7))) - 1
        start >>= 3
        end >>= 3
    return start, end, first_mask, last_mask


def bitcount(value: bytes | bytearray, start: int | None = None, end: int | None = None,
             unit: bytes | None = None) -> int:
    """BITCOUNT of an existing key, over [start, end] (bytes, or bits with BIT).

    A range of two negative indexes the wrong way round is 0 before the unit
    is even looked at, as in Redis.
    """
    if start is None or end is None:
        return popcount(value)
    if start < 0 and end < 0 and start > end:
        return 0
    in_bits = parse_unit(unit) if unit is not None else False
    start, end, first_mask, last_mask = _range(len(value), start, end, in_bits)
    if start > end:
        return 0
    count = popcount(memoryview(value)[start:end + 1])
    return count - (value[start] & first_mask).bit_count() - (value[end] & last_mask).bit_count()


def _find_bit(value: bytes | bytearray | memoryview, start: int, stop: int, bit: int) -> int:
    """redisBitpos over bytes [start, stop): the first ``bit`` from ``start``.

    Not found: -1 for a 1; for a 0 the bit just past the range (the string
    is taken as padded with zeros).
    """
    view = memoryview(value)
    pos = start
    while pos < stop:
        end = min(stop, pos + _SEARCH_CHUNK)
        width = (end - pos) << 3
        chunk = int.from_bytes(view[pos:end], "big")
        if not bit:
            chunk ^= (1 << width) - 1
        if chunk:
            return ((pos - start) << 3) + width - chunk.bit_length()
        pos = end
    return -1 if bit else (stop - start) << 3


def bitpos(value: bytes | bytearray, bit: int, start: int | None = None, end: int | None = None,
           unit: bytes | None = None) -> int:
    """BITPOS of an existing key; ``end`` None when not given (then clear bits
    are searched past the end of the string, as Redis does)."""
    end_given = end is not None
    in_bits = False
    if start is None:
        start, end = 0, len(value) - 1
    else:
        in_bits = parse_unit(unit) if unit is not None else False
        if end is None:
            end = (len(value) << 3) + 7 if in_bits else len(value) - 1
    start, end, first_mask, last_mask = _range(len(value), start, end, in_bits)
    if start > end:
        return -1
    size = end - start + 1
    pos = -1
    done = False
    if first_mask:
        byte = value[start] & ~first_mask if bit else value[start] | first_mask
        if last_mask and size == 1:
            byte = byte & ~last_mask if bit else byte | last_mask
        pos = _find_bit(bytes([byte & 0xFF]), 0, 1, bit)
        if size == 1 or (pos != -1 and pos != 8):
            done = True
        else:
            start += 1
            size -= 1
    if not done:
        middle = size - (1 if last_mask else 0)
        if middle > 0:
            pos = _find_bit(value, start, start + middle, bit)
            if size == middle or (pos != -1 and pos != middle << 3):
                done = True
            else:
                start += middle
                size -= middle
    if not done:
        byte = value[end] & ~last_mask if bit else value[end] | last_mask
        pos = _find_bit(bytes([byte & 0xFF]), 0, 1, bit)
    # With an explicit end the range is not zero padded: a clear bit found
    # just past it is no clear bit.
    if end_given and bit == 0 and pos == size << 3:
        return -1
    return pos + (start << 3) if pos != -1 else -1


def bitop(op: str, values: Sequence[bytes | bytearray | None]) -> bytes | bytearray:
    """BITOP: the result, as long as the longest source (missing keys and
    short strings count as zero bytes); empty when every source is empty.

    NOT of a bytearray is a new bytearray (no extra copy of a long string).
    """
    sources = [v if v is not None else b"" for v in values]
    size = max((len(v) for v in sources), default=0)
    if not size:
        return b""
    if op == "NOT":
        return sources[0].translate(_NOT)
    # Little endian: a short string's missing tail is the integer's zero top.
    result = int.from_bytes(sources[0], "little")
    for source in sources[1:]:
        other = int.from_bytes(source, "little")
        if op == "AND":
            result &= other
        elif op == "OR":
            result |= other
        else:
            result ^= other
    return result.to_bytes(size, "little")


# -- BITFIELD -----------------------------------------------------------------------

@dataclass(frozen=True)
class BitfieldOp:
    """One BITFIELD subcommand: ``kind`` GET, SET or INCRBY; ``overflow`` the
    OVERFLOW in force when it was read (WRAP, SAT or FAIL)."""

    kind: str
    signed: bool
    bits: int
    offset: int
    value: int = 0
    overflow: str = "WRAP"


def get_unsigned(value: bytes | bytearray, offset: int, bits: int) -> int:
    """The ``bits``-bit unsigned integer at bit ``offset`` (zeros past the end)."""
    first = offset >> 3
    last = (offset + bits - 1) >> 3
    chunk = bytes(value[first:last + 1]).ljust(last - first + 1, b"\0")
    shift = ((last - first + 1) << 3) - (offset & 7) - bits
    return (int.from_bytes(chunk, "big") >> shift) & ((1 << bits) - 1)


def get_signed(value: bytes | bytearray, offset: int, bits: int) -> int:
    """The two's complement ``bits``-bit integer at bit ``offset``."""
    raw = get_unsigned(value, offset, bits)
    return raw - (1 << bits) if raw >> (bits - 1) else raw


def set_field(buf: bytearray, offset: int, bits: int, value: int) -> None:
    """Store the low ``bits`` bits of ``value`` at bit ``offset`` (buf is long enough)."""
    first = offset >> 3
    last = (offset + bits - 1) >> 3
    shift = ((last - first + 1) << 3) - (offset & 7) - bits
    mask = ((1 << bits) - 1) << shift
    current = int.from_bytes(buf[first:last + 1], "big")
    current = (current & ~mask) | ((value << shift) & mask)
    buf[first:last + 1] = current.to_bytes(last - first + 1, "big")


def check_unsigned(value: int, incr: int, bits: int, overflow: str) -> tuple[bool, int]:
    """checkUnsignedBitfieldOverflow: (overflowed, the value to store instead).

    ``value`` is a uint64 (a SET of a negative number arrives wrapped).
    """
    top = (1 << bits) - 1
    max_incr = _int64(top - value)
    min_incr = _int64(-value)
    if value > top or (incr > 0 and incr > max_incr):
        limit = top
    elif incr < 0 and incr < min_incr:
        limit = 0
    else:
        return False, 0
    if overflow == "WRAP":
        limit = (value + incr) & top
    return True, limit


def check_signed(value: int, incr: int, bits: int, overflow: str) -> tuple[bool, int]:
    """checkSignedBitfieldOverflow: (overflowed, the value to store instead)."""
    top = (1 << (bits - 1)) - 1
    bottom = -top - 1
    # Redis computes these with 64-bit wrap-around and only uses them where
    # the wrap cannot matter; doing the same keeps every branch identical.
    max_incr = _int64(top - value)
    min_incr = _int64(bottom - value)
    if (value > top or (bits != 64 and incr > max_incr)
            or (value >= 0 and incr > 0 and incr > max_incr)):
        limit = top
    elif (value < bottom or (bits != 64 and incr < min_incr)
            or (value < 0 and incr < 0 and incr < min_incr)):
        limit = bottom
    else:
        return False, 0
    if overflow == "WRAP":
        wrapped = (value + incr) & _MASK64
        if bits < 64:
            wrapped &= (1 << bits) - 1
            if wrapped >> (bits - 1):
                wrapped -= 1 << bits
        limit = _int64(wrapped)
    return True, limit


def bitfield_write_extent(ops: Sequence[BitfieldOp]) -> int | None:
    """The highest bit a SET or INCRBY writes, None when all are GET."""
    writes = [op.offset + op.bits - 1 for op in ops if op.kind != "GET"]
    return max(writes) if writes else None


def bitfield(value: bytes | bytearray | None, ops: Sequence[BitfieldOp]
             ) -> tuple[bytes | bytearray | None, list[int | None], int]:
    """BITFIELD: ``(value, replies, changes)``.

    With only GETs the value is read as it is (None: a missing key). A SET
    or INCRBY makes it a bytearray grown to the highest bit written (a new
    one for a missing key), changed in place; ``changes`` counts the writes
    Redis counts (every write once the string was created or grown), for
    the keyspace signal and the dirty counter. A FAIL overflow replies None.
    """
    extent = bitfield_write_extent(ops)
    dirty = False
    if extent is not None:
        if value is None:
            value, dirty = bytearray(), True
        elif not isinstance(value, bytearray):
            value = bytearray(value)
        dirty = grow(value, extent) or dirty
    replies: list[int | None] = []
    changes = 0
    for op in ops:
        if op.kind == "GET":
            if value is None:
                replies.append(0)
            elif op.signed:
                replies.append(get_signed(value, op.offset, op.bits))
            else:
                replies.append(get_unsigned(value, op.offset, op.bits))
            continue
        assert isinstance(value, bytearray)
        if op.signed:
            old = get_signed(value, op.offset, op.bits)
            if op.kind == "INCRBY":
                overflowed, limit = check_signed(old, op.value, op.bits, op.overflow)
                new = limit if overflowed else old + op.value
                reply = new
            else:
                overflowed, limit = check_signed(op.value, 0, op.bits, op.overflow)
                new = limit if overflowed else op.value
                reply = old
        else:
            old = get_unsigned(value, op.offset, op.bits)
            if op.kind == "INCRBY":
                overflowed, limit = check_unsigned(old, op.value, op.bits, op.overflow)
                new = limit if overflowed else (old + op.value) & _MASK64
                reply = new
            else:
                wrapped = op.value & _MASK64
                overflowed, limit = check_unsigned(wrapped, 0, op.bits, op.overflow)
                new = limit if overflowed else wrapped
                reply = old
        if overflowed and op.overflow == "FAIL":
            replies.append(None)
            continue
        replies.append(reply)
        set_field(value, op.offset, op.bits, new)
        if dirty or old != new:
            changes += 1
    return value, replies, changes
