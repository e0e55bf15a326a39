"""Redis 7.0's nodes.conf, and the CLUSTER NODES text that shares its format.

One line per node, then a ``vars`` line (cluster.c's clusterLoadConfig and
clusterGenNodeDescription)::

    <id> <ip>:<port>@<cport>[,<hostname>] <flags> <master> <ping-sent> <pong-recv> <config-epoch> <link-state> <slots...>
    vars currentEpoch <n> lastVoteEpoch <n>

``<id>`` is 40 characters of ``[a-z0-9]``; ``<flags>`` a comma-separated
list of myself, master, slave, fail?, fail, handshake, noaddr, nofailover
(``noflags`` when there is none); ``<master>`` the id of the node's master or
``-``; ``<slots>`` single slots (``42``) and ranges (``0-5460``), and on the
line of ``myself`` the slots it is moving: ``[<slot>->-<id>]`` (migrating to
``<id>``) and ``[<slot>-<-<id>]`` (importing from ``<id>``).

:func:`parse` reads such a file into a :class:`ClusterConfig` (the nodes in
the order of their lines, a slot map, the migrating and importing maps and
the two epochs); :func:`dump` writes it back as Redis writes it, so a file
Redis wrote comes back byte for byte; :func:`cluster_nodes` renders the
CLUSTER NODES reply text (every node, ``myself`` marked, the link state of
each). The replies of CLUSTER SLOTS, SHARDS and INFO are in
:mod:`hush.formats.cluster_replies`.

Where this differs from Redis's reader: Redis reads numbers with ``atoi``
(so ``x`` is 0) and splits a line with quoting rules; here a field that is
not a plain decimal number, or a line that does not split on whitespace
into Redis's fields, is a :class:`NodesConfError`. Redis itself never
writes either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import groupby

from hush.formats.keyslot import SLOTS

#: The cluster bus port of a node whose address has no ``@cport``: its port + 10000.
CLUSTER_PORT_INCR = 10000
ID_LENGTH = 40

#: The flags Redis knows, in the order it writes them (``myself`` comes first).
FLAG_ORDER = (b"master", b"slave", b"fail?", b"fail", b"handshake", b"noaddr", b"nofailover")
_KNOWN_FLAGS = frozenset(FLAG_ORDER)
_ID_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789")


class NodesConfError(ValueError):
    """A nodes.conf that Redis refuses ("Unrecoverable error: corrupted cluster config file.")."""


@dataclass
class ClusterNode:
    """One node of the cluster as a node's configuration knows it.

    ``flags`` never holds ``myself`` (that is :attr:`ClusterConfig.myself`).
    ``ping_sent`` and ``pong_recv`` are milliseconds as written; Redis only
    looks at whether they are zero when it loads them. A replica's
    ``config_epoch`` is 0: its line shows its master's epoch, as in Redis.
    ``connected`` is the link state; ``repl_offset`` is not in the file and
    feeds CLUSTER SHARDS and SLOTS.
    """

    id: bytes
    ip: bytes = b""
    port: int = 0
    cport: int = 0
    hostname: bytes = b""
    flags: frozenset[bytes] = frozenset()
    master: bytes | None = None
    ping_sent: int = 0
    pong_recv: int = 0
    config_epoch: int = 0
    connected: bool = False
    repl_offset: int = 0

    @property
    def is_master(self) -> bool:
        """The node has the ``master`` flag."""
        return b"master" in self.flags

    @property
    def is_replica(self) -> bool:
        """The node has the ``slave`` flag."""
        return b"slave" in self.flags

    @property
    def failed(self) -> bool:
        """The cluster agreed the node is down (``fail``)."""
        return b"fail" in self.flags

    @property
    def timed_out(self) -> bool:
        """This node suspects the node is down (``fail?``)."""
        return b"fail?" in self.flags


def _empty_slot_map() -> list[bytes | None]:
    return [None] * SLOTS


@dataclass
class ClusterConfig:
    """A node's view of the cluster: what nodes.conf holds.

    ``nodes`` keeps the order in which they are written; ``slots[i]`` is the
    id of the node serving slot ``i`` (or None); ``migrating`` and
    ``importing`` map a slot of ``myself`` to the node it moves to or from.
    """

    myself: bytes
    nodes: dict[bytes, ClusterNode] = field(default_factory=dict)
    slots: list[bytes | None] = field(default_factory=_empty_slot_map)
    migrating: dict[int, bytes] = field(default_factory=dict)
    importing: dict[int, bytes] = field(default_factory=dict)
    current_epoch: int = 0
    last_vote_epoch: int = 0

    def replicas(self, master_id: bytes) -> list[ClusterNode]:
        """The nodes replicating ``master_id``, in the order of their lines."""
        return [node for node in self.nodes.values() if node.master == master_id]

    def shown_epoch(self, node: ClusterNode) -> int:
        """The epoch Redis shows for ``node``: a replica shows its master's."""
        if node.is_replica and node.master is not None and node.master in self.nodes:
            return self.nodes[node.master].config_epoch
        return node.config_epoch

    def slot_ranges(self) -> dict[bytes, list[tuple[int, int]]]:
        """Each serving node's slots as ``(first, last)`` runs, in slot order."""
        ranges: dict[bytes, list[tuple[int, int]]] = {}
        slot = 0
        for owner, run in groupby(self.slots):
            # len(list()) counts in C: a map is rewritten on every change of it.
            length = len(list(run))
            if owner is not None:
                ranges.setdefault(owner, []).append((slot, slot + length - 1))
            slot += length
        return ranges

    def slot_count(self, node_id: bytes) -> int:
        """How many slots ``node_id`` serves."""
        return self.slots.count(node_id)


# -- reading -------------------------------------------------------------------------


def _number(text: bytes, what: str) -> int:
    if not text.isdigit():
        raise NodesConfError(f"{what} is not a number: {text!r}")
    return int(text)


def _node_id(text: bytes, what: str) -> bytes:
    if len(text) != ID_LENGTH or not _ID_CHARS.issuperset(text):
        raise NodesConfError(f"{what} is not a node id: {text!r}")
    return text


def _slot(text: bytes) -> int:
    slot = _number(text, "slot")
    if slot >= SLOTS:
        raise NodesConfError(f"slot out of range: {slot}")
    return slot


class _Reader:
    """The state of one parse: nodes by line, nodes only referred to, the slot claims."""

    def __init__(self) -> None:
        self.declared: dict[bytes, ClusterNode] = {}
        # Redis creates an address-less node for an id that a line names as
        # master or slot peer before (or without) that node's own line.
        self.referred: dict[bytes, ClusterNode] = {}
        self.myself: bytes | None = None
        self.config = ClusterConfig(myself=b"")

    def node(self, node_id: bytes) -> ClusterNode:
        node = self.declared.get(node_id) or self.referred.get(node_id)
        if node is None:
            node = self.referred[node_id] = ClusterNode(node_id)
        return node

    def declare(self, node_id: bytes) -> ClusterNode:
        node = self.node(node_id)
        self.referred.pop(node_id, None)
        self.declared.setdefault(node_id, node)
        return node

    def vars_line(self, fields: list[bytes]) -> None:
        if len(fields) % 2 == 0:
            raise NodesConfError("vars line without a value for each name")
        for name, value in zip(fields[1::2], fields[2::2], strict=True):
            # Redis skips (and logs) names it does not know.
            if name.lower() == b"currentepoch":
                self.config.current_epoch = _number(value, "currentEpoch")
            elif name.lower() == b"lastvoteepoch":
                self.config.last_vote_epoch = _number(value, "lastVoteEpoch")

    def node_line(self, fields: list[bytes]) -> None:
        if len(fields) < 8:
            raise NodesConfError(f"a node line has 8 fields or more: {b' '.join(fields)!r}")
        node = self.declare(_node_id(fields[0], "node"))
        self.address(node, fields[1])
        self.flags(node, fields[2])
        if not fields[3].startswith(b"-"):
            node.master = _node_id(fields[3], "master")
            self.node(node.master)
        node.ping_sent = _number(fields[4], "ping-sent")
        node.pong_recv = _number(fields[5], "pong-recv")
        epoch = _number(fields[6], "config epoch")
        node.config_epoch = 0 if node.is_replica and node.master is not None else epoch
        node.connected = fields[7] == b"connected"
        for spec in fields[8:]:
            self.slots(node, spec)

    def address(self, node: ClusterNode, text: bytes) -> None:
        address, comma, hostname = text.partition(b",")
        node.hostname = hostname if comma else b""
        ip, colon, ports = address.rpartition(b":")
        if not colon:
            raise NodesConfError(f"address without a port: {text!r}")
        port, at, cport = ports.partition(b"@")
        node.ip = ip
        node.port = _number(port, "port")
        # Files older than Redis 4 have no bus port: Redis assumes port + 10000.
        node.cport = _number(cport, "bus port") if at else node.port + CLUSTER_PORT_INCR

    def flags(self, node: ClusterNode, text: bytes) -> None:
        flags = set(node.flags)
        for flag in text.lower().split(b","):
            if flag == b"myself":
                if self.myself is not None:
                    raise NodesConfError("more than one node is myself")
                self.myself = node.id
            elif flag in _KNOWN_FLAGS:
                flags.add(flag)
            elif flag != b"noflags":
                raise NodesConfError(f"unknown flag {flag!r}")
        node.flags = frozenset(flags)

    def slots(self, node: ClusterNode, spec: bytes) -> None:
        if spec.startswith(b"["):
            self.moving_slot(spec)
            return
        first, dash, last = spec.partition(b"-")
        start = _slot(first)
        stop = _slot(last) if dash else start
        owners = self.config.slots
        for slot in range(start, stop + 1):
            # The first claim of a slot wins, as clusterAddSlot keeps it.
            if owners[slot] is None:
                owners[slot] = node.id

    def moving_slot(self, spec: bytes) -> None:
        if not spec.endswith(b"]"):
            raise NodesConfError(f"unclosed slot migration: {spec!r}")
        body = spec[1:-1]
        for arrow, moves in ((b"->-", self.config.migrating), (b"-<-", self.config.importing)):
            slot, found, peer = body.partition(arrow)
            if found:
                moves[_slot(slot)] = _node_id(peer, "slot peer")
                self.node(peer)
                return
        raise NodesConfError(f"not a slot migration: {spec!r}")

    def finish(self) -> ClusterConfig:
        if self.myself is None:
            raise NodesConfError("no node is myself")
        self.config.myself = self.myself
        self.config.nodes = {**self.declared, **self.referred}
        return self.config


def parse(data: bytes) -> ClusterConfig:
    """Read a nodes.conf (or a CLUSTER NODES reply) into a :class:`ClusterConfig`.

    Raises :class:`NodesConfError` where Redis would stop with "corrupted
    cluster config file" (a short line, a bad id, an unknown flag, a slot out
    of range, no ``myself``) and for numbers that are not plain decimals.
    """
    reader = _Reader()
    for number, line in enumerate(data.split(b"\n"), 1):
        # Redis pads a shrunken file with newlines before truncating it.
        if not line or line.startswith(b"\0"):
            continue
        fields = line.split()
        if not fields:
            raise NodesConfError(f"line {number}: blank line with spaces")
        try:
            if fields[0].lower() == b"vars":
                reader.vars_line(fields)
            else:
                reader.node_line(fields)
        except NodesConfError as err:
            raise NodesConfError(f"line {number}: {err}") from None
    return reader.finish()


# -- writing -------------------------------------------------------------------------


def _flags_text(config: ClusterConfig, node: ClusterNode) -> bytes:
    names = [b"myself"] if node.id == config.myself else []
    names += [flag for flag in FLAG_ORDER if flag in node.flags]
    return b",".join(names) if names else b"noflags"


def node_line(config: ClusterConfig, node: ClusterNode,
              ranges: list[tuple[int, int]] | None = None) -> bytes:
    """One node's line, without its newline (``ranges``: its slot runs, if known)."""
    if ranges is None:
        ranges = config.slot_ranges().get(node.id, [])
    address = b"%s:%d@%d" % (node.ip, node.port, node.cport)
    if node.hostname:
        address += b"," + node.hostname
    myself = node.id == config.myself
    parts = [
        node.id, address, _flags_text(config, node), node.master or b"-",
        b"%d %d %d" % (node.ping_sent, node.pong_recv, config.shown_epoch(node)),
        b"connected" if node.connected or myself else b"disconnected",
    ]
    parts += [b"%d" % first if first == last else b"%d-%d" % (first, last)
              for first, last in ranges]
    if myself:
        # A slot is never both, but were it so Redis shows only the migration.
        for slot in sorted(config.migrating.keys() | config.importing.keys()):
            if slot in config.migrating:
                parts.append(b"[%d->-%s]" % (slot, config.migrating[slot]))
            else:
                parts.append(b"[%d-<-%s]" % (slot, config.importing[slot]))
    return b" ".join(parts)


def _lines(config: ClusterConfig, skip_handshake: bool) -> bytes:
    ranges = config.slot_ranges()
    return b"".join(
        node_line(config, node, ranges.get(node.id, [])) + b"\n"
        for node in config.nodes.values()
        if not (skip_handshake and b"handshake" in node.flags)
    )


def cluster_nodes(config: ClusterConfig) -> bytes:
    """The text of CLUSTER NODES: every node's line, each ending in a newline."""
    return _lines(config, skip_handshake=False)


def dump(config: ClusterConfig) -> bytes:
    """The nodes.conf Redis writes for ``config`` (nodes in handshake are left out)."""
    return _lines(config, skip_handshake=True) + b"vars currentEpoch %d lastVoteEpoch %d\n" % (
        config.current_epoch, config.last_vote_epoch)
