# -*- test-case-name: tests.commands.test_replication -*-
"""Replication commands: REPLICAOF (SLAVEOF), SYNC, PSYNC, REPLCONF.

They reach the server's replication (:mod:`hush.replication`) through
:class:`hush.core.interfaces.Replication` (``ctx.server.replication``).
"""

from __future__ import annotations

from hush.commands.args import parse_int
from hush.commands.table import command

GROUP = "server"
_ACL = ("admin", "slow", "dangerous")


@command("replicaof", arity=3, flags=("admin", "noscript", "stale", "no-async-loading"),
         group=GROUP, since="5.0.0",
         summary="Make the server a replica of another instance, or promote it as master.",
         acl=_ACL)
def replicaof(ctx, host: bytes, port: bytes):
    """Follow the master at host:port, or (NO ONE) be a master."""
    return ctx.server.replication.replicaof(ctx, host, port)


@command("slaveof", arity=3, flags=("admin", "noscript", "stale", "no-async-loading"),
         group=GROUP, since="1.0.0",
         summary="Make the server a replica of another instance, or promote it as master.",
         acl=_ACL)
def slaveof(ctx, host: bytes, port: bytes):
    """REPLICAOF's old name."""
    return ctx.server.replication.replicaof(ctx, host, port)


@command("sync", arity=1, flags=("admin", "noscript", "no-async-loading", "no-multi"),
         group=GROUP, since="1.0.0", summary="Internal command used for replication",
         acl=_ACL)
def sync(ctx):
    """Become a replica the old way: the snapshot, then the stream (no +FULLRESYNC)."""
    return ctx.server.replication.sync(ctx, None)


@command("psync", arity=-3, flags=("admin", "noscript", "no-async-loading", "no-multi"),
         group=GROUP, since="2.8.0", summary="Internal command used for replication",
         acl=_ACL)
def psync(ctx, replid: bytes, offset: bytes, *rest: bytes):
    """Continue replication history ``replid`` from ``offset``, or sync in full."""
    history, position = replid.decode(errors="replace"), parse_int(offset)
    if rest and rest[0].lower() == b"failover":
        return ctx.server.replication.failover_request(ctx, history, position)
    return ctx.server.replication.sync(ctx, (history, position))


@command("replconf", arity=-1,
         flags=("admin", "noscript", "loading", "stale", "allow-busy"), group=GROUP,
         since="3.0.0", summary="An internal command for configuring the replication stream",
         acl=_ACL)
def replconf(ctx, *args: bytes):
    """A replica's options (listening-port, ip-address, capa, rdb-only) and ACKs."""
    return ctx.server.replication.replconf(ctx, args)
