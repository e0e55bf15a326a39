# -*- test-case-name: tests.commands.test_scripting -*-
"""Argument checks of the Lua libraries, with Lua 5.1's error texts (luaL_check*).

An error is raised as :class:`LuaArgError`; the engine turns it into a Lua
error at the caller's level, ``{fn}`` in its text naming the function.
"""

from __future__ import annotations

import math
from typing import Any

from hush.commands.args import INT64_MIN


class LuaArgError(Exception):
    """A Lua library function's argument error (raised at the caller's level)."""


def lua_type_name(value: Any) -> str:
    """The Lua type of a value as lupa hands it over, for error texts."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, bytes):
        return "string"
    try:
        import lupa.lua51

        return str(lupa.lua51.lua_type(value))
    except Exception:
        return "userdata"


def check_number(args: tuple[Any, ...], index: int) -> float:
    """luaL_checknumber: a number, or a string Lua converts to one."""
    if index >= len(args):
        raise LuaArgError(f"bad argument #{index + 1} to '{{fn}}' (number expected, got no value)")
    value = args[index]
    if value.__class__ is int or value.__class__ is float:
        return value
    if value.__class__ is bytes:
        try:
            text = value.strip()
            return float(int(text, 16)) if text.lower().startswith(b"0x") else float(text)
        except ValueError:
            pass
    raise LuaArgError(
        f"bad argument #{index + 1} to '{{fn}}' (number expected, got {lua_type_name(value)})")


def check_string(args: tuple[Any, ...], index: int) -> bytes:
    """luaL_checklstring: a string, or a number as Lua prints it."""
    value = args[index] if index < len(args) else _NO_VALUE
    if value.__class__ is bytes:
        return value
    if value.__class__ is int or value.__class__ is float:
        return b"%.14g" % value
    got = "no value" if value is _NO_VALUE else lua_type_name(value)
    raise LuaArgError(f"bad argument #{index + 1} to '{{fn}}' (string expected, got {got})")


_NO_VALUE = object()


def check_int(args: tuple[Any, ...], index: int) -> int:
    """luaL_checkinteger: a number truncated to an integer (NaN and infinities: INT64_MIN)."""
    number = check_number(args, index)
    if number != number or number in (math.inf, -math.inf):
        return INT64_MIN
    return int(number)
