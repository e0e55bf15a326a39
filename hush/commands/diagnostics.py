# -*- test-case-name: tests.unit.ops.test_slowlog -*-
"""Diagnostics commands: SLOWLOG, MONITOR, DEBUG."""

from __future__ import annotations

import time
from typing import Any

from hush.commands.args import parse_float, parse_int
from hush.commands.keys import encoding_of
from hush.commands.table import command, container, help_command, help_reply
from hush.core.errors import NO_SUCH_KEY, CommandError, SubcommandSyntax, c_text
from hush.data.types import string
from hush.ops.clientinfo import is_local
from hush.ops.monitor import start_monitoring
from hush.wire.resp import NO_REPLY, OK, SimpleString

GROUP = "server"
_ADMIN = ("admin", "loading", "stale")
_ADMIN_ACL = ("admin", "slow", "dangerous")

# -- SLOWLOG -----------------------------------------------------------------

container("slowlog", group=GROUP, since="2.2.12", summary="A container for slow log commands")


@command("slowlog|get", arity=-2, flags=_ADMIN, group=GROUP, since="2.2.12",
         summary="Get the slow log's entries", acl=_ADMIN_ACL,
         tips=("request_policy:all_nodes", "nondeterministic_output"))
def slowlog_get(ctx, *args: bytes) -> list[list[Any]]:
    """The newest entries (10 by default, all for -1)."""
    if len(args) > 1:
        raise SubcommandSyntax("SLOWLOG", "GET")
    count = 10
    if args:
        error = "ERR count should be greater than or equal to -1"
        count = parse_int(args[0], error)
        if count < -1:
            raise CommandError(error)
    return ctx.server.slowlog.get(count)


@command("slowlog|len", arity=2, flags=_ADMIN, group=GROUP, since="2.2.12",
         summary="Get the slow log's length", acl=_ADMIN_ACL,
         tips=("request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output"))
def slowlog_len(ctx) -> int:
    """How many entries the log holds."""
    return len(ctx.server.slowlog.entries)


@command("slowlog|reset", arity=2, flags=_ADMIN, group=GROUP, since="2.2.12",
         summary="Clear all entries from the slow log", acl=_ADMIN_ACL,
         tips=("request_policy:all_nodes", "response_policy:all_succeeded"))
def slowlog_reset(ctx):
    """Empty the log."""
    ctx.server.slowlog.reset()
    return OK


_SLOWLOG_HELP = [
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
]


help_command("slowlog", _SLOWLOG_HELP, group=GROUP, since="6.2.0", acl=("slow",))


# -- MONITOR -----------------------------------------------------------------


@command("monitor", arity=1, flags=("admin", "noscript", "loading", "stale"), group=GROUP,
         summary="Listen for all requests received by the server in real time",
         acl=_ADMIN_ACL)
def monitor(ctx):
    """Stream every command the server runs to this connection (see hush.ops.monitor)."""
    if ctx.exec_running:
        # A transaction expects one reply per command; a stream cannot be one.
        raise CommandError("ERR MONITOR isn't allowed for DENY BLOCKING client")
    if ctx.monitoring:
        return NO_REPLY
    start_monitoring(ctx.server, ctx)
    return OK


# -- DEBUG -------------------------------------------------------------------

_DEBUG_REFUSED = (
    "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", "
    "you can run it from a local connection, otherwise you need to set this option in the "
    "configuration file, and then restart the server."
)

#: Redis's LRU clock: seconds, 24 bits.
LRU_CLOCK_MAX = (1 << 24) - 1


def _debug_allowed(ctx) -> bool:
    setting = ctx.server.settings.enable_debug_command
    if setting == "yes":
        return True
    if setting == "local":
        # Redis's islocalClient: the same test as protected mode's.
        return ctx.transport is None or is_local(ctx.transport.getPeer())
    return False


_DEBUG_HELP = [
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "OBJECT <key>",
    "    Show low level info about the `key` and associated value.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiry of volatile keys in the background,",
    "    leaving expiry to lookups only (lazy expiry).",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "HELP",
    "    Prints this help.",
]


@command("debug", arity=-2, flags=("admin", "noscript", "loading", "stale"), group=GROUP,
         summary="A container for debugging commands", acl=_ADMIN_ACL)
def debug(ctx, subcommand: bytes, *args: bytes):
    """DEBUG SLEEP, OBJECT, RELOAD, SET-ACTIVE-EXPIRE and HELP (when enable-debug-command allows)."""
    if not _debug_allowed(ctx):
        raise CommandError(_DEBUG_REFUSED)
    which = subcommand.lower()
    if which == b"help" and not args:
        return help_reply(_DEBUG_HELP)
    if which == b"sleep" and len(args) == 1:
        seconds = parse_float(args[0])
        # Redis's DEBUG SLEEP stops the whole server; so does this, on purpose.
        if seconds > 0:
            time.sleep(seconds)
        return OK
    if which == b"object" and len(args) == 1:
        return SimpleString(_debug_object(ctx, args[0]))
    if which == b"reload":
        return _debug_reload(ctx, args)
    if which == b"set-active-expire" and len(args) == 1:
        ctx.store.expiry.set_enabled(parse_int(args[0]) != 0)
        return OK
    raise SubcommandSyntax("DEBUG", c_text(subcommand, 128))


def _debug_reload(ctx, options: tuple[bytes, ...]):
    flush = save = True
    merge = False
    for option in options:
        word = option.lower()
        if word == b"merge":
            merge = True
        elif word == b"noflush":
            flush = False
        elif word == b"nosave":
            save = False
        else:
            raise CommandError("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE "
                               "options.")
    ctx.server.persistence.reload(save=save, flush=flush, merge=merge)
    return OK


def _debug_object(ctx, key: bytes) -> bytes:
    db = ctx.db
    value = db.peek(key)
    if value is None:
        raise CommandError(NO_SUCH_KEY)
    encoding = encoding_of(db, key, value)
    now = int(ctx.server.clock.seconds())
    used = db.last_used(key)
    return b"Value at:0x%x refcount:1 encoding:%s serializedlength:%d lru:%d lru_seconds_idle:%d" % (
        id(value), encoding, serialized_length(value), used & LRU_CLOCK_MAX, max(0, now - used))


def _rdb_length(count: int) -> int:
    # RDB's length prefix: 1, 2, 5 (or 9) bytes.
    if count < 1 << 6:
        return 1
    if count < 1 << 14:
        return 2
    return 5 if count <= 0xFFFFFFFF else 9


def _rdb_string(value: bytes) -> int:
    if string.encoding(value) == string.INT:
        number = int(value)
        if -(1 << 7) <= number < 1 << 7:
            return 2
        if -(1 << 15) <= number < 1 << 15:
            return 3
        if -(1 << 31) <= number < 1 << 31:
            return 5
    return _rdb_length(len(value)) + len(value)


def serialized_length(value: Any) -> int:
    """The value's size in an uncompressed RDB dump, as DEBUG OBJECT's estimate.

    Strings are sized as RDB writes them without LZF compression; containers as
    a length prefix plus their members and scores as strings (Redis writes
    small ones as one listpack blob, so its figure differs for those).
    """
    if isinstance(value, bytes | bytearray):
        return _rdb_string(bytes(value))
    if isinstance(value, dict):
        items = [part for pair in value.items() for part in pair]
    else:
        items = list(value)
    total = _rdb_length(len(items))
    for item in items:
        if isinstance(item, tuple | list):
            total += sum(_rdb_string(_as_bytes(part)) for part in item)
        else:
            total += _rdb_string(_as_bytes(item))
    return total


def _as_bytes(item: Any) -> bytes:
    if isinstance(item, bytes | bytearray):
        return bytes(item)
    return repr(item).encode()
