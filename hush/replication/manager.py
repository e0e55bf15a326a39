# -*- test-case-name: tests.unit.replication.test_master,tests.unit.replication.test_replica -*-
"""What the server wires and the replication commands reach: one server's replication.

:class:`Replication` holds the history (:mod:`hush.replication.backlog`),
the master's side (:mod:`hush.replication.master`), the link to a master
while this server is a replica (:mod:`hush.replication.replica`), the
once-a-second cron, and answers the dispatcher's questions: may this write
run (NOREPLICAS, READONLY), may this command run while the link is down
(MASTERDOWN). It is what :class:`hush.core.interfaces.Replication`
describes; the server floor makes one per server and tells it when clients go.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from hush.commands.args import parse_int
from hush.config.table import BY_NAME
from hush.core.errors import CommandError
from hush.data.blocking import NOT_READY, Block
from hush.ops.clientinfo import client_line
from hush.replication.backlog import History
from hush.replication.master import MasterSide
from hush.replication.replica import Cached, ReplicaSide
from hush.wire.resp import NO_REPLY, OK, SimpleString

log = Logger()

NOREPLICAS = "NOREPLICAS Not enough good replicas to write."
READONLY = "READONLY You can't write against a read only replica."
MASTERDOWN = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
UNBLOCKED = ("UNBLOCKED force unblock from blocking operation, instance state changed "
             "(master -> replica?)")


class Replication:
    """One server's replication state and the cron that keeps it.

    @ivar replica: the link to a master while this server is a replica, else None.
    @ivar gating: True while commands must be checked against replication's
        rules (a replica's read-only and stale-data ones, min-replicas-to-write
        on a master); the dispatcher asks :meth:`refusal` only then, so a
        plain master pays nothing per command.
    """

    def __init__(self, server: Any, reactor: Any = None) -> None:
        if reactor is None:
            from twisted.internet import reactor as default_reactor

            reactor = default_reactor
        self.server = server
        self.settings = server.settings
        self.clock = server.clock
        self.reactor = reactor
        self.history = History()
        self.master = MasterSide(server, self.history, reactor)
        self.master.on_backlog = self._backlog_changed
        self.replica: ReplicaSide | None = None
        self.gating = False
        self._loops = 0
        self._cron: LoopingCall | None = None
        self._active_expire = True
        #: Clients blocked in WAIT.
        self._waiting: list[_Waiting] = []
        self.master.on_ack = self._acked
        for name in ("min-replicas-to-write", "min-replicas-max-lag"):
            self.settings.on_change(name, self._gate_settings_changed)
        self.settings.on_change("repl-backlog-size", self._resize_backlog)
        self.settings.on_change("replica-read-only", self._read_only_changed)
        self._update_gating()

    def setting(self, name: str) -> Any:
        """The current value of a replication directive."""
        return self.settings.value(BY_NAME[name])

    # -- life cycle ----------------------------------------------------------------

    def start(self) -> None:
        """Follow the configured master (``replicaof``), start the once-a-second cron."""
        configured = self.setting("replicaof")
        if configured and self.replica is None:
            host, port = configured.split()
            self.set_master(host, int(port))
        if self._cron is None:
            self._cron = LoopingCall(self.cron)
            self._cron.clock = self.clock
            self._cron.start(1.0, now=False)

    def stop(self) -> None:
        """Stop the cron and drop the link to a master."""
        if self._cron is not None and self._cron.running:
            self._cron.stop()
        self._cron = None
        if self.replica is not None:
            self.replica.stop()

    def cron(self) -> None:
        """Redis's replicationCron: the link to a master, pings, timeouts, the backlog's TTL."""
        if self.replica is not None:
            self.replica.cron()
        self.master.cron(self._loops, is_master=self.replica is None)
        self._loops += 1

    def connect(self, host: str, port: int, factory: Any, timeout: int) -> Any:
        """Open a TCP connection to a master (tests replace this)."""
        return self.reactor.connectTCP(host, port, factory, timeout=timeout)

    def listening_port(self) -> int:
        """The port a replica announces (REPLCONF listening-port)."""
        return self.settings.port

    # -- roles -----------------------------------------------------------------------

    @property
    def is_replica(self) -> bool:
        """True while this server follows a master."""
        return self.replica is not None

    def set_master(self, host: str, port: int) -> None:
        """Follow ``host:port`` (Redis's replicationSetMaster)."""
        was_master = self.replica is None
        cached = self.replica.stop() if self.replica is not None else None
        store = self.server.store
        if was_master:
            # The stream is what the master sends from now on, not what runs here.
            self.server.persistence.set_replication_sink(None)
            store.replica = True
            self._active_expire = store.expiry.enabled
            store.expiry.set_enabled(False)
        store.replica_read_only = bool(self.setting("replica-read-only"))
        self._unblock_blocked_clients()
        replica = self.replica = ReplicaSide(self, host, port)
        if was_master:
            # This server's own history may let it continue with the new master
            # (a demoted master whose replica was promoted).
            cached = Cached(self.history.replid, self.history.offset, 0)
        # The new master may be a promoted sibling that knows this history.
        replica.cached = cached
        self.settings.assign(BY_NAME["replicaof"], f"{host} {port}")
        self._update_gating()
        log.info("Connecting to MASTER {host}:{port}", host=host, port=port)
        replica.connect()

    def unset_master(self) -> None:
        """Be a master again (Redis's replicationUnsetMaster)."""
        replica = self.replica
        if replica is None:
            return
        self.replica = None
        replica.stop()
        history = self.history
        # The master's history stays valid up to here, for the other replicas.
        history.shift_id()
        log.warn("Setting secondary replication ID to {replid2}, valid up to offset: "
                 "{offset}. New replication ID is {replid}", replid2=history.replid2,
                 offset=history.second_offset, replid=history.replid)
        self.master.disconnect_all()
        self.master.encoder.selected = -1
        self.master.no_replicas_since = self.clock.seconds()
        store = self.server.store
        store.replica = False
        store.expiry.set_enabled(self._active_expire)
        if history.backlog is not None:
            self.server.persistence.set_replication_sink(self.master.feed_ops)
        self.settings.assign(BY_NAME["replicaof"], "")
        persistence = self.server.persistence
        if self.settings.appendonly and persistence.aof is None:
            persistence.set_appendonly(True)
        self._update_gating()

    def _unblock_blocked_clients(self) -> None:
        # Redis's disconnectAllBlockedClients: what they wait for may never come.
        error = CommandError(UNBLOCKED)
        for client in list(self.server.clients.values()):
            waiter = client.connection.waiter
            if waiter is not None and waiter.block.keys:
                self.server.blocking.unblock(waiter, error)
                client.close_after_reply()

    # -- the dispatcher's gate ----------------------------------------------------

    def _gate_settings_changed(self, _value: Any) -> None:
        self.master.refresh_good_replicas()
        self._update_gating()

    def _read_only_changed(self, read_only: bool) -> None:
        self.server.store.replica_read_only = bool(read_only)

    def _update_gating(self) -> None:
        gating = self.replica is not None or bool(
            self.setting("min-replicas-to-write") and self.setting("min-replicas-max-lag"))
        if gating != self.gating:
            self.gating = gating
            for client in self.server.clients.values():
                client.update_gate()

    def refusal(self, client: Any, cmd: Any, is_write: bool) -> Any:
        """The error a command gets for replication's reasons, or None.

        NOREPLICAS on a master short of good replicas, READONLY for writes to
        a read-only replica, MASTERDOWN for commands without the ``stale``
        flag while a replica's link is down and replica-serve-stale-data is
        off. A replica's own connection may send only REPLCONF: anything
        else would answer into its stream, so it is dropped (NO_REPLY), as
        Redis drops it.
        """
        link = client.replication
        if link is not None and link.is_replica:
            if (cmd.parent or cmd).name == "replconf":
                return None
            log.warn("Replica generated a reply to command '{name}', disconnecting it: "
                     "{client}", name=cmd.full_name, client=link.name())
            client.connection.disconnect()
            return NO_REPLY
        replica = self.replica
        if replica is None:
            if is_write and not self.master.enough_good_replicas():
                return CommandError(NOREPLICAS)
            return None
        if is_write and self.server.store.replica_read_only:
            return CommandError(READONLY)
        if not replica.connected and not self.setting("replica-serve-stale-data") and (
                _denies_stale(client, cmd)):
            return CommandError(MASTERDOWN)
        return None

    # -- the stream and the backlog ------------------------------------------------

    def _backlog_changed(self, active: bool) -> None:
        # A master propagates writes to the stream only while a backlog keeps it;
        # a replica's stream is its master's, passed on as it arrives.
        if self.replica is None:
            self.server.persistence.set_replication_sink(
                self.master.feed_ops if active else None)

    def _resize_backlog(self, size: int) -> None:
        if self.history.backlog is not None:
            self.history.backlog.resize(size)

    # -- commands --------------------------------------------------------------------

    def replicaof(self, client: Any, host: bytes, port: bytes) -> Any:
        """REPLICAOF host port / REPLICAOF NO ONE."""
        if self.server.cluster is not None:
            # A cluster's replicas follow its map (out of Hush's cluster mode).
            raise CommandError("ERR REPLICAOF not allowed in cluster mode.")
        if host.lower() == b"no" and port.lower() == b"one":
            if self.replica is not None:
                self.unset_master()
                log.info("MASTER MODE enabled (user request from '{client}')",
                         client=self._describe(client))
            return OK
        if client.replication is not None and client.replication.is_replica:
            raise CommandError("ERR Command is not valid when client is a replica.")
        number = parse_int(port)
        if not 0 <= number <= 65535:
            raise CommandError("ERR Invalid master port")
        name = host.decode(errors="replace")
        replica = self.replica
        if replica is not None and replica.host.lower() == name.lower() and (
                replica.port == number):
            log.info("REPLICAOF would result into synchronization with the master we are "
                     "already connected with. No operation performed.")
            return SimpleString(b"OK Already connected to specified master")
        self.set_master(name, number)
        log.info("REPLICAOF {host}:{port} enabled (user request from '{client}')",
                 host=name, port=number, client=self._describe(client))
        return OK

    def _describe(self, client: Any) -> str:
        return client_line(client, self.clock.seconds()).decode(errors="replace").rstrip("\n")

    def sync(self, client: Any, psync: tuple[str, int] | None) -> Any:
        """SYNC / PSYNC."""
        if client.replication is not None and client.replication.is_replica:
            return NO_REPLY
        if self.replica is not None and not self.replica.connected:
            raise CommandError("NOMASTERLINK Can't SYNC while not connected with my master")
        return self.master.sync(client, psync)

    def failover_request(self, client: Any, replid: str, offset: int) -> Any:
        """PSYNC replid offset FAILOVER: the master of this replica hands over (FAILOVER)."""
        log.warn("Failover request received for replid {replid}.", replid=replid)
        if self.replica is None:
            raise CommandError("ERR PSYNC FAILOVER can't be sent to a master.")
        if replid != self.history.replid:
            raise CommandError("ERR PSYNC FAILOVER replid must match my replid.")
        self.unset_master()
        log.info("MASTER MODE enabled (failover request from '{client}')",
                 client=self._describe(client))
        return self.sync(client, (replid, offset))

    def replconf(self, client: Any, args: tuple[bytes, ...]) -> Any:
        """REPLCONF."""
        return self.master.replconf(client, args, self._getack)

    def _getack(self) -> None:
        if self.replica is not None:
            self.replica.send_ack()

    def client_gone(self, client: Any) -> None:
        """A client closed: a replica among them stops being fed, a WAIT is forgotten."""
        link = client.replication
        if link is not None:
            self.master.gone(link)
        for waiting in [waiting for waiting in self._waiting if waiting.client is client]:
            self._waiting.remove(waiting)
            if waiting.timer is not None and waiting.timer.active():
                waiting.timer.cancel()

    def wait(self, client: Any, wanted: int, timeout_ms: int) -> Any:
        """WAIT: the replicas that acknowledged the stream up to now, at once when
        enough did (or inside MULTI), else a Block woken by their ACKs or the timeout."""
        offset = self.history.offset
        acked = self.master.count_acks(offset)
        if acked >= wanted or client.in_multi:
            return acked
        block = Block((), 0, _not_ready, acked)
        waiting = _Waiting(client, block, offset, wanted)
        if timeout_ms:
            waiting.timer = self.clock.callLater(timeout_ms / 1000, self._wake, waiting)
        self._waiting.append(waiting)
        # One GETACK at the end of this turn asks every replica at once.
        self.master.request_acks()
        return block

    def _acked(self) -> None:
        """An ACK arrived: answer the WAITs it satisfies (processClientsWaitingReplicas)."""
        for waiting in list(self._waiting):
            if self.master.count_acks(waiting.offset) >= waiting.wanted:
                self._wake(waiting)

    def _wake(self, waiting: _Waiting) -> None:
        if waiting in self._waiting:
            self._waiting.remove(waiting)
        if waiting.timer is not None and waiting.timer.active():
            waiting.timer.cancel()
        waiter = waiting.client.connection.waiter
        if waiter is not None and waiter.block is waiting.block:
            self.server.blocking.unblock(waiter, self.master.count_acks(waiting.offset))

    def role(self) -> list[Any]:
        """ROLE: [master, offset, [[ip, port, offset], ...]] or
        [slave, host, port, state, offset]."""
        replica = self.replica
        if replica is None:
            return [b"master", self.history.offset, self.master.role_entries()]
        return [b"slave", replica.host.encode(), replica.port, replica.role_state.encode(),
                replica.applied_offset]

    # -- INFO ------------------------------------------------------------------------

    @property
    def replica_count(self) -> int:
        """How many replicas this server has (INFO leaves them out of connected_clients)."""
        return len(self.master.replicas)

    def counters(self) -> dict[str, int]:
        """INFO stats' replication counters."""
        master = self.master
        replica = self.replica
        return {"total_net_repl_input_bytes": replica.input_bytes if replica else 0,
                "total_net_repl_output_bytes": master.output_bytes,
                "sync_full": master.sync_full, "sync_partial_ok": master.sync_partial_ok,
                "sync_partial_err": master.sync_partial_err}

    def info_fields(self) -> list[tuple[str, Any]]:
        """INFO replication, with Redis 7.0's fields for either role."""
        history = self.history
        backlog = history.backlog
        master = self.master
        replica = self.replica
        fields: list[tuple[str, Any]] = [("role", "master" if replica is None else "slave")]
        if replica is not None:
            fields += replica.info_fields()
            fields += [("slave_priority", self.setting("replica-priority")),
                       ("slave_read_only", 1 if self.setting("replica-read-only") else 0),
                       ("replica_announced", 1 if self.setting("replica-announced") else 0)]
        fields.append(("connected_slaves", len(master.replicas)))
        if self.setting("min-replicas-to-write") and self.setting("min-replicas-max-lag"):
            fields.append(("min_slaves_good_slaves", master.good_replicas))
        fields += master.replica_lines()
        fields += [
            ("master_failover_state", "no-failover"),
            ("master_replid", history.replid),
            ("master_replid2", history.replid2),
            ("master_repl_offset", history.offset),
            ("second_repl_offset", history.second_offset),
            ("repl_backlog_active", 1 if backlog is not None else 0),
            ("repl_backlog_size", self.setting("repl-backlog-size")),
            ("repl_backlog_first_byte_offset", backlog.first if backlog is not None else 0),
            ("repl_backlog_histlen", backlog.histlen if backlog is not None else 0),
        ]
        return fields


class _Waiting:
    """A client in WAIT: the offset its replicas must acknowledge, how many it wants."""

    __slots__ = ("client", "block", "offset", "wanted", "timer")

    def __init__(self, client: Any, block: Block, offset: int, wanted: int) -> None:
        self.client = client
        self.block = block
        self.offset = offset
        self.wanted = wanted
        self.timer: Any = None


def _not_ready(_key: bytes) -> object:
    # WAIT's block waits on no key: only ACKs and its timeout end it.
    return NOT_READY


def _denies_stale(client: Any, cmd: Any) -> bool:
    """True if ``cmd`` may not run on stale data (EXEC: if a queued command may not)."""
    if "stale" not in cmd.flags:
        return True
    if (cmd.parent or cmd).name == "exec" and client.in_multi:
        return any("stale" not in queued.flags for queued, _argv in client.queued())
    return False
