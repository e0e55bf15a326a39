# -*- test-case-name: tests.unit.data.test_cluster -*-
"""A cluster node's view of its cluster: the nodes, the slot map, slots on the move.

With ``cluster-enabled yes`` Hush is a node of a Redis Cluster whose map is
static: it has no cluster bus, so it learns nothing from other nodes. What
it knows is its ``cluster-config-file`` (Redis's nodes.conf, relative to
``dir``; :mod:`hush.formats.nodes_conf` reads and writes it), read at start,
and what operators change with CLUSTER commands (SETSLOT, ADDSLOTS, ...),
written back to the file at once, as Redis saves it before replying.

:meth:`ClusterState.open` does Redis's clusterInit: it locks the file (two
nodes must not share one), loads it or, when it is missing or empty, makes a
new node with a random id and no slots and writes it. The port of the
node's own line becomes the port it serves, as Redis sets it; its address
and every other node's stay as the file says.

The state is ``ok`` or ``fail`` by Redis's rules
(:func:`hush.formats.cluster_replies.cluster_state_ok`): a slot without a
node (with ``cluster-require-full-coverage yes``) or too few reachable
masters make it fail. Nodes never fail by themselves here: only their
``fail`` flags in the file count.
"""

from __future__ import annotations

import fcntl
import os
from typing import Any

from twisted.logger import Logger

from hush.data.slots import SlotIndex
from hush.formats import nodes_conf
from hush.formats.cluster_replies import cluster_state_ok
from hush.formats.nodes_conf import CLUSTER_PORT_INCR, ClusterConfig, ClusterNode, NodesConfError

log = Logger(namespace="hush")


class ClusterStartError(Exception):
    """The node cannot start; the message is Redis's log line saying why."""


def new_node_id() -> bytes:
    """A random node id: 40 lowercase hex characters, as Redis makes them."""
    return os.urandom(20).hex().encode()


class ClusterState:
    """What a node knows of its cluster, and its nodes.conf.

    @ivar config: the :class:`ClusterConfig` (nodes, slots, moves, epochs).
    @ivar myself: this node's :class:`ClusterNode`.
    @ivar slots: slot -> id of the node serving it, or None (``config.slots``).
    @ivar migrating: slot -> id of the node it moves to (``config.migrating``).
    @ivar importing: slot -> id of the node it comes from (``config.importing``).
    @ivar index: database 0's keys by slot.
    @ivar ok: the cluster state (CLUSTER INFO ``cluster_state``).
    @ivar created: True if the node was made new at start (no file to load).
    """

    def __init__(self, config: ClusterConfig, path: str, settings: Any,
                 index: SlotIndex) -> None:
        self.config = config
        self.path = path
        self.settings = settings
        self.index = index
        self.created = False
        self._lock_fd: int | None = None
        self.ok = False
        self._bind()

    def _bind(self) -> None:
        """Point the shortcuts at the config's structures (after a load or a reset)."""
        config = self.config
        self.myself = config.nodes[config.myself]
        self.slots = config.slots
        self.migrating = config.migrating
        self.importing = config.importing
        self.update_state()

    # -- start ---------------------------------------------------------------------

    @classmethod
    def open(cls, settings: Any, index: SlotIndex) -> ClusterState:
        """Lock, then load or create the node's ``cluster-config-file`` (Redis's clusterInit).

        Raises :class:`ClusterStartError` with Redis's words when the file is
        locked by another node, cannot be read, or is corrupt.
        """
        path = os.path.join(settings.dir, settings.cluster_config_file)
        lock_fd = _lock(path)
        try:
            config, created = _load(path)
            if config is None:
                config = _fresh(settings.port)
            state = cls(config, path, settings, index)
            state._lock_fd = lock_fd
            state.created = created
            if settings.port:
                # The node serves where it listens, whatever its line said, and
                # its bus port follows (Redis's default: port + 10000).
                state.myself.port = settings.port
                state.myself.cport = settings.port + CLUSTER_PORT_INCR
            if state.myself.is_replica:
                raise ClusterStartError(
                    "Hush has no replication: the line of this node in "
                    f"{path} makes it a replica. Give it the master flag.")
            if created:
                state.save()
        except BaseException:
            os.close(lock_fd)
            raise
        return state

    def close(self) -> None:
        """Release the file's lock (the process exits, or a test ends)."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- lookups ---------------------------------------------------------------------

    def node(self, node_id: bytes) -> ClusterNode | None:
        """The node with this id (exactly 40 characters, as Redis looks them up), or None."""
        if len(node_id) != nodes_conf.ID_LENGTH:
            return None
        return self.config.nodes.get(node_id)

    def owner(self, slot: int) -> ClusterNode | None:
        """The node serving ``slot``, or None."""
        node_id = self.slots[slot]
        return None if node_id is None else self.config.nodes[node_id]

    def slot_count(self, node: ClusterNode) -> int:
        """How many slots ``node`` serves."""
        return self.config.slot_count(node.id)

    # -- changes -----------------------------------------------------------------------

    def update_state(self) -> None:
        """Recompute ``ok`` from the slot map, the flags and the settings (logged when it changes)."""
        ok = cluster_state_ok(self.config, self.settings.cluster_require_full_coverage)
        if ok != self.ok:
            log.info("Cluster state changed: {state}", state="ok" if ok else "fail")
        self.ok = ok

    def changed(self) -> None:
        """The map changed: recompute the state and write the file (Redis saves before replying).

        Like Redis after SETSLOT, ADDSLOTS and the like, the file is written
        but not fsynced. Raises OSError when it cannot be written; the change
        stays in memory.
        """
        self.update_state()
        self.save(fsync=False)

    def save(self, fsync: bool = True) -> None:
        """Write nodes.conf as Redis does: one write over the old content, fsync, truncate.

        The file is rewritten in place (not replaced) so that the lock taken
        on it at start keeps holding; a shorter content is padded with
        newlines before the truncation, as Redis pads it, so the file never
        holds a mix of two versions' lines.
        """
        content = nodes_conf.dump(self.config)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            padded = content + b"\n" * (size - len(content)) if size > len(content) else content
            os.write(fd, padded)
            if fsync:
                os.fsync(fd)
            if len(padded) != len(content):
                os.ftruncate(fd, len(content))
        finally:
            os.close(fd)

    def verify_data(self, dbs: list[Any]) -> list[str]:
        """Redis's verifyClusterConfigWithData, after the data was loaded: the warnings logged.

        Only database 0 may hold keys (else :class:`ClusterStartError`). A slot
        holding keys that has no node becomes this node's; one that another
        node serves becomes importing from it, so its keys stay reachable
        with ASKING; either change is saved.
        """
        if any(len(db) for db in dbs[1:]):
            raise ClusterStartError("You can't have keys in a DB different than DB 0 when in "
                                    "Cluster mode. Exiting.")
        warnings = []
        myself = self.myself.id
        for slot in sorted(self.index.by_slot):
            owner = self.slots[slot]
            if owner == myself or slot in self.importing:
                continue
            if owner is None:
                warnings.append(f"I have keys for unassigned slot {slot}. "
                                "Taking responsibility for it.")
                self.slots[slot] = myself
            else:
                warnings.append(f"I have keys for slot {slot}, but the slot is assigned to "
                                "another node. Setting it to importing state.")
                self.importing[slot] = owner
        if warnings:
            self.changed()
        return warnings

    def bump_epoch(self) -> bool:
        """Redis's clusterBumpConfigEpochWithoutConsensus: a new epoch for this node
        unless it already has the greatest one (True if bumped)."""
        config = self.config
        highest = max((node.config_epoch for node in config.nodes.values()), default=0)
        highest = max(highest, config.current_epoch)
        if self.myself.config_epoch == 0 or self.myself.config_epoch != highest:
            config.current_epoch += 1
            self.myself.config_epoch = config.current_epoch
            return True
        return False

    def reset(self, hard: bool) -> None:
        """CLUSTER RESET: forget every other node and every slot; a new id and zero
        epochs if ``hard``."""
        config = self.config
        myself = self.myself
        if hard:
            config.nodes.pop(myself.id)
            myself.id = new_node_id()
            myself.config_epoch = 0
            config.current_epoch = 0
            config.last_vote_epoch = 0
        config.nodes = {myself.id: myself}
        config.myself = myself.id
        config.slots[:] = [None] * len(config.slots)
        config.migrating.clear()
        config.importing.clear()
        myself.flags = frozenset([b"master"])
        myself.master = None
        self._bind()


def _lock(path: str) -> int:
    """Open (creating) and lock ``path`` for this process, as Redis's clusterLockConfig."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as error:
        raise ClusterStartError(
            f"Can't open {path} in order to acquire a lock: {error.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ClusterStartError(
            f"Sorry, the cluster configuration file {path} is already used by a different "
            "Redis Cluster node. Please make sure that different nodes use different "
            "cluster configuration files.") from None
    except OSError as error:
        os.close(fd)
        raise ClusterStartError(f"Impossible to lock {path}: {error.strerror}") from None
    return fd


def _load(path: str) -> tuple[ClusterConfig | None, bool]:
    """The file's config, or (None, True) when there is none to load (missing or empty)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return None, True
    except OSError as error:
        raise ClusterStartError(
            f"Loading the cluster node config from {path}: {error.strerror}") from None
    if not data:
        return None, True
    try:
        config = nodes_conf.parse(data)
    except NodesConfError:
        raise ClusterStartError("Unrecoverable error: corrupted cluster config file.") from None
    # Redis protects itself against a hand-edited file this way too.
    highest = max((node.config_epoch for node in config.nodes.values()), default=0)
    config.current_epoch = max(config.current_epoch, highest)
    return config, False


def _fresh(port: int) -> ClusterConfig:
    """A new node that knows only itself: master, no slots, no address yet (Redis's)."""
    node_id = new_node_id()
    myself = ClusterNode(node_id, port=port, cport=port + CLUSTER_PORT_INCR,
                         flags=frozenset([b"master"]), connected=True)
    return ClusterConfig(myself=node_id, nodes={node_id: myself})
