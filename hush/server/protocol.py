# -*- test-case-name: tests.unit.server.test_protocol -*-
"""One client connection: bytes in, replies out.

:class:`RedisProtocol` moves bytes and nothing else: it reads requests, hands
each command to its :class:`hush.commands.dispatch.Session` (the client's
state and the dispatcher; every handler's ``ctx``), encodes the replies and
writes those of one read as a single write, straight to the socket when
Twisted's buffer is empty. It also holds a blocked client's later commands
until it is served, applies back-pressure and the output limits, and closes.

It is a ``LineReceiver`` and reads inline requests (``PING\r\n`` typed into
telnet, redis-cli's inline mode) in its line mode: :meth:`lineReceived` per
line, ``MAX_LENGTH`` as Redis's inline limit, :meth:`lineLengthExceeded`
answering Redis's error. Multibulk frames -- what clients send -- go to
:class:`hush.wire.parser.FastParser` instead, which is linear in the input
(hiredis for whole multibulk reads, an offset-based exact parser for the
rest): each read is routed on the first byte of what is to be parsed, and a
read mixing both is passed between the two at each request boundary.
"""

from __future__ import annotations

from collections import deque
from functools import partial
from operator import itemgetter
from time import perf_counter
from typing import Any

from twisted.internet import tcp
from twisted.internet.interfaces import IPushProducer
from twisted.internet.protocol import Factory
from twisted.logger import Logger
from twisted.protocols.basic import LineReceiver
from zope.interface import implementer

from hush.commands.dispatch import Session
from hush.commands.table import COMMANDS
from hush.core.interfaces import Server
from hush.data.blocking import Block, Waiter
from hush.ops.clientinfo import client_line
from hush.server.auth import AuthGuard
from hush.server.pause import Retry
from hush.wire.parser import (
    INLINE_AHEAD,
    INLINE_MAX_SIZE,
    QUERY_BUFFER_EXCEEDED,
    FastParser,
    ProtocolReject,
    split_inline,
)
from hush.wire.resp import (
    BULK_HEADERS,
    NO_REPLY,
    OK,
    SMALL_INT_REPLIES,
    encode_into,
    error_bytes,
)

log = Logger()

#: A duration in seconds times this is in units of 1024 ns, the first
#: latency histogram bucket (hush.ops.latency.bucket_of).
_PER_BUCKET = 976562.5
#: A request's command name, as sent.
_name = itemgetter(0)

_OK_REPLY = b"+OK\r\n"


@implementer(IPushProducer)
class RedisProtocol(LineReceiver):
    """A Redis client connection.

    It registers itself as the streaming producer of its own transport: when
    unsent replies pass the transport's buffer size (64 KiB), Twisted calls
    :meth:`pauseProducing` and the connection stops reading requests until
    the buffer drains and :meth:`resumeProducing` is called. A client that
    pipelines without reading its replies thus holds at most one read's
    worth of replies in the server.

    @ivar session: the client's session, from ``connectionMade`` on (None for
        a connection refused there).
    @ivar waiter: the :class:`hush.data.blocking.Waiter` while the client is
        blocked (a blocking command, or CLIENT PAUSE), else None.
    """

    #: Redis's PROTO_INLINE_MAX_SIZE: how long an inline request may grow
    #: without a newline.
    MAX_LENGTH = INLINE_MAX_SIZE
    #: Redis ends an inline request at "\n"; a "\r" before it is whitespace
    #: to the argument splitter.
    delimiter = b"\n"

    factory: RedisFactory
    session: Session | None = None

    def __init__(self) -> None:
        self.waiter: Waiter | None = None
        self._pending: deque[list[bytes]] = deque()
        self._pending_error: str | None = None
        self._closing = False
        self._socket: Any = None
        # Replies of the read being processed; pub/sub messages for this
        # client join them so they keep their place in the byte stream.
        self._out: list[bytes] | None = None
        self._soft_limit_since: float | None = None
        # Bytes of requests read while blocked (they wait in _pending and
        # count towards client-query-buffer-limit, as Redis's query buffer).
        self._pending_bytes = 0
        self._unsent: list[bytes] = []
        # LineReceiver's buffer, set here so the per-read test of it is a
        # plain attribute read.
        self._buffer = b""
        # While a read is parsed in line mode: the commands found so far,
        # the error that stopped it, and whether a line longer than
        # MAX_LENGTH interrupted LineReceiver's loop.
        self._lines: list[list[bytes]] = []
        self._line_error: str | None = None
        self._more_lines = False
        # Between pauseProducing and resumeProducing: the write buffer is full.
        self._writes_paused = False
        #: Called when a full write buffer drained (a replica's snapshot transfer).
        self.on_drain: Any = None

    # -- wiring ------------------------------------------------------------

    def connectionMade(self) -> None:
        server = self.factory.service
        refusal = server.refusal(self.transport)
        if refusal is not None:
            # maxclients or protected mode: Redis's error, then the door.
            self._closing = True
            self.transport.write(refusal)
            self.transport.loseConnection()
            return
        # Inline requests are not the parser's: they go to the line mode.
        self.parser = FastParser(inline=False)
        # Looked up once: the per-read and per-command paths use them.
        self._seconds = server.clock.seconds
        self._store = server.store
        self._stats = server.store.stats
        self._settings = server.settings
        self._blocking = server.blocking
        self._service = server
        self._commandstats = server.commandstats
        self.apply_limits()
        self.session = session = Session(server, self)
        session.client_id = server.register_client(session)
        self._socket = _direct_socket(self.transport)
        if self._socket is not None:
            # Redis sets TCP_NODELAY too: a reply is one write, and Nagle would
            # hold back the tail of a large one until the client's ACK.
            self.transport.setTcpNoDelay(True)
        session.set_default_auth()
        # Twisted checks the buffer inside transport.write, so back-pressure
        # adds nothing to the per-read path while replies are taken at once.
        self.transport.registerProducer(self, True)
        self._reads = _read_control(self.transport)

    # -- IPushProducer: called by the transport about its write buffer -------

    def pauseProducing(self) -> None:
        """Unsent replies passed the buffer size: stop reading requests."""
        self._writes_paused = True
        if self._reads is not None:
            self._reads.pauseProducing()

    def resumeProducing(self) -> None:
        """The write buffer drained: read requests again."""
        self._writes_paused = False
        if self._closing:
            # A close waits while a paused producer is registered; let it go.
            self.transport.unregisterProducer()
            return
        if self._reads is not None:
            self._reads.resumeProducing()
        if self.on_drain is not None:
            self.on_drain()

    def stopProducing(self) -> None:
        """The connection is going away; connectionLost does the cleanup."""

    def connectionLost(self, reason: Any = None) -> None:
        self._closing = True
        self._unsent.clear()
        self._drop_waiter()
        self._pending.clear()
        self._pending_bytes = 0
        session = self.session
        if session is None:
            return
        session.multi_queue = []
        service = self.factory.service
        service.pubsub.drop(session)
        session.unwatch_all()
        service.unregister_client(session)

    def apply_limits(self) -> None:
        """Take proto-max-bulk-len and client-query-buffer-limit from the settings.

        Called on connect; CONFIG SET of either calls it for every client so
        the new limits hold at once, as in Redis.
        """
        settings = self._settings
        exact = self.parser.exact
        exact.max_bulk_len = settings.proto_max_bulk_len
        exact.max_query_buffer = settings.client_query_buffer_limit

    # -- what the session asks of its connection (hush.core.interfaces.Connection)

    @property
    def blocked(self) -> bool:
        """True while the client waits in a blocking command (or a CLIENT PAUSE)."""
        return self.waiter is not None

    @property
    def closing(self) -> bool:
        """True once the connection is to close."""
        return self._closing

    @property
    def buffered_input(self) -> int:
        """Bytes of requests read but not yet complete (the query buffer)."""
        return self.parser.buffered + len(self._buffer)

    def limit_unauthenticated(self) -> None:
        """Route reads through an :class:`AuthGuard` until the client authenticates."""
        if "dataReceived" not in self.__dict__:
            AuthGuard(self, partial(RedisProtocol.dataReceived, self)).install()

    def close_after_reply(self) -> None:
        """Close once the replies produced so far are written (QUIT, CLIENT KILL)."""
        self._closing = True
        # A client closed while blocked (CLIENT KILL) is no live waiter any
        # more: nothing may be popped for it before the reactor reports the close.
        self._drop_waiter()

    def disconnect(self) -> None:
        """Close now (CLIENT KILL of another client, idle timeout, SHUTDOWN); a client
        whose read is being served (SHUTDOWN's own) gets its replies first."""
        self.close_after_reply()
        if self._out is None:
            self.transport.loseConnection()

    def pause_reading(self) -> None:
        """Stop reading requests (this client's script is busy)."""
        self.transport.pauseProducing()

    def resume_reading(self) -> None:
        """Read requests again, unless the connection is closing."""
        if not self._closing:
            self.transport.resumeProducing()

    def push(self, value: Any) -> None:
        """Send an out-of-band message (pub/sub), enforcing the pubsub output limit."""
        if self._closing:
            return
        out = self._out
        if out is not None:
            encode_into(out, value, self.session.resp3)
            return
        chunk: list[bytes] = []
        try:
            encode_into(chunk, value, self.session.resp3)
        except Exception:
            self.factory.failures.report("the reply encoder")
            return
        self._write(b"".join(chunk))

    @property
    def writes_paused(self) -> bool:
        """True while the write buffer is full (:attr:`on_drain` is called when it drains)."""
        return self._writes_paused

    def send_raw(self, data: bytes) -> None:
        """Send bytes as they are (a replica's snapshot and stream), after the replies
        produced so far."""
        if self._closing:
            return
        # Counted as replication output (INFO total_net_repl_output_bytes), not here.
        self._stats.total_net_output_bytes -= len(data)
        out = self._out
        if out is not None:
            out.append(data)
        else:
            # Not held to the end of the reactor's pass: a snapshot transfer
            # writes until the buffer is full (writes_paused), which only a
            # write to the transport can tell.
            self.send_unsent()
            self._send(data)

    def pending_output(self) -> int:
        """Bytes of replies not yet taken by the kernel (held, or in Twisted's buffer)."""
        transport = self.transport
        queued = getattr(transport, "_tempDataLen", 0)
        buffer = getattr(transport, "dataBuffer", b"")
        held = sum(map(len, self._unsent))
        return held + queued + len(buffer) - getattr(transport, "offset", 0)

    # -- closing -----------------------------------------------------------

    def _drop_waiter(self) -> None:
        if self.waiter is not None:
            self.factory.service.blocking.cancel(self.waiter)
            self.waiter = None

    def _close_now(self) -> None:
        """Drop the connection without flushing its replies (limits exceeded)."""
        self._closing = True
        self._drop_waiter()
        self._pending.clear()
        self.transport.abortConnection()

    def _check_output_limit(self) -> None:
        # client-output-buffer-limit: Redis's defaults are no limit for normal
        # clients and 32mb hard, 8mb soft for 60 seconds for pubsub ones. A
        # client that stops reading is cut off rather than letting the
        # server's memory grow without bound.
        session = self.session
        if session.replication is not None and session.replication.is_replica:
            kind = "slave"
        else:
            kind = "pubsub" if session.subscriptions else "normal"
        hard, soft, seconds = self._settings.output_limit(kind)
        if not hard and not soft:
            return
        pending = self.pending_output()
        now = self._seconds()
        over = bool(hard and pending >= hard)
        if not over and soft and pending >= soft:
            if self._soft_limit_since is None:
                self._soft_limit_since = now
            over = now - self._soft_limit_since >= seconds
        elif pending < soft:
            self._soft_limit_since = None
        if over:
            self._stats.client_output_buffer_limit_disconnections += 1
            log.warn(
                "Client {info} scheduled to be closed ASAP for overcoming of output "
                "buffer limits.",
                info=self._describe(),
            )
            self._close_now()

    def _describe(self) -> str:
        """This client as Redis names it in its log: its CLIENT LIST line."""
        try:
            return client_line(self.session, self._seconds()).decode(
                errors="replace").rstrip("\n")
        except Exception:
            return f"id={self.session.client_id}"

    # -- input -------------------------------------------------------------

    def dataReceived(self, data: bytes) -> None:
        if self._closing:
            return
        self.session.last_interaction = now = self._seconds()
        self._stats.total_net_input_bytes += len(data)
        self._store.tick(now)
        # Whether the commands repeat one (None: not known).
        uniform = None
        try:
            if self._buffer or (data[:1] != b"*" and self.parser.idle):
                commands, error = self._read_lines(data, [])
            else:
                commands, error = self.parser.feed(data)
                if error is INLINE_AHEAD:
                    commands, error = self._read_lines(self.parser.take_inline(), commands)
                else:
                    uniform = self.parser.uniform
        except Exception:
            # A parser bug: the stream cannot be trusted any more.
            self.factory.failures.report("the request parser")
            commands, error = [], "ERR Protocol error: unreadable request"
        if self.waiter is not None:
            self._pending.extend(commands)
            if error is QUERY_BUFFER_EXCEEDED:
                self._query_buffer_exceeded(data)
            elif error is not None:
                self._pending_error = error
            else:
                self._pending_bytes += len(data)
                if (self._pending_bytes + self.buffered_input
                        > self._settings.client_query_buffer_limit):
                    self._query_buffer_exceeded(data)
            return
        out: list[bytes] = []
        self._out = out
        if commands:
            self._run(commands, out, uniform)
        if error is not None:
            if error is QUERY_BUFFER_EXCEEDED:
                # The complete requests before the overflow were run and
                # answered; then the client goes, as in Redis.
                self._out = None
                self._flush(out)
                self._query_buffer_exceeded(data)
                return
            if self.waiter is not None:
                self._pending_error = error
            else:
                out.append(error_bytes(error))
                self._closing = True
        self._out = None
        self._flush(out)

    # -- line mode: inline requests --------------------------------------------

    def _read_lines(self, data: bytes, commands: list[list[bytes]]
                    ) -> tuple[list[list[bytes]], str | None]:
        """Parse ``data`` in line mode after ``commands``; return them all and an
        error text or None, as the parser's ``feed`` does.

        Nothing runs meanwhile: a read is parsed whole before its commands run,
        whichever mode parsed it.
        """
        self._lines = commands
        self._line_error = None
        LineReceiver.dataReceived(self, data)
        while self._more_lines:
            # lineLengthExceeded ended LineReceiver's loop after a long line.
            self._more_lines = False
            if self._line_error is None:
                LineReceiver.dataReceived(self, b"")
        error = self._line_error
        if error is None and len(self._buffer) > self.parser.exact.max_query_buffer:
            self._buffer = b""
            error = QUERY_BUFFER_EXCEEDED
        self._lines = []
        return commands, error

    def lineReceived(self, line: bytes) -> bool | None:
        """One inline request: split as Redis splits it (quotes, escapes)."""
        try:
            argv = split_inline(line)
        except ProtocolReject as reject:
            return self._stop_lines(str(reject))
        if argv:
            self._lines.append(argv)
        elif self.session.replication is not None:
            # A replica loading a large snapshot sends newlines: it is alive.
            self.session.replication.heard_from(self._seconds())
        if self._buffer[:1] == b"*":
            # A multibulk frame follows: LineReceiver hands the rest to
            # rawDataReceived, that is to the parser.
            self.setRawMode()
        return None

    def rawDataReceived(self, data: bytes) -> bool | None:
        """The rest of a read from a multibulk frame on: the parser's."""
        self.setLineMode()
        commands, error = self.parser.feed(data)
        self._lines += commands
        if error is INLINE_AHEAD:
            # Lines again: LineReceiver's loop goes on with them.
            self._buffer = self.parser.take_inline()
            return None
        if error is not None:
            return self._stop_lines(error)
        return None

    def lineLengthExceeded(self, line: bytes) -> bool | None:
        """MAX_LENGTH bytes without a newline: Redis's error, and the connection closes.

        ``line`` may also be a whole line longer than MAX_LENGTH, its newline
        included, and whatever followed: Redis's limit is on waiting for a
        newline, so such a line is read as any other.
        """
        newline = line.find(b"\n")
        if newline < 0:
            return self._stop_lines("ERR Protocol error: too big inline request")
        self._buffer = line[newline + 1:]
        self._more_lines = True
        return self.lineReceived(line[:newline])

    def _stop_lines(self, error: str) -> bool:
        """End the line mode's parse with ``error``; the rest of the read is dropped."""
        self._line_error = error
        self._buffer = b""
        return True

    def _query_buffer_exceeded(self, data: bytes) -> None:
        # Redis answers nothing: it logs the client and the start of its
        # query buffer, counts it, and closes.
        self._stats.client_query_buffer_limit_disconnections += 1
        log.warn(
            "Closing client that reached max query buffer length: {info} "
            "(qbuf initial bytes: {start!r})",
            info=self._describe(),
            start=data[:64],
        )
        self._close_now()

    # -- output ------------------------------------------------------------

    def _flush(self, out: list[bytes]) -> None:
        propagator = self.session.propagator
        if propagator is not None:
            # Redis writes (and with appendfsync always, fsyncs) the AOF
            # before any reply that acknowledges the writes goes out.
            propagator.before_reply()
        if out:
            self._write(out[0] if len(out) == 1 else b"".join(out))
        if self._closing:
            self.send_unsent()
            # A registered producer would hold the close back while paused.
            self.transport.unregisterProducer()
            self.transport.loseConnection()

    def _write(self, data: bytes) -> None:
        """Send ``data`` at the end of the reactor's pass, after the other replies.

        On a plain TCP connection the replies of a read are held and sent
        once every connection the reactor found readable has been read (by
        :class:`HeldReplies`), as Redis writes its replies before it sleeps
        rather than after each read. Sending each at once wakes the client
        for every reply: when the server is the busier side the client has
        gone back to waiting between two, and the wake-up (an interrupt to
        the other CPU) cost more than the send itself. Other transports
        (TLS, UNIX sockets, tests') are written to at once.
        """
        self._stats.total_net_output_bytes += len(data)
        if self._socket is not None:
            unsent = self._unsent
            if not unsent:
                self.factory.held.add(self)
            unsent.append(data)
            return
        self.transport.write(data)
        self._check_output_limit()

    def send_unsent(self) -> None:
        """Send the replies :meth:`_write` held (in the order they were written)."""
        unsent = self._unsent
        if unsent:
            data = unsent[0] if len(unsent) == 1 else b"".join(unsent)
            unsent.clear()
            self._send(data)

    def _send(self, data: bytes) -> None:
        """Send ``data`` now if the socket takes it, else through Twisted's buffer.

        ``transport.write`` only queues: it registers the socket for writing
        (an epoll_ctl), the reactor sends on its next pass and unregisters it
        (another epoll_ctl). Without pipelining that is two system calls and
        a reactor dispatch per request, about a third of the CPU per request.
        When Twisted's buffer is empty nothing can be ahead of these bytes, so
        sending them straight away keeps the byte order; whatever the kernel
        does not take (EAGAIN, a partial send) goes to ``transport.write``,
        after which later replies queue behind it.
        """
        sock = self._socket
        if sock is not None:
            transport = self.transport
            if (
                not transport._tempDataLen
                and len(transport.dataBuffer) == transport.offset
                and transport.connected
                and not transport.disconnecting
                and not transport._writeDisconnected
            ):
                try:
                    sent = sock.send(data)
                except OSError:
                    # EAGAIN/EINTR: nothing sent, Twisted waits for writability.
                    # A reset or broken pipe: Twisted's own write finds it and
                    # closes the connection in the usual way.
                    sent = 0
                if sent == len(data):
                    return
                data = data[sent:]
        self.transport.write(data)
        # Only reached when something stays buffered (or on transports
        # without a direct socket): the usual reply costs no check.
        self._check_output_limit()

    # -- running commands --------------------------------------------------

    def _run(self, commands: Any, out: list[bytes], uniform: bool | None = None) -> None:
        """Execute commands in order until one blocks or the client quits.

        While the session is :attr:`~hush.commands.dispatch.Session.plain`,
        a command of a known name and a fitting argument count runs on the
        lean lane: :meth:`Session.execute`'s ungated path written out here
        (count it, time it for commandstats, the latency histogram and the
        slow log, call the handler), saving a call and the gate, resolution
        and feature tests that cannot apply. Everything else -- and every
        command once a command changes the client's state -- goes through
        ``execute``. The two must be kept in step.

        ``uniform`` says whether the commands are more than one and repeat
        one name with one argument count (the parser knows it for most
        reads); None: not known, found out here.
        """
        session = self.session
        if uniform is None:
            uniform = (
                len(commands) > 1
                and len(set(map(len, commands))) == 1
                and len(set(map(_name, commands))) == 1
            )
        if uniform and session.plain:
            first = commands[0]
            cmd = COMMANDS.get(first[0])
            if cmd is not None and cmd.data_command and len(first) in cmd.sizes:
                if (
                    cmd.batch is not None
                    and not self._store.blocking_keys
                    and self._run_batch(cmd, commands, out)
                ):
                    return
                done = self._run_uniform(cmd, commands, out)
                if done == len(commands) or self.waiter is not None or self._closing:
                    return
                commands = commands[done:]
        find = COMMANDS.get
        for index, argv in enumerate(commands):
            cmd = find(argv[0])
            if cmd is None or not session.plain or len(argv) not in cmd.sizes:
                if self._reply(session.execute(argv), commands, index, out):
                    return
            elif self._lean(session, cmd, argv, commands, index, out):
                return

    def _lean(self, session: Session, cmd: Any, argv: list[bytes], commands: Any,
              index: int, out: list[bytes]) -> bool:
        """Run ``argv`` (``commands[index]``) on the lean lane: :meth:`Session.execute`'s
        ungated path written out (count it, time it for commandstats, the
        latency histogram and the slow log, call the handler), then encode
        its reply. True when the commands after it are not to run now."""
        self._stats.total_commands_processed += 1
        session._last_cmd = cmd
        nargs = len(argv)
        start = perf_counter()
        try:
            if nargs == 2:
                reply = cmd.handler(session, argv[1])
            elif nargs == 3:
                reply = cmd.handler(session, argv[1], argv[2])
            else:
                reply = cmd.handler(session, *argv[1:])
        except Exception as error:
            reply = session.failed(cmd, argv, error)
        elapsed = perf_counter() - start
        commandstats = self._commandstats
        number = cmd.number
        try:
            commandstats.calls[number] += 1
        except IndexError:
            # A command registered after this server started.
            commandstats.make_room(number)
            commandstats.calls[number] += 1
        commandstats.seconds[number] += elapsed
        histograms = commandstats.histograms
        if histograms is not None:
            # hush.ops.latency.bucket_of, inlined as in execute().
            try:
                histograms[number][int(elapsed * 976562.5).bit_length()] += 1
            except IndexError:
                # Over a second: the last bucket (no min() on the common path).
                histograms[number][-1] += 1
        if elapsed * 1e6 >= self._service.after_us:
            session.after_command(cmd, argv, elapsed)
        return self._reply(reply, commands, index, out)

    def _reply(self, reply: Any, commands: Any, index: int, out: list[bytes]) -> bool:
        """Encode the reply of ``commands[index]``, or block on it; serve the clients
        its run made ready. True when the commands after it are not to run now."""
        # The commonest replies are encoded here, saving a call each.
        kind = reply.__class__
        if kind is bytes:
            size = len(reply)
            if size < 4096:
                # A ready header and no formatting: b"%d" % costs more.
                out += (BULK_HEADERS[size], reply, b"\r\n")
            else:
                out.append(b"$%d\r\n%s\r\n" % (size, reply))
        elif reply is OK:
            out.append(_OK_REPLY)
        elif kind is int:
            # LPUSH and RPUSH answer a list's length, often past the table.
            out.append(SMALL_INT_REPLIES[reply] if 0 <= reply < 1024 else b":%d\r\n" % reply)
        elif reply is NO_REPLY:
            pass
        elif kind is Block:
            self._block(reply, commands[index], commands[index + 1 :])
            return True
        else:
            self._encode(out, reply, self.session.resp3)
        if self._store.ready_keys:
            self._blocking.serve_ready()
        return self._closing

    def _run_uniform(self, cmd: Any, commands: Any, out: list[bytes]) -> int:
        """Run a read of one data command repeated (a pipeline, as benchmarks send):
        the lean lane with the lookup and the argument count settled once.
        Returns how many ran; it stops early when one blocks, the client
        quits or leaves the plain state.

        Each command is timed on its own, but the durations are added to the
        counters, the latency histogram and the slow log in one go
        (:meth:`_account`) at the end, and before anything else can read
        them: a blocked client served by one of these commands. Only
        commands flagged readonly or write come here, and none of those
        reads the counters or changes what they depend on.
        """
        session = self.session
        handler = cmd.handler
        nargs = len(commands[0])
        blocking = self._blocking
        store = self._store
        times: list[float] = []
        timed = times.append
        # Set before the handlers run: a failure report names it.
        session._last_cmd = cmd
        # Commands run, and those of them already accounted for.
        ran = counted = 0
        for ran, argv in enumerate(commands, 1):
            if not session.plain:
                ran -= 1
                break
            start = perf_counter()
            try:
                if nargs == 2:
                    reply = handler(session, argv[1])
                elif nargs == 3:
                    reply = handler(session, argv[1], argv[2])
                else:
                    reply = handler(session, *argv[1:])
            except Exception as error:
                reply = session.failed(cmd, argv, error)
            timed(perf_counter() - start)
            kind = reply.__class__
            if kind is bytes:
                size = len(reply)
                if size < 4096:
                    out += (BULK_HEADERS[size], reply, b"\r\n")
                else:
                    out.append(b"$%d\r\n%s\r\n" % (size, reply))
            elif reply is OK:
                out.append(_OK_REPLY)
            elif kind is int:
                out.append(SMALL_INT_REPLIES[reply] if 0 <= reply < 1024 else b":%d\r\n" % reply)
            elif kind is Block:
                self._account(cmd, commands[counted:ran], times)
                self._block(reply, argv, commands[ran:])
                return ran
            elif reply is not NO_REPLY:
                self._encode(out, reply, session.resp3)
            if store.ready_keys:
                self._account(cmd, commands[counted:ran], times)
                counted = ran
                times.clear()
                blocking.serve_ready()
            if self._closing:
                break
        self._account(cmd, commands[counted:ran], times)
        return ran

    def _run_batch(self, cmd: Any, commands: Any, out: list[bytes]) -> bool:
        """Run a read of one data command repeated through the command's batch
        function (:func:`hush.commands.table.batch`); False if it ran none.

        The run is timed as a whole, and each command is counted with an even
        share of its time: in commandstats (the sum is exact), the latency
        histogram and the slow log.
        """
        session = self.session
        # Set before the function runs: a failure report names it.
        session._last_cmd = cmd
        mark = len(out)
        start = perf_counter()
        try:
            ran = cmd.batch(session, commands, out)
        except Exception as error:
            # A bug: how far it got is unknown, so every command answers the error.
            del out[mark:]
            reply = session.failed(cmd, commands[0], error)
            self._encode(out, reply, session.resp3)
            out[mark:] = out[mark:] * len(commands)
            ran = True
        elapsed = perf_counter() - start
        if not ran:
            return False
        self._account_even(cmd, commands, elapsed)
        return True

    def _account_even(self, cmd: Any, argvs: Any, elapsed: float) -> None:
        """Count ``cmd`` run once per argv in ``argvs``, ``elapsed`` seconds in all."""
        ran = len(argvs)
        each = elapsed / ran
        histogram = self._count_run(cmd, ran, elapsed)
        if histogram is not None:
            # hush.ops.latency.bucket_of.
            histogram[min(int(each * _PER_BUCKET).bit_length(), 20)] += ran
        if each * 1e6 >= self._service.after_us:
            session = self.session
            for argv in argvs:
                session.after_command(cmd, argv, each)

    def _count_run(self, cmd: Any, ran: int, seconds: float) -> list[int] | None:
        """Count ``ran`` runs of ``cmd`` taking ``seconds`` in all (commands processed,
        commandstats); return ``cmd``'s latency histogram, None while it is off."""
        commandstats = self._commandstats
        number = cmd.number
        self._stats.total_commands_processed += ran
        self.session._last_cmd = cmd
        try:
            commandstats.calls[number] += ran
        except IndexError:
            # A command registered after this server started.
            commandstats.make_room(number)
            commandstats.calls[number] += ran
        commandstats.seconds[number] += seconds
        histograms = commandstats.histograms
        return None if histograms is None else histograms[number]

    def _account(self, cmd: Any, argvs: Any, times: list[float]) -> None:
        """Count ``cmd`` run once per argv in ``argvs``, taking ``times`` seconds each:
        what :meth:`Session.execute` does after each command, for all at once."""
        if not times:
            return
        histogram = self._count_run(cmd, len(times), sum(times))
        if histogram is not None:
            # hush.ops.latency.bucket_of for each, in C.
            buckets = list(map(int.bit_length, map(int, map(_PER_BUCKET.__mul__, times))))
            # A run's durations fall in a bucket or two: count each distinct one.
            for bucket in set(buckets):
                histogram[min(bucket, 20)] += buckets.count(bucket)
        session = self.session
        after_us = self._service.after_us
        if max(times) * 1e6 >= after_us:
            for argv, elapsed in zip(argvs, times, strict=True):
                if elapsed * 1e6 >= after_us:
                    session.after_command(cmd, argv, elapsed)

    def _block(self, block: Block, argv: list[bytes], rest: Any) -> None:
        """Block the client on ``argv``'s reply; ``rest`` waits until it is served."""
        block.argv = argv
        blocking = self._blocking
        self.waiter = waiter = blocking.block(self.session.db.index, block)
        waiter.deferred.addCallback(self._unblocked)
        self._pending.extend(rest)
        if self._store.ready_keys:
            blocking.serve_ready()

    def _encode(self, out: list[bytes], reply: Any, resp3: bool) -> None:
        """Encode ``reply`` into ``out``; an unencodable value becomes an error reply."""
        mark = len(out)
        try:
            encode_into(out, reply, resp3)
        except Exception:
            del out[mark:]
            command = self.session.last_command
            place = "the reply encoder" if command == "NULL" else f"the reply of '{command}'"
            self.factory.failures.report(place)
            out.append(error_bytes(f"ERR internal error while encoding the reply of "
                                   f"'{command}'"))

    def _unblocked(self, reply: Any) -> None:
        self.waiter = None
        if self._closing:
            return
        session = self.session
        # A reply counts as interaction for the idle timeout, as in Redis.
        session.last_interaction = self._seconds()
        out: list[bytes] = []
        outer = self._out
        self._out = out
        if reply.__class__ is Retry:
            # Postponed by CLIENT PAUSE: run the command again now.
            self._pending.appendleft(reply.argv)
        elif session.mute_unblock:
            session.mute_unblock = False
        else:
            self._encode(out, reply, session.resp3)
        pending = list(self._pending)
        self._pending.clear()
        self._pending_bytes = 0
        if pending:
            try:
                self._run(pending, out)
            except Exception:
                # Never let a wake-up leave the client hung: answer and close.
                self.factory.failures.report("a blocked client's wake-up")
                out.append(error_bytes("ERR internal error while serving a blocked client"))
                self._drop_waiter()
                self._closing = True
        if self.waiter is None and self._pending_error is not None:
            out.append(error_bytes(self._pending_error))
            self._closing = True
        self._out = outer
        self._flush(out)


def _direct_socket(transport: Any) -> Any:
    """The socket :meth:`RedisProtocol._write` may send on directly, or None.

    Only a plain accepted TCP connection qualifies: TLS transports must encrypt
    what they send, UNIX-socket transports may carry file descriptors, and test
    transports have no socket at all; those always go through
    ``transport.write``.
    """
    if type(transport) is tcp.Server and not transport.TLS:
        return transport.socket
    return None


def _read_control(transport: Any) -> Any:
    """What pauses and resumes reading from ``transport``, or None.

    A TCP or UNIX transport does it itself; a TLS transport
    (TLSMemoryBIOProtocol) has no pauseProducing of its own, so reading is
    paused on the connection beneath it.
    """
    while transport is not None:
        if hasattr(transport, "pauseProducing"):
            return transport
        transport = getattr(transport, "transport", None)
    return None


class HeldReplies:
    """The connections whose replies wait for the end of the reactor's pass.

    The first connection to hold replies in a pass schedules one call for
    the end of it (``callLater(0)`` runs after the reads the reactor found
    ready, before it waits again); that call sends every held reply. A busy
    script, which has the reactor read without running its timers, sends
    them after each of those reads (the service wires :meth:`send` to it).
    """

    def __init__(self) -> None:
        self._waiting: list[RedisProtocol] = []

    def add(self, protocol: RedisProtocol) -> None:
        """Send ``protocol``'s held replies at the end of this pass."""
        if not self._waiting:
            # The reactor that runs the connection (the service's clock may
            # be a test's, under time control).
            protocol.transport.reactor.callLater(0, self.send)
        self._waiting.append(protocol)

    def send(self) -> None:
        """Send every held reply (in the order the connections held them)."""
        waiting = self._waiting
        self._waiting = []
        for protocol in waiting:
            protocol.send_unsent()


class RedisFactory(Factory):
    """Makes a :class:`RedisProtocol` per connection, all sharing one store service."""

    protocol = RedisProtocol

    def __init__(self, service: Server) -> None:
        self.service = service
        #: Replies held to the end of the reactor's pass (plain TCP connections).
        self.held: HeldReplies = service.held_replies
        #: Unexpected exceptions, logged at most once a minute per place (the service's).
        self.failures = service.failures
