# -*- test-case-name: tests.test_strings -*-
"""String commands (GET, SET, INCR, ...)."""

from __future__ import annotations

from hush.commands.table import command
from hush.resp import OK

GROUP = "string"


@command("get", arity=2, flags=("readonly", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Returns the string value of a key.")
def get(ctx, key: bytes):
    return ctx.db.get_string(key)


@command("set", arity=-3, flags=("write", "denyoom"), keys=(1, 1, 1), group=GROUP,
         summary="Sets the string value of a key, ignoring its type.")
def set_(ctx, key: bytes, value: bytes, *options: bytes):
    ctx.db.set(key, value)
    return OK
