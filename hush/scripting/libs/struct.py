# -*- test-case-name: tests.commands.test_scripting -*-
"""lua-struct 0.2 (Redis's ``struct`` Lua library): pack, unpack and size of binary records.

Formats as Roberto Ierusalimschy's library reads them on x86-64 (little-endian
native order, int 4 bytes, long and size_t 8, at most 8-byte alignment):
``>``/``<`` byte order, ``![n]`` alignment, ``x`` padding, ``b B h H l L T``,
``i[n] I[n]`` (n bytes, at most 32), ``f d``, ``c[n]`` (``c0``: whole string,
or in unpack the previous number as length), ``s`` zero-terminated.
"""

from __future__ import annotations

import struct as _struct
from typing import Any

from hush.scripting.libs.cmsgpack import LuaLibraryError

MAX_INT_SIZE = 32
MAX_ALIGN = 8
_SIZES = {"b": 1, "B": 1, "h": 2, "H": 2, "l": 8, "L": 8, "T": 8, "f": 4, "d": 8, "x": 1}
_INTEGERS = frozenset("bBhHlLTiI")


class _Format:
    """A cursor over a format string, with its byte order and alignment."""

    def __init__(self, fmt: bytes) -> None:
        self.fmt = fmt.decode("latin-1")
        self.pos = 0
        self.little = True
        self.align = 1

    def __iter__(self) -> _Format:
        return self

    def __next__(self) -> tuple[str, int]:
        if self.pos >= len(self.fmt):
            raise StopIteration
        option = self.fmt[self.pos]
        self.pos += 1
        return option, self._size(option)

    def _number(self, default: int) -> int:
        start = self.pos
        while self.pos < len(self.fmt) and self.fmt[self.pos].isdigit():
            self.pos += 1
        return int(self.fmt[start:self.pos]) if self.pos > start else default

    def _size(self, option: str) -> int:
        if option in _SIZES:
            return _SIZES[option]
        if option == "c":
            return self._number(1)
        if option in "iI":
            size = self._number(4)
            if size > MAX_INT_SIZE:
                raise LuaLibraryError(
                    f"integral size {size} is larger than limit of {MAX_INT_SIZE}")
            return size
        return 0

    def padding(self, length: int, option: str, size: int) -> int:
        if size == 0 or option == "c":
            return 0
        size = min(size, self.align)
        return (size - (length & (size - 1))) & (size - 1)

    def control(self, option: str) -> None:
        if option == " ":
            return
        if option == ">":
            self.little = False
        elif option == "<":
            self.little = True
        elif option == "!":
            align = self._number(MAX_ALIGN)
            if align <= 0 or align & (align - 1):
                raise LuaLibraryError(f"alignment {align} is not a power of 2")
            self.align = align
        else:
            raise LuaLibraryError(f"bad argument #1 to '{{fn}}' (invalid format option '{option}')")


def _type_name(value: Any) -> str:
    if value is None:
        return "nil"
    if value.__class__ is bool:
        return "boolean"
    if value.__class__ is bytes:
        return "string"
    return "table"


def _number(args: tuple[Any, ...], index: int) -> float:
    value = args[index] if index < len(args) else None
    if value.__class__ is int or value.__class__ is float:
        return value
    if value.__class__ is bytes:
        try:
            return float(value)
        except ValueError:
            pass
    raise LuaLibraryError(
        f"bad argument #{index + 1} to '{{fn}}' (number expected, got {_type_name(value)})")


def _string(args: tuple[Any, ...], index: int, missing: str = "nil") -> bytes:
    value = args[index] if index < len(args) else None
    if value.__class__ is bytes:
        return value
    if value.__class__ is int or value.__class__ is float:
        return b"%.14g" % value
    got = missing if index >= len(args) else _type_name(value)
    raise LuaLibraryError(f"bad argument #{index + 1} to '{{fn}}' (string expected, got {got})")


def pack(*args: Any) -> bytes:
    """struct.pack(fmt, ...)."""
    fmt = _Format(_string(args, 0, "no value"))
    out = bytearray()
    arg = 1
    for option, size in fmt:
        out += bytes(fmt.padding(len(out), option, size))
        if option in _INTEGERS:
            number = _number(args, arg)
            arg += 1
            # (Uinttype)(Inttype)n: the number's 64-bit two's complement,
            # its low `size` bytes (zeros beyond 8).
            value = int(number) & ((1 << 64) - 1)
            if size <= 8:
                raw = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
            else:
                raw = value.to_bytes(8, "little") + bytes(size - 8)
            out += raw if fmt.little else raw[::-1]
        elif option == "x":
            out.append(0)
        elif option in "fd":
            number = float(_number(args, arg))
            arg += 1
            code = ("<" if fmt.little else ">") + option
            try:
                out += _struct.pack(code, number)
            except OverflowError:
                out += _struct.pack(code, float("inf") if number > 0 else float("-inf"))
        elif option in "cs":
            text = _string(args, arg)
            arg += 1
            if size == 0:
                size = len(text)
            if len(text) < size:
                raise LuaLibraryError(f"bad argument #{arg + 1} to '{{fn}}' (string too short)")
            out += text[:size]
            if option == "s":
                out.append(0)
        else:
            fmt.control(option)
    return bytes(out)


def unpack(*args: Any) -> list[Any]:
    """struct.unpack(fmt, data [, init]): the values, then the next position."""
    fmt = _Format(_string(args, 0, "no value"))
    data = _string(args, 1, "no value")
    start = int(_number(args, 2)) if len(args) > 2 and args[2] is not None else 1
    if start <= 0:
        raise LuaLibraryError("bad argument #3 to '{fn}' (offset must be 1 or greater)")
    pos = start - 1
    values: list[Any] = []
    for option, size in fmt:
        pos += fmt.padding(pos, option, size)
        if size > len(data) or pos > len(data) - size:
            raise LuaLibraryError("bad argument #2 to '{fn}' (data string too short)")
        if option in _INTEGERS:
            raw = data[pos:pos + size]
            if not fmt.little:
                raw = raw[::-1]
            value = int.from_bytes(raw, "little") & ((1 << 64) - 1)
            if option.islower():
                sign = 1 << min(size * 8 - 1, 63)
                if value & sign:
                    value -= 1 << 64 if size >= 8 else 1 << (size * 8)
            values.append(value if -(2**53) <= value <= 2**53 else float(value))
        elif option in "fd":
            code = ("<" if fmt.little else ">") + option
            values.append(_struct.unpack(code, data[pos:pos + size])[0])
        elif option == "c":
            if size == 0:
                if not values or values[-1].__class__ not in (int, float):
                    raise LuaLibraryError("format 'c0' needs a previous size")
                size = int(values.pop())
                if size > len(data) or pos > len(data) - size:
                    raise LuaLibraryError("bad argument #2 to '{fn}' (data string too short)")
            values.append(data[pos:pos + size])
        elif option == "s":
            end = data.find(b"\0", pos)
            if end < 0:
                raise LuaLibraryError("unfinished string in data")
            size = end - pos + 1
            values.append(data[pos:end])
        elif option != "x":
            fmt.control(option)
        pos += size
    values.append(pos + 1)
    return values


def size(*args: Any) -> int:
    """struct.size(fmt): the bytes a fixed-size format packs to."""
    fmt = _Format(_string(args, 0, "no value"))
    pos = 0
    for option, width in fmt:
        pos += fmt.padding(pos, option, width)
        if option == "s":
            raise LuaLibraryError("bad argument #1 to '{fn}' (option 's' has no fixed size)")
        if option == "c" and width == 0:
            raise LuaLibraryError("bad argument #1 to '{fn}' (option 'c0' has no fixed size)")
        if not option.isalnum():
            fmt.control(option)
        pos += width
    return pos

