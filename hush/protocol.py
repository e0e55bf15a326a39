# -*- test-case-name: tests.test_protocol -*-
"""One client connection: RESP in, dispatch through the command table, RESP out.

:class:`RedisProtocol` derives from Twisted's ``LineReceiver`` (its line
limits and producer plumbing) but routes each read through
:class:`hush.parser.FastParser`, which is linear in the input: hiredis for
whole multibulk reads, an offset-based exact parser for the rest. All replies
produced by one read are joined into a single ``transport.write``.

The protocol object is also the ``ctx`` every handler receives: it holds the
connection's state (selected database, protocol version, name, blocked or not).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from twisted.internet import tcp
from twisted.internet.protocol import Factory
from twisted.logger import Logger
from twisted.protocols.basic import LineReceiver

from hush import errors
from hush.blocking import Block, Waiter
from hush.commands import COMMANDS, lookup
from hush.commands.transactions import unwatch_all
from hush.errors import CommandError
from hush.parser import INLINE_MAX_SIZE, FastParser
from hush.resp import OK, QUEUED, SMALL_INT_REPLIES, encode_into, error_bytes
from hush.store import Database

if TYPE_CHECKING:
    from hush.service import StoreService

log = Logger()

_OK_REPLY = b"+OK\r\n"


class RedisProtocol(LineReceiver):
    """A Redis client connection.

    @ivar db: the selected database.
    @ivar resp3: True after HELLO 3.
    @ivar client_id: the CLIENT ID, unique for the server's lifetime.
    @ivar name: CLIENT SETNAME's name.
    """

    MAX_LENGTH = INLINE_MAX_SIZE
    delimiter = b"\r\n"

    factory: RedisFactory
    #: The store's :class:`hush.propagation.Propagator` while the AOF is on.
    _propagator: Any = None

    def __init__(self) -> None:
        self.resp3 = False
        self.name = b""
        self.lib_name = b""
        self.lib_ver = b""
        self.client_id = 0
        self.in_multi = False
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
        # Pub/Sub (hush.pubsub).
        self.channels: set[bytes] = set()
        self.patterns: set[bytes] = set()
        self._soft_limit_since: float | None = None
        # True while in MULTI or subscribed: the dispatcher's slow path.
        self._gated = False

    # -- wiring ------------------------------------------------------------

    @property
    def server(self) -> StoreService:
        """The shared store service."""
        return self.factory.service

    @property
    def store(self):
        """The shared :class:`hush.store.Store`."""
        return self.factory.service.store

    def connectionMade(self) -> None:
        server = self.factory.service
        self.db: Database = server.store.dbs[0]
        self.parser = FastParser(server.settings.proto_max_bulk_len)
        self.created_at = self.last_interaction = server.clock.seconds()
        # Looked up once: the per-read and per-command paths use them.
        self._seconds = server.clock.seconds
        self._stats = server.store.stats
        self.client_id = server.register_client(self)
        self._propagator = server.store.propagator
        self._socket = _direct_socket(self.transport)
        if self._socket is not None:
            # Redis sets TCP_NODELAY too: a reply is one write, and Nagle would
            # hold back the tail of a large one until the client's ACK.
            self.transport.setTcpNoDelay(True)

    def connectionLost(self, reason: Any = None) -> None:
        self._closing = True
        if self._waiter is not None:
            self.factory.service.blocking.cancel(self._waiter)
            self._waiter = None
        self._pending.clear()
        service = self.factory.service
        service.pubsub.drop(self)
        unwatch_all(self)
        service.unregister_client(self)

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
        """Close once the replies produced so far are written (QUIT)."""
        self._closing = True

    def update_gate(self) -> None:
        """Recompute whether commands must pass the MULTI / subscribed-mode checks."""
        self._gated = self.in_multi or bool(self.channels or self.patterns)

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
        encode_into(chunk, value, self.resp3)
        self._write(b"".join(chunk))
        self._check_output_limit()

    def pending_output(self) -> int:
        """Bytes written to the transport but not yet taken by the kernel."""
        transport = self.transport
        queued = getattr(transport, "_tempDataLen", 0)
        buffer = getattr(transport, "dataBuffer", b"")
        return queued + len(buffer) - getattr(transport, "offset", 0)

    def _check_output_limit(self) -> None:
        # Redis's default client-output-buffer-limit for pubsub: 32mb hard,
        # 8mb soft for 60 seconds. A subscriber that stops reading is cut off
        # rather than letting the server's memory grow without bound.
        pending = self.pending_output()
        service = self.factory.service
        hard, soft, seconds = service.settings.pubsub_output_limit
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
            log.info("Client id={id} closed for overcoming of output buffer limits.",
                     id=self.client_id)
            self._closing = True
            self.transport.abortConnection()

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
        self.factory.service.store.tick(now)
        commands, error = self.parser.feed(data)
        if self._waiter is not None:
            self._pending.extend(commands)
            if error is not None:
                self._pending_error = error
            return
        out: list[bytes] = []
        self._out = out
        if commands:
            self._run(commands, out)
        if error is not None:
            if self._waiter is not None:
                self._pending_error = error
            else:
                out.append(error_bytes(error))
                self._closing = True
        self._out = None
        self._flush(out)

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
                out.append(b"$%d\r\n%s\r\n" % (len(reply), reply))
            elif reply is OK:
                out.append(_OK_REPLY)
            elif kind is int and 0 <= reply < 1024:
                out.append(SMALL_INT_REPLIES[reply])
            else:
                encode_into(out, reply, self.resp3)
            if store.ready_keys:
                blocking.serve_ready()
            if self._closing:
                return

    def _unblocked(self, reply: Any) -> None:
        self._waiter = None
        if self._closing:
            return
        out: list[bytes] = []
        outer = self._out
        self._out = out
        encode_into(out, reply, self.resp3)
        pending = list(self._pending)
        self._pending.clear()
        if pending:
            self._run(pending, out)
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
        if (arity > 0 and nargs != arity) or nargs < -arity:
            return self._reject(errors.wrong_arity(cmd.name))
        # COMMAND alone is a command of its own; a container's arity already
        # demands a subcommand name.
        if cmd.subcommands and nargs > 1:
            sub = cmd.subcommands.get(argv[1]) or cmd.subcommands.get(argv[1].lower())
            if sub is None:
                return self._reject(CommandError(
                    f"ERR unknown subcommand '{_printable(argv[1])}'. "
                    f"Try {cmd.name.upper()} HELP."
                ))
            if (sub.arity > 0 and nargs != sub.arity) or nargs < -sub.arity:
                return self._reject(errors.wrong_arity(sub.full_name))
            cmd = sub
            args = argv[2:]
        else:
            args = argv[1:]
        if self._gated:
            gated = self._gate(cmd, argv)
            if gated is not None:
                return gated
        self._stats.total_commands_processed += 1
        # The name is built only when CLIENT LIST asks (see last_command).
        self._last_cmd = cmd
        try:
            propagator = self._propagator
            if propagator is not None:
                return propagator.call(self, cmd, args, argv)
            return cmd.handler(self, *args)
        except CommandError as error:
            return error
        except Exception:
            log.failure("Unexpected error in command {name}", name=cmd.full_name)
            return CommandError(f"ERR internal error while running '{cmd.full_name}'")

    def _reject(self, error: CommandError) -> CommandError:
        # A command refused before it runs poisons an open transaction.
        if self.in_multi and not self.exec_running:
            self.multi_error = True
        return error

    def _gate(self, cmd: Any, argv: list[bytes]) -> Any:
        """Subscribed-mode and MULTI checks: a reply to send instead, or None to run."""
        top = cmd.parent or cmd
        if (self.channels or self.patterns) and not self.resp3 and top.name not in _SUBSCRIBED_OK:
            return self._reject(CommandError(
                f"ERR Can't execute '{cmd.full_name}': only (P|S)SUBSCRIBE / "
                "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
            ))
        if self.in_multi and not self.exec_running and top.name not in _MULTI_IMMEDIATE:
            if "no-multi" in cmd.flags:
                return self._reject(CommandError("ERR Command not allowed inside a transaction"))
            self.multi_queue.append(argv)
            return QUEUED
        return None


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


def _printable(raw: bytes, limit: int = 128) -> str:
    return raw[:limit].decode("utf-8", "replace")


def unknown_command(argv: list[bytes]) -> CommandError:
    """Redis's reply to a command name it does not know."""
    args = ""
    for arg in argv[1:]:
        if len(args) >= 128:
            break
        args += "'%s' " % _printable(arg, 128 - len(args))
    return CommandError(
        f"ERR unknown command '{_printable(argv[0])}', with args beginning with: {args}"
    )


class RedisFactory(Factory):
    """Makes a :class:`RedisProtocol` per connection, all sharing one store service."""

    protocol = RedisProtocol

    def __init__(self, service: StoreService) -> None:
        self.service = service
