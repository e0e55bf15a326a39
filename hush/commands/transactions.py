# -*- test-case-name: tests.commands.test_transactions -*-
"""Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.

While a client is in MULTI the dispatcher queues its commands (after checking
name and arity, whose errors poison the transaction) and answers +QUEUED.
EXEC runs the queue with nothing else in between -- one thread, one reactor --
and blocked clients are served only after EXEC completes. WATCH registers the
client under (db, key) in ``Store.watched_keys``; any change to such a key
(write, delete, expiry, eviction, FLUSHDB, SWAPDB) marks the client's
transaction dirty through :meth:`hush.data.store.Store.touch`.
"""

from __future__ import annotations

from hush.commands.table import command
from hush.core.errors import CommandError
from hush.wire.resp import NULL_ARRAY, OK, SimpleString

GROUP = "transactions"
_FLAGS = ("noscript", "loading", "stale", "fast", "allow-busy")


@command("multi", arity=1, flags=_FLAGS, group=GROUP, since="1.2.0",
         summary="Starts a transaction.")
def multi(ctx):
    if ctx.in_multi:
        raise CommandError("ERR MULTI calls can not be nested")
    ctx.in_multi = True
    ctx.multi_queue = []
    ctx.multi_error = False
    ctx.update_gate()
    return OK


@command("discard", arity=1, flags=_FLAGS, group=GROUP, since="2.0.0",
         summary="Discards a transaction.")
def discard(ctx):
    if not ctx.in_multi:
        raise CommandError("ERR DISCARD without MULTI")
    ctx.end_transaction()
    return OK


@command("exec", arity=1, flags=("noscript", "loading", "stale", "skip-slowlog"), group=GROUP,
         since="1.2.0", summary="Executes all commands in a transaction.")
def exec_(ctx):
    if not ctx.in_multi:
        raise CommandError("ERR EXEC without MULTI")
    propagator = ctx.propagator
    if propagator is not None and propagator.write_error is not None and _queues_write(ctx):
        # Redis refuses a writing EXEC as it refuses a write, before running it.
        refusal = propagator.write_refusal()
        if refusal is not None:
            ctx.end_transaction()
            raise CommandError(f"EXECABORT Transaction discarded because of: {refusal.message}")
    if ctx.multi_error:
        ctx.end_transaction()
        raise CommandError("EXECABORT Transaction discarded because of previous errors.")
    if ctx.dirty_cas or _watched_key_expired(ctx):
        ctx.end_transaction()
        return NULL_ARRAY
    queue = ctx.multi_queue
    replies = []
    ctx.exec_running = True
    try:
        for argv in queue:
            replies.append(ctx.execute(argv))
    finally:
        ctx.exec_running = False
        ctx.end_transaction()
    return replies


@command("watch", arity=-2, flags=_FLAGS, keys=(1, -1, 1), group=GROUP, since="2.2.0",
         summary="Monitors changes to keys to determine the execution of a transaction.")
def watch(ctx, *keys: bytes):
    if ctx.in_multi:
        raise CommandError("ERR WATCH inside MULTI is not allowed")
    watched = ctx.store.watched_keys
    db = ctx.db
    for key in keys:
        entry = (db.index, key)
        if entry in ctx.watched:
            continue
        # Remember whether the key had a deadline and was live: a key that
        # expires while watched counts as modified, even if nobody noticed.
        ctx.watched[entry] = db.exists(key) and db.get_expire(key) is not None
        watched.setdefault(entry, {})[ctx] = None
    # Writes tell the store's watchers only while there are any.
    ctx.store.update_signalling()
    return OK


@command("unwatch", arity=1, flags=_FLAGS, group=GROUP, since="2.2.0",
         summary="Forgets about watched keys of a transaction.")
def unwatch(ctx):
    ctx.unwatch_all()
    return OK


def _queues_write(ctx) -> bool:
    return any(cmd.is_write for cmd, _argv in ctx.queued())


def _watched_key_expired(ctx) -> bool:
    dbs = ctx.store.dbs
    for (db_index, key), had_deadline in ctx.watched.items():
        if had_deadline and not dbs[db_index].exists(key):
            return True
    return False


@command("reset", arity=1, flags=("noscript", "loading", "stale", "fast", "no-auth", "allow-busy"),
         group="connection", since="6.2.0",
         summary="Resets the connection.")
def reset(ctx):
    """Back to a fresh connection's state: no MULTI, WATCH or subscriptions, db 0, RESP2."""
    if ctx.in_multi:
        ctx.end_transaction()
    ctx.unwatch_all()
    ctx.server.pubsub.drop(ctx)
    ctx.store.tracking.disable(ctx)
    ctx.select(0)
    ctx.resp3 = False
    ctx.name = b""
    # Cluster mode's client flags.
    ctx.asking = ctx.readonly = False
    # Back to the default user: unauthenticated if it needs a password.
    ctx.set_default_auth()
    return SimpleString(b"RESET")
