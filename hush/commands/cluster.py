# -*- test-case-name: tests.commands.test_cluster -*-
"""Redis Cluster's commands: CLUSTER ..., ASKING, READONLY, READWRITE.

They work on the node's :class:`hush.data.cluster.ClusterState` (``ctx.server
.cluster``), which exists only with ``cluster-enabled yes``; otherwise each
answers Redis's "This instance has cluster support disabled". Replies and
errors are Redis 7.0's; the replies that describe the cluster (NODES,
SLOTS, SHARDS, INFO) come from :mod:`hush.formats.nodes_conf` and
:mod:`hush.formats.cluster_replies`.

There is no cluster bus: a change of the slot map made here (SETSLOT,
ADDSLOTS, DELSLOTS, FLUSHSLOTS, FORGET, RESET) is this node's only, saved to
its nodes.conf before the reply. The other nodes learn it when an operator
sends them the same command -- ``CLUSTER SETSLOT <slot> NODE <id>`` to every
master, which is what ``redis-cli --cluster reshard`` does after moving a
slot's keys. MEET and REPLICATE, which need the bus or replication, do not
exist; FAILOVER answers as on any master (Hush's nodes are all masters).

Clients blocked on keys of a slot this node stops serving get the
redirection at once (Redis sends it from its clients cron).
"""

from __future__ import annotations

from typing import Any

from twisted.logger import Logger

from hush.commands.args import parse_int
from hush.commands.routing import DOWN, UNBOUND, redirect
from hush.commands.table import command, container, help_command
from hush.core.errors import SYNTAX, CommandError, SubcommandSyntax, c_text, wrong_arity
from hush.data.cluster import ClusterState
from hush.formats import cluster_replies, nodes_conf
from hush.formats.keyslot import SLOTS, key_slot
from hush.wire.resp import OK, SimpleString, Verbatim

log = Logger(namespace="hush")

GROUP = "cluster"
DISABLED = "ERR This instance has cluster support disabled"
_BAD_SLOT = "ERR Invalid or out of range slot"

container("cluster", group=GROUP, since="3.0.0", summary="A container for cluster commands")

_ADMIN = ("admin", "stale", "no-async-loading")
_ADMIN_ACL = ("admin", "slow", "dangerous")
_READ = ("stale",)
_READ_ACL = ("slow",)
_NONDETERMINISTIC = ("nondeterministic_output",)


def _cluster(ctx: Any) -> ClusterState:
    cluster = ctx.server.cluster
    if cluster is None:
        raise CommandError(DISABLED)
    return cluster


def _slot(raw: bytes) -> int:
    """Redis's getSlotOrReply: an integer within 0..16383."""
    slot = parse_int(raw, _BAD_SLOT)
    if not 0 <= slot < SLOTS:
        raise CommandError(_BAD_SLOT)
    return slot


def _changed(ctx: Any, cluster: ClusterState) -> None:
    """Recompute the state, save nodes.conf, redirect clients blocked on slots gone elsewhere."""
    try:
        cluster.changed()
    except OSError as error:
        # Redis exits when it cannot save the map; Hush keeps serving and says so.
        log.warn("Could not save the cluster node config {path}: {reason}",
                 path=cluster.path, reason=error.strerror)
        raise CommandError(
            f"ERR error saving the cluster node config: {error.strerror}") from None
    finally:
        _redirect_blocked(ctx, cluster)


def _redirect_blocked(ctx: Any, cluster: ClusterState) -> None:
    """Unblock, with the redirection, clients blocked on keys this node no longer serves.

    Redis's clusterRedirectBlockedClientIfNeeded: all keys of a blocked
    command share a slot, so the first one decides.
    """
    blocking = ctx.server.blocking
    waiters = {id(waiter): waiter for (db_index, _key), queue in ctx.store.blocking_keys.items()
               if db_index == 0 for waiter in queue}
    myself = cluster.myself.id
    for waiter in waiters.values():
        if waiter.done or not waiter.block.keys:
            continue
        if not cluster.ok:
            blocking.unblock(waiter, CommandError(DOWN))
            continue
        slot = key_slot(waiter.block.keys[0])
        owner = cluster.slots[slot]
        if owner == myself or slot in cluster.importing:
            continue
        if owner is None:
            blocking.unblock(waiter, CommandError(UNBOUND))
        else:
            blocking.unblock(waiter, CommandError(redirect("MOVED", cluster, owner, slot)))


def _known(cluster: ClusterState, raw: bytes, text: str) -> nodes_conf.ClusterNode:
    node = cluster.node(raw)
    if node is None:
        raise CommandError(f"ERR {text} {c_text(raw)}")
    return node


# -- what the node knows ----------------------------------------------------------------


@command("cluster|myid", arity=2, flags=_READ, group=GROUP, since="3.0.0",
         summary="Return the node id", acl=_READ_ACL)
def cluster_myid(ctx) -> bytes:
    """This node's id."""
    return _cluster(ctx).myself.id


@command("cluster|nodes", arity=2, flags=_READ, group=GROUP, since="3.0.0",
         summary="Get Cluster config for the node", acl=_READ_ACL, tips=_NONDETERMINISTIC)
def cluster_nodes(ctx) -> Verbatim:
    """Every known node, one nodes.conf line each (``redis-cli --cluster check`` reads it)."""
    return Verbatim(nodes_conf.cluster_nodes(_cluster(ctx).config))


@command("cluster|slots", arity=2, flags=_READ, group=GROUP, since="3.0.0",
         summary="Get array of Cluster slot to node mappings", acl=_READ_ACL,
         tips=_NONDETERMINISTIC)
def cluster_slots(ctx) -> list:
    """Each run of slots with its master (and replicas), as cluster clients load them."""
    cluster = _cluster(ctx)
    return cluster_replies.cluster_slots(
        cluster.config, ctx.server.settings.cluster_preferred_endpoint_type)


@command("cluster|shards", arity=2, flags=_READ, group=GROUP, since="7.0.0",
         summary="Get array of cluster slots to node mappings", acl=_READ_ACL,
         tips=_NONDETERMINISTIC)
def cluster_shards(ctx) -> list:
    """Each master's slot runs and nodes."""
    cluster = _cluster(ctx)
    return cluster_replies.cluster_shards(
        cluster.config, ctx.server.settings.cluster_preferred_endpoint_type)


@command("cluster|info", arity=2, flags=_READ, group=GROUP, since="3.0.0",
         summary="Provides info about Redis Cluster node state", acl=_READ_ACL,
         tips=_NONDETERMINISTIC)
def cluster_info(ctx) -> Verbatim:
    """The state, slot counts, epochs; no bus, so no messages counted."""
    cluster = _cluster(ctx)
    return Verbatim(cluster_replies.cluster_info(cluster.config, state_ok=cluster.ok))


@command("cluster|keyslot", arity=3, flags=_READ, group=GROUP, since="3.0.0",
         summary="Returns the hash slot of the specified key", acl=_READ_ACL)
def cluster_keyslot(ctx, key: bytes) -> int:
    """CRC16 of the key (or of its hash tag) modulo 16384."""
    _cluster(ctx)
    return key_slot(key)


@command("cluster|countkeysinslot", arity=3, flags=_READ, group=GROUP, since="3.0.0",
         summary="Return the number of local keys in the specified hash slot", acl=_READ_ACL)
def cluster_countkeysinslot(ctx, raw_slot: bytes) -> int:
    """How many keys of database 0 hash to the slot."""
    cluster = _cluster(ctx)
    slot = parse_int(raw_slot)
    if not 0 <= slot < SLOTS:
        raise CommandError("ERR Invalid slot")
    return cluster.index.count(slot)


@command("cluster|getkeysinslot", arity=4, flags=_READ, group=GROUP, since="3.0.0",
         summary="Return local key names in the specified hash slot", acl=_READ_ACL,
         tips=_NONDETERMINISTIC)
def cluster_getkeysinslot(ctx, raw_slot: bytes, raw_count: bytes) -> list[bytes]:
    """Up to ``count`` keys of the slot, the newest first (as Redis lists them)."""
    cluster = _cluster(ctx)
    slot = parse_int(raw_slot)
    count = parse_int(raw_count)
    if not 0 <= slot < SLOTS or count < 0:
        raise CommandError("ERR Invalid slot or number of keys")
    return cluster.index.keys(slot, count)


@command("cluster|replicas", arity=3, flags=("admin", "stale"), group=GROUP, since="5.0.0",
         summary="List replica nodes of the specified master node", acl=_ADMIN_ACL,
         tips=_NONDETERMINISTIC)
def cluster_replicas(ctx, node_id: bytes) -> list[bytes]:
    """The lines of the master's replicas (only those nodes.conf names: Hush serves none)."""
    cluster = _cluster(ctx)
    node = _known(cluster, node_id, "Unknown node")
    if node.is_replica:
        raise CommandError("ERR The specified node is not a master")
    return [nodes_conf.node_line(cluster.config, replica)
            for replica in cluster.config.replicas(node.id)]


command("cluster|slaves", arity=3, flags=("admin", "stale"), group=GROUP, since="3.0.0",
        summary="List replica nodes of the specified master node", acl=_ADMIN_ACL,
        tips=_NONDETERMINISTIC)(cluster_replicas)


@command("cluster|count-failure-reports", arity=3, flags=("admin", "stale"), group=GROUP,
         since="3.0.0", summary="Return the number of failure reports active for a given node",
         acl=_ADMIN_ACL, tips=_NONDETERMINISTIC)
def cluster_count_failure_reports(ctx, node_id: bytes) -> int:
    """Always 0: failure reports travel on the cluster bus, which Hush has not."""
    _known(_cluster(ctx), node_id, "Unknown node")
    return 0


@command("cluster|links", arity=2, flags=_READ, group=GROUP, since="7.0.0",
         summary="Returns a list of all TCP links to and from peer nodes in cluster",
         acl=_READ_ACL, tips=_NONDETERMINISTIC)
def cluster_links(ctx) -> list:
    """No links: Hush's nodes do not talk to each other."""
    _cluster(ctx)
    return []


# -- changing the map ---------------------------------------------------------------------


@command("cluster|setslot", arity=-4, flags=_ADMIN, group=GROUP, since="3.0.0",
         summary="Bind a hash slot to a specific node", acl=_ADMIN_ACL)
def cluster_setslot(ctx, raw_slot: bytes, action: bytes, *rest: bytes):
    """MIGRATING/IMPORTING <id>, STABLE, NODE <id>: open, close or give a slot."""
    cluster = _cluster(ctx)
    slot = _slot(raw_slot)
    action = action.lower()
    myself = cluster.myself
    if action == b"migrating" and len(rest) == 1:
        if cluster.slots[slot] != myself.id:
            raise CommandError(f"ERR I'm not the owner of hash slot {slot}")
        target = _known(cluster, rest[0], "I don't know about node")
        if target.is_replica:
            raise CommandError("ERR Target node is not a master")
        cluster.migrating[slot] = target.id
    elif action == b"importing" and len(rest) == 1:
        if cluster.slots[slot] == myself.id:
            raise CommandError(f"ERR I'm already the owner of hash slot {slot}")
        source = _known(cluster, rest[0], "I don't know about node")
        if source.is_replica:
            raise CommandError("ERR Target node is not a master")
        cluster.importing[slot] = source.id
    elif action == b"stable" and not rest:
        cluster.importing.pop(slot, None)
        cluster.migrating.pop(slot, None)
    elif action == b"node" and len(rest) == 1:
        _give_slot(cluster, slot, _known(cluster, rest[0], "Unknown node"))
    else:
        raise CommandError(
            "ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP")
    _changed(ctx, cluster)
    return OK


def _give_slot(cluster: ClusterState, slot: int, node: nodes_conf.ClusterNode) -> None:
    """SETSLOT NODE: ``node`` serves ``slot`` from now on, in this node's map."""
    if node.is_replica:
        raise CommandError("ERR Target node is not a master")
    myself = cluster.myself
    keys = cluster.index.count(slot)
    if cluster.slots[slot] == myself.id and node is not myself and keys:
        raise CommandError(f"ERR Can't assign hashslot {slot} to a different node while I "
                           "still hold keys for this hash slot.")
    if not keys:
        # A slot whose keys have all left closes its migration.
        cluster.migrating.pop(slot, None)
    cluster.slots[slot] = node.id
    if node is myself and slot in cluster.importing:
        # The import is done: a new epoch makes this node's claim the newest.
        if cluster.bump_epoch():
            log.warn("configEpoch updated after importing slot {slot}", slot=slot)
        del cluster.importing[slot]


def _slot_args(cluster: ClusterState, ranges: list[tuple[bytes, bytes]], delete: bool
               ) -> list[int]:
    """The slots of ADDSLOTS/DELSLOTS(RANGE) with Redis's checks, range by range."""
    chosen: set[int] = set()
    for raw_first, raw_last in ranges:
        first, last = _slot(raw_first), _slot(raw_last)
        if first > last:
            raise CommandError(
                f"ERR start slot number {first} is greater than end slot number {last}")
        for slot in range(first, last + 1):
            if delete and cluster.slots[slot] is None:
                raise CommandError(f"ERR Slot {slot} is already unassigned")
            if not delete and cluster.slots[slot] is not None:
                raise CommandError(f"ERR Slot {slot} is already busy")
            if slot in chosen:
                raise CommandError(f"ERR Slot {slot} specified multiple times")
            chosen.add(slot)
    return sorted(chosen)


def _update_slots(ctx: Any, cluster: ClusterState, slots: list[int], delete: bool) -> Any:
    for slot in slots:
        # This node now holds (or gives up) the slot for good: no import is pending.
        cluster.importing.pop(slot, None)
        cluster.slots[slot] = None if delete else cluster.myself.id
    _changed(ctx, cluster)
    return OK


def _single_slots(ctx: Any, raw: tuple[bytes, ...], delete: bool) -> Any:
    cluster = _cluster(ctx)
    for item in raw:
        # Every argument is checked before any slot is looked at, as in Redis.
        _slot(item)
    return _update_slots(ctx, cluster, _slot_args(cluster, [(r, r) for r in raw], delete),
                         delete)


def _range_slots(ctx: Any, name: str, raw: tuple[bytes, ...], delete: bool) -> Any:
    cluster = _cluster(ctx)
    if len(raw) % 2:
        raise wrong_arity(name)
    pairs = list(zip(raw[::2], raw[1::2], strict=True))
    return _update_slots(ctx, cluster, _slot_args(cluster, pairs, delete), delete)


@command("cluster|addslots", arity=-3, flags=_ADMIN, group=GROUP, since="3.0.0",
         summary="Assign new hash slots to receiving node", acl=_ADMIN_ACL)
def cluster_addslots(ctx, *slots: bytes):
    """This node serves these unassigned slots."""
    return _single_slots(ctx, slots, delete=False)


@command("cluster|delslots", arity=-3, flags=_ADMIN, group=GROUP, since="3.0.0",
         summary="Set hash slots as unbound in receiving node", acl=_ADMIN_ACL)
def cluster_delslots(ctx, *slots: bytes):
    """These slots have no node any more, in this node's map."""
    return _single_slots(ctx, slots, delete=True)


@command("cluster|addslotsrange", arity=-4, flags=_ADMIN, group=GROUP, since="7.0.0",
         summary="Assign new hash slots to receiving node", acl=_ADMIN_ACL)
def cluster_addslotsrange(ctx, *bounds: bytes):
    """ADDSLOTS of every slot of each ``first last`` range."""
    return _range_slots(ctx, "cluster|addslotsrange", bounds, delete=False)


@command("cluster|delslotsrange", arity=-4, flags=_ADMIN, group=GROUP, since="7.0.0",
         summary="Set hash slots as unbound in receiving node", acl=_ADMIN_ACL)
def cluster_delslotsrange(ctx, *bounds: bytes):
    """DELSLOTS of every slot of each ``first last`` range."""
    return _range_slots(ctx, "cluster|delslotsrange", bounds, delete=True)


@command("cluster|flushslots", arity=2, flags=_ADMIN, group=GROUP, since="3.0.0",
         summary="Delete a node's own slots information", acl=_ADMIN_ACL)
def cluster_flushslots(ctx):
    """An empty node gives up every slot it serves."""
    cluster = _cluster(ctx)
    if len(ctx.store.dbs[0]):
        raise CommandError("ERR DB must be empty to perform CLUSTER FLUSHSLOTS.")
    myself = cluster.myself.id
    slots = cluster.slots
    for slot in range(SLOTS):
        if slots[slot] == myself:
            slots[slot] = None
    _changed(ctx, cluster)
    return OK


@command("cluster|forget", arity=3, flags=_ADMIN, group=GROUP, since="3.0.0",
         summary="Remove a node from the nodes table", acl=_ADMIN_ACL)
def cluster_forget(ctx, node_id: bytes):
    """Drop a node, its slots (unassigned now) and the moves to or from it."""
    cluster = _cluster(ctx)
    node = _known(cluster, node_id, "Unknown node")
    if node is cluster.myself:
        raise CommandError("ERR I tried hard but I can't forget myself...")
    config = cluster.config
    for moves in (config.migrating, config.importing):
        for slot in [slot for slot, peer in moves.items() if peer == node.id]:
            del moves[slot]
    slots = config.slots
    for slot in range(SLOTS):
        if slots[slot] == node.id:
            slots[slot] = None
    for replica in config.replicas(node.id):
        replica.master = None
    del config.nodes[node.id]
    _changed(ctx, cluster)
    return OK


@command("cluster|reset", arity=-2, flags=("admin", "noscript", "stale"), group=GROUP,
         since="3.0.0", summary="Reset a Redis Cluster node", acl=_ADMIN_ACL)
def cluster_reset(ctx, *mode: bytes):
    """SOFT (the default): forget the other nodes and every slot; HARD: a new id, epochs 0."""
    cluster = _cluster(ctx)
    if len(mode) > 1:
        raise SubcommandSyntax("CLUSTER", "reset")
    kind = mode[0].lower() if mode else b"soft"
    if kind not in (b"soft", b"hard"):
        raise CommandError(SYNTAX)
    if len(ctx.db):
        raise CommandError("ERR CLUSTER RESET can't be called with master nodes containing keys")
    cluster.reset(hard=kind == b"hard")
    if kind == b"hard":
        log.warn("configEpoch set to 0 via CLUSTER RESET HARD")
        log.info("Node hard reset, now I'm {node_id}", node_id=cluster.myself.id.decode())
    _changed(ctx, cluster)
    return OK


@command("cluster|saveconfig", arity=2, flags=_ADMIN, group=GROUP, since="3.0.0",
         summary="Forces the node to save cluster state on disk", acl=_ADMIN_ACL)
def cluster_saveconfig(ctx):
    """Write nodes.conf now (every change is already saved as it is made)."""
    cluster = _cluster(ctx)
    try:
        cluster.save()
    except OSError as error:
        raise CommandError(
            f"ERR error saving the cluster node config: {error.strerror}") from None
    return OK


@command("cluster|bumpepoch", arity=2, flags=_ADMIN, group=GROUP, since="3.0.0",
         summary="Advance the cluster config epoch", acl=_ADMIN_ACL, tips=_NONDETERMINISTIC)
def cluster_bumpepoch(ctx) -> SimpleString:
    """A new config epoch for this node unless its epoch is already the greatest."""
    cluster = _cluster(ctx)
    bumped = cluster.bump_epoch()
    if bumped:
        _changed(ctx, cluster)
    word = b"BUMPED" if bumped else b"STILL"
    return SimpleString(b"%s %d" % (word, cluster.myself.config_epoch))


@command("cluster|set-config-epoch", arity=3, flags=_ADMIN, group=GROUP, since="3.0.0",
         summary="Set the configuration epoch in a new node", acl=_ADMIN_ACL)
def cluster_set_config_epoch(ctx, raw_epoch: bytes):
    """The epoch of a node that knows no other node and has none yet."""
    cluster = _cluster(ctx)
    epoch = parse_int(raw_epoch)
    if epoch < 0:
        raise CommandError(f"ERR Invalid config epoch specified: {epoch}")
    if len(cluster.config.nodes) > 1:
        raise CommandError("ERR The user can assign a config epoch only when the node does "
                           "not know any other node.")
    if cluster.myself.config_epoch != 0:
        raise CommandError("ERR Node config epoch is already non-zero")
    cluster.myself.config_epoch = epoch
    log.warn("configEpoch set to {epoch} via CLUSTER SET-CONFIG-EPOCH", epoch=epoch)
    cluster.config.current_epoch = max(cluster.config.current_epoch, epoch)
    _changed(ctx, cluster)
    return OK


@command("cluster|failover", arity=-2, flags=_ADMIN, group=GROUP, since="3.0.0",
         summary="Forces a replica to perform a manual failover of its master.",
         acl=_ADMIN_ACL)
def cluster_failover(ctx, *mode: bytes):
    """Refused as on any master: Hush's nodes are never replicas."""
    _cluster(ctx)
    if len(mode) > 1:
        raise SubcommandSyntax("CLUSTER", "failover")
    if mode and mode[0].lower() not in (b"force", b"takeover"):
        raise CommandError(SYNTAX)
    raise CommandError("ERR You should send CLUSTER FAILOVER to a replica")


#: Redis's text, without MEET and REPLICATE (which Hush has not).
_HELP = [
    "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ADDSLOTS <slot> [<slot> ...]",
    "    Assign slots to current node.",
    "ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
    "    Assign slots which are between <start-slot> and <end-slot> to current node.",
    "BUMPEPOCH",
    "    Advance the cluster config epoch.",
    "COUNT-FAILURE-REPORTS <node-id>",
    "    Return number of failure reports for <node-id>.",
    "COUNTKEYSINSLOT <slot>",
    "    Return the number of keys in <slot>.",
    "DELSLOTS <slot> [<slot> ...]",
    "    Delete slots information from current node.",
    "DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
    "    Delete slots information which are between <start-slot> and <end-slot> from current node.",
    "FAILOVER [FORCE|TAKEOVER]",
    "    Promote current replica node to being a master.",
    "FORGET <node-id>",
    "    Remove a node from the cluster.",
    "GETKEYSINSLOT <slot> <count>",
    "    Return key names stored by current node in a slot.",
    "FLUSHSLOTS",
    "    Delete current node own slots information.",
    "INFO",
    "    Return information about the cluster.",
    "KEYSLOT <key>",
    "    Return the hash slot for <key>.",
    "MYID",
    "    Return the node id.",
    "NODES",
    "    Return cluster configuration seen by node. Output format:",
    "    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
    "RESET [HARD|SOFT]",
    "    Reset current node (default: soft).",
    "SET-CONFIG-EPOCH <epoch>",
    "    Set config epoch of current node.",
    "SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
    "    Set slot state.",
    "REPLICAS <node-id>",
    "    Return <node-id> replicas.",
    "SAVECONFIG",
    "    Force saving cluster configuration on disk.",
    "SLOTS",
    "    Return information about slots range mappings. Each range is made of:",
    "    start, end, master and replicas IP addresses, ports and ids",
    "SHARDS",
    "    Return information about slot range mappings and the nodes associated with them.",
    "LINKS",
    "    Return information about all network links between this node and its peers.",
    "    Output format is an array where each array element is a map containing attributes of a link",
    "HELP",
    "    Prints this help.",
]


help_command("cluster", _HELP, group=GROUP, since="5.0.0", acl=_READ_ACL, check=_cluster)


# -- the client's flags ------------------------------------------------------------------

_CLIENT_ACL = ("fast", "connection")


@command("asking", arity=1, flags=("fast",), group=GROUP, since="3.0.0",
         summary="Sent by cluster clients after an -ASK redirect", acl=_CLIENT_ACL)
def asking(ctx):
    """The next command (or transaction) may use a slot this node is importing."""
    _cluster(ctx)
    ctx.asking = True
    return OK


@command("readonly", arity=1, flags=("loading", "stale", "fast"), group=GROUP, since="3.0.0",
         summary="Enables read queries for a connection to a cluster replica node",
         acl=_CLIENT_ACL)
def readonly(ctx):
    """Reads may go to a replica (Hush has none: it changes nothing but CLIENT LIST's ``r``)."""
    _cluster(ctx)
    ctx.readonly = True
    return OK


@command("readwrite", arity=1, flags=("loading", "stale", "fast"), group=GROUP, since="3.0.0",
         summary="Disables read queries for a connection to a cluster replica node",
         acl=_CLIENT_ACL)
def readwrite(ctx):
    """Undo READONLY."""
    _cluster(ctx)
    ctx.readonly = False
    return OK
