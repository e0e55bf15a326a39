# -*- test-case-name: tests.commands.test_scripting -*-
"""Values between Redis replies and Lua, as Redis 7.0 converts them.

:meth:`Converter.to_lua` is redisProtocolToLuaType (a command's reply as a
script sees it), :meth:`Converter.from_lua` is luaReplyToRedisReply (a
script's return value as a reply), in RESP2 or RESP3 as the script chose.
"""

from __future__ import annotations

import math
from typing import Any

from hush.commands.args import INT64_MAX, INT64_MIN
from hush.core.errors import CommandError, c_string, c_text, message_bytes
from hush.wire.resp import (
    NULL_ARRAY,
    BigNumber,
    Bulks,
    DoubleText,
    Push,
    Replies,
    RespMap,
    RespSet,
    SimpleString,
    Verbatim,
    format_double,
)


class Converter:
    """Conversions for one Lua state.

    @ivar lua: the lupa runtime (tables are made with it).
    @ivar rawget: the sandbox's ``rawget``, which reads a table without its metatable.
    @ivar lua_type: lupa's ``lua_type`` (``"table"`` for Lua tables).
    """

    def __init__(self, lua: Any, rawget: Any, lua_type: Any) -> None:
        self._lua = lua
        self.rawget = rawget
        self._lua_type = lua_type

    def error_table(self, message: str) -> Any:
        """``{err = message}``: how an error reply reaches a script."""
        table = self._lua.table()
        table[b"err"] = message_bytes(message)
        return table

    def to_lua(self, value: Any, resp3: bool) -> Any:
        """A command's reply as a script sees it (redisProtocolToLuaType)."""
        kind = value.__class__
        if kind is bytes or kind is int:
            return value
        if value is None or value is NULL_ARRAY:
            return None if resp3 else False
        lua = self._lua
        if kind is SimpleString:
            return lua.table_from({b"ok": bytes(value)})
        if kind is list or kind is tuple or kind is Bulks or kind is Push or kind is Replies:
            return lua.table_from([self.to_lua(item, resp3) for item in value])
        if isinstance(value, CommandError):
            return self.error_table(value.message)
        if kind is bool:
            return value if resp3 else int(value)
        if kind is float:
            return lua.table_from({b"double": value}) if resp3 else format_double(value)
        if kind is dict or kind is RespMap:
            pairs = value.items() if kind is dict else value
            if not resp3:
                flat = []
                for key, item in pairs:
                    flat.append(self.to_lua(key, resp3))
                    flat.append(self.to_lua(item, resp3))
                return lua.table_from(flat)
            inner = lua.table()
            for key, item in pairs:
                inner[self.to_lua(key, resp3)] = self.to_lua(item, resp3)
            return lua.table_from({b"map": inner})
        if kind is RespSet:
            if not resp3:
                return lua.table_from([self.to_lua(item, resp3) for item in value])
            inner = lua.table()
            for item in value:
                inner[self.to_lua(item, resp3)] = True
            return lua.table_from({b"set": inner})
        if kind is Verbatim:
            if not resp3:
                return bytes(value)
            return lua.table_from({b"verbatim_string": lua.table_from(
                {b"format": b"txt", b"string": bytes(value)})})
        if kind is BigNumber:
            return lua.table_from({b"big_number": bytes(value)}) if resp3 else bytes(value)
        if kind is DoubleText:
            return lua.table_from({b"double": float(value)}) if resp3 else bytes(value)
        if kind is str:
            return value.encode()
        return None

    def from_lua(self, value: Any, resp3: bool) -> Any:
        """A script's return value as a reply (luaReplyToRedisReply)."""
        kind = value.__class__
        if kind is bytes:
            return value
        if kind is int:
            return value if INT64_MIN <= value <= INT64_MAX else INT64_MIN
        if kind is float:
            return lua_integer(value)
        if kind is bool:
            if resp3:
                return value
            return 1 if value else None
        if value is None or self._lua_type(value) != "table":
            return None
        rawget = self.rawget
        error = rawget(value, b"err")
        if error.__class__ is bytes:
            # Redis reads both as C strings: they end at a NUL byte.
            return CommandError(c_text(error))
        status = rawget(value, b"ok")
        if status.__class__ is bytes:
            return SimpleString(_one_line(c_string(status)))
        double = rawget(value, b"double")
        if double.__class__ is int or double.__class__ is float:
            return float(double)
        big = rawget(value, b"big_number")
        if big.__class__ is bytes:
            return BigNumber(_one_line(big))
        verbatim = rawget(value, b"verbatim_string")
        if verbatim is not None and self._lua_type(verbatim) == "table":
            text = rawget(verbatim, b"string")
            if rawget(verbatim, b"format").__class__ is bytes and text.__class__ is bytes:
                return Verbatim(text)
        mapping = rawget(value, b"map")
        if mapping is not None and self._lua_type(mapping) == "table":
            return RespMap((self.from_lua(k, resp3), self.from_lua(v, resp3))
                           for k, v in mapping.items())
        members = rawget(value, b"set")
        if members is not None and self._lua_type(members) == "table":
            return RespSet(self.from_lua(k, resp3) for k in members.keys())
        items = []
        index = 1
        while True:
            item = rawget(value, index)
            if item is None:
                return items
            items.append(self.from_lua(item, resp3))
            index += 1


def _one_line(raw: bytes) -> bytes:
    return raw.replace(b"\r", b" ").replace(b"\n", b" ")


def lua_integer(value: float) -> int:
    """C's (long long) cast of a Lua number on x86-64: out of range is INT64_MIN."""
    if value != value or value in (math.inf, -math.inf):
        return INT64_MIN
    result = int(value)
    return result if INT64_MIN <= result <= INT64_MAX else INT64_MIN
