# -*- test-case-name: tests.commands.test_cluster -*-
"""Redis Cluster's routing: may this node serve a request, or where must it go?

:func:`route` is Redis's getNodeByQuery. The keys of a request -- found with
the command table's key positions, so a command's key specs are the one
source -- must all hash to one slot (else ``-CROSSSLOT``). That slot must
have a node (else ``-CLUSTERDOWN Hash slot not served``), the cluster must be
up (else ``-CLUSTERDOWN``, or only reads with
``cluster-allow-reads-when-down``), and the node must be this one: else
``-MOVED <slot> <endpoint>:<port>``. While a slot moves away (SETSLOT
MIGRATING) a request whose keys are all gone is sent on with ``-ASK``; while
a slot comes in (IMPORTING) a request after ASKING is served here; a request
over several keys of a moving slot that are not all here gets ``-TRYAGAIN``.
EXEC routes the commands it queued, together.

The session calls it from its admission gates only in cluster mode
(:meth:`hush.commands.dispatch.Session._gate`), scripts from theirs
(:mod:`hush.scripting.client`): outside cluster mode it costs nothing.
"""

from __future__ import annotations

from binascii import crc_hqx
from collections.abc import Iterable
from typing import Any

from hush.commands.table import Command
from hush.formats.cluster_replies import preferred_endpoint
from hush.formats.keyslot import key_slot

CROSSSLOT = "CROSSSLOT Keys in request don't hash to the same slot"
TRYAGAIN = "TRYAGAIN Multiple keys request during rehashing of slot"
DOWN = "CLUSTERDOWN The cluster is down"
DOWN_READONLY = "CLUSTERDOWN The cluster is down and only accepts read commands"
UNBOUND = "CLUSTERDOWN Hash slot not served"

#: Sharded pub/sub: channels route like keys, but are never looked up.
_SHARD_CHANNELS = frozenset(["ssubscribe", "sunsubscribe", "spublish"])


def redirect(kind: str, cluster: Any, node_id: bytes, slot: int) -> str:
    """``MOVED``/``ASK`` text naming ``node_id`` by the preferred endpoint type."""
    node = cluster.config.nodes[node_id]
    endpoint = preferred_endpoint(node, cluster.settings.cluster_preferred_endpoint_type)
    return f"{kind} {slot} {endpoint.decode('utf-8', 'surrogateescape')}:{node.port}"


def _present(db: Any, key: bytes, now_ms: int) -> bool:
    """The key is live, looked up without expiring it or counting a hit (Redis's flags)."""
    if key not in db.data:
        return False
    deadline = db.expires.get(key) if db.expires else None
    return deadline is None or deadline > now_ms


#: Command -> True if its one key is argv[1] (GET, SET, INCR, LPUSH ...), by the table.
_SINGLE_KEY: dict[Command, bool] = {}


def serves_here(cluster: Any, cmd: Command, argv: list[bytes]) -> bool:
    """True if this node surely serves a one-key command now: its slot is this node's,
    not moving away, and the cluster is up. The common case, decided without
    :func:`route`'s loop; False means: ask :func:`route`."""
    single = _SINGLE_KEY.get(cmd)
    if single is None:
        single = _SINGLE_KEY[cmd] = (cmd.first_key == cmd.last_key == 1
                                     and "movablekeys" not in cmd.flags)
    if not single or len(argv) < 2:
        return False
    # key_slot inlined: every command of a cluster node comes this way.
    key = argv[1]
    start = key.find(b"{")
    if start >= 0 and (end := key.find(b"}", start + 1)) > start + 1:
        slot = crc_hqx(key[start + 1:end], 0) & 0x3FFF
    else:
        slot = crc_hqx(key, 0) & 0x3FFF
    return (cluster.slots[slot] == cluster.myself.id and cluster.ok
            and slot not in cluster.migrating)


def route(cluster: Any, db: Any, requests: Iterable[tuple[Command, list[bytes]]], *,
          command: Command, asking: bool) -> tuple[str | None, int]:
    """Where ``requests`` (one command, or EXEC's queue) may run: (error text, slot).

    The error is None when this node serves them; the slot is that of their
    keys, -1 when they have none. ``command`` is the command sent (EXEC for a
    queue): its flags decide what a cluster that is down allows, and
    ``asking`` is whether the client sent ASKING before it.
    """
    slots = cluster.slots
    myself = cluster.myself.id
    first: bytes | None = None
    slot = -1
    owner: bytes | None = None
    moving = migrating = importing = multiple = False
    missing = existing = 0
    now_ms = 0
    shard = command.name in _SHARD_CHANNELS
    for cmd, argv in requests:
        for position in cmd.routing_positions(argv):
            key = argv[position]
            if first is None:
                first = key
                slot = key_slot(key)
                owner = slots[slot]
                if owner is None:
                    return UNBOUND, slot
                if owner == myself and slot in cluster.migrating:
                    migrating = True
                elif slot in cluster.importing:
                    importing = True
                moving = (migrating or importing) and not shard
                if moving:
                    now_ms = db.store.now_ms()
            elif key != first:
                if key_slot(key) != slot:
                    return CROSSSLOT, slot
                multiple = True
            if moving:
                if _present(db, key, now_ms):
                    existing += 1
                else:
                    missing += 1
    if first is None:
        return None, -1
    if not cluster.ok:
        settings = cluster.settings
        if shard:
            # cluster-allow-pubsubshard-when-down's default (yes): channels keep working.
            pass
        elif not settings.cluster_allow_reads_when_down:
            return DOWN, slot
        elif command.is_write:
            return DOWN_READONLY, slot
    if (migrating or importing) and command.name == "migrate":
        # MIGRATE moves keys out of an open slot: it always runs here.
        return None, slot
    if migrating and missing:
        if existing:
            return TRYAGAIN, slot
        return redirect("ASK", cluster, cluster.migrating[slot], slot), slot
    if importing and (asking or "asking" in command.flags):
        if multiple and missing:
            return TRYAGAIN, slot
        return None, slot
    if owner != myself:
        assert owner is not None
        return redirect("MOVED", cluster, owner, slot), slot
    return None, slot
