# -*- test-case-name: tests.unit.persistence.test_aof -*-
"""Persistence commands: BGREWRITEAOF, SAVE, BGSAVE, LASTSAVE, SHUTDOWN.

SAVE and BGSAVE write the RDB dump file (``<dir>/<dbfilename>``), BGREWRITEAOF
the append-only file, as Redis does (:mod:`hush.persistence.manager`).
"""

from __future__ import annotations

from hush.commands.table import command
from hush.core.errors import SYNTAX, CommandError
from hush.wire.resp import OK, Replies, SimpleString

GROUP = "server"
_ACL = ("admin", "slow", "dangerous")


@command("bgrewriteaof", arity=1, flags=("admin", "noscript", "no-async-loading"), group=GROUP,
         summary="Asynchronously rewrite the append-only file", acl=_ACL)
def bgrewriteaof(ctx):
    """Compact the AOF in a forked child while the server keeps serving.

    During a BGSAVE (or inside EXEC) the rewrite is scheduled: it starts when
    the save's child has ended.
    """
    return SimpleString(ctx.server.persistence.bgrewriteaof(ctx.exec_running).encode())


@command("bgsave", arity=-1, flags=("admin", "noscript", "no-async-loading"), group=GROUP,
         summary="Asynchronously save the dataset to disk", acl=_ACL)
def bgsave(ctx, *options: bytes):
    """Write the dump file from a forked child while the server keeps serving."""
    schedule = False
    if options:
        if len(options) > 1 or options[0].lower() != b"schedule":
            raise CommandError(SYNTAX)
        schedule = True
    return SimpleString(ctx.server.persistence.bgsave(schedule, ctx.exec_running).encode())


@command("save", arity=1, flags=("admin", "noscript", "no-async-loading", "no-multi"),
         group=GROUP, summary="Synchronously save the dataset to disk", acl=_ACL)
def save(ctx):
    """Write the dump file now; the server waits."""
    ctx.server.persistence.save()
    return OK


@command("lastsave", arity=1, flags=("loading", "stale", "fast"), group=GROUP,
         summary="Get the UNIX time stamp of the last successful save to disk",
         acl=("admin", "fast", "dangerous"), tips=("nondeterministic_output",))
def lastsave(ctx) -> int:
    """Unix second of the last successful save (the start time before any)."""
    return ctx.server.persistence.last_save


@command("shutdown", arity=-1,
         flags=("admin", "noscript", "loading", "stale", "no-multi", "allow-busy"),
         group=GROUP, summary="Synchronously save the dataset to disk and then shut down the server",
         acl=_ACL)
def shutdown(ctx, *options: bytes):
    """Fsync the AOF, save the dump file (SAVE, or save points set), close clients, stop.

    On success the connection closes without a reply, as in Redis.
    """
    save: bool | None = None
    abort = force = False
    for option in options:
        word = option.lower()
        if word == b"nosave" and save is None:
            save = False
        elif word == b"save" and save is None:
            save = True
        elif word == b"now":
            pass  # no replicas to wait for
        elif word == b"force":
            force = True
        elif word == b"abort":
            abort = True
        else:
            raise CommandError(SYNTAX)
    if abort:
        if save is not None or force or len(options) > 1:
            raise CommandError(SYNTAX)
        # A shutdown never waits (no replicas), so none is ever in progress.
        raise CommandError("ERR No shutdown in progress.")
    ctx.server.persistence.shutdown(save, force)
    return Replies()
