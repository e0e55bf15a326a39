# -*- test-case-name: tests.commands.test_dispatch -*-
"""The dispatcher: one client's session -- its state, the admission gates, execute().

A :class:`Session` is what Redis calls a client: the selected database, the
protocol version, its name, MULTI queue, watched keys, subscriptions, CLIENT
REPLY mode, whether it authenticated. Every command handler receives it as
``ctx``. Each connection (:mod:`hush.server.protocol`) owns one; a script's
``redis.call`` runs through a :class:`hush.scripting.client.ScriptSession`,
the AOF loader through a :class:`hush.persistence.loader.LoaderSession`.
A session reaches the server through :class:`hush.core.interfaces.Server`
and its connection through :class:`hush.core.interfaces.Connection`, so
nothing here knows Twisted.

:meth:`Session.execute` runs one command:

1. resolution: the command, its arity, its subcommand (:func:`resolve`; the
   commonest case, a top-level command of the right arity, is checked inline);
2. the gates, only while :meth:`Session.update_gate` says some may apply:
   CLIENT REPLY, authentication, the user's ACL permissions (checked only
   for a restricted user: the default user with every permission costs
   nothing), cluster routing (MOVED/ASK/CROSSSLOT, only in cluster mode;
   :mod:`hush.commands.routing`), maxmemory/maxkeys admission, writes refused after a failed
   BGSAVE (stop-writes-on-bgsave-error), subscribed mode, a busy script,
   CLIENT PAUSE, MULTI queueing;
3. the handler -- through the AOF's propagator while the AOF is on -- timed
   for INFO commandstats, the slow log and the watchers (MONITOR, --metrics).

Replies are plain values; errors come back as :class:`CommandError` values,
never raised to the caller.
"""

from __future__ import annotations

from collections.abc import Iterator
from time import perf_counter
from typing import Any

from hush.commands.acl_users import (
    DENIED_AUTH,
    DENIED_CMD,
    DENIED_KEY,
    EXEC_REASONS,
    MULTI,
    NOAUTH,
    NOPERM_CHANNEL,
    NOPERM_COMMAND,
    NOPERM_KEY,
    TOPLEVEL,
    WRONGPASS,
)
from hush.commands.routing import route, serves_here
from hush.commands.table import COMMANDS, Command, lookup
from hush.core import errors
from hush.core.errors import (
    CommandError,
    NamesCommand,
    SubcommandSyntax,
    c_string,
    c_text,
    subcommand_syntax,
    text,
)
from hush.core.interfaces import Connection, Server
from hush.data.blocking import Block
from hush.data.tracking import ClientTracking
from hush.ops import monitor
from hush.wire.resp import NO_REPLY, QUEUED, Replies

#: Writes refused after a failed BGSAVE (stop-writes-on-bgsave-error), Redis's text.
MISCONF_RDB = (
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist "
    "to disk. Commands that may modify the data set are disabled, because this instance is "
    "configured to report errors during writes if RDB snapshotting fails "
    "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about the "
    "RDB error."
)

_SUBSCRIBED_OK = frozenset(
    ["subscribe", "psubscribe", "unsubscribe", "punsubscribe", "ssubscribe", "sunsubscribe",
     "ping", "quit", "reset"]
)
#: What a client in MULTI runs at once instead of queueing.
MULTI_IMMEDIATE = frozenset(["exec", "discard", "multi", "watch", "quit", "reset"])
#: Read-only commands whose keys a tracking client does not cache: a read-only
#: script's own reads are remembered one by one, as in Redis.
_UNTRACKED_READS = frozenset(["eval_ro", "evalsha_ro", "fcall_ro"])


# -- resolution -------------------------------------------------------------------


class Unresolved:
    """Why an argv names no command that can run.

    @ivar kind: :data:`UNKNOWN_COMMAND`, :data:`WRONG_ARITY` or :data:`UNKNOWN_SUBCOMMAND`.
    @ivar cmd: the command whose arity was wrong, or the container whose
        subcommand is unknown; None for an unknown command.
    """

    __slots__ = ("kind", "cmd")

    def __init__(self, kind: str, cmd: Command | None = None) -> None:
        self.kind = kind
        self.cmd = cmd


UNKNOWN_COMMAND = "unknown command"
WRONG_ARITY = "wrong number of arguments"
UNKNOWN_SUBCOMMAND = "unknown subcommand"

_UNKNOWN = Unresolved(UNKNOWN_COMMAND)


def resolve(argv: list[bytes]) -> Command | Unresolved:
    """The command ``argv`` runs (a container's subcommand if it names one), or why none.

    Names are found in any letter case; arity follows Redis (positive: exact,
    negative: a minimum, the command name included), checked for the command
    and then for its subcommand. A container given no subcommand name is the
    command itself (COMMAND alone).
    """
    cmd = lookup(argv[0])
    if cmd is None:
        return _UNKNOWN
    nargs = len(argv)
    arity = cmd.arity
    if nargs != arity and (arity > 0 or nargs < -arity):
        return Unresolved(WRONG_ARITY, cmd)
    if cmd.subcommands and nargs > 1:
        sub = cmd.subcommands.get(argv[1]) or cmd.subcommands.get(argv[1].lower())
        if sub is None:
            return Unresolved(UNKNOWN_SUBCOMMAND, cmd)
        arity = sub.arity
        if nargs != arity and (arity > 0 or nargs < -arity):
            return Unresolved(WRONG_ARITY, sub)
        return sub
    return cmd


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


# -- sessions ---------------------------------------------------------------------


class _Detached:
    """The connection of a session that has none (scripts, the AOF loader).

    There is nothing to send to or to close: out-of-band messages are
    dropped, and the commands that would close are refused to scripts and
    absent from AOF files anyway.
    """

    transport = None
    waiter = None
    blocked = False
    closing = False
    buffered_input = 0

    def push(self, value: Any) -> None:
        """Nobody to send it to."""

    def close_after_reply(self) -> None:
        """Nothing to close."""

    def disconnect(self) -> None:
        """Nothing to close."""

    def pending_output(self) -> int:
        """Nothing is ever written."""
        return 0

    def limit_unauthenticated(self) -> None:
        """No requests are read."""

    def pause_reading(self) -> None:
        """No requests are read."""

    def resume_reading(self) -> None:
        """No requests are read."""

    def send_raw(self, data: bytes) -> None:
        """Nobody to send it to."""

    writes_paused = False
    on_drain = None


#: The connection of sessions without one.
DETACHED: Connection = _Detached()


class Session:
    """One client: its state, and the dispatcher that runs its commands.

    @ivar server: the server (:class:`hush.core.interfaces.Server`).
    @ivar store: the server's :class:`hush.data.store.Store`.
    @ivar connection: the connection this session serves, or :data:`DETACHED`.
    @ivar db: the selected database.
    @ivar resp3: True after HELLO 3.
    @ivar client_id: the CLIENT ID, unique for the server's lifetime (0: not a listed client).
    @ivar name: CLIENT SETNAME's name.
    @ivar propagator: the AOF's :class:`hush.persistence.propagation.Propagator`
        while the AOF is on, else None.
    """

    #: MONITOR names the origin of a script's commands "lua" (see ScriptSession).
    is_script = False

    # Slots: the dispatcher reads several of these per command, and a slot
    # is read faster than an entry of an instance dict this large.
    __slots__ = (
        "server", "store", "connection", "push", "db", "resp3", "name", "lib_name", "lib_ver",
        "client_id", "user", "authenticated", "created_at", "last_interaction", "_last_cmd",
        "in_multi", "multi_queue", "multi_error", "exec_running", "watched", "dirty_cas",
        "channels", "patterns", "shard_channels", "reply_mode", "_muting", "mute_unblock",
        "monitoring", "no_evict", "tracking", "propagator", "replication", "_stats", "_settings",
        "_watchers", "_failures", "_commandstats", "_calls", "_spent", "_histograms", "_gated",
        "plain",
        "cluster", "asking", "readonly", "_routed_only",
    )

    def __init__(self, server: Server, connection: Connection = DETACHED) -> None:
        self.server = server
        self.store = store = server.store
        self.connection = connection
        # Bound once: a message published to this client goes straight to
        # its connection, not through a method of the session.
        self.push = connection.push
        self.db = store.dbs[0]
        self.resp3 = False
        self.name = b""
        self.lib_name = b""
        self.lib_ver = b""
        self.client_id = 0
        #: The ACL user (hush.commands.acl_users.User); None runs anything (the AOF loader).
        self.user = server.acl.default
        # False until AUTH when the default user needs a password (set_default_auth).
        self.authenticated = True
        self.created_at = self.last_interaction = server.clock.seconds()
        self._last_cmd: Command | None = None
        # Transactions (hush.commands.transactions).
        self.in_multi = False
        self.multi_queue: list[list[bytes]] = []
        self.multi_error = False
        self.exec_running = False
        self.watched: dict[tuple[int, bytes], bool] = {}
        self.dirty_cas = False
        # Pub/Sub (hush.data.pubsub).
        self.channels: set[bytes] = set()
        self.patterns: set[bytes] = set()
        self.shard_channels: set[bytes] = set()
        # CLIENT REPLY: None (on), "off", "skip" or "skip_next".
        self.reply_mode: str | None = None
        self._muting = False
        #: A blocked command's reply is to be dropped (it was sent under CLIENT REPLY OFF/SKIP).
        self.mute_unblock = False
        self.monitoring = False
        self.no_evict = False
        #: CLIENT TRACKING's state while it is on (:mod:`hush.data.tracking`), else None.
        self.tracking: ClientTracking | None = None
        self.propagator: Any = store.propagator
        #: A replica's link (hush.replication.master.Link) on a master, else None.
        self.replication: Any = None
        # Looked up once: the per-command path uses them.
        self._stats = store.stats
        self._settings = server.settings
        self._watchers = server.watchers
        self._failures = server.failures
        self._commandstats = commandstats = server.commandstats
        self._calls = commandstats.calls
        self._spent = commandstats.seconds
        self._histograms = commandstats.histograms
        # Cluster mode (hush.commands.routing): the node's map for a client's
        # requests; None outside cluster mode and for the AOF loader, which
        # Redis never redirects. ASKING and READONLY are the client's flags.
        self.cluster = server.cluster if connection is not DETACHED else None
        self.asking = False
        self.readonly = False
        # True when cluster routing is the only gate: _gate's short way.
        self._routed_only = False
        # True while unauthenticated, in MULTI, subscribed, muted, paused,
        # under maxmemory or in cluster mode: execute's slow path.
        self._gated = False
        #: True when nothing but the handler, the counters and the slow-log
        #: test applies to this client's commands: not gated, no AOF, no
        #: watchers. The connection then runs them on its lean lane
        #: (hush.server.protocol), execute()'s ungated path inlined.
        self.plain = False
        self.update_gate()

    # -- state -----------------------------------------------------------------

    @property
    def transport(self) -> Any:
        """The connection's transport (None without a connection)."""
        return self.connection.transport

    @property
    def blocked(self) -> bool:
        """True while the client waits in a blocking command."""
        return self.connection.blocked

    @property
    def subscriptions(self) -> int:
        """Channels, patterns and shard channels this client is subscribed to."""
        return len(self.channels) + len(self.patterns) + len(self.shard_channels)

    @property
    def last_command(self) -> str:
        """The name of the last command run (``container|sub`` for subcommands)."""
        cmd = self._last_cmd
        return "NULL" if cmd is None else cmd.full_name

    def select(self, index: int) -> None:
        """Switch to database ``index`` (already range-checked)."""
        self.db = self.store.dbs[index]

    def close_after_reply(self) -> None:
        """Close the connection once the replies produced so far are written."""
        self.connection.close_after_reply()

    def propagate(self, argv: list[bytes], aof: bool = True) -> None:
        """Propagate ``argv`` to the AOF and replicas too (Redis's alsoPropagate);
        ``aof`` False: to replicas only (PUBLISH)."""
        if self.propagator is not None:
            self.propagator.propagate(self, argv, aof)

    def propagate_instead(self, *argvs: list[bytes]) -> None:
        """Propagate these commands instead of the running one's argv (none: nothing)."""
        if self.propagator is not None:
            self.propagator.propagate_instead(self, *argvs)

    def set_default_auth(self) -> None:
        """Be the default user, authenticated unless it needs a password (a new
        connection, RESET); until AUTH, Redis's small request limits apply."""
        acl = self.server.acl
        self.user = acl.default
        self.authenticated = not acl.auth_required()
        if not self.authenticated:
            self.connection.limit_unauthenticated()
        self.update_gate()

    def authenticate(self, user: bytes, password: bytes, command: bytes) -> None:
        """Check credentials for AUTH / HELLO AUTH; raise WRONGPASS if they fail.

        A failure is counted (``acl_access_denied_auth``) and logged in ACL
        LOG under ``command``; the password never is.
        """
        acl = self.server.acl
        found = acl.credentials(user, password)
        if found is None:
            self._stats.acl_access_denied_auth += 1
            acl.add_log(self, DENIED_AUTH, MULTI if self.in_multi else TOPLEVEL, command,
                        username=user)
            raise CommandError(WRONGPASS)
        self.user = found
        self.authenticated = True
        self.update_gate()

    def update_gate(self) -> None:
        """Recompute whether commands must pass the auth / ACL / MULTI / subscribed-mode /
        maxmemory / MISCONF / CLIENT REPLY / CLIENT PAUSE / busy-script / cluster routing
        checks, or client tracking's (this client's, or the tracking table's size limit).

        A user allowed every command, key and channel adds nothing: its
        ``unrestricted`` flag is worked out once, when its rules change.
        """
        server = self.server
        # latency-tracking may have been switched (the server regates everyone then).
        self._histograms = self._commandstats.histograms
        user = self.user
        others = (
            self.in_multi or bool(self.channels or self.patterns or self.shard_channels)
            or not self.authenticated or server.memory.limited
            or self.reply_mode is not None or server.pause.end is not None
            or server.scripts.busy or server.persistence.refusing_writes
            or (user is not None and not user.unrestricted)
            or self.tracking is not None or self.store.tracking.over_limit
            or server.replication.gating or self.replication is not None
        )
        routed = self.cluster is not None
        self._gated = gated = others or routed
        self._routed_only = routed and not others
        self.plain = not gated and self.propagator is None and not self._watchers

    # -- transactions ------------------------------------------------------------

    def end_transaction(self) -> None:
        """Leave MULTI and forget watched keys (after EXEC or DISCARD)."""
        self.in_multi = False
        self.multi_queue = []
        self.multi_error = False
        # An ASKING before MULTI covered the transaction; it ends with it.
        self.asking = False
        self.unwatch_all()
        self.update_gate()

    def unwatch_all(self) -> None:
        """Drop every WATCH of this client and clear its dirty flag."""
        if not self.watched:
            self.dirty_cas = False
            return
        watched = self.store.watched_keys
        for entry in self.watched:
            clients = watched.get(entry)
            if clients is not None:
                clients.pop(self, None)
                if not clients:
                    del watched[entry]
        self.watched = {}
        self.dirty_cas = False
        if not watched:
            self.store.update_signalling()

    def queued(self) -> Iterator[tuple[Command, list[bytes]]]:
        """(command, argv) of each command queued in MULTI, in order."""
        for argv in self.multi_queue:
            cmd = resolve(argv)
            # Only resolved commands are queued; anything else is skipped.
            if cmd.__class__ is Command:
                yield cmd, argv

    # -- dispatch ----------------------------------------------------------------

    def execute(self, argv: list[bytes]) -> Any:
        """Run one command and return its reply value (errors as values)."""
        cmd = COMMANDS.get(argv[0])
        nargs = len(argv)
        args = None
        # The commonest case is checked inline: a top-level command, found
        # by its name as sent, of the right arity (fixed arity passes on one
        # comparison). Everything else goes through resolve().
        if cmd is None or (nargs != (arity := cmd.arity) and (arity > 0 or nargs < -arity)) or (
                cmd.subcommands):
            found = resolve(argv)
            if found.__class__ is not Command:
                return self._unresolved(argv, found)
            cmd = found
            if cmd.parent is not None:
                args = argv[2:]
        if self._gated:
            gated = self._gate(cmd, argv)
            if gated is not None:
                return gated
            tracking = self.tracking
            if tracking is not None and not self.is_script:
                # What a script's reads make it track: this command's keys.
                tracking.running = (cmd, argv)
                if not self.exec_running:
                    # A change to a key this client tracks is told after its reply.
                    self.store.tracking.current = self
        self._stats.total_commands_processed += 1
        # The name is built only when CLIENT LIST asks (see last_command).
        self._last_cmd = cmd
        if self._watchers and "skip-monitor" in cmd.flags:
            monitor.feed_before(self, argv)
        # Handler time for INFO commandstats and SLOWLOG (hush.ops.commandstats).
        start = perf_counter()
        try:
            propagator = self.propagator
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
        except Exception as error:
            reply = self.failed(cmd, argv, error)
        elapsed = perf_counter() - start
        number = cmd.number
        try:
            self._calls[number] += 1
        except IndexError:
            # A command registered after this server started: counted from now.
            self._commandstats.make_room(number)
            self._calls[number] += 1
        self._spent[number] += elapsed
        histograms = self._histograms
        if histograms is not None:
            # LATENCY HISTOGRAM's buckets (hush.ops.latency.bucket_of, inlined).
            try:
                histograms[number][int(elapsed * 976562.5).bit_length()] += 1
            except IndexError:
                # Over a second: the last bucket (no min() on the common path).
                histograms[number][-1] += 1
        # One test covers the slow log, the latency monitor, MONITOR and
        # --metrics (server.after_us is the lower of their thresholds).
        if self._watchers or elapsed * 1e6 >= self.server.after_us:
            self.after_command(cmd, argv, elapsed)
        # Client-side caching: one test for clients that do not track.
        if self.tracking is not None:
            reply = self._tracked(cmd, argv, reply)
        return reply

    def failed(self, cmd: Command, argv: list[bytes], error: Exception) -> CommandError:
        """The reply to ``cmd``'s handler raising ``error``, counted as a failed call.

        A :class:`CommandError` is the command's error reply; anything else
        is a bug, reported and answered with an internal error.
        """
        if isinstance(error, CommandError):
            if error.__class__ is SubcommandSyntax:
                error = subcommand_syntax(argv)
            elif error.__class__ is NamesCommand:
                error = error.for_request(argv)
            reply = error
        else:
            self._failures.report(f"command '{cmd.full_name}'")
            reply = CommandError(f"ERR internal error while running '{cmd.full_name}'")
        self._commandstats.failed_call(cmd)
        self._commandstats.count_error(reply)
        return reply

    def _tracked(self, cmd: Command, argv: list[bytes], reply: Any) -> Any:
        """After a tracking client's command: remember the keys it read (Redis's
        trackingRememberKeys), end a CLIENT CACHING, and add the invalidations
        its own command caused after its reply."""
        state = self.tracking
        assert state is not None
        registry = self.store.tracking
        if "readonly" in cmd.flags and not state.bcast and state.remembers():
            if self.is_script:
                # A script's read makes its caller track the keys the script
                # declared (KEYS), not those of the read, as in Redis 7.0.
                cmd, argv = state.running
                remember = True
            else:
                remember = cmd.name not in _UNTRACKED_READS
            if remember and "pubsub" not in cmd.flags:
                positions = cmd.key_positions(argv)
                if positions:
                    registry.remember(self.client_id, [argv[index] for index in positions])
        if self.exec_running:
            # A command of EXEC or of a script: the outer command finishes.
            return reply
        if not self.in_multi and (cmd.parent or cmd).name != "client":
            state.caching = False
        messages = registry.take_pending(self)
        if not messages:
            return reply
        own = []
        for receiver, message in messages:
            if receiver is self:
                own.append(message)
            else:
                receiver.push(message)
        if not own:
            return reply
        if reply.__class__ is Block:
            # Its reply comes when it is served: the invalidations go now.
            for message in own:
                self.push(message)
            return reply
        return Replies(own if reply is NO_REPLY else [reply, *own])

    def after_command(self, cmd: Command, argv: list[bytes], elapsed: float) -> None:
        """Slow log entry and watchers (MONITOR, metrics) for a command that ran."""
        settings = self._settings
        usec = int(elapsed * 1e6)
        threshold = settings.slowlog_log_slower_than
        if threshold >= 0 and usec >= threshold and "skip-slowlog" not in cmd.flags:
            self.server.slowlog.add(self, argv, usec, settings.slowlog_max_len)
        monitor_ms = settings.latency_monitor_threshold
        if monitor_ms and usec >= monitor_ms * 1000:
            self.server.latency.add(b"fast-command" if "fast" in cmd.flags else b"command",
                                    usec // 1000, int(self.server.clock.seconds()))
        for watcher in list(self._watchers):
            watcher(self, cmd, argv, elapsed)

    def _unresolved(self, argv: list[bytes], why: Unresolved) -> Any:
        """The reply to an argv :func:`resolve` found no command for, in Redis's words."""
        # Any request, even one that names no command, uses up an ASKING.
        if not self.in_multi:
            self.asking = False
        if why.kind is UNKNOWN_COMMAND:
            return self._reject(unknown_command(argv))
        cmd = why.cmd
        assert cmd is not None
        if why.kind is WRONG_ARITY:
            return self._reject(errors.wrong_arity(cmd.full_name), cmd)
        return self._reject(CommandError(
            f"ERR unknown subcommand '{c_text(argv[1], 128)}'. Try {cmd.name.upper()} HELP."))

    def _reject(self, error: CommandError, cmd: Command | None = None) -> CommandError:
        """Refuse a command before it runs: counted, and poisoning an open transaction."""
        if not self.in_multi:
            # A refused command uses up an ASKING as a served one does.
            self.asking = False
        tracking = self.tracking
        if tracking is not None and not self.in_multi and (
                cmd is None or (cmd.parent or cmd).name != "client"):
            # Any command but CLIENT's ends a CLIENT CACHING, even a refused one.
            tracking.caching = False
        if cmd is not None:
            self._commandstats.rejected_call(cmd)
            if cmd.name == "exec" and not error.message.startswith("EXECABORT"):
                error = self._abort_exec(error)
        self._commandstats.count_error(error)
        if self.in_multi and not self.exec_running:
            self.multi_error = True
        return error

    def _abort_exec(self, error: CommandError) -> CommandError:
        """Redis's execCommandAbort: a refused EXEC ends the transaction (if any)
        and names why; texts Redis formats without a code lose their ERR."""
        self.end_transaction()
        reason = error.message
        if reason.startswith("ERR "):
            reason = reason[4:]
        return CommandError(f"EXECABORT Transaction discarded because of: {reason}")

    def _gate(self, cmd: Command, argv: list[bytes]) -> Any:
        """CLIENT REPLY, auth, cluster routing, maxmemory, subscribed-mode and MULTI
        checks: a reply to send instead, or None to run."""
        if self._routed_only:
            # Cluster mode and nothing else to check: a key of this node's runs at once.
            if serves_here(self.cluster, cmd, argv):
                if self.asking:
                    self._drop_asking()
                return None
        if self.reply_mode is not None and not self._muting:
            return self._run_muted(argv)
        cluster = self.cluster
        if cluster is not None and self.asking:
            self._drop_asking()
        server = self.server
        # Once the default user needs no password, an unauthenticated
        # connection runs commands too (HELLO still asks for AUTH), as in Redis.
        if not self.authenticated and server.acl.auth_required() and "no-auth" not in cmd.flags:
            return self._reject(CommandError(NOAUTH), cmd)
        user = self.user
        if user is not None and not user.unrestricted and not (
                self.in_multi and not self.exec_running and "no-multi" in cmd.flags):
            refused = self._acl_refusal(user, cmd, argv)
            if refused is not None:
                return self._reject(refused, cmd)
        if cluster is not None:
            redirected = self._route(cluster, cmd, argv, self.asking)
            if redirected is not None:
                return redirected
        memory = server.memory
        if memory.limited and not self.exec_running:
            refused = memory.admit(self, cmd, argv)
            if refused is not None:
                return self._reject(refused, cmd)
        tracking = self.store.tracking
        if tracking.over_limit:
            # Redis trims the tracking table before each command while it is too large.
            tracking.enforce_limit()
        top = cmd.parent or cmd
        if server.persistence.refusing_writes and not self.exec_running and (
                cmd.is_write or top.name == "ping" or self._exec_writes(top)):
            # stop-writes-on-bgsave-error: the last BGSAVE failed.
            return self._reject(CommandError(MISCONF_RDB), cmd)
        replication = server.replication
        if (replication.gating or self.replication is not None) and not self.exec_running:
            # min-replicas-to-write's NOREPLICAS, a read-only replica's READONLY; a
            # replica's own connection sending anything but REPLCONF is dropped.
            refused = replication.refusal(self, cmd, cmd.is_write or self._exec_writes(top))
            if refused is NO_REPLY:
                return refused
            if refused is not None:
                return self._reject(refused, cmd)
        if (self.channels or self.patterns or self.shard_channels) and not self.resp3 and (
                top.name not in _SUBSCRIBED_OK):
            return self._reject(CommandError(
                f"ERR Can't execute '{cmd.full_name}': only (P|S)SUBSCRIBE / "
                "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
            ), cmd)
        # A script running past busy-reply-threshold (hush.scripting.engine) lets
        # only allow-busy commands (SCRIPT KILL) through.
        if server.scripts.busy and "allow-busy" not in cmd.flags:
            return self._reject(CommandError(server.scripts.busy_message), cmd)
        pause = server.pause
        if pause.end is not None and pause.holds(self, cmd, argv):
            return pause.postpone(self, argv)
        if self.in_multi and not self.exec_running and top.name not in MULTI_IMMEDIATE:
            if "no-multi" in cmd.flags:
                return self._reject(CommandError("ERR Command not allowed inside a transaction"),
                                    cmd)
            propagator = self.propagator
            if propagator is not None and propagator.write_error is not None and (
                    cmd.is_write or top.name == "ping"):
                # Refused as Redis refuses it outside MULTI: not queued.
                refusal = propagator.write_refusal()
                if refusal is not None:
                    return self._reject(refusal, cmd)
            self.multi_queue.append(argv)
            return QUEUED
        return None

    def _exec_writes(self, top: Command) -> bool:
        """True for an EXEC whose queued commands include a write."""
        return top.name == "exec" and self.in_multi and any(
            queued.is_write for queued, _argv in self.queued())

    def _drop_asking(self) -> None:
        """ASKING holds for the command after it (or the transaction it precedes):
        Redis drops it after any other command."""
        if not self.in_multi:
            last = self._last_cmd
            if last is None or last.name != "asking":
                self.asking = False

    def _route(self, cluster: Any, cmd: Command, argv: list[bytes], asking: bool) -> Any:
        """Cluster mode: the redirection or refusal a command gets instead of running here."""
        if cmd.name == "exec" and cmd.parent is None:
            if not self.in_multi:
                return None
            error, _slot = route(cluster, self.db, self.queued(), command=cmd, asking=asking)
            if error is None:
                return None
            # Redis discards the transaction and answers with the redirection itself.
            self.end_transaction()
            refused = CommandError(error)
            self._commandstats.rejected_call(cmd)
            self._commandstats.count_error(refused)
            return refused
        error, _slot = route(cluster, self.db, ((cmd, argv),), command=cmd, asking=asking)
        return None if error is None else self._reject(CommandError(error), cmd)

    def _acl_refusal(self, user: Any, cmd: Command, argv: list[bytes]) -> CommandError | None:
        """The NOPERM error if ``user`` may not run this command (logged in ACL LOG), or None."""
        reason, index = user.check(cmd, argv)
        if not reason:
            return None
        if not self.exec_running:
            # Redis names the refused command as the client's last one (CLIENT
            # LIST, the log); inside EXEC that stays EXEC.
            self._last_cmd = cmd
        context = MULTI if self.in_multi else TOPLEVEL
        obj = cmd.full_name.encode() if reason == DENIED_CMD else argv[index]
        self.server.acl.add_log(self, reason, context, obj)
        if self.exec_running:
            return CommandError(
                "NOPERM ACLs rules changed between the moment the transaction was accumulated "
                "and the EXEC call. This command is no longer allowed for the following reason: "
                + EXEC_REASONS[reason])
        if reason == DENIED_CMD:
            return CommandError(NOPERM_COMMAND.format(cmd.full_name))
        return CommandError(NOPERM_KEY if reason == DENIED_KEY else NOPERM_CHANNEL)

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
            self.mute_unblock = True
            return reply
        return NO_REPLY
