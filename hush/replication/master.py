# -*- test-case-name: tests.unit.replication.test_master -*-
"""The master's side: serving SYNC and PSYNC, feeding replicas, their acknowledgements.

A replica (a redis-server or a Hush with ``replicaof``) connects as a client,
says ``REPLCONF listening-port``/``capa`` and asks ``PSYNC <replid> <offset>``
(``SYNC`` for older ones, ``redis-cli --rdb``). If this server's history is
the one it names and the backlog still holds the offset, it gets
``+CONTINUE`` and the rest of the stream. Otherwise a full sync: a snapshot
is forked (:meth:`hush.persistence.manager.Persistence.bgsave_for_replication`),
the replica gets ``+FULLRESYNC <replid> <offset>``, then the snapshot from
the dump file or, diskless, straight from the child (:mod:`hush.replication.transfer`),
then every write since the fork. From then on each propagated write reaches
it as the replication stream (:mod:`hush.replication.stream`), which the
backlog keeps too; it acknowledges with ``REPLCONF ACK <offset>`` every
second, which WAIT and min-replicas-to-write count.

The states are Redis's (``wait_bgsave`` before the snapshot is ready,
``send_bulk`` while a dump file is sent, ``online`` after), and so are the
log lines.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from twisted.logger import Logger

from hush.commands.args import parse_int
from hush.config.table import BY_NAME
from hush.core.errors import SYNTAX, CommandError, c_text
from hush.replication.backlog import History
from hush.replication.stream import StreamEncoder
from hush.replication.transfer import FileTransfer, PipeTransfer
from hush.wire.resp import NO_REPLY, OK

log = Logger()

WAIT_BGSAVE_START = "wait_bgsave_start"
WAIT_BGSAVE_END = "wait_bgsave_end"
SEND_BULK = "send_bulk"
ONLINE = "online"
RDB_TRANSMITTED = "rdb_transmitted"

#: How INFO names each state (Redis's replstateToString).
STATE_NAMES = {WAIT_BGSAVE_START: "wait_bgsave", WAIT_BGSAVE_END: "wait_bgsave",
               SEND_BULK: "send_bulk", ONLINE: "online", RDB_TRANSMITTED: "rdb_transmitted"}


class Link:
    """A client that announced itself as a replica (REPLCONF) or became one (SYNC/PSYNC).

    @ivar state: None until SYNC/PSYNC, then one of Redis's replica states.
    @ivar ack_offset: the last offset the replica acknowledged (REPLCONF ACK).
    @ivar ack_time: when it last acknowledged (unix seconds).
    @ivar initial_offset: the offset its full sync's snapshot stands for.
    @ivar pending: stream bytes not yet sent (while its snapshot is prepared or sent).
    @ivar streaming: True once the stream goes straight to its connection.
    """

    def __init__(self, session: Any) -> None:
        self.session = session
        self.connection = session.connection
        self.state: str | None = None
        self.listening_port = 0
        self.address: str | None = None
        self.capa_eof = False
        self.capa_psync2 = False
        self.pre_psync = False
        self.rdb_only = False
        self.ack_offset = 0
        self.ack_time = 0.0
        self.initial_offset = -1
        self.pending: list[bytes] = []
        self.pending_bytes = 0
        self.streaming = False
        self.start_on_ack = False
        #: A diskless replica acknowledged before its snapshot's child was seen to end.
        self.loaded = False
        self.transfer: FileTransfer | None = None

    def heard_from(self, now: float) -> None:
        """A bare newline from the replica (sent while it loads): it is not timed out."""
        if self.state is not None:
            self.ack_time = now

    @property
    def is_replica(self) -> bool:
        """True once SYNC or PSYNC made this client a replica."""
        return self.state is not None

    @property
    def ip(self) -> str:
        """The address INFO shows: REPLCONF ip-address's, else the connection's peer."""
        if self.address is not None:
            return self.address
        transport = self.connection.transport
        peer = transport.getPeer() if transport is not None else None
        return getattr(peer, "host", None) or "?"

    def name(self) -> str:
        """How Redis's log names a replica (replicationGetSlaveName)."""
        if self.connection.transport is None and self.address is None:
            return f"client id #{self.session.client_id}"
        ip = self.ip
        if self.listening_port:
            return f"[{ip}]:{self.listening_port}" if ":" in ip else f"{ip}:{self.listening_port}"
        return f"{ip}:<unknown-replica-port>"


class MasterSide:
    """The replicas of this server and the stream they get.

    @ivar replicas: the :class:`Link` of each replica, in the order they came.
    @ivar encoder: the stream's database selection (Redis's ``slaveseldb``).
    """

    def __init__(self, server: Any, history: History, reactor: Any) -> None:
        self.server = server
        self.settings = server.settings
        self.clock = server.clock
        self.history = history
        self.reactor = reactor
        self.replicas: list[Link] = []
        self.encoder = StreamEncoder()
        self.no_replicas_since = self.clock.seconds()
        self.good_replicas = 0
        self.pipe: PipeTransfer | None = None
        # The pipe and the child of a diskless sync end separately; both must.
        self._pipe_done: bool | None = None
        self._child_done: bool | None = None
        self._flush_call: Any = None
        self._getack_call: Any = None
        #: INFO stats: sync_full, sync_partial_ok, sync_partial_err.
        self.sync_full = 0
        self.sync_partial_ok = 0
        self.sync_partial_err = 0
        #: Bytes sent to replicas (INFO total_net_repl_output_bytes).
        self.output_bytes = 0
        #: Called with (offset) after an acknowledgement arrives (WAIT's wake-ups).
        self.on_ack: Callable[[], None] = _nothing
        #: Called when the backlog starts (True) or ends (False): the server then
        #: starts or stops propagating writes to :meth:`feed_ops`.
        self.on_backlog: Callable[[bool], None] = _ignore
        server.persistence.save_ended.append(self._save_ended)

    def setting(self, name: str) -> Any:
        """The current value of a replication directive."""
        return self.settings.value(BY_NAME[name])

    # -- the stream ------------------------------------------------------------

    def feed_ops(self, ops: list[tuple[int, list[bytes]]]) -> None:
        """Propagated writes (the propagator's sink): into the stream."""
        self.feed(self.encoder.encode(ops))

    def feed(self, data: bytes) -> None:
        """The next bytes of the stream: to the backlog and every replica past its fork."""
        if not data or self.history.backlog is None:
            return
        self.history.append(data)
        for link in self.replicas:
            if link.state is WAIT_BGSAVE_START or link.rdb_only:
                continue
            link.pending.append(data)
            link.pending_bytes += len(data)
            if not link.streaming:
                self._check_pending_limit(link)
        if self._flush_call is None:
            # Written once per reactor turn, as Redis writes replicas' buffers
            # before it sleeps: a pipeline of writes costs one send per replica.
            self._flush_call = self.clock.callLater(0, self.flush)

    def flush(self) -> None:
        """Send each streaming replica what it has pending."""
        self._flush_call = None
        for link in self.replicas:
            if link.streaming and link.pending:
                self._send(link, b"".join(link.pending))
                link.pending = []
                link.pending_bytes = 0

    def _send(self, link: Link, data: bytes) -> None:
        self.output_bytes += len(data)
        link.connection.send_raw(data)

    def _check_pending_limit(self, link: Link) -> None:
        # Writes buffered while a snapshot is made or sent count towards the
        # replica class's client-output-buffer-limit, as Redis's do.
        hard, _soft, _seconds = self.settings.output_limit("slave")
        if hard and link.pending_bytes > hard:
            log.warn("Client {name} scheduled to be closed ASAP for overcoming of output "
                     "buffer limits.", name=link.name())
            self.server.store.stats.client_output_buffer_limit_disconnections += 1
            link.connection.disconnect()

    def feed_command(self, argv: list[bytes]) -> None:
        """A command of the master's own (PING, REPLCONF GETACK) into the stream, in the
        database the stream has selected (no SELECT)."""
        self.feed(self.encoder.encode([(self.encoder.selected, argv)]))

    def request_acks(self) -> None:
        """Ask every replica for an ACK at the end of this turn (once, however many ask)."""
        if self._getack_call is None:
            self._getack_call = self.clock.callLater(0, self._send_getack)

    def _send_getack(self) -> None:
        self._getack_call = None
        if self.replicas:
            self.feed_command([b"REPLCONF", b"GETACK", b"*"])

    # -- the backlog -------------------------------------------------------------

    def ensure_backlog(self) -> None:
        """The first replica of a master without backlog: a new history and a backlog."""
        history = self.history
        if history.backlog is not None:
            return
        history.change_id()
        history.clear_id2()
        history.create_backlog(self.setting("repl-backlog-size"))
        log.info("Replication backlog created, my new replication IDs are '{id1}' and "
                 "'{id2}'", id1=history.replid, id2=history.replid2)
        self.on_backlog(True)

    def free_backlog(self) -> None:
        """No replica for repl-backlog-ttl: stop keeping the stream, under a new id."""
        history = self.history
        history.change_id()
        history.clear_id2()
        history.free_backlog()
        self.on_backlog(False)

    # -- SYNC and PSYNC ------------------------------------------------------------

    def link_of(self, session: Any) -> Link:
        """The client's :class:`Link`, made on first use."""
        link = session.replication
        if link is None:
            link = session.replication = Link(session)
            session.update_gate()
        return link

    def sync(self, session: Any, psync: tuple[str, int] | None) -> Any:
        """SYNC (``psync`` None) or PSYNC replid offset from ``session``: its reply.

        The replies (+FULLRESYNC, +CONTINUE, the snapshot, the stream) go
        straight to the connection; the command itself answers nothing.
        """
        link = self.link_of(session)
        if link.is_replica:
            return NO_REPLY
        log.info("Replica {name} asks for synchronization", name=link.name())
        if psync is not None:
            replid, offset = psync
            if self._continue(link, replid, offset):
                self.sync_partial_ok += 1
                return NO_REPLY
            if not replid.startswith("?"):
                self.sync_partial_err += 1
        else:
            # redis-cli --rdb and older replicas: no REPLCONF ACK is expected.
            link.pre_psync = True
        self.sync_full += 1
        link.state = WAIT_BGSAVE_START
        self.replicas.append(link)
        if len(self.replicas) == 1:
            self.ensure_backlog()
        persistence = self.server.persistence
        if persistence.saving and not persistence.save_to_socket:
            other = next((other for other in self.replicas
                          if other.state is WAIT_BGSAVE_END and not other.rdb_only), None)
            if other is not None and (link.capa_eof or not other.capa_eof):
                # The server is already keeping the stream since that fork for
                # another replica: this one gets the same snapshot and a copy.
                link.pending = list(other.pending)
                link.pending_bytes = other.pending_bytes
                self._setup_full(link, other.initial_offset)
                log.info("Waiting for end of BGSAVE for SYNC")
            else:
                log.info("Can't attach the replica to the current BGSAVE. Waiting for next "
                         "BGSAVE for SYNC")
        elif persistence.saving:
            log.info("Current BGSAVE has socket target. Waiting for next BGSAVE for SYNC")
        elif (self.setting("repl-diskless-sync") and link.capa_eof
              and self.setting("repl-diskless-sync-delay")):
            # The cron starts it: more replicas may come meanwhile.
            log.info("Delay next BGSAVE for diskless SYNC")
        elif not persistence.rewriting:
            self.start_snapshot()
        else:
            log.info("No BGSAVE in progress, but another BG operation is active. BGSAVE for "
                     "replication delayed")
        return NO_REPLY

    def _continue(self, link: Link, replid: str, offset: int) -> bool:
        """Redis's masterTryPartialResynchronization: True if the replica continues."""
        history = self.history
        data = history.continuation(replid, offset)
        if data is None:
            reason = history.mismatch(replid, offset)
            if reason.startswith("Full resync requested"):
                log.info("Full resync requested by replica {name}", name=link.name())
            elif reason.startswith("Unable"):
                log.info("Unable to partial resync with replica {name} for lack of backlog "
                         "(Replica request was: {offset}).", name=link.name(), offset=offset)
            else:
                log.info("{reason}", reason=reason)
            return False
        link.state = ONLINE
        link.ack_time = self.clock.seconds()
        link.streaming = True
        self.replicas.append(link)
        reply = (b"+CONTINUE %s\r\n" % history.replid.encode() if link.capa_psync2
                 else b"+CONTINUE\r\n")
        self._send(link, reply)
        if data:
            self._send(link, data)
        log.info("Partial resynchronization request from {name} accepted. Sending {size} "
                 "bytes of backlog starting from offset {offset}.",
                 name=link.name(), size=len(data), offset=offset)
        self.refresh_good_replicas()
        return True

    def _setup_full(self, link: Link, offset: int) -> None:
        """Redis's replicationSetupSlaveForFullResync: +FULLRESYNC, and keep the stream."""
        link.initial_offset = offset
        link.state = WAIT_BGSAVE_END
        # The replica's stream must begin by selecting its database.
        self.encoder.selected = -1
        if not link.pre_psync:
            self._send(link, b"+FULLRESYNC %s %d\r\n" % (self.history.replid.encode(), offset))

    def start_snapshot(self) -> bool:
        """Fork the snapshot for the replicas waiting for one (Redis's startBgsaveForReplication)."""
        waiting = [link for link in self.replicas if link.state is WAIT_BGSAVE_START]
        if not waiting:
            return False
        to_socket = bool(self.setting("repl-diskless-sync")) and all(
            link.capa_eof for link in waiting)
        log.info("Starting BGSAVE for SYNC with target: {target}",
                 target="replicas sockets" if to_socket else "disk")
        history = self.history
        selected = self.encoder.selected
        aux = {b"repl-stream-db": b"%d" % max(selected, 0),
               b"repl-id": history.replid.encode(),
               b"repl-offset": b"%d" % history.offset}
        persistence = self.server.persistence
        if to_socket:
            read_fd, write_fd = os.pipe()
            mark = os.urandom(20).hex().encode()
            for link in waiting:
                self._setup_full(link, history.offset)
            try:
                started = persistence.bgsave_for_replication(aux, (write_fd, mark))
            except OSError as error:
                log.warn("Can't save in background: fork: {error}", error=error)
                started = False
            os.close(write_fd)
            if not started:
                os.close(read_fd)
                for link in waiting:
                    link.state = WAIT_BGSAVE_START
                self._snapshot_failed()
                return False
            self._pipe_done = self._child_done = None
            self.pipe = PipeTransfer(read_fd, [link.connection for link in waiting],
                                     self.reactor, self._pipe_ended)
            return True
        try:
            started = persistence.bgsave_for_replication(aux)
        except OSError as error:
            log.warn("Can't save in background: fork: {error}", error=error)
            started = False
        if not started:
            self._snapshot_failed()
            return False
        for link in waiting:
            self._setup_full(link, history.offset)
        return True

    def _snapshot_failed(self) -> None:
        log.warn("BGSAVE for replication failed")
        for link in list(self.replicas):
            if link.state is WAIT_BGSAVE_START:
                self.replicas.remove(link)
                link.state = None
                link.connection.send_raw(b"-ERR BGSAVE failed, replication can't continue\r\n")
                link.connection.close_after_reply()

    def _pipe_ended(self, complete: bool) -> None:
        self._pipe_done = complete
        if self._child_done is not None:
            self._socket_snapshot_done()

    def _save_ended(self, ok: bool, to_socket: bool) -> None:
        """A save child ended: the replicas waiting on it get its snapshot, or are dropped."""
        if to_socket:
            self._child_done = ok
            if self.pipe is None or self._pipe_done is not None:
                self._socket_snapshot_done()
            elif not ok:
                self.pipe.abort()
            return
        for link in list(self.replicas):
            if link.state is not WAIT_BGSAVE_END:
                continue
            if not ok:
                log.warn("SYNC failed. BGSAVE child returned an error")
                link.connection.disconnect()
                continue
            try:
                transfer = FileTransfer(link.connection, self.server.persistence.rdb_path,
                                        lambda sent, link=link: self._file_sent(link, sent))
            except OSError as error:
                log.warn("SYNC failed. Can't open/stat DB after BGSAVE: {error}",
                         error=error.strerror)
                link.connection.disconnect()
                continue
            link.state = SEND_BULK
            link.transfer = transfer
            self.output_bytes += transfer.size
            transfer.start()

    def _file_sent(self, link: Link, ok: bool) -> None:
        link.transfer = None
        if not ok:
            log.warn("Read error sending DB to replica: premature EOF")
            link.connection.disconnect()
            return
        if self._put_online(link):
            self._start_stream(link)

    def _socket_snapshot_done(self) -> None:
        ok = bool(self._child_done and self._pipe_done)
        pipe, self.pipe = self.pipe, None
        self._pipe_done = self._child_done = None
        receivers = pipe.connections if pipe is not None else []
        if pipe is not None:
            self.output_bytes += pipe.written
        for link in list(self.replicas):
            if link.state is not WAIT_BGSAVE_END:
                continue
            if not ok or link.connection not in receivers:
                log.warn("SYNC failed. BGSAVE child returned an error")
                link.connection.disconnect()
                continue
            log.info("Streamed RDB transfer with replica {name} succeeded (socket). Waiting "
                     "for REPLCONF ACK from slave to enable streaming", name=link.name())
            if self._put_online(link):
                if link.loaded:
                    self._start_stream(link)
                else:
                    # The replica finds the end mark more easily when nothing follows
                    # it at once: the stream starts with its first ACK.
                    link.start_on_ack = True

    def _put_online(self, link: Link) -> bool:
        """Redis's replicaPutOnline; False for an RDB-only client, which is then closed."""
        if link.rdb_only:
            link.state = RDB_TRANSMITTED
            log.info("RDB transfer completed, rdb only replica ({name}) should be "
                     "disconnected asap", name=link.name())
            link.connection.close_after_reply()
            return False
        link.state = ONLINE
        link.ack_time = self.clock.seconds()
        self.refresh_good_replicas()
        log.info("Synchronization with replica {name} succeeded", name=link.name())
        return True

    def _start_stream(self, link: Link) -> None:
        link.start_on_ack = False
        link.streaming = True
        if link.pending:
            self._send(link, b"".join(link.pending))
            link.pending = []
            link.pending_bytes = 0

    # -- REPLCONF --------------------------------------------------------------

    def replconf(self, session: Any, args: tuple[bytes, ...], answer_ack: Callable[[], None]
                 ) -> Any:
        """REPLCONF option value ...: its reply (ACK and GETACK answer nothing)."""
        if len(args) % 2:
            raise CommandError(SYNTAX)
        link = session.replication
        for index in range(0, len(args), 2):
            option, value = args[index].lower(), args[index + 1]
            if option == b"listening-port":
                self.link_of(session).listening_port = parse_int(value)
            elif option == b"ip-address":
                if len(value) >= 46:
                    raise CommandError("ERR REPLCONF ip-address provided by replica instance "
                                       f"is too long: {len(value)} bytes")
                self.link_of(session).address = value.decode(errors="replace")
            elif option == b"capa":
                capa = value.lower()
                if capa == b"eof":
                    self.link_of(session).capa_eof = True
                elif capa == b"psync2":
                    self.link_of(session).capa_psync2 = True
            elif option == b"ack":
                if link is None or not link.is_replica:
                    return NO_REPLY
                try:
                    offset = parse_int(value)
                except CommandError:
                    return NO_REPLY
                self.acknowledged(link, offset)
                return NO_REPLY
            elif option == b"getack":
                answer_ack()
                return NO_REPLY
            elif option == b"rdb-only":
                flag = parse_int(value)
                if flag not in (0, 1):
                    raise CommandError("ERR value is out of range, value must between 0 and 1")
                self.link_of(session).rdb_only = bool(flag)
            else:
                raise CommandError(f"ERR Unrecognized REPLCONF option: {c_text(args[index])}")
        return OK

    def acknowledged(self, link: Link, offset: int) -> None:
        """REPLCONF ACK from a replica."""
        if offset > link.ack_offset:
            link.ack_offset = offset
        link.ack_time = self.clock.seconds()
        if link.state is WAIT_BGSAVE_END:
            # A diskless replica that loaded the snapshot before this server saw
            # its child end: its stream may start as soon as it is online.
            link.loaded = True
        if link.start_on_ack and link.state is ONLINE:
            self._start_stream(link)
        self.on_ack()

    def count_acks(self, offset: int) -> int:
        """Replicas online that acknowledged ``offset`` (WAIT's count)."""
        return sum(1 for link in self.replicas
                   if link.state is ONLINE and link.ack_offset >= offset)

    # -- replicas going away ------------------------------------------------------

    def gone(self, link: Link) -> None:
        """A replica's connection closed."""
        if link not in self.replicas:
            return
        self.replicas.remove(link)
        if link.transfer is not None:
            link.transfer.cancel()
            link.transfer = None
        if self.pipe is not None:
            self.pipe.drop(link.connection)
        if link.state is ONLINE:
            log.warn("Connection with replica {name} lost.", name=link.name())
        if not self.replicas:
            self.no_replicas_since = self.clock.seconds()
        self.refresh_good_replicas()

    def disconnect_all(self) -> None:
        """Close every replica's connection (a new history: they must sync again)."""
        for link in list(self.replicas):
            link.connection.disconnect()
            self.gone(link)

    # -- min-replicas-to-write --------------------------------------------------------

    def refresh_good_replicas(self) -> None:
        """Count the online replicas whose last ACK is at most min-replicas-max-lag old."""
        max_lag = self.setting("min-replicas-max-lag")
        if not self.setting("min-replicas-to-write") or not max_lag:
            return
        now = int(self.clock.seconds())
        self.good_replicas = sum(1 for link in self.replicas if link.state is ONLINE
                                 and now - int(link.ack_time) <= max_lag)

    def enough_good_replicas(self) -> bool:
        """Redis's checkGoodReplicasStatus, for a master."""
        to_write = self.setting("min-replicas-to-write")
        return (not to_write or not self.setting("min-replicas-max-lag")
                or self.good_replicas >= to_write)

    # -- once a second ---------------------------------------------------------

    def cron(self, loops: int, is_master: bool) -> None:
        """The master's part of Redis's replicationCron."""
        now = self.clock.seconds()
        if self.replicas and is_master and loops % self.setting("repl-ping-replica-period") == 0:
            # Replicas tell a dead master from a quiet one by these.
            self.feed_command([b"PING"])
        socket_save = self.server.persistence.save_to_socket
        timeout = self.setting("repl-timeout")
        for link in list(self.replicas):
            if link.state is WAIT_BGSAVE_START or (
                    link.state is WAIT_BGSAVE_END and not socket_save):
                # A newline keeps the replica waiting for the snapshot from timing out.
                link.connection.send_raw(b"\n")
            elif link.state is ONLINE and not link.pre_psync and now - link.ack_time > timeout:
                log.warn("Disconnecting timedout replica (streaming sync): {name}",
                         name=link.name())
                link.connection.disconnect()
                self.gone(link)
        ttl = self.setting("repl-backlog-ttl")
        if (not self.replicas and ttl and self.history.backlog is not None and is_master
                and now - self.no_replicas_since > ttl):
            self.free_backlog()
            log.info("Replication backlog freed after {ttl} seconds without connected "
                     "replicas.", ttl=ttl)
        self.start_pending_snapshot(now)
        self.refresh_good_replicas()

    def start_pending_snapshot(self, now: float) -> None:
        """Redis's replicationStartPendingFork: a snapshot for replicas that wait for one."""
        if self.server.persistence.rewriting:
            return
        waiting = [link for link in self.replicas if link.state is WAIT_BGSAVE_START]
        if not waiting:
            return
        idle = max(now - link.session.last_interaction for link in waiting)
        most = self.setting("repl-diskless-sync-max-replicas")
        if (not self.setting("repl-diskless-sync") or (most and len(waiting) >= most)
                or idle >= self.setting("repl-diskless-sync-delay")):
            self.start_snapshot()

    # -- INFO ---------------------------------------------------------------------

    def replica_lines(self) -> list[tuple[str, str]]:
        """``slaveN`` fields of INFO replication."""
        now = int(self.clock.seconds())
        fields = []
        for link in self.replicas:
            name = STATE_NAMES.get(link.state or "", "")
            if not name:
                continue
            lag = now - int(link.ack_time) if link.state is ONLINE else 0
            fields.append((f"slave{len(fields)}",
                           f"ip={link.ip},port={link.listening_port},state={name},"
                           f"offset={link.ack_offset},lag={lag}"))
        return fields

    def role_entries(self) -> list[list[Any]]:
        """ROLE's replicas: [ip, port, acknowledged offset] of each online one."""
        return [[link.ip.encode(), b"%d" % link.listening_port, b"%d" % link.ack_offset]
                for link in self.replicas if link.state is ONLINE]


def _nothing() -> None:
    pass


def _ignore(_value: Any) -> None:
    pass
