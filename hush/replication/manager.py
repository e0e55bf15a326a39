# -*- test-case-name: tests.unit.replication.test_master -*-
"""What the server wires and the replication commands reach: one server's replication.

:class:`Replication` holds the history (:mod:`hush.replication.backlog`),
the master's side (:mod:`hush.replication.master`), the once-a-second cron,
and answers the dispatcher's questions: may this write run (NOREPLICAS,
READONLY), may this command run while the link is down (MASTERDOWN). It
is what :class:`hush.core.interfaces.Replication` describes; the server
floor makes one per server and tells it when clients go.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from hush.config.table import BY_NAME
from hush.core.errors import CommandError
from hush.replication.backlog import History
from hush.replication.master import MasterSide
from hush.wire.resp import NO_REPLY

log = Logger()

NOREPLICAS = "NOREPLICAS Not enough good replicas to write."


class Replication:
    """One server's replication state and the cron that keeps it.

    @ivar gating: True while commands must be checked against replication's
        rules (min-replicas-to-write on a master); the dispatcher asks
        :meth:`refusal` only then, so a plain master pays nothing per command.
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
        self.gating = False
        self._loops = 0
        self._cron: LoopingCall | None = None
        for name in ("min-replicas-to-write", "min-replicas-max-lag"):
            self.settings.on_change(name, self._gate_settings_changed)
        self.settings.on_change("repl-backlog-size", self._resize_backlog)
        self._update_gating()

    def setting(self, name: str) -> Any:
        """The current value of a replication directive."""
        return self.settings.value(BY_NAME[name])

    # -- life cycle ----------------------------------------------------------------

    def start(self) -> None:
        """Start the once-a-second cron."""
        if self._cron is None:
            self._cron = LoopingCall(self.cron)
            self._cron.clock = self.clock
            self._cron.start(1.0, now=False)

    def stop(self) -> None:
        """Stop the cron."""
        if self._cron is not None and self._cron.running:
            self._cron.stop()
        self._cron = None

    def cron(self) -> None:
        """Redis's replicationCron: pings, timeouts, the backlog's time to live."""
        self.master.cron(self._loops, is_master=True)
        self._loops += 1

    # -- the dispatcher's gate ----------------------------------------------------

    def _gate_settings_changed(self, _value: Any) -> None:
        self.master.refresh_good_replicas()
        self._update_gating()

    def _update_gating(self) -> None:
        gating = bool(self.setting("min-replicas-to-write") and self.setting("min-replicas-max-lag"))
        if gating != self.gating:
            self.gating = gating
            for client in self.server.clients.values():
                client.update_gate()

    def refusal(self, client: Any, cmd: Any, is_write: bool) -> Any:
        """The error a command gets for replication's reasons (NOREPLICAS), or None.

        A replica's own connection may send only REPLCONF: anything else would
        answer into its stream, so it is dropped (NO_REPLY), as Redis drops it.
        """
        link = client.replication
        if link is not None and link.is_replica:
            if (cmd.parent or cmd).name == "replconf":
                return None
            log.warn("Replica generated a reply to command '{name}', disconnecting it: "
                     "{client}", name=cmd.full_name, client=link.name())
            client.connection.disconnect()
            return NO_REPLY
        if is_write and not self.master.enough_good_replicas():
            return CommandError(NOREPLICAS)
        return None

    # -- the stream and the backlog ------------------------------------------------

    def _backlog_changed(self, active: bool) -> None:
        # Writes are propagated to the stream only while a backlog keeps it.
        self.server.persistence.set_replication_sink(self.master.feed_ops if active else None)

    def _resize_backlog(self, size: int) -> None:
        if self.history.backlog is not None:
            self.history.backlog.resize(size)

    # -- commands --------------------------------------------------------------------

    def sync(self, client: Any, psync: tuple[str, int] | None) -> Any:
        """SYNC / PSYNC."""
        return self.master.sync(client, psync)

    def failover_request(self, client: Any, replid: str) -> Any:
        """PSYNC ... FAILOVER: a master asks this replica to take over (FAILOVER)."""
        raise CommandError("ERR PSYNC FAILOVER can't be sent to a master.")

    def replconf(self, client: Any, args: tuple[bytes, ...]) -> Any:
        """REPLCONF."""
        return self.master.replconf(client, args, _no_master)

    def client_gone(self, client: Any) -> None:
        """A client closed: a replica among them stops being fed."""
        link = client.replication
        if link is not None:
            self.master.gone(link)

    # -- INFO ------------------------------------------------------------------------

    def counters(self) -> dict[str, int]:
        """INFO stats' replication counters."""
        master = self.master
        return {"total_net_repl_input_bytes": 0,
                "total_net_repl_output_bytes": master.output_bytes,
                "sync_full": master.sync_full, "sync_partial_ok": master.sync_partial_ok,
                "sync_partial_err": master.sync_partial_err}

    def info_fields(self) -> list[tuple[str, Any]]:
        """INFO replication, as a master."""
        history = self.history
        backlog = history.backlog
        master = self.master
        fields: list[tuple[str, Any]] = [("role", "master"),
                                         ("connected_slaves", len(master.replicas))]
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


def _no_master() -> None:
    """REPLCONF GETACK on a master: there is no master to acknowledge to."""
