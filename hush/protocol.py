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

from twisted.internet.protocol import Factory
from twisted.logger import Logger
from twisted.protocols.basic import LineReceiver

from hush import errors
from hush.blocking import Block, Waiter
from hush.commands import COMMANDS, lookup
from hush.errors import CommandError
from hush.parser import INLINE_MAX_SIZE, FastParser
from hush.resp import encode_into, error_bytes
from hush.store import Database

if TYPE_CHECKING:
    from hush.service import StoreService

log = Logger()


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

    def __init__(self) -> None:
        self.resp3 = False
        self.name = b""
        self.lib_name = b""
        self.lib_ver = b""
        self.client_id = 0
        self.in_multi = False
        self.created_at = 0.0
        self.last_interaction = 0.0
        self.last_command = b"NULL"
        self._pending: deque[list[bytes]] = deque()
        self._pending_error: str | None = None
        self._waiter: Waiter | None = None
        self._closing = False

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
        self.client_id = server.register_client(self)

    def connectionLost(self, reason: Any = None) -> None:
        self._closing = True
        if self._waiter is not None:
            self.factory.service.blocking.cancel(self._waiter)
            self._waiter = None
        self._pending.clear()
        self.factory.service.unregister_client(self)

    def select(self, index: int) -> None:
        """Switch to database ``index`` (already range-checked)."""
        self.db = self.factory.service.store.dbs[index]

    def close_after_reply(self) -> None:
        """Close once the replies produced so far are written (QUIT)."""
        self._closing = True

    @property
    def blocked(self) -> bool:
        """True while the client waits in a blocking command."""
        return self._waiter is not None

    # -- input -------------------------------------------------------------

    def dataReceived(self, data: bytes) -> None:
        if self._closing:
            return
        self.last_interaction = self.factory.service.clock.seconds()
        commands, error = self.parser.feed(data)
        if self._waiter is not None:
            self._pending.extend(commands)
            if error is not None:
                self._pending_error = error
            return
        out: list[bytes] = []
        if commands:
            self._run(commands, out)
        if error is not None:
            if self._waiter is not None:
                self._pending_error = error
            else:
                out.append(error_bytes(error))
                self._closing = True
        self._flush(out)

    def lineReceived(self, line: bytes) -> None:
        # Every read goes through dataReceived's parser; LineReceiver's own
        # line splitting is never entered.
        raise NotImplementedError

    def _flush(self, out: list[bytes]) -> None:
        if out:
            self.transport.write(out[0] if len(out) == 1 else b"".join(out))
        if self._closing:
            self.transport.loseConnection()

    def _run(self, commands: Any, out: list[bytes]) -> None:
        """Execute commands in order until one blocks or the client quits."""
        execute = self.execute
        blocking = self.factory.service.blocking
        store = self.factory.service.store
        for index, argv in enumerate(commands):
            reply = execute(argv)
            if reply.__class__ is Block:
                self._waiter = waiter = blocking.block(self.db.index, reply)
                waiter.deferred.addCallback(self._unblocked)
                self._pending.extend(commands[index + 1 :])
                if store.ready_keys:
                    blocking.serve_ready()
                return
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
        encode_into(out, reply, self.resp3)
        pending = list(self._pending)
        self._pending.clear()
        if pending:
            self._run(pending, out)
        if self._waiter is None and self._pending_error is not None:
            out.append(error_bytes(self._pending_error))
            self._closing = True
        self._flush(out)

    # -- dispatch ----------------------------------------------------------

    def execute(self, argv: list[bytes]) -> Any:
        """Run one command and return its reply value (errors as values)."""
        name = argv[0]
        cmd = COMMANDS.get(name)
        if cmd is None:
            cmd = lookup(name)
            if cmd is None:
                return unknown_command(argv)
        arity = cmd.arity
        nargs = len(argv)
        if (arity > 0 and nargs != arity) or nargs < -arity:
            return errors.wrong_arity(cmd.name)
        # COMMAND alone is a command of its own; a container's arity already
        # demands a subcommand name.
        if cmd.subcommands and nargs > 1:
            sub = cmd.subcommands.get(argv[1]) or cmd.subcommands.get(argv[1].lower())
            if sub is None:
                return CommandError(
                    f"ERR unknown subcommand '{_printable(argv[1])}'. "
                    f"Try {cmd.name.upper()} HELP."
                )
            if (sub.arity > 0 and nargs != sub.arity) or nargs < -sub.arity:
                return errors.wrong_arity(sub.full_name)
            cmd = sub
            args = argv[2:]
        else:
            args = argv[1:]
        server = self.factory.service
        server.store.stats.total_commands_processed += 1
        self.last_command = cmd.full_name
        try:
            return cmd.handler(self, *args)
        except CommandError as error:
            return error
        except Exception:
            log.failure("Unexpected error in command {name}", name=cmd.full_name)
            return CommandError(f"ERR internal error while running '{cmd.full_name}'")


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
