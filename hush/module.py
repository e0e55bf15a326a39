"""Hush's module API: commands written in Python, loaded into a running server.

This is the stable import path for module authors; everything a module
needs is here. A module is a Python file (or an importable module) holding
one :class:`Module`::

    from hush.module import Module, CommandError, OK

    module = Module("hello", version=1)

    @module.command("hello.set", arity=3, flags=("write", "denyoom", "fast"),
                    keys=(1, 1, 1), acl=("string",), summary="Store a greeting")
    def hello_set(ctx, key, name):
        ctx.db.set(key, b"hello " + name)
        return OK

It is loaded with ``loadmodule /path/hello.py`` in the config file,
``--loadmodule /path/hello.py`` (or an import path, ``--loadmodule
mypackage.hello``), or ``MODULE LOAD`` at run time, and its commands then
run through the same dispatcher as Hush's own: arity checks, ACL
categories, MULTI, ``redis.call`` from scripts, the AOF, COMMAND
INFO/DOCS, INFO commandstats, the slow log and MONITOR.

What a handler may use:

``ctx.db``
    The client's selected database (:class:`hush.data.store.Database`):
    ``get(key)`` (the value or None; counts as a use), ``peek(key)`` (no
    use), ``exists(key)``, ``get_typed(key, cls)`` (None if absent,
    WRONGTYPE if another type), ``set(key, value, keep_ttl=False)``,
    ``delete(key)``, ``pop_value(key)``, ``get_expire(key)`` /
    ``set_expire(key, deadline_ms)`` / ``persist(key)``, ``keys(pattern)``,
    and, after changing a stored value in place, ``modified(key)`` (or
    ``pushed(key)`` when it may serve clients blocked on the key). Values
    are the classes of :mod:`hush.data.types`: ``bytes`` (strings), ``deque``
    (lists), ``dict`` (hashes), ``set`` (sets), ``ZSet``, ``Stream``.
:func:`now_ms`
    The server clock in milliseconds (it follows HUSH.CLOCK ADVANCE on test
    servers); never read ``time.time()``.
:func:`call`
    Run any command and get its reply (``call(ctx, "ZADD", key, 1, "m")``),
    as Redis's ``RedisModule_Call``.
:func:`replicate`
    What the AOF logs instead of the command's own arguments, for commands
    whose effect depends on the time or on chance.
Replies
    Plain values as for built-in commands: ``bytes`` (bulk string),
    ``int``, ``None`` (null), ``list`` (array), :data:`OK` and
    :class:`SimpleString` (status), :class:`RespMap` / ``dict`` (map in
    RESP3, flat array in RESP2), :class:`RespSet`, ``float`` (double);
    errors are raised as :class:`CommandError` (``"ERR ..."``,
    ``"WRONGTYPE ..."``: the text starts with its code).
Blocking
    Return :func:`block` ``(ctx, keys, timeout, serve, timeout_reply)``:
    the client waits until ``serve(key)`` returns a reply instead of
    :data:`NOT_READY` (it is tried whenever a key is written with
    ``set``/``pushed``) or until ``timeout`` seconds pass (0: forever).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hush.commands.modules import LOADED, Module, ModuleError, call
from hush.commands.table import keynum_spec, range_spec
from hush.core.errors import CommandError, WrongType
from hush.data.blocking import NOT_READY, Block
from hush.wire.resp import NULL_ARRAY, OK, RespMap, RespSet, SimpleString

__all__ = [
    "LOADED", "NOT_READY", "NULL_ARRAY", "OK", "Block", "CommandError", "Module", "ModuleError",
    "RespMap", "RespSet", "SimpleString", "WrongType", "block", "call", "keynum_spec",
    "now_ms", "range_spec", "replicate",
]


def now_ms(ctx: Any) -> int:
    """The server's time in milliseconds (frozen while a script runs, as in Redis)."""
    return ctx.store.now_ms()


def replicate(ctx: Any, *commands: Sequence[bytes | str | int]) -> None:
    """Log these commands to the AOF instead of the running command's arguments.

    ``replicate(ctx, ["SET", key, value, "PXAT", deadline])``; with no
    commands, the run is not logged at all.
    """
    argvs = [[a if isinstance(a, bytes) else str(a).encode() for a in argv] for argv in commands]
    ctx.propagate_instead(*argvs)


def block(ctx: Any, keys: Sequence[bytes], timeout: float, serve: Callable[[bytes], Any],
          timeout_reply: Any = None) -> Any:
    """Block the client on ``keys`` as BLPOP does; return this from the handler.

    ``serve(key)`` returns the reply once ``key`` has what the client waits
    for, else :data:`NOT_READY`. Inside MULTI, a script or :func:`call`,
    where nothing may wait, the timeout reply comes at once, as for BLPOP.
    """
    if ctx.in_multi:
        return timeout_reply
    return Block(keys, timeout, serve, timeout_reply)
