"""The replies of CLUSTER SLOTS, SHARDS and INFO, built from a :class:`ClusterConfig`.

Each function returns plain reply values (lists, dicts, bytes, ints, None)
shaped as Redis 7.0's cluster.c builds them; a dict is a map in RESP3 and a
flat array in RESP2, as the reply encoder writes it. CLUSTER INFO is text
that the command sends as a verbatim string.

``endpoint`` is the ``cluster-preferred-endpoint-type`` setting: ``ip`` (the
default), ``hostname`` or ``unknown-endpoint``; it decides what names a node
first in SLOTS and what SHARDS calls its ``endpoint``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hush.formats.nodes_conf import ClusterConfig, ClusterNode

ENDPOINT_TYPES = ("ip", "hostname", "unknown-endpoint")

#: Cluster bus message types in Redis's numbering, the order CLUSTER INFO lists them in.
MESSAGE_TYPES = ("ping", "pong", "meet", "fail", "publish", "auth-req", "auth-ack",
                 "update", "mfstart", "module", "publishshard")


def _check_endpoint(endpoint: str) -> None:
    if endpoint not in ENDPOINT_TYPES:
        raise ValueError(f"unknown endpoint type {endpoint!r}")


def preferred_endpoint(node: ClusterNode, endpoint: str = "ip") -> bytes:
    """What SHARDS calls the node's ``endpoint`` (``?`` for a missing hostname)."""
    _check_endpoint(endpoint)
    if endpoint == "ip":
        return node.ip
    if endpoint == "hostname":
        return node.hostname or b"?"
    return b""


def _node_entry(node: ClusterNode, endpoint: str) -> list[Any]:
    """A node in CLUSTER SLOTS: ``[endpoint, port, id, {other endpoints}]``."""
    if endpoint == "unknown-endpoint":
        first: bytes | None = None
    else:
        first = preferred_endpoint(node, endpoint)
    extra: dict[bytes, bytes] = {}
    if endpoint != "ip":
        extra[b"ip"] = node.ip
    if endpoint != "hostname" and node.hostname:
        extra[b"hostname"] = node.hostname
    return [first, node.port, node.id, extra]


def _available(replica: ClusterNode) -> bool:
    # A replica that failed or has not synced yet (offset 0) serves no reads.
    return not replica.failed and replica.repl_offset != 0


def cluster_slots(config: ClusterConfig, endpoint: str = "ip") -> list[list[Any]]:
    """CLUSTER SLOTS: one entry per run of slots with one master, in slot order.

    An entry is ``[first, last, master, replica, ...]`` listing the replicas
    that are available (not failed, replication offset not 0).
    """
    _check_endpoint(endpoint)
    reply = []
    for node_id, ranges in config.slot_ranges().items():
        node = config.nodes[node_id]
        others = [_node_entry(replica, endpoint) for replica in config.replicas(node_id)
                  if _available(replica)]
        for first, last in ranges:
            reply.append([first, last, _node_entry(node, endpoint), *others])
    reply.sort(key=lambda entry: entry[0])
    return reply


def _shard_node(config: ClusterConfig, node: ClusterNode, endpoint: str) -> dict[bytes, Any]:
    details: dict[bytes, Any] = {b"id": node.id}
    # Without TLS the port is the plain one; a node whose port is unknown (0) shows none.
    if node.port:
        details[b"port"] = node.port
    details[b"ip"] = node.ip
    details[b"endpoint"] = preferred_endpoint(node, endpoint)
    if node.hostname:
        details[b"hostname"] = node.hostname
    details[b"role"] = b"replica" if node.is_replica else b"master"
    details[b"replication-offset"] = node.repl_offset
    if node.failed:
        health = b"fail"
    elif node.is_replica and node.repl_offset == 0:
        health = b"loading"
    else:
        health = b"online"
    details[b"health"] = health
    return details


def cluster_shards(config: ClusterConfig, endpoint: str = "ip") -> list[dict[bytes, Any]]:
    """CLUSTER SHARDS: one map per master (in node order), its slot runs and nodes.

    ``slots`` is a flat list ``[first, last, first, last, ...]``; ``nodes``
    the master then its replicas, each a map of id, port, ip, endpoint,
    hostname (if any), role, replication-offset and health.
    """
    _check_endpoint(endpoint)
    ranges = config.slot_ranges()
    reply = []
    for node in config.nodes.values():
        if not node.is_master:
            continue
        slots = [bound for run in ranges.get(node.id, []) for bound in run]
        members = [node, *config.replicas(node.id)]
        reply.append({
            b"slots": slots,
            b"nodes": [_shard_node(config, member, endpoint) for member in members],
        })
    return reply


def cluster_state_ok(config: ClusterConfig, require_full_coverage: bool = True) -> bool:
    """Whether the cluster is ``ok`` by clusterUpdateState's rules.

    It fails when (with ``cluster-require-full-coverage yes``) a slot has no
    node or a failed one, or when fewer than a majority of the masters that
    serve slots are reachable (neither ``fail`` nor ``fail?``). Redis's
    delays before a restarted master turns ``ok`` are the caller's.
    """
    nodes = config.nodes
    owners = set(config.slots)
    if require_full_coverage:
        for owner in owners:
            if owner is None or nodes[owner].failed:
                return False
    owners.discard(None)
    serving = [nodes[node_id] for node_id in owners if nodes[node_id].is_master]
    reachable = sum(1 for node in serving if not (node.failed or node.timed_out))
    return reachable >= len(serving) // 2 + 1


def _message_lines(counts: Mapping[str, int], direction: str) -> list[bytes]:
    unknown = set(counts) - set(MESSAGE_TYPES)
    if unknown:
        raise ValueError(f"unknown cluster bus message types: {sorted(unknown)}")
    lines = [b"cluster_stats_messages_%s_%s:%d" % (kind.encode(), direction.encode(), counts[kind])
             for kind in MESSAGE_TYPES if counts.get(kind, 0)]
    lines.append(b"cluster_stats_messages_%s:%d" % (direction.encode(), sum(counts.values())))
    return lines


def cluster_info(config: ClusterConfig, *, state_ok: bool | None = None,
                 require_full_coverage: bool = True,
                 messages_sent: Mapping[str, int] | None = None,
                 messages_received: Mapping[str, int] | None = None,
                 links_buffer_limit_exceeded: int = 0) -> bytes:
    """The text of CLUSTER INFO (lines ending in CRLF).

    ``state_ok`` overrides the state computed by :func:`cluster_state_ok`;
    the message counters are by type name (:data:`MESSAGE_TYPES`): a node
    without a cluster bus sends and receives none.
    """
    if state_ok is None:
        state_ok = cluster_state_ok(config, require_full_coverage)
    assigned = ok = pfail = fail = 0
    owners = config.nodes
    for owner_id in config.slots:
        if owner_id is None:
            continue
        assigned += 1
        owner = owners[owner_id]
        if owner.failed:
            fail += 1
        elif owner.timed_out:
            pfail += 1
        else:
            ok += 1
    ranges = config.slot_ranges()
    size = sum(1 for node_id in ranges if owners[node_id].is_master)
    lines = [
        b"cluster_state:" + (b"ok" if state_ok else b"fail"),
        b"cluster_slots_assigned:%d" % assigned,
        b"cluster_slots_ok:%d" % ok,
        b"cluster_slots_pfail:%d" % pfail,
        b"cluster_slots_fail:%d" % fail,
        b"cluster_known_nodes:%d" % len(owners),
        b"cluster_size:%d" % size,
        b"cluster_current_epoch:%d" % config.current_epoch,
        b"cluster_my_epoch:%d" % config.shown_epoch(owners[config.myself]),
        *_message_lines(messages_sent or {}, "sent"),
        *_message_lines(messages_received or {}, "received"),
        b"total_cluster_links_buffer_limit_exceeded:%d" % links_buffer_limit_exceeded,
    ]
    return b"".join(line + b"\r\n" for line in lines)

