# -*- test-case-name: tests.unit.server.test_protocol -*-
"""One client connection: RESP in, dispatch through the command table, RESP out.

:class:`RedisProtocol` derives from Twisted's ``LineReceiver`` (its line
limits and producer plumbing) but routes each read through
:class:`hush.wire.parser.FastParser`, which is linear in the input: hiredis for
whole multibulk reads, an offset-based exact parser for the rest. All replies
produced by one read are joined into a single ``transport.write``.

The protocol object is also the ``ctx`` every handler receives: it holds the
connection's state (selected database, protocol version, name, blocked or not).
"""

from __future__ import annotations

from collections import deque
from functools import partial
from time import perf_counter
from typing import TYPE_CHECKING, Any

from twisted.internet import tcp
from twisted.internet.interfaces import IPushProducer
from twisted.internet.protocol import Factory
from twisted.logger import Logger
from twisted.protocols.basic import LineReceiver
from zope.interface import implementer

from hush.commands import COMMANDS, lookup
from hush.commands.acl import NOAUTH
from hush.commands.transactions import end_transaction, unwatch_all
from hush.core import errors
from hush.core.errors import (
    CommandError,
    SubcommandSyntax,
    c_string,
    c_text,
    subcommand_syntax,
    text,
)
from hush.core.faults import FailureLog
from hush.data.blocking import Block, Waiter
from hush.data.store import Database
from hush.ops import monitor
from hush.ops.clientinfo import client_line
from hush.ops.commandstats import count_error
from hush.server.auth import AuthGuard
from hush.server.pause import Retry
from hush.wire.parser import INLINE_MAX_SIZE, QUERY_BUFFER_EXCEEDED, FastParser
from hush.wire.resp import (
    BULK_HEADERS,
    NO_REPLY,
    OK,
    QUEUED,
    SMALL_INT_REPLIES,
    encode_into,
    error_bytes,
)

if TYPE_CHECKING:
    from hush.server.service import StoreService

log = Logger()

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

    @ivar db: the selected database.
    @ivar resp3: True after HELLO 3.
    @ivar client_id: the CLIENT ID, unique for the server's lifetime.
    @ivar name: CLIENT SETNAME's name.
    """

    MAX_LENGTH = INLINE_MAX_SIZE
    delimiter = b"\r\n"

    factory: RedisFactory
    #: The store's :class:`hush.persistence.propagation.Propagator` while the AOF is on.
    _propagator: Any = None

    def __init__(self) -> None:
        self.resp3 = False
        self.name = b""
        self.lib_name = b""
        self.lib_ver = b""
        self.client_id = 0
        self.in_multi = False
        # False until AUTH when requirepass is set (hush.server.auth).
        self.authenticated = True
        self.created_at = 0.0
        self.last_interaction = 0.0
        self._last_cmd: Any = None
        self._pending: deque[list[bytes]] = deque()
        self._pending_error: str | None = None
        self._waiter: Waiter | None = None
        self._closing = False
        self._socket: Any = None
        # Replies of the read being processed; pub/sub messages for this
        # client join them so they keep their place in the byte stream.
        self._out: list[bytes] | None = None
        # Transactions (hush.commands.transactions).
        self.multi_queue: list[list[bytes]] = []
        self.multi_error = False
        self.exec_running = False
        self.watched: dict[tuple[int, bytes], bool] = {}
        self.dirty_cas = False
        # Pub/Sub (hush.data.pubsub).
        self.channels: set[bytes] = set()
        self.patterns: set[bytes] = set()
        self._soft_limit_since: float | None = None
        # CLIENT REPLY: None (on), "off", "skip" or "skip_next".
        self.reply_mode: str | None = None
        self._muting = False
        self._mute_unblock = False
        self.monitoring = False
        # Bytes of requests read while blocked (they wait in _pending and
        # count towards client-query-buffer-limit, as Redis's query buffer).
        self._pending_bytes = 0
        # True while unauthenticated, in MULTI, subscribed, muted, paused or
        # under maxmemory: the dispatcher's slow path.
        self._gated = False

    # -- wiring ------------------------------------------------------------

    @property
    def server(self) -> StoreService:
        """The shared store service."""
        return self.factory.service

    @property
    def store(self):
        """The shared :class:`hush.data.store.Store`."""
        return self.factory.service.store

    def connectionMade(self) -> None:
        server = self.factory.service
        refusal = server.refusal(self.transport)
        if refusal is not None:
            # maxclients or protected mode: Redis's error, then the door.
            self._closing = True
            self.transport.write(refusal)
            self.transport.loseConnection()
            return
        self.db: Database = server.store.dbs[0]
        self.parser = FastParser()
        self.apply_limits()
        self.created_at = self.last_interaction = server.clock.seconds()
        # Looked up once: the per-read and per-command paths use them.
        self._seconds = server.clock.seconds
        self._stats = server.store.stats
        self._settings = server.settings
        self._watchers = server.watchers
        self.client_id = server.register_client(self)
        self._propagator = server.store.propagator
        self.update_gate()
        self._socket = _direct_socket(self.transport)
        if self._socket is not None:
            # Redis sets TCP_NODELAY too: a reply is one write, and Nagle would
            # hold back the tail of a large one until the client's ACK.
            self.transport.setTcpNoDelay(True)
        if server.settings.requirepass:
            self.require_auth()
        # Twisted checks the buffer inside transport.write, so back-pressure
        # adds nothing to the per-read path while replies are taken at once.
        self.transport.registerProducer(self, True)
        self._reads = _read_control(self.transport)

    # -- IPushProducer: called by the transport about its write buffer -------

    def pauseProducing(self) -> None:
        """Unsent replies passed the buffer size: stop reading requests."""
        if self._reads is not None:
            self._reads.pauseProducing()

    def resumeProducing(self) -> None:
        """The write buffer drained: read requests again."""
        if self._closing:
            # A close waits while a paused producer is registered; let it go.
            self.transport.unregisterProducer()
            return
        if self._reads is not None:
            self._reads.resumeProducing()

    def stopProducing(self) -> None:
        """The connection is going away; connectionLost does the cleanup."""

    def connectionLost(self, reason: Any = None) -> None:
        self._closing = True
        self._drop_waiter()
        self._pending.clear()
        self._pending_bytes = 0
        self.multi_queue = []
        service = self.factory.service
        service.pubsub.drop(self)
        unwatch_all(self)
        service.unregister_client(self)

    def require_auth(self) -> None:
        """Be the default user before AUTH: NOAUTH replies and Redis's small request limits."""
        self.authenticated = False
        self._gated = True
        if "dataReceived" not in self.__dict__:
            AuthGuard(self, partial(RedisProtocol.dataReceived, self)).install()

    def apply_limits(self) -> None:
        """Take proto-max-bulk-len and client-query-buffer-limit from the settings.

        Called on connect; CONFIG SET of either calls it for every client so
        the new limits hold at once, as in Redis.
        """
        settings = self.factory.service.settings
        exact = self.parser.exact
        exact.max_bulk_len = settings.proto_max_bulk_len
        exact.max_query_buffer = settings.client_query_buffer_limit

    def select(self, index: int) -> None:
        """Switch to database ``index`` (already range-checked)."""
        self.db = self.factory.service.store.dbs[index]

    def propagate(self, argv: list[bytes]) -> None:
        """Propagate ``argv`` to the AOF too (Redis's alsoPropagate)."""
        if self._propagator is not None:
            self._propagator.propagate(self, argv)

    def propagate_instead(self, *argvs: list[bytes]) -> None:
        """Propagate these commands instead of the running one's argv (none: nothing)."""
        if self._propagator is not None:
            self._propagator.propagate_instead(self, *argvs)

    def close_after_reply(self) -> None:
        """Close once the replies produced so far are written (QUIT, CLIENT KILL)."""
        self._closing = True
        # A client closed while blocked (CLIENT KILL) is no live waiter any
        # more: nothing may be popped for it before the reactor reports the close.
        self._drop_waiter()

    def _drop_waiter(self) -> None:
        if self._waiter is not None:
            self.factory.service.blocking.cancel(self._waiter)
            self._waiter = None

    def _close_now(self) -> None:
        """Drop the connection without flushing its replies (limits exceeded)."""
        self._closing = True
        self._drop_waiter()
        self._pending.clear()
        self.transport.abortConnection()

    def update_gate(self) -> None:
        """Recompute whether commands must pass the auth / MULTI / subscribed-mode /
        maxmemory / CLIENT REPLY / CLIENT PAUSE / busy-script checks."""
        service = self.factory.service
        self._gated = (
            self.in_multi or bool(self.channels or self.patterns)
            or not self.authenticated or service.memory.limited
            or self.reply_mode is not None or service.pause.end is not None
            or service.scripts.busy
        )

    @property
    def subscriptions(self) -> int:
        """Channels plus patterns this client is subscribed to."""
        return len(self.channels) + len(self.patterns)

    def push(self, value: Any) -> None:
        """Send an out-of-band message (pub/sub), enforcing the pubsub output limit."""
        if self._closing:
            return
        out = self._out
        if out is not None:
            encode_into(out, value, self.resp3)
            return
        chunk: list[bytes] = []
        try:
            encode_into(chunk, value, self.resp3)
        except Exception:
            self.factory.failures.report("the reply encoder")
            return
        self._write(b"".join(chunk))

    def pending_output(self) -> int:
        """Bytes written to the transport but not yet taken by the kernel."""
        transport = self.transport
        queued = getattr(transport, "_tempDataLen", 0)
        buffer = getattr(transport, "dataBuffer", b"")
        return queued + len(buffer) - getattr(transport, "offset", 0)

    def _check_output_limit(self) -> None:
        # client-output-buffer-limit: Redis's defaults are no limit for normal
        # clients and 32mb hard, 8mb soft for 60 seconds for pubsub ones. A
        # client that stops reading is cut off rather than letting the
        # server's memory grow without bound.
        service = self.factory.service
        kind = "pubsub" if (self.channels or self.patterns) else "normal"
        hard, soft, seconds = service.settings.output_limit(kind)
        if not hard and not soft:
            return
        pending = self.pending_output()
        now = service.clock.seconds()
        over = bool(hard and pending >= hard)
        if not over and soft and pending >= soft:
            if self._soft_limit_since is None:
                self._soft_limit_since = now
            over = now - self._soft_limit_since >= seconds
        elif pending < soft:
            self._soft_limit_since = None
        if over:
            service.store.stats.client_output_buffer_limit_disconnections += 1
            log.warn(
                "Client {info} scheduled to be closed ASAP for overcoming of output "
                "buffer limits.",
                info=self._describe(),
            )
            self._close_now()

    def _describe(self) -> str:
        """This client as Redis names it in its log: its CLIENT LIST line."""
        try:
            return client_line(self, self.factory.service.clock.seconds()).decode(
                errors="replace").rstrip("\n")
        except Exception:
            return f"id={self.client_id}"

    @property
    def last_command(self) -> str:
        """The name of the last command run (``container|sub`` for subcommands)."""
        cmd = self._last_cmd
        return "NULL" if cmd is None else cmd.full_name

    @property
    def blocked(self) -> bool:
        """True while the client waits in a blocking command."""
        return self._waiter is not None

    # -- input -------------------------------------------------------------

    def dataReceived(self, data: bytes) -> None:
        if self._closing:
            return
        self.last_interaction = now = self._seconds()
        self._stats.total_net_input_bytes += len(data)
        self.factory.service.store.tick(now)
        try:
            commands, error = self.parser.feed(data)
        except Exception:
            # A parser bug: the stream cannot be trusted any more.
            self.factory.failures.report("the request parser")
            commands, error = [], "ERR Protocol error: unreadable request"
        if self._waiter is not None:
            self._pending.extend(commands)
            if error is QUERY_BUFFER_EXCEEDED:
                self._query_buffer_exceeded(data)
            elif error is not None:
                self._pending_error = error
            else:
                self._pending_bytes += len(data)
                if (self._pending_bytes + self.parser.buffered
                        > self.factory.service.settings.client_query_buffer_limit):
                    self._query_buffer_exceeded(data)
            return
        out: list[bytes] = []
        self._out = out
        if commands:
            self._run(commands, out)
        if error is not None:
            if error is QUERY_BUFFER_EXCEEDED:
                # The complete requests before the overflow were run and
                # answered; then the client goes, as in Redis.
                self._out = None
                self._flush(out)
                self._query_buffer_exceeded(data)
                return
            if self._waiter is not None:
                self._pending_error = error
            else:
                out.append(error_bytes(error))
                self._closing = True
        self._out = None
        self._flush(out)

    def _query_buffer_exceeded(self, data: bytes) -> None:
        # Redis answers nothing: it logs the client and the start of its
        # query buffer, counts it, and closes.
        stats = self.factory.service.store.stats
        stats.client_query_buffer_limit_disconnections += 1
        log.warn(
            "Closing client that reached max query buffer length: {info} "
            "(qbuf initial bytes: {start!r})",
            info=self._describe(),
            start=data[:64],
        )
        self._close_now()

    def lineReceived(self, line: bytes) -> None:
        # Every read goes through dataReceived's parser; LineReceiver's own
        # line splitting is never entered.
        raise NotImplementedError

    def _flush(self, out: list[bytes]) -> None:
        if self._propagator is not None:
            # Redis writes (and with appendfsync always, fsyncs) the AOF
            # before any reply that acknowledges the writes goes out.
            self._propagator.before_reply()
        if out:
            self._write(out[0] if len(out) == 1 else b"".join(out))
        if self._closing:
            # A registered producer would hold the close back while paused.
            self.transport.unregisterProducer()
            self.transport.loseConnection()

    def _write(self, data: bytes) -> None:
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
        self._stats.total_net_output_bytes += len(data)
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

    def _run(self, commands: Any, out: list[bytes]) -> None:
        """Execute commands in order until one blocks or the client quits."""
        execute = self.execute
        blocking = self.factory.service.blocking
        store = self.factory.service.store
        for index, argv in enumerate(commands):
            reply = execute(argv)
            if reply.__class__ is Block:
                reply.argv = argv
                self._waiter = waiter = blocking.block(self.db.index, reply)
                waiter.deferred.addCallback(self._unblocked)
                self._pending.extend(commands[index + 1 :])
                if store.ready_keys:
                    blocking.serve_ready()
                return
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
            else:
                self._encode(out, reply)
            if store.ready_keys:
                blocking.serve_ready()
            if self._closing:
                return

    def _encode(self, out: list[bytes], reply: Any) -> None:
        """Encode ``reply`` into ``out``; an unencodable value becomes an error reply."""
        mark = len(out)
        try:
            encode_into(out, reply, self.resp3)
        except Exception:
            del out[mark:]
            place = "the reply encoder" if self._last_cmd is None else (
                f"the reply of '{self._last_cmd.full_name}'")
            self.factory.failures.report(place)
            out.append(error_bytes(f"ERR internal error while encoding the reply of "
                                   f"'{self.last_command}'"))

    def _unblocked(self, reply: Any) -> None:
        self._waiter = None
        if self._closing:
            return
        # A reply counts as interaction for the idle timeout, as in Redis.
        self.last_interaction = self._seconds()
        out: list[bytes] = []
        outer = self._out
        self._out = out
        if reply.__class__ is Retry:
            # Postponed by CLIENT PAUSE: run the command again now.
            self._pending.appendleft(reply.argv)
        elif self._mute_unblock:
            self._mute_unblock = False
        else:
            self._encode(out, reply)
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
        if self._waiter is None and self._pending_error is not None:
            out.append(error_bytes(self._pending_error))
            self._closing = True
        self._out = outer
        self._flush(out)

    # -- dispatch ----------------------------------------------------------

    def execute(self, argv: list[bytes]) -> Any:
        """Run one command and return its reply value (errors as values)."""
        name = argv[0]
        cmd = COMMANDS.get(name)
        if cmd is None:
            cmd = lookup(name)
            if cmd is None:
                return self._reject(unknown_command(argv))
        arity = cmd.arity
        nargs = len(argv)
        # Ordered so that a command of fixed arity passes on one comparison.
        if nargs != arity and (arity > 0 or nargs < -arity):
            return self._reject(errors.wrong_arity(cmd.name), cmd)
        # COMMAND alone is a command of its own; a container's arity already
        # demands a subcommand name.
        if cmd.subcommands and nargs > 1:
            sub = cmd.subcommands.get(argv[1]) or cmd.subcommands.get(argv[1].lower())
            if sub is None:
                return self._reject(CommandError(
                    f"ERR unknown subcommand '{c_text(argv[1], 128)}'. "
                    f"Try {cmd.name.upper()} HELP."
                ))
            if (sub.arity > 0 and nargs != sub.arity) or nargs < -sub.arity:
                return self._reject(errors.wrong_arity(sub.full_name), sub)
            cmd = sub
            args = argv[2:]
        else:
            # Sliced only when needed: one or two arguments are passed as such.
            args = None
        if self._gated:
            gated = self._gate(cmd, argv)
            if gated is not None:
                return gated
        self._stats.total_commands_processed += 1
        # The name is built only when CLIENT LIST asks (see last_command).
        self._last_cmd = cmd
        if self._watchers and "skip-monitor" in cmd.flags:
            monitor.feed_before(self, argv)
        # Handler time for INFO commandstats and SLOWLOG (hush.ops.commandstats).
        start = perf_counter()
        try:
            propagator = self._propagator
            if propagator is not None:
                # AOF on: the propagator runs the handler and logs its effects.
                reply = propagator.call(self, cmd, argv[1:] if args is None else args, argv)
            elif args is not None:
                reply = cmd.handler(self, *args)
            elif nargs == 2:
                # A call with plain arguments skips building the slice, a
                # list and a tuple of the arguments (GET, INCR, LPOP, ...).
                reply = cmd.handler(self, argv[1])
            elif nargs == 3:
                reply = cmd.handler(self, argv[1], argv[2])
            else:
                reply = cmd.handler(self, *argv[1:])
        except CommandError as error:
            if error.__class__ is SubcommandSyntax:
                error = subcommand_syntax(argv)
            reply = error
            cmd.failed_calls += 1
            count_error(error)
        except Exception:
            self.factory.failures.report(f"command '{cmd.full_name}'")
            reply = CommandError(f"ERR internal error while running '{cmd.full_name}'")
            cmd.failed_calls += 1
            count_error(reply)
        elapsed = perf_counter() - start
        cmd.calls += 1
        cmd.seconds += elapsed
        # One test covers the slow log, MONITOR and --metrics: a negative
        # threshold (log disabled) also takes this branch, which re-checks.
        if self._watchers or elapsed * 1e6 >= self._settings.slowlog_log_slower_than:
            self._after_command(cmd, argv, elapsed)
        return reply

    def _after_command(self, cmd: Any, argv: list[bytes], elapsed: float) -> None:
        """Slow log entry and watchers (MONITOR, metrics) for a command that ran."""
        settings = self._settings
        usec = int(elapsed * 1e6)
        threshold = settings.slowlog_log_slower_than
        if threshold >= 0 and usec >= threshold and "skip-slowlog" not in cmd.flags:
            self.factory.service.slowlog.add(self, argv, usec, settings.slowlog_max_len)
        for watcher in list(self._watchers):
            watcher(self, cmd, argv, elapsed)

    def _reject(self, error: CommandError, cmd: Any = None) -> CommandError:
        if cmd is not None:
            cmd.rejected_calls += 1
            if cmd.name == "exec" and not error.message.startswith("EXECABORT"):
                error = self._abort_exec(error)
        count_error(error)
        # A command refused before it runs poisons an open transaction.
        if self.in_multi and not self.exec_running:
            self.multi_error = True
        return error

    def _abort_exec(self, error: CommandError) -> CommandError:
        """Redis's execCommandAbort: a refused EXEC ends the transaction (if any)
        and names why; texts Redis formats without a code lose their ERR."""
        end_transaction(self)
        reason = error.message
        if reason.startswith("ERR "):
            reason = reason[4:]
        return CommandError(f"EXECABORT Transaction discarded because of: {reason}")

    def _gate(self, cmd: Any, argv: list[bytes]) -> Any:
        """CLIENT REPLY, auth, maxmemory, subscribed-mode and MULTI checks: a reply
        to send instead, or None to run."""
        if self.reply_mode is not None and not self._muting:
            return self._run_muted(argv)
        if not self.authenticated:
            if self.factory.service.settings.requirepass:
                if "no-auth" not in cmd.flags:
                    return self._reject(CommandError(NOAUTH), cmd)
            else:
                # The password was removed (CONFIG SET requirepass ""): the
                # default user needs none now, as in Redis.
                self.authenticated = True
                self.update_gate()
        memory = self.factory.service.memory
        if memory.limited and not self.exec_running:
            refused = memory.admit(self, cmd, argv)
            if refused is not None:
                return self._reject(refused, cmd)
        top = cmd.parent or cmd
        if (self.channels or self.patterns) and not self.resp3 and top.name not in _SUBSCRIBED_OK:
            return self._reject(CommandError(
                f"ERR Can't execute '{cmd.full_name}': only (P|S)SUBSCRIBE / "
                "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
            ), cmd)
        # A script running past busy-reply-threshold (hush.scripting.engine) lets
        # only allow-busy commands (SCRIPT KILL) through.
        if self.factory.service.scripts.busy and "allow-busy" not in cmd.flags:
            return self._reject(CommandError(BUSY), cmd)
        pause = self.factory.service.pause
        if pause.end is not None and pause.holds(self, cmd):
            return pause.postpone(self, argv)
        if self.in_multi and not self.exec_running and top.name not in _MULTI_IMMEDIATE:
            if "no-multi" in cmd.flags:
                return self._reject(CommandError("ERR Command not allowed inside a transaction"),
                                    cmd)
            propagator = self._propagator
            if propagator is not None and propagator.write_error is not None and (
                    cmd.is_write or top.name == "ping"):
                # Refused as Redis refuses it outside MULTI: not queued.
                refusal = propagator.write_refusal()
                if refusal is not None:
                    return self._reject(refusal, cmd)
            self.multi_queue.append(argv)
            return QUEUED
        return None

    def _run_muted(self, argv: list[bytes]) -> Any:
        """Run one command under CLIENT REPLY OFF/SKIP: its reply is not sent."""
        if self.reply_mode == "skip_next":
            self.reply_mode = "skip"
        self._muting = True
        try:
            reply = self.execute(argv)
        finally:
            self._muting = False
        mode = self.reply_mode
        if mode == "skip":
            self.reply_mode = None
            self.update_gate()
        elif mode is None:
            # CLIENT REPLY ON: its own OK is sent.
            return reply
        if reply.__class__ is Block:
            self._mute_unblock = True
            return reply
        return NO_REPLY


#: The reply to commands other clients send while a script is busy.
BUSY = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."

_SUBSCRIBED_OK = frozenset(
    ["subscribe", "psubscribe", "unsubscribe", "punsubscribe", "ssubscribe", "sunsubscribe",
     "ping", "quit", "reset"]
)
_MULTI_IMMEDIATE = frozenset(["exec", "discard", "multi", "watch", "quit", "reset"])


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


def unknown_command(argv: list[bytes]) -> CommandError:
    """Redis's reply to a command name it does not know.

    As Redis prints them (``%.128s``, ``'%.*s'``): each argument up to its
    first NUL, and at most 128 bytes of arguments, quotes included.
    """
    args = b""
    for arg in argv[1:]:
        if len(args) >= 128:
            break
        args += b"'%s' " % c_string(arg)[:128 - len(args)]
    return CommandError(
        f"ERR unknown command '{c_text(argv[0], 128)}', with args beginning with: {text(args)}"
    )


class RedisFactory(Factory):
    """Makes a :class:`RedisProtocol` per connection, all sharing one store service."""

    protocol = RedisProtocol

    def __init__(self, service: StoreService) -> None:
        self.service = service
        #: Unexpected exceptions, logged at most once a minute per place.
        self.failures = FailureLog(service.clock)
