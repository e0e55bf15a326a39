# -*- test-case-name: tests.unit.replication.test_replica -*-
"""The replica's side: the link to a master, the handshake, the sync, the applied stream.

With ``replicaof`` (or REPLICAOF host port) this server connects to its
master as Redis's replicas do: ``PING``, ``AUTH [masteruser] masterauth``,
``REPLCONF listening-port``, ``REPLCONF ip-address`` (replica-announce-ip),
``REPLCONF capa eof capa psync2``, then ``PSYNC <replid> <offset>`` of the
history it has (``?``/``-1`` the first time). ``+CONTINUE`` resumes the
stream where it stopped; ``+FULLRESYNC`` brings a snapshot -- ``$<size>``
or, diskless, ``$EOF:<mark>`` -- which is written to a temporary file and
renamed to the dump file (or kept in memory with repl-diskless-load), then
loaded in place of the data. From then on the master's commands run through
a :class:`MasterSession`, Redis's master client: its replies are dropped,
it sees expired keys as its master does, and what it applies is counted as
the replication offset, kept in this server's backlog and passed on, byte
for byte, to this server's own replicas. Every second the replica sends
``REPLCONF ACK <offset>``.
"""

from __future__ import annotations

import errno
import io
import os
from typing import Any

from twisted.internet.error import ConnectionRefusedError, TCPTimedOutError, TimeoutError
from twisted.internet.protocol import ClientFactory, Protocol
from twisted.logger import Logger

from hush.commands.dispatch import MULTI_IMMEDIATE, Session
from hush.core.errors import CommandError
from hush.formats.rdb import RdbError
from hush.persistence import rdb
from hush.replication.stream import StreamError, StreamParser, encode
from hush.wire.resp import QUEUED

log = Logger()

# Redis's repl_state values, in the order of its handshake.
NONE = "none"
CONNECT = "connect"
CONNECTING = "connecting"
RECEIVE_PING_REPLY = "receive_ping_reply"
RECEIVE_AUTH_REPLY = "receive_auth_reply"
RECEIVE_PORT_REPLY = "receive_port_reply"
RECEIVE_IP_REPLY = "receive_ip_reply"
RECEIVE_CAPA_REPLY = "receive_capa_reply"
RECEIVE_PSYNC_REPLY = "receive_psync_reply"
TRANSFER = "transfer"
CONNECTED = "connected"

HANDSHAKE = frozenset((RECEIVE_PING_REPLY, RECEIVE_AUTH_REPLY, RECEIVE_PORT_REPLY,
                       RECEIVE_IP_REPLY, RECEIVE_CAPA_REPLY, RECEIVE_PSYNC_REPLY))

#: Redis's CONFIG_RUN_ID_SIZE: the length of an EOF mark and of a replication id.
MARK_SIZE = 40


class MasterSession(Session):
    """The master's commands as a client (Redis's master client, flag ``M``).

    It may run anything (no user, no read-only or stale-data refusal, no
    maxmemory admission), queues MULTI's commands like any client, and its
    replies go nowhere.
    """

    __slots__ = ()

    #: CLIENT LIST flag M; the dispatcher's replication gate leaves it alone.
    is_master_link = True

    def __init__(self, server: Any, connection: Any) -> None:
        super().__init__(server, connection)
        self.user = None
        self.authenticated = True
        self.update_gate()

    def update_gate(self) -> None:
        """Only MULTI queueing applies to the master's commands."""
        self._gated = self.in_multi

    def _gate(self, cmd: Any, argv: list[bytes]) -> Any:
        if self.in_multi and not self.exec_running and (
                (cmd.parent or cmd).name not in MULTI_IMMEDIATE):
            self.multi_queue.append(argv)
            return QUEUED
        return None


class MasterLink(Protocol):
    """The connection to the master: the handshake's replies, the snapshot, the stream.

    It is also the connection of the :class:`MasterSession`
    (:class:`hush.core.interfaces.Connection`): CLIENT LIST shows its
    addresses; replies and pushes to it are dropped.
    """

    waiter = None
    blocked = False
    on_drain = None
    writes_paused = False

    def __init__(self, side: ReplicaSide) -> None:
        self.side = side
        self.buffer = b""
        self.parser: StreamParser | None = None
        self.closing = False

    # -- Twisted ---------------------------------------------------------------

    def connectionMade(self) -> None:
        self.side.link_made(self)

    def dataReceived(self, data: bytes) -> None:
        if self.closing:
            return
        self.side.received(self, data)

    def connectionLost(self, reason: Any = None) -> None:
        self.closing = True
        self.side.link_lost(self)

    # -- what the master session's connection does ------------------------------

    @property
    def buffered_input(self) -> int:
        """Stream bytes received and not yet applied (CLIENT LIST qbuf)."""
        return self.parser.buffered if self.parser is not None else len(self.buffer)

    def push(self, value: Any) -> None:
        """The master gets no replies."""

    def send_raw(self, data: bytes) -> None:
        """Write to the master (the handshake's commands, ACKs)."""
        if not self.closing and self.transport is not None:
            self.transport.write(data)

    def close_after_reply(self) -> None:
        """Close the link (CLIENT KILL TYPE master, QUIT sent by the master)."""
        self.disconnect()

    def disconnect(self) -> None:
        """Drop the link."""
        if not self.closing and self.transport is not None:
            self.closing = True
            self.transport.loseConnection()

    def pending_output(self) -> int:
        """Nothing waits to go to the master worth reporting."""
        return 0

    def limit_unauthenticated(self) -> None:
        """The master's commands need no authentication."""

    def pause_reading(self) -> None:
        """Stop reading the stream."""
        if self.transport is not None:
            self.transport.pauseProducing()

    def resume_reading(self) -> None:
        """Read the stream again."""
        if self.transport is not None:
            self.transport.resumeProducing()


class _LinkFactory(ClientFactory):
    # The replica logs its link's life in Redis's words, not Twisted's.
    noisy = False

    def __init__(self, side: ReplicaSide) -> None:
        self.side = side

    def buildProtocol(self, addr: Any) -> MasterLink:
        link = MasterLink(self.side)
        link.factory = self
        return link

    def clientConnectionFailed(self, connector: Any, reason: Any) -> None:
        self.side.connect_failed(_connect_error(reason.value))


def _connect_error(error: Exception) -> str:
    """A failed connection's reason as Redis logs it (the system's words)."""
    os_error = getattr(error, "osError", None)
    if isinstance(os_error, int):
        return os.strerror(os_error)
    if isinstance(error, ConnectionRefusedError):
        return os.strerror(errno.ECONNREFUSED)
    if isinstance(error, TCPTimedOutError | TimeoutError):
        return "Connection timed out"
    return str(error)


class Cached:
    """What a replica keeps of a master to continue with it: its history and offset.

    Redis's cached master (``server.cached_master``): made when the link
    drops, or from the server's own history when a master becomes a replica.
    """

    def __init__(self, replid: str, offset: int, db_index: int) -> None:
        self.replid = replid
        self.offset = offset
        self.db_index = db_index


class ReplicaSide:
    """This server as a replica of ``host:port``.

    @ivar state: Redis's ``repl_state`` (:data:`CONNECT`, :data:`CONNECTED`, ...).
    @ivar session: the :class:`MasterSession` while connected, else None.
    @ivar offset: the offset of the stream applied (``slave_repl_offset``).
    @ivar read_offset: the offset of the stream received (``slave_read_repl_offset``).
    """

    def __init__(self, replication: Any, host: str, port: int) -> None:
        self.replication = replication
        self.server = replication.server
        self.clock = replication.clock
        self.host = host
        self.port = port
        self.state = CONNECT
        self.link: MasterLink | None = None
        self.session: MasterSession | None = None
        self.cached: Cached | None = None
        self.offset = 0
        self.read_offset = 0
        self.master_replid = ""
        self.initial_offset = -1
        self.pre_psync = False
        self.last_io = self.clock.seconds()
        self.down_since = 0.0
        self.last_interaction = 0.0
        # The transfer of a full sync.
        self.transfer_size = -1
        self.transfer_read = 0
        self.use_mark = False
        self.mark = b""
        self.tail = b""
        self.temp_path = ""
        self.temp_file: Any = None
        self._connector: Any = None
        #: Stream bytes of an open MULTI, counted once its EXEC ran.
        self.unapplied: list[bytes] = []
        #: INFO's total_net_repl_input_bytes.
        self.input_bytes = 0

    def setting(self, name: str) -> Any:
        """The current value of a replication directive."""
        return self.replication.setting(name)

    @property
    def connected(self) -> bool:
        """True while the link is up and synced (``master_link_status:up``)."""
        return self.state is CONNECTED

    @property
    def in_handshake(self) -> bool:
        """True between the connection and the PSYNC reply."""
        return self.state in HANDSHAKE

    # -- connecting ---------------------------------------------------------------

    def connect(self) -> None:
        """Redis's connectWithMaster."""
        self.last_io = self.clock.seconds()
        self.state = CONNECTING
        log.info("MASTER <-> REPLICA sync started")
        self._connector = self.replication.connect(self.host, self.port, _LinkFactory(self),
                                                   self.setting("repl-timeout"))

    def connect_failed(self, why: str) -> None:
        """The connection could not be made: the cron tries again."""
        log.warn("Error condition on socket for SYNC: {why}", why=why)
        self._connector = None
        if self.state is CONNECTING:
            self.state = CONNECT

    def link_made(self, link: MasterLink) -> None:
        """Connected: the handshake begins with a PING."""
        if self.state is not CONNECTING:
            link.disconnect()
            return
        self.link = link
        log.info("Non blocking connect for SYNC fired the event.")
        self.state = RECEIVE_PING_REPLY
        self.last_io = self.clock.seconds()
        link.send_raw(encode([b"PING"]))

    def cancel(self) -> bool:
        """Redis's cancelReplicationHandshake: drop a link that is not synced yet."""
        if self.state is TRANSFER:
            self._abort_transfer()
        elif self.state is CONNECTING or self.in_handshake:
            self._drop_link()
        else:
            return False
        self.state = CONNECT
        return True

    def _drop_link(self) -> None:
        link, self.link = self.link, None
        if link is not None:
            link.side = _Gone()
            link.disconnect()
        elif self._connector is not None:
            self._connector.disconnect()
        self._connector = None

    def _abort_transfer(self) -> None:
        self._drop_link()
        if self.temp_file is not None:
            self.temp_file.close()
            self.temp_file = None
            rdb.unlink(self.temp_path)

    def _fail(self, reconnect: bool = False) -> None:
        """An error in the handshake or the transfer: try again (now, or from the cron)."""
        self.cancel()
        self.state = CONNECT
        if reconnect:
            log.info("Reconnecting to MASTER {host}:{port} after failure",
                     host=self.host, port=self.port)
            self.connect()

    def link_lost(self, link: MasterLink) -> None:
        """The link closed under us."""
        if link is not self.link:
            return
        self.link = None
        self._connector = None
        if self.state is CONNECTED:
            log.warn("Connection with master lost.")
            self._cache_master()
            self.state = CONNECT
            self.down_since = self.clock.seconds()
            log.info("Reconnecting to MASTER {host}:{port}", host=self.host, port=self.port)
            self.connect()
            return
        if self.state is TRANSFER:
            log.warn("I/O error trying to sync with MASTER: connection lost")
            self._abort_transfer()
            self.state = CONNECT
            log.info("Reconnecting to MASTER {host}:{port} after failure",
                     host=self.host, port=self.port)
            self.connect()
            return
        if self.state is CONNECTING or self.in_handshake:
            self.state = CONNECT

    def _cache_master(self) -> None:
        """Keep the master's history and offset to continue with it (replicationCacheMaster)."""
        session = self.session
        log.info("Caching the disconnected master state.")
        self.cached = Cached(self.master_replid, self.offset,
                             session.db.index if session is not None else 0)
        self._drop_session()

    def _drop_session(self) -> None:
        session, self.session = self.session, None
        self.unapplied = []
        if session is not None:
            session.multi_queue = []
            session.in_multi = False
            self.server.unregister_client(session)

    def stop(self) -> Cached | None:
        """No link to this master any more (REPLICAOF, the server stops).

        Returns what a PSYNC to another master may continue from: the history
        and offset applied so far (Redis caches its master client then).
        """
        cached = self.cached
        if self.session is not None:
            cached = Cached(self.master_replid, self.offset, self.session.db.index)
        if self.link is not None and self.state is CONNECTED:
            link, self.link = self.link, None
            link.side = _Gone()
            link.disconnect()
        self._drop_session()
        self.cancel()
        self.cached = None
        return cached

    # -- reading from the master --------------------------------------------------

    def received(self, link: MasterLink, data: bytes) -> None:
        """Bytes from the master, in whatever state the link is."""
        now = self.clock.seconds()
        self.input_bytes += len(data)
        if self.state is CONNECTED:
            self.last_interaction = now
            self._apply(link, data)
            return
        self.last_io = now
        link.buffer += data
        while link.buffer and self.link is link:
            state = self.state
            if state is TRANSFER:
                self._read_transfer(link)
                return
            if state not in HANDSHAKE:
                return
            newline = link.buffer.find(b"\n")
            if newline < 0:
                return
            line = link.buffer[:newline].rstrip(b"\r")
            link.buffer = link.buffer[newline + 1:]
            self._handshake_reply(link, line.decode("utf-8", "replace"))

    def _handshake_reply(self, link: MasterLink, reply: str) -> None:
        """One reply of the handshake (Redis's syncWithMaster states)."""
        state = self.state
        if state is RECEIVE_PING_REPLY:
            if not reply.startswith("+") and not reply.startswith(
                    ("-NOAUTH", "-NOPERM", "-ERR operation not permitted")):
                log.warn("Error reply to PING from master: '{reply}'", reply=reply)
                self._fail()
                return
            log.info("Master replied to PING, replication can continue...")
            self._send_handshake(link)
        elif state is RECEIVE_AUTH_REPLY:
            if reply.startswith("-"):
                log.warn("Unable to AUTH to MASTER: {reply}", reply=reply)
                self._fail()
                return
            self.state = RECEIVE_PORT_REPLY
        elif state is RECEIVE_PORT_REPLY:
            if reply.startswith("-"):
                log.info("(Non critical) Master does not understand REPLCONF listening-port: "
                         "{reply}", reply=reply)
            self.state = (RECEIVE_IP_REPLY if self.setting("replica-announce-ip")
                          else RECEIVE_CAPA_REPLY)
        elif state is RECEIVE_IP_REPLY:
            if reply.startswith("-"):
                log.info("(Non critical) Master does not understand REPLCONF ip-address: "
                         "{reply}", reply=reply)
            self.state = RECEIVE_CAPA_REPLY
        elif state is RECEIVE_CAPA_REPLY:
            if reply.startswith("-"):
                log.info("(Non critical) Master does not understand REPLCONF capa: {reply}",
                         reply=reply)
            self._send_psync(link)
        elif state is RECEIVE_PSYNC_REPLY:
            self._psync_reply(link, reply)

    def _send_handshake(self, link: MasterLink) -> None:
        """AUTH, REPLCONF listening-port / ip-address / capa, written at once as Redis does."""
        parts = []
        password = self.setting("masterauth")
        if password:
            user = self.setting("masteruser")
            argv = [b"AUTH", user.encode(), password.encode()] if user else [
                b"AUTH", password.encode()]
            parts.append(encode(argv))
        port = self.setting("replica-announce-port") or self.replication.listening_port()
        parts.append(encode([b"REPLCONF", b"listening-port", b"%d" % port]))
        announce_ip = self.setting("replica-announce-ip")
        if announce_ip:
            parts.append(encode([b"REPLCONF", b"ip-address", announce_ip.encode()]))
        parts.append(encode([b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"]))
        link.send_raw(b"".join(parts))
        self.state = RECEIVE_AUTH_REPLY if password else RECEIVE_PORT_REPLY

    def _send_psync(self, link: MasterLink) -> None:
        self.initial_offset = -1
        cached = self.cached
        if cached is not None:
            replid, offset = cached.replid, b"%d" % (cached.offset + 1)
            log.info("Trying a partial resynchronization (request {replid}:{offset}).",
                     replid=replid, offset=offset.decode())
        else:
            log.info("Partial resynchronization not possible (no cached master)")
            replid, offset = "?", b"-1"
        link.send_raw(encode([b"PSYNC", replid.encode(), offset]))
        self.state = RECEIVE_PSYNC_REPLY

    def _psync_reply(self, link: MasterLink, reply: str) -> None:
        """Redis's slaveTryPartialResynchronization, reading half."""
        if not reply:
            # The master may send newlines before it answers, to keep the link alive.
            return
        if reply.startswith("+FULLRESYNC"):
            words = reply.split(" ")
            if len(words) >= 3 and len(words[1]) == MARK_SIZE:
                self.master_replid = words[1]
                try:
                    self.initial_offset = int(words[2])
                except ValueError:
                    self.initial_offset = -1
                log.info("Full resync from master: {replid}:{offset}",
                         replid=self.master_replid, offset=self.initial_offset)
            else:
                log.warn("Master replied with wrong +FULLRESYNC syntax.")
                self.master_replid = ""
            self.cached = None
            self._start_transfer(link)
            return
        if reply.startswith("+CONTINUE"):
            log.info("Successful partial resynchronization with master.")
            self._continue(link, reply[10:].strip())
            return
        if reply.startswith(("-NOMASTERLINK", "-LOADING")):
            log.info("Master is currently unable to PSYNC but should be in the future: {reply}",
                     reply=reply)
            self._fail()
            return
        if reply.startswith("-ERR"):
            log.info("Master does not support PSYNC or is in error state (reply: {reply})",
                     reply=reply)
        else:
            log.warn("Unexpected reply to PSYNC from master: {reply}", reply=reply)
        log.info("Retrying with SYNC...")
        self.cached = None
        self.pre_psync = True
        link.send_raw(b"SYNC\r\n")
        self._start_transfer(link)

    def _continue(self, link: MasterLink, new_id: str) -> None:
        """+CONTINUE: the cached master lives again on this link."""
        cached = self.cached
        assert cached is not None
        history = self.replication.history
        if len(new_id) == MARK_SIZE and new_id != cached.replid:
            log.warn("Master replication ID changed to {replid}", replid=new_id)
            history.replid2 = cached.replid
            history.second_offset = history.offset + 1
            history.replid = new_id
            cached.replid = new_id
            # Our replicas must learn the new id.
            self.replication.master.disconnect_all()
        self.master_replid = cached.replid
        self.offset = self.read_offset = cached.offset
        self._make_session(link, cached.db_index)
        self.cached = None
        if history.backlog is None:
            history.create_backlog(self.setting("repl-backlog-size"))
        log.info("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.")
        rest, link.buffer = link.buffer, b""
        if rest:
            self._apply(link, rest)

    # -- the snapshot ----------------------------------------------------------------

    def _start_transfer(self, link: MasterLink) -> None:
        self.state = TRANSFER
        self.transfer_size = -1
        self.transfer_read = 0
        self.use_mark = False
        self.tail = b""
        self.temp_file = None
        if not self._diskless_load():
            name = f"temp-{int(self.clock.seconds())}.{os.getpid()}.rdb"
            self.temp_path = os.path.join(self.server.settings.dir, name)
            try:
                self.temp_file = open(self.temp_path, "wb")
            except OSError as error:
                log.warn("Opening the temp file needed for MASTER <-> REPLICA "
                         "synchronization: {error}", error=error.strerror)
                self._fail()
                return
        else:
            self.temp_file = io.BytesIO()
            self.temp_path = ""
        self.last_io = self.clock.seconds()

    def _diskless_load(self) -> bool:
        mode = self.setting("repl-diskless-load")
        return mode == "swapdb" or (mode == "on-empty-db" and not any(
            db.data for db in self.server.store.dbs))

    def _read_transfer(self, link: MasterLink) -> None:
        while self.transfer_size == -1:
            newline = link.buffer.find(b"\n")
            if newline < 0:
                return
            line = link.buffer[:newline].rstrip(b"\r")
            link.buffer = link.buffer[newline + 1:]
            if line.startswith(b"-"):
                log.warn("MASTER aborted replication with an error: {error}",
                         error=line[1:].decode(errors="replace"))
                self._fail(reconnect=True)
                return
            if not line:
                # A newline: the master is preparing the snapshot.
                continue
            if not line.startswith(b"$"):
                log.warn("Bad protocol from MASTER, the first byte is not '$' (we received "
                         "'{line}'), are you sure the host and port are right?",
                         line=line.decode(errors="replace"))
                self._fail(reconnect=True)
                return
            where = "to parser" if self.temp_path == "" else "to disk"
            if line.startswith(b"$EOF:") and len(line) >= 5 + MARK_SIZE:
                self.use_mark = True
                self.mark = line[5:5 + MARK_SIZE]
                self.transfer_size = 0
                log.info("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF "
                         "{where}", where=where)
            else:
                try:
                    self.transfer_size = int(line[1:])
                except ValueError:
                    self.transfer_size = 0
                log.info("MASTER <-> REPLICA sync: receiving {size} bytes from master {where}",
                         size=self.transfer_size, where=where)
            if not link.buffer:
                return
        data, link.buffer = link.buffer, b""
        rest = b""
        if self.use_mark:
            self.tail = (self.tail + data)[-MARK_SIZE:]
            done = self.tail == self.mark
        else:
            left = self.transfer_size - self.transfer_read
            data, rest = data[:left], data[left:]
            done = self.transfer_read + len(data) == self.transfer_size
        try:
            self.temp_file.write(data)
        except OSError as error:
            log.warn("Write error or short write writing to the DB dump file needed for "
                     "MASTER <-> REPLICA synchronization: {error}", error=error.strerror)
            self._fail(reconnect=True)
            return
        self.transfer_read += len(data)
        if done:
            if self.use_mark:
                self.temp_file.truncate(self.transfer_read - MARK_SIZE)
            self._load(link, rest)

    def _load(self, link: MasterLink, rest: bytes) -> None:
        """The whole snapshot is here: replace the data with it (readSyncBulkPayload's end)."""
        server = self.server
        persistence = server.persistence
        replication = self.replication
        # An AOF rewrite or a save of the old data would race with the new one.
        persistence.stop_save()
        aof_on = persistence.aof is not None
        if aof_on:
            persistence.stop()
        # A new history: this server's own replicas must sync again.
        self.cached = None
        replication.master.disconnect_all()
        replication.history.free_backlog()
        log.info("MASTER <-> REPLICA sync: Flushing old data")
        server.store.flushall()
        log.info("MASTER <-> REPLICA sync: Loading DB in memory")
        handle = self.temp_file
        self.temp_file = None
        store = server.store
        try:
            if self.temp_path:
                handle.flush()
                os.fsync(handle.fileno())
                handle.close()
                os.replace(self.temp_path, persistence.rdb_path)
                rdb.fsync_dir(persistence.rdb_path)
                handle = open(persistence.rdb_path, "rb")
            else:
                handle.seek(0)
            store.loading = True
            try:
                result = rdb.load_dataset(store, handle, now_ms=store.now_ms(),
                                          drop_expired=False)
            finally:
                store.loading = False
                handle.close()
            persistence.install_functions(result.functions, replace=True)
        except (OSError, RdbError, CommandError) as error:
            log.warn("Failed trying to load the MASTER synchronization DB from "
                     "{where}: {error}", where="disk" if self.temp_path else "socket",
                     error=error)
            server.store.flushall()
            self._fail(reconnect=True)
            return
        persistence.keys_loaded = result.keys_loaded
        persistence.keys_expired = result.keys_expired
        store.dirty += 1
        try:
            db_index = int(result.aux.get(b"repl-stream-db", b"0"))
        except ValueError:
            db_index = 0
        history = replication.history
        self.offset = self.read_offset = self.initial_offset
        self._make_session(link, db_index)
        history.replid = self.master_replid or history.replid
        history.offset = max(self.initial_offset, 0)
        history.clear_id2()
        if history.backlog is None:
            history.create_backlog(self.setting("repl-backlog-size"))
        log.info("MASTER <-> REPLICA sync: Finished with success")
        if self.use_mark:
            # The master starts the stream once it hears from us.
            self.send_ack()
        if aof_on or server.settings.appendonly:
            persistence.set_appendonly(True)
        if rest:
            self._apply(link, rest)

    def _make_session(self, link: MasterLink, db_index: int) -> None:
        self.state = CONNECTED
        self.down_since = 0.0
        self.last_interaction = self.clock.seconds()
        session = MasterSession(self.server, link)
        if 0 <= db_index < len(self.server.store.dbs):
            session.select(db_index)
        session.client_id = self.server.register_client(session)
        self.session = session
        link.parser = StreamParser()

    # -- the stream --------------------------------------------------------------------

    def _apply(self, link: MasterLink, data: bytes) -> None:
        """Run the master's commands; count, keep and pass on what was applied."""
        session = self.session
        parser = link.parser
        if session is None or parser is None:
            return
        self.read_offset += len(data)
        parser.feed(data)
        store = self.server.store
        master = self.replication.master
        unapplied = self.unapplied
        store.obeying_master = True
        try:
            for argv, raw in parser.commands():
                unapplied.append(raw)
                if argv:
                    session.execute(argv)
                if self.session is not session:
                    return
                if not session.in_multi:
                    # A transaction counts once its EXEC ran, as in Redis.
                    chunk = b"".join(unapplied) if len(unapplied) > 1 else raw
                    unapplied.clear()
                    self.offset += len(chunk)
                    # Kept in the backlog and passed on to this server's replicas.
                    master.feed(chunk)
        except StreamError as error:
            log.warn("WARNING: Receiving inline protocol from master, master stream "
                     "corruption? Closing the master connection and discarding the cached "
                     "master. ({error})", error=error)
            self.cached = None
            link.disconnect()
        finally:
            store.obeying_master = False
        if store.ready_keys:
            self.server.blocking.serve_ready()

    def send_ack(self) -> None:
        """REPLCONF ACK <offset applied> to the master."""
        if self.link is not None and self.state is CONNECTED:
            self.link.send_raw(encode([b"REPLCONF", b"ACK", b"%d" % self.offset]))

    # -- once a second --------------------------------------------------------------

    def cron(self) -> None:
        """The replica's part of Redis's replicationCron."""
        now = self.clock.seconds()
        timeout = self.setting("repl-timeout")
        if (self.state is CONNECTING or self.in_handshake) and now - self.last_io > timeout:
            log.warn("Timeout connecting to the MASTER...")
            self._fail(reconnect=True)
        if self.state is TRANSFER and now - self.last_io > timeout:
            log.warn("Timeout receiving bulk data from MASTER... If the problem persists try "
                     "to set the 'repl-timeout' parameter in redis.conf to a larger value.")
            self._fail(reconnect=True)
        if self.state is CONNECTED and now - self.last_interaction > timeout:
            log.warn("MASTER timeout: no data nor PING received...")
            if self.link is not None:
                self.link.disconnect()
        if self.state is CONNECT:
            log.info("Connecting to MASTER {host}:{port}", host=self.host, port=self.port)
            self.connect()
        if self.state is CONNECTED and not self.pre_psync:
            self.send_ack()

    # -- INFO and ROLE ------------------------------------------------------------------

    @property
    def role_state(self) -> str:
        """ROLE's word for the link's state."""
        if self.in_handshake:
            return "handshake"
        return {NONE: "none", CONNECT: "connect", CONNECTING: "connecting", TRANSFER: "sync",
                CONNECTED: "connected"}.get(self.state, "unknown")

    @property
    def applied_offset(self) -> int:
        """The offset ROLE shows: applied so far, -1 without a master client."""
        return self.offset if self.session is not None else -1

    def info_fields(self) -> list[tuple[str, Any]]:
        """The replica's fields of INFO replication."""
        now = int(self.clock.seconds())
        if self.session is not None:
            applied, read = self.offset, self.read_offset
        elif self.cached is not None:
            applied = read = self.cached.offset
        else:
            applied = read = 1
        fields: list[tuple[str, Any]] = [
            ("master_host", self.host),
            ("master_port", self.port),
            ("master_link_status", "up" if self.state is CONNECTED else "down"),
            ("master_last_io_seconds_ago",
             now - int(self.last_interaction) if self.session is not None else -1),
            ("master_sync_in_progress", 1 if self.state is TRANSFER else 0),
            ("slave_read_repl_offset", read),
            ("slave_repl_offset", applied),
        ]
        if self.state is TRANSFER:
            size = self.transfer_size
            percent = self.transfer_read / size * 100 if size > 0 else 0
            fields += [
                ("master_sync_total_bytes", size),
                ("master_sync_read_bytes", self.transfer_read),
                ("master_sync_left_bytes", size - self.transfer_read),
                ("master_sync_perc", f"{percent:.2f}"),
                ("master_sync_last_io_seconds_ago", now - int(self.last_io)),
            ]
        if self.state is not CONNECTED:
            fields.append(("master_link_down_since_seconds",
                           now - int(self.down_since) if self.down_since else -1))
        return fields


class _Gone:
    """The side of a link that was dropped on purpose: whatever it still reports is ignored."""

    def link_made(self, link: MasterLink) -> None:
        link.disconnect()

    def received(self, link: MasterLink, data: bytes) -> None:
        """Ignored."""

    def link_lost(self, link: MasterLink) -> None:
        """Ignored."""

    def connect_failed(self, why: str) -> None:
        """Ignored."""
