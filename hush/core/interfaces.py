# -*- test-case-name: tests.commands.test_dispatch -*-
"""The small interfaces lower floors are typed against, instead of the classes above them.

A floor imports only the floors below it (see the module map of docs/architecture.rst), yet some
of its objects are handed things a higher floor makes: a command's session
belongs to a connection (``hush.server``), the admission checks and the INFO
report read the whole server's state. Each such thing is described here as a
:class:`typing.Protocol` with just what the lower floor uses; the higher
floor's classes satisfy it structurally, nothing registers or subclasses.

Attributes typed ``Any`` hold objects of floors above ``core`` (the store,
the settings, ...): the modules that use them may import those classes
themselves.
"""

from __future__ import annotations

from typing import Any, Protocol


class Connection(Protocol):
    """What a session needs of the connection it serves.

    :class:`hush.server.protocol.RedisProtocol` is one; sessions of scripts and
    of the AOF loader have none (:data:`hush.commands.dispatch.DETACHED`).
    """

    #: The Twisted transport (addresses for CLIENT LIST, ``fileno``), or None.
    transport: Any
    #: The client's :class:`hush.data.blocking.Waiter` while it is blocked, else None.
    waiter: Any

    @property
    def blocked(self) -> bool:
        """True while the client waits in a blocking command (or a CLIENT PAUSE)."""

    @property
    def closing(self) -> bool:
        """True once the connection is to close (CLIENT LIST flag ``c``)."""

    @property
    def buffered_input(self) -> int:
        """Bytes of requests read but not yet complete (CLIENT LIST ``qbuf``)."""

    def push(self, value: Any) -> None:
        """Send an out-of-band message (pub/sub, MONITOR) after the replies produced so far."""

    def close_after_reply(self) -> None:
        """Close once the replies produced so far are written (QUIT, CLIENT KILL)."""

    def disconnect(self) -> None:
        """Close now, or once the read being served is answered if one is."""

    def pending_output(self) -> int:
        """Bytes written but not yet taken by the kernel (CLIENT LIST ``omem``)."""

    def limit_unauthenticated(self) -> None:
        """Read requests within Redis's small limits until the client authenticates."""

    def pause_reading(self) -> None:
        """Stop reading requests (while this client's script is busy)."""

    def resume_reading(self) -> None:
        """Read requests again."""

    def send_raw(self, data: bytes) -> None:
        """Send bytes as they are, after the replies produced so far (a replica's stream)."""

    @property
    def writes_paused(self) -> bool:
        """True while the connection's write buffer is full (it calls ``on_drain`` after)."""

    #: Called when a full write buffer drained (a replica's snapshot transfer waits on it).
    on_drain: Any


class Client(Protocol):
    """A client's session as the floors below ``commands`` see it.

    :class:`hush.commands.dispatch.Session` is the one implementation.
    """

    client_id: int
    #: The ACL user (:class:`hush.commands.acl_users.User`), None for the AOF loader.
    user: Any
    #: The selected :class:`hush.data.store.Database`.
    db: Any
    name: bytes
    in_multi: bool
    multi_queue: list[list[bytes]]
    #: (db, key) -> whether it had a deadline, for each key WATCHed.
    watched: dict[tuple[int, bytes], bool]
    channels: set[bytes]
    patterns: set[bytes]
    shard_channels: set[bytes]
    monitoring: bool
    #: READONLY was sent (cluster mode; CLIENT LIST flag ``r``).
    readonly: bool
    last_interaction: float
    connection: Connection
    #: The AOF's :class:`hush.persistence.propagation.Propagator`, or None.
    propagator: Any
    #: A replica's :class:`hush.replication.master.Link` on a master, else None.
    replication: Any

    @property
    def transport(self) -> Any:
        """The connection's transport, or None."""

    @property
    def blocked(self) -> bool:
        """True while the client waits in a blocking command."""

    @property
    def subscriptions(self) -> int:
        """Channels, patterns and shard channels subscribed to (pub/sub mode when any)."""

    def update_gate(self) -> None:
        """Recompute whether commands must pass the admission gates."""

    def end_transaction(self) -> None:
        """Leave MULTI and forget watched keys."""

    def queued(self) -> Any:
        """(command, argv) of each command queued in MULTI."""

    def close_after_reply(self) -> None:
        """Close once the replies produced so far are written."""

    def push(self, value: Any) -> None:
        """Send an out-of-band message."""


class Admission(Protocol):
    """The capacity checks (:class:`hush.server.memory.MemoryManager`)."""

    #: True while commands must be admitted one by one (maxmemory, a full database).
    limited: bool

    def admit(self, client: Client, cmd: Any, argv: list[bytes]) -> Any:
        """Before a command: the error to refuse it with, or None."""

    def script_refusal(self, client: Client, cmd: Any, argv: list[bytes]) -> Any:
        """Before a script's write: the error to stop it with, or None."""

    def used_memory(self) -> int | None:
        """The dataset's estimated size while maxmemory is set, else None (INFO)."""


class Pause(Protocol):
    """CLIENT PAUSE (:class:`hush.server.pause.ClientPause`)."""

    #: When the pause ends (unix seconds), or None when there is none.
    end: float | None

    def holds(self, client: Client, cmd: Any, argv: list[bytes] | None = None) -> bool:
        """True if ``cmd`` (as ``argv``) from ``client`` must wait for the pause to end."""

    def postpone(self, client: Client, argv: list[bytes]) -> Any:
        """The :class:`hush.data.blocking.Block` that holds ``argv`` until then."""

    @property
    def postponed_clients(self) -> int:
        """Clients now waiting for the pause to end (INFO)."""


class Scripts(Protocol):
    """The script engine (:class:`hush.scripting.engine.ScriptEngine`), as the gates see it."""

    #: True while a script runs past busy-reply-threshold.
    busy: bool
    #: The BUSY error commands get meanwhile (naming SCRIPT KILL or FUNCTION KILL).
    busy_message: str
    #: SHA1 -> cached script (INFO's number_of_cached_scripts).
    scripts: dict[str, Any]

    def denies_oom(self, argv: list[bytes]) -> bool:
        """True if this EVAL's script (or FCALL's function) makes it a denyoom command."""

    def writes(self, argv: list[bytes]) -> bool:
        """True if this EVAL's script (or FCALL's function) declares that it may write."""


class Functions(Protocol):
    """The FUNCTION libraries (:class:`hush.scripting.functions.FunctionLibraries`),
    as persistence sees them: their code."""

    def dump_sources(self) -> list[bytes]:
        """Every library's code, in load order (AOF rewrites, RDB files, FUNCTION DUMP)."""

    def load_sources(self, sources: Any) -> None:
        """Load libraries from saved code, without FUNCTION LOAD's time limit."""

    def find(self, name: bytes) -> Any:
        """The function FCALL names, or None."""

    @property
    def function_count(self) -> int:
        """How many functions are registered (INFO)."""


class Replication(Protocol):
    """Replication (:class:`hush.replication.manager.Replication`), as the commands and
    the dispatcher's gate see it."""

    #: True while commands must pass :meth:`refusal` (a replica, min-replicas-to-write).
    gating: bool

    @property
    def is_replica(self) -> bool:
        """True while this server follows a master."""

    def refusal(self, client: Client, cmd: Any, is_write: bool) -> Any:
        """The error (NOREPLICAS, READONLY) a command gets for replication's reasons, or None."""

    def sync(self, client: Client, psync: tuple[str, int] | None) -> Any:
        """SYNC (``psync`` None) or PSYNC replid offset: the client becomes a replica."""

    def failover_request(self, client: Client, replid: str, offset: int) -> Any:
        """PSYNC replid offset FAILOVER."""

    def replicaof(self, client: Client, host: bytes, port: bytes) -> Any:
        """REPLICAOF host port, REPLICAOF NO ONE."""

    def role(self) -> list[Any]:
        """ROLE's reply."""

    def wait(self, client: Client, wanted: int, timeout_ms: int) -> Any:
        """WAIT: how many replicas acknowledged the stream so far, or a Block until
        ``wanted`` do or ``timeout_ms`` passes (0: never)."""

    def replconf(self, client: Client, args: tuple[bytes, ...]) -> Any:
        """REPLCONF option value ...."""

    def client_gone(self, client: Client) -> None:
        """A client closed (a replica stops being fed)."""

    def info_fields(self) -> list[tuple[str, Any]]:
        """The # Replication section of INFO."""

    @property
    def replica_count(self) -> int:
        """How many replicas this server has."""

    def counters(self) -> dict[str, int]:
        """INFO stats' replication counters (sync_full, total_net_repl_output_bytes, ...)."""


class Server(Protocol):
    """The shared state of a server (:class:`hush.server.service.StoreService`).

    Sessions, command handlers (as ``ctx.server``), the admission checks, INFO
    and persistence reach the server through this.
    """

    #: The IReactorTime every timer and timestamp comes from.
    clock: Any
    #: :class:`hush.config.settings.Settings`.
    settings: Any
    #: :class:`hush.data.store.Store`.
    store: Any
    #: :class:`hush.data.blocking.BlockingManager`.
    blocking: Any
    #: :class:`hush.data.pubsub.PubSub`.
    pubsub: Any
    scripts: Scripts
    functions: Functions
    #: :class:`hush.commands.acl_users.AccessControl`: the ACL users.
    acl: Any
    memory: Admission
    pause: Pause
    #: :class:`hush.ops.slowlog.SlowLog`.
    slowlog: Any
    #: :class:`hush.ops.commandstats.CommandStats`.
    commandstats: Any
    #: :class:`hush.ops.latency.LatencyMonitor` (LATENCY's events).
    latency: Any
    #: Microseconds from which a command's time is looked at (slow log, latency monitor).
    after_us: float
    #: :class:`hush.persistence.manager.Persistence`.
    persistence: Any
    replication: Replication
    #: In cluster mode the node's :class:`hush.data.cluster.ClusterState`, else None.
    cluster: Any
    #: MIGRATE's :class:`hush.wire.sync_client.ConnectionCache`.
    migrate_connections: Any
    #: :class:`hush.core.faults.FailureLog` for unexpected exceptions.
    failures: Any
    #: :class:`hush.server.protocol.HeldReplies`: replies held to the end of the reactor's pass.
    held_replies: Any
    #: Called after every command as ``watcher(client, cmd, argv, seconds)``.
    watchers: list[Any]
    #: Clients in MONITOR mode.
    monitors: list[Any]
    #: Client id -> session, for CLIENT LIST and INFO.
    clients: dict[int, Client]
    #: Unix second the server started.
    started_at: float
    run_id: str
    #: The Twisted service the server belongs to (its listeners are siblings), or None.
    parent: Any

    def refusal(self, transport: Any) -> bytes | None:
        """The error to send a new connection before closing it, or None to serve it."""

    def register_client(self, client: Client) -> int:
        """List a new connection's session; its client id."""

    def unregister_client(self, client: Client) -> None:
        """Forget a closed client."""
