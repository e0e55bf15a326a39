# -*- test-case-name: tests.test_server -*-
"""Server commands: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME, INFO, CONFIG, COMMAND."""

from __future__ import annotations

from hush.commands.args import parse_int
from hush.commands.table import command
from hush.errors import DB_INDEX_OUT_OF_RANGE, SYNTAX, CommandError
from hush.resp import OK

GROUP = "server"


def _check_flush_mode(args: tuple[bytes, ...]) -> None:
    # Both modes free memory at once here: there is no background thread to
    # hand the old keyspace to, and dropping the references is already O(1).
    if len(args) > 1 or (args and args[0].lower() not in (b"sync", b"async")):
        raise CommandError(SYNTAX)


@command("dbsize", arity=1, flags=("readonly", "fast"), group=GROUP,
         summary="Returns the number of keys in the database.",
         acl=("keyspace", "read", "fast"))
def dbsize(ctx) -> int:
    """Number of keys in the selected database (expired-but-unreaped ones count, as in Redis)."""
    return len(ctx.db)


@command("flushdb", arity=-1, flags=("write",), group=GROUP,
         summary="Remove all keys from the current database.",
         acl=("keyspace", "write", "slow", "dangerous"))
def flushdb(ctx, *args: bytes):
    """Empty the selected database."""
    _check_flush_mode(args)
    ctx.db.clear()
    ctx.store.dirty += 1
    return OK


@command("flushall", arity=-1, flags=("write",), group=GROUP,
         summary="Remove all keys from all databases.",
         acl=("keyspace", "write", "slow", "dangerous"))
def flushall(ctx, *args: bytes):
    """Empty every database."""
    _check_flush_mode(args)
    ctx.store.flushall()
    ctx.store.dirty += 1
    return OK


@command("swapdb", arity=3, flags=("write", "fast"), group=GROUP, since="4.0.0",
         summary="Swaps two Redis databases.",
         acl=("keyspace", "write", "fast", "dangerous"))
def swapdb(ctx, first: bytes, second: bytes):
    """Exchange the contents of two databases; connections keep their index."""
    one = parse_int(first, "ERR invalid first DB index")
    two = parse_int(second, "ERR invalid second DB index")
    count = len(ctx.store.dbs)
    if not (0 <= one < count and 0 <= two < count):
        raise CommandError(DB_INDEX_OUT_OF_RANGE)
    if one != two:
        ctx.store.swapdb(one, two)
        ctx.store.dirty += 1
    return OK
