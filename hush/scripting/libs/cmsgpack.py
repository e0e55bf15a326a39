# -*- test-case-name: tests.commands.test_scripting -*-
"""lua-cmsgpack 0.4.0 (Redis's ``cmsgpack`` Lua library), on Python values from lupa.

:func:`pack` walks Lua values as lupa hands them over (tables through the
runtime's raw ``next`` order, as the C library's ``lua_next``); :func:`unpack`
builds Lua values with a ``new_table`` factory. Errors are raised as
:class:`LuaLibraryError` with the C library's texts.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import Any

#: Tables nested deeper than this are packed as nil (lua-cmsgpack's guard
#: against circular references).
MAX_NESTING = 16


class LuaLibraryError(Exception):
    """A library error for the Lua side to raise (the message, with ``{fn}`` for the name)."""


class _Truncated(Exception):
    pass


class _BadFormat(Exception):
    pass


def pack(values: tuple[Any, ...], lua_type: Callable[[Any], str]) -> bytes:
    """cmsgpack.pack(...): every argument encoded, concatenated."""
    if not values:
        raise LuaLibraryError("bad argument #0 to '{fn}' (MessagePack pack needs input.)")
    out = bytearray()
    for value in values:
        _encode(out, value, 0, lua_type)
    return bytes(out)


def _encode(out: bytearray, value: Any, level: int, lua_type: Callable[[Any], str]) -> None:
    kind = value.__class__
    if kind is bytes:
        _encode_bytes(out, value)
    elif kind is bool:
        out.append(0xC3 if value else 0xC2)
    elif kind is int:
        _encode_int(out, value)
    elif kind is float:
        if not math.isinf(value) and value == value and -(2**63) <= value < 2**63 \
                and float(int(value)) == value:
            _encode_int(out, int(value))
        else:
            _encode_double(out, value)
    elif value is not None and lua_type(value) == "table" and level < MAX_NESTING:
        _encode_table(out, value, level, lua_type)
    else:
        out.append(0xC0)


def _encode_int(out: bytearray, n: int) -> None:
    if n >= 0:
        if n <= 127:
            out.append(n)
        elif n <= 0xFF:
            out += b"\xcc" + n.to_bytes(1, "big")
        elif n <= 0xFFFF:
            out += b"\xcd" + n.to_bytes(2, "big")
        elif n <= 0xFFFFFFFF:
            out += b"\xce" + n.to_bytes(4, "big")
        else:
            out += b"\xcf" + (n & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")
    elif n >= -32:
        out.append(n & 0xFF)
    elif n >= -128:
        out += b"\xd0" + n.to_bytes(1, "big", signed=True)
    elif n >= -32768:
        out += b"\xd1" + n.to_bytes(2, "big", signed=True)
    elif n >= -2147483648:
        out += b"\xd2" + n.to_bytes(4, "big", signed=True)
    else:
        out += b"\xd3" + n.to_bytes(8, "big", signed=True)


def _encode_double(out: bytearray, value: float) -> None:
    try:
        single = struct.pack(">f", value)
    except OverflowError:
        single = None
    if single is not None and struct.unpack(">f", single)[0] == value:
        out += b"\xca" + single
    else:
        out += b"\xcb" + struct.pack(">d", value)


def _encode_bytes(out: bytearray, value: bytes) -> None:
    size = len(value)
    if size < 32:
        out.append(0xA0 | size)
    elif size <= 0xFF:
        out += b"\xd9" + size.to_bytes(1, "big")
    elif size <= 0xFFFF:
        out += b"\xda" + size.to_bytes(2, "big")
    else:
        out += b"\xdb" + size.to_bytes(4, "big")
    out += value


def _encode_table(out: bytearray, table: Any, level: int, lua_type: Callable[[Any], str]) -> None:
    items = list(table.items())
    count = largest = 0
    is_array = True
    for key, _ in items:
        if key.__class__ not in (int, float) or key < 1 or int(key) != key:
            is_array = False
            break
        count += 1
        largest = max(largest, int(key))
    if is_array and largest == count:
        length = len(table)
        _header(out, length, 0x90, b"\xdc", b"\xdd")
        for index in range(1, length + 1):
            _encode(out, table[index], level + 1, lua_type)
        return
    _header(out, len(items), 0x80, b"\xde", b"\xdf")
    for key, value in items:
        _encode(out, key, level + 1, lua_type)
        _encode(out, value, level + 1, lua_type)


def _header(out: bytearray, size: int, fix: int, short: bytes, long: bytes) -> None:
    if size <= 15:
        out.append(fix | size)
    elif size <= 0xFFFF:
        out += short + size.to_bytes(2, "big")
    else:
        out += long + size.to_bytes(4, "big")


def unpack(data: bytes, limit: int, offset: int, decode_all: bool,
           new_table: Callable[[], Any]) -> list[Any]:
    """mp_unpack_full: the decoded values, led by the next offset unless decoding all."""
    if offset < 0 or limit < 0:
        raise LuaLibraryError(
            f"Invalid request to unpack with offset of {offset} and limit of {len(data)}.")
    if offset > len(data):
        raise LuaLibraryError(f"Start offset {offset} greater than input length {len(data)}.")
    if decode_all:
        limit = 2**31 - 1
    values: list[Any] = []
    pos = offset
    try:
        while pos < len(data) and len(values) < limit:
            value, pos = _decode(data, pos, new_table)
            values.append(value)
    except _Truncated:
        raise LuaLibraryError("Missing bytes in input.") from None
    except _BadFormat:
        raise LuaLibraryError("Bad data format in input.") from None
    if not decode_all:
        values.insert(0, -1 if pos >= len(data) else pos)
    return values


def _take(data: bytes, pos: int, size: int) -> bytes:
    if pos + size > len(data):
        raise _Truncated()
    return data[pos:pos + size]


def _number(value: int) -> int | float:
    # Lua numbers are doubles; lupa only carries int64 as integers.
    return value if -(2**53) <= value <= 2**53 else float(value)


_UINTS = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}
_INTS = {0xD0: 1, 0xD1: 2, 0xD2: 4, 0xD3: 8}
_STRS = {0xD9: 1, 0xDA: 2, 0xDB: 4}


def _decode(data: bytes, pos: int, new_table: Callable[[], Any]) -> tuple[Any, int]:
    tag = _take(data, pos, 1)[0]
    pos += 1
    if tag <= 0x7F:
        return tag, pos
    if tag >= 0xE0:
        return tag - 0x100, pos
    if 0xA0 <= tag <= 0xBF:
        size = tag & 0x1F
        return _take(data, pos, size), pos + size
    if 0x90 <= tag <= 0x9F:
        return _decode_array(data, pos, tag & 0x0F, new_table)
    if 0x80 <= tag <= 0x8F:
        return _decode_map(data, pos, tag & 0x0F, new_table)
    if tag == 0xC0:
        return None, pos
    if tag in (0xC2, 0xC3):
        return tag == 0xC3, pos
    if tag in _UINTS:
        size = _UINTS[tag]
        return _number(int.from_bytes(_take(data, pos, size), "big")), pos + size
    if tag in _INTS:
        size = _INTS[tag]
        return _number(int.from_bytes(_take(data, pos, size), "big", signed=True)), pos + size
    if tag == 0xCA:
        return struct.unpack(">f", _take(data, pos, 4))[0], pos + 4
    if tag == 0xCB:
        return struct.unpack(">d", _take(data, pos, 8))[0], pos + 8
    if tag in _STRS:
        width = _STRS[tag]
        size = int.from_bytes(_take(data, pos, width), "big")
        pos += width
        return _take(data, pos, size), pos + size
    if tag in (0xDC, 0xDD, 0xDE, 0xDF):
        width = 2 if tag in (0xDC, 0xDE) else 4
        size = int.from_bytes(_take(data, pos, width), "big")
        pos += width
        if tag in (0xDC, 0xDD):
            return _decode_array(data, pos, size, new_table)
        return _decode_map(data, pos, size, new_table)
    raise _BadFormat()


def _decode_array(data: bytes, pos: int, size: int,
                  new_table: Callable[[], Any]) -> tuple[Any, int]:
    table = new_table()
    for index in range(1, size + 1):
        value, pos = _decode(data, pos, new_table)
        if value is not None:
            table[index] = value
    return table, pos


def _decode_map(data: bytes, pos: int, size: int,
                new_table: Callable[[], Any]) -> tuple[Any, int]:
    table = new_table()
    for _ in range(size):
        key, pos = _decode(data, pos, new_table)
        value, pos = _decode(data, pos, new_table)
        if key is not None and value is not None:
            table[key] = value
    return table, pos
