# -*- test-case-name: tests.unit.server.test_tap -*-
"""Wiring: the store service and one listening service per endpoint.

:class:`StoreService` owns what all connections share -- the store, the
blocking manager, the settings, the client registry -- and stops the expiry
timer on shutdown. :func:`make_service` builds the twistd MultiService
(:class:`HushService`), which turns a port it cannot listen on into Redis's
lines and a failed start.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

from twisted.application import service
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IReactorTime
from twisted.logger import ILogObserver, Logger
from twisted.python.components import Componentized

from hush.commands.acl_users import AccessControl
from hush.commands.dispatch import Session
from hush.commands.modules import load_at_start
from hush.commands.table import every_command
from hush.config.endpoints import with_backlog
from hush.config.settings import Settings
from hush.core.clock import AdjustableClock
from hush.core.faults import FailureLog
from hush.data.blocking import BlockingManager
from hush.data.cluster import ClusterStartError, ClusterState
from hush.data.pubsub import PubSub
from hush.data.store import Store
from hush.data.types import registry
from hush.ops.commandstats import CommandStats
from hush.ops.latency import LatencyMonitor
from hush.ops.monitor import stop_monitoring
from hush.ops.slowlog import SlowLog
from hush.persistence.manager import Persistence
from hush.replication.manager import Replication
from hush.scripting.engine import ScriptEngine
from hush.scripting.functions import FunctionLibraries
from hush.server import auth, limits
from hush.server.keepalive import apply_keepalive
from hush.server.listeners import FirstTCPPort, listener_service
from hush.server.memory import MemoryManager
from hush.server.pause import ClientPause
from hush.server.protocol import HeldReplies, RedisFactory
from hush.server.startup import PidFile, StartupFailure
from hush.wire.sync_client import ConnectionCache

log = Logger()


class StoreService(service.Service):
    """The shared state of a Hush server.

    It is what :class:`hush.core.interfaces.Server` describes: sessions,
    handlers (``ctx.server``) and the lower floors reach it through that.

    @ivar clock: the IReactorTime every timer and timestamp comes from.
    @ivar clients: client id -> session, for CLIENT LIST and INFO.
    """

    name = "hush-store"

    def __init__(self, settings: Settings, clock: IReactorTime | None = None,
                 reactor: Any = None) -> None:
        if clock is None:
            from twisted.internet import reactor as default_reactor

            clock = default_reactor
        if settings.enable_time_control:
            # A test server: HUSH.CLOCK ADVANCE moves this clock (hush.core.clock).
            clock = AdjustableClock(clock)
        self.clock = clock
        self.settings = settings
        #: Unexpected exceptions, logged at most once a minute per place.
        self.failures = FailureLog(clock)
        self.store = Store(clock, settings.databases, settings.maxkeys)
        # OBJECT ENCODING, HSCAN, SSCAN and stream nodes follow the thresholds.
        registry.follow_settings(settings, self.store.dbs)
        #: In cluster mode, the node's view of its cluster (hush.data.cluster),
        #: read from its nodes.conf; else None. Opening it may raise
        #: ClusterStartError (a locked or corrupt file).
        self.cluster: ClusterState | None = None
        if settings.cluster_enabled:
            self.cluster = ClusterState.open(settings, self.store.index_slots())
            settings.on_change("cluster-require-full-coverage",
                               lambda _value: self.cluster.update_state())
        self.blocking = BlockingManager(self.store, clock)
        self.pubsub = PubSub()
        self.scripts = ScriptEngine(self)
        #: Replies held to the end of the reactor's pass; a busy script's
        #: reads of other clients' requests end with sending them too.
        self.held_replies = HeldReplies()
        self.scripts.after_events = self.held_replies.send
        #: FUNCTION libraries (persistence reads and restores their code through it).
        self.functions = FunctionLibraries(self.scripts)
        self.clients: dict[int, Session] = {}
        # Client-side caching finds the clients to invalidate by id.
        tracking = self.store.tracking
        tracking.clients = self.clients
        tracking.max_keys = settings.tracking_table_max_keys
        tracking.on_limit_change = self._regate_all
        settings.on_change("tracking-table-max-keys", tracking.set_max_keys)
        self._ids = itertools.count(1)
        #: The ACL users; requirepass is the default user's password.
        self.acl = AccessControl(self)
        if settings.requirepass:
            self.acl.set_default_password(settings.requirepass)
        settings.on_change("requirepass", self.acl.set_default_password)
        settings.rewrite_users = self.acl.config_lines
        self.started_at = clock.seconds()
        self.run_id = os.urandom(20).hex()
        self.memory = MemoryManager(self)
        settings.on_change("maxkeys", self._set_maxkeys)
        settings.on_change("proto-max-bulk-len", self._apply_limits)
        settings.on_change("client-query-buffer-limit", self._apply_limits)
        self.idle = limits.IdleReaper(self, clock)
        settings.on_change("timeout", lambda _timeout: self.idle.arm())
        self.persistence = Persistence(self)
        settings.on_change("appendonly", self.persistence.set_appendonly)
        #: Replicas of this server, and its link to a master (hush.replication).
        self.replication = Replication(self, reactor)
        #: MIGRATE's connections to other servers, kept for reuse.
        self.migrate_connections = ConnectionCache(clock)
        #: False when hush.server.startup loads the AOF itself, after the startup
        #: banner (as Redis logs it); that is still before the reactor runs.
        self.load_first = True
        self.slowlog = SlowLog()
        #: LATENCY's events (latency-monitor-threshold).
        self.latency = LatencyMonitor()
        #: INFO commandstats and errorstats, from zero for each server.
        self.commandstats = CommandStats(every_command)
        self.commandstats.track_latency(settings.latency_tracking)
        settings.on_change("latency-tracking", self._track_latency)
        #: Microseconds from which a command goes to the slow log or the latency
        #: monitor: the dispatcher tests each command's time against this only.
        self.after_us = _after_us(settings)
        for name in ("slowlog-log-slower-than", "latency-monitor-threshold"):
            settings.on_change(name, self._update_after_us)
        self.pause = ClientPause(self)
        #: Called after every command as watcher(client, cmd, argv, seconds)
        #: (MONITOR, --metrics); the dispatcher skips them when empty.
        self.watchers: list = []
        #: Clients in MONITOR mode (hush.ops.monitor).
        self.monitors: list[Session] = []

    def _update_after_us(self, _value: int) -> None:
        self.after_us = _after_us(self.settings)

    def _track_latency(self, enabled: bool) -> None:
        self.commandstats.track_latency(enabled)
        self._regate_all()

    def _regate_all(self) -> None:
        # Every client passes the dispatcher's checks while they may apply to it.
        for client in self.clients.values():
            client.update_gate()

    def _set_maxkeys(self, maxkeys: int) -> None:
        self.store.maxkeys = maxkeys

    def _apply_limits(self, _limit: int) -> None:
        # Connected clients' parsers too, as Redis applies them at once.
        for client in self.clients.values():
            client.connection.apply_limits()

    def refusal(self, transport) -> bytes | None:
        """The error to send a new connection before closing it, or None to serve it.

        maxclients first, then protected mode, as Redis checks them.
        """
        if len(self.clients) >= self.settings.maxclients:
            self.store.stats.rejected_connections += 1
            if self.cluster is not None:
                return limits.MAX_CLIENTS_CLUSTER_REPLY
            return limits.MAX_CLIENTS_REPLY
        if auth.denied_by_protected_mode(self.settings, transport.getPeer(),
                                         self.acl.default.nopass):
            self.store.stats.rejected_connections += 1
            return auth.DENIED_REPLY
        return None

    def register_client(self, client: Session) -> int:
        """Give a new connection's session its id and list it."""
        client_id = next(self._ids)
        self.clients[client_id] = client
        self.store.stats.total_connections_received += 1
        self.idle.arm()
        apply_keepalive(client.transport, self.settings.tcp_keepalive)
        return client_id

    def unregister_client(self, client: Session) -> None:
        """Forget a closed connection's session."""
        self.clients.pop(client.client_id, None)
        self.store.tracking.disable(client)
        if client.monitoring:
            stop_monitoring(self, client)
        self.replication.client_gone(client)

    def privilegedStartService(self) -> None:
        # Before the listeners open, as Redis does it: raise the open-files
        # limit maxclients needs, or lower maxclients to what the OS allows.
        try:
            maxclients, warnings = limits.adjust_open_files_limit(self.settings.maxclients)
        except limits.FileLimitError as error:
            log.critical("{message}", message=str(error))
            raise StartupFailure(str(error)) from None
        emit = log.warn if maxclients < self.settings.maxclients else log.info
        for warning in warnings:
            emit("{message}", message=warning)
        self.settings.maxclients = maxclients
        self.load_users()
        # Before any listener's privilegedStartService: the data is back
        # before the first client can connect.
        if self.load_first:
            self.persistence.start()
            self.check_cluster_data()
        super().privilegedStartService()

    def check_cluster_data(self) -> None:
        """In cluster mode, after loading: the data must fit the slot map (Redis's check).

        Keys outside database 0 stop the start; slots holding keys that are
        not this node's are claimed or set importing, with Redis's warnings.
        """
        if self.cluster is None:
            return
        # Indexed anew: a loader may fill database 0 without Database.set.
        self.store.reindex_slots()
        try:
            warnings = self.cluster.verify_data(self.store.dbs)
        except ClusterStartError as error:
            log.critical("{message}", message=str(error))
            raise StartupFailure(str(error)) from None
        for warning in warnings:
            log.warn("{message}", message=warning)

    def load_users(self) -> None:
        """The config file's ``user`` lines, then the ACL file, as Redis loads them at start.

        A rule that does not apply, a bad ACL file, or both kinds of users
        given stop the start with Redis's lines.
        """
        settings = self.settings
        if settings.aclfile and settings.user_lines:
            message = ("Configuring Redis with users defined in redis.conf and at the same "
                       "setting an ACL file path is invalid. This setup is very likely to lead "
                       "to configuration errors and security holes, please define either an "
                       "ACL file or declare users directly in your redis.conf, but not both.")
            log.critical("{message}", message=message)
            raise StartupFailure(message)
        error, notices = self.acl.load_config_users([line[3] for line in settings.user_lines])
        for notice in notices:
            log.info("{notice}", notice=notice)
        if error is not None:
            log.critical("{error}", error=error)
            log.critical("Critical error while loading ACLs. Exiting.")
            raise StartupFailure(error)
        if settings.aclfile:
            errors = self.acl.load_file(settings.aclfile)
            if errors is not None:
                message = f"Aborting Redis startup because of ACL errors: {errors}"
                log.critical("{message}", message=message)
                raise StartupFailure(message)

    def startService(self) -> None:
        super().startService()
        self.replication.start()

    def stopService(self) -> None:
        self.replication.stop()
        self.persistence.service_stopped()
        self.migrate_connections.close_all()
        self.store.stop()
        self.idle.stop()
        if self.cluster is not None:
            self.cluster.close()
        return super().stopService()


def _after_us(settings: Settings) -> float:
    """The lower of the slow log's and the latency monitor's thresholds, in microseconds.

    A negative slowlog-log-slower-than disables the slow log and a zero
    latency-monitor-threshold the monitor; with both off, nothing is slow.
    """
    thresholds = []
    if settings.slowlog_log_slower_than >= 0:
        thresholds.append(settings.slowlog_log_slower_than)
    if settings.latency_monitor_threshold > 0:
        thresholds.append(settings.latency_monitor_threshold * 1000)
    return min(thresholds, default=float("inf"))


class BadEndpoint(ValueError):
    """An endpoint description no listener can be made of; ``reason`` says why, plainly."""

    def __init__(self, description: str, error: Exception) -> None:
        self.description = description
        self.reason = endpoint_reason(description, error)
        super().__init__(f"{description!r}: {self.reason}")


def endpoint_reason(description: str, error: Exception) -> str:
    """Twisted's reason for refusing an endpoint string, said for an operator."""
    text = str(error)
    if isinstance(error, OSError) and error.strerror:
        # TLS key and certificate files are read as the endpoint is made.
        return f"{error.strerror}: {error.filename!r}" if error.filename else error.strerror
    if isinstance(error, ValueError) and text.startswith("invalid literal for int()"):
        return f"{text.rpartition(': ')[2]} is not a number"
    if isinstance(error, TypeError) and "unexpected keyword argument" in text:
        return f"unknown parameter {text.rpartition(' ')[2]}"
    if isinstance(error, (IndexError, KeyError)) and description.lower().startswith("systemd:"):
        return "systemd passed no such socket"
    return text or type(error).__name__


def listen_failure(description: str, error: CannotListenError) -> list[str]:
    """What Redis logs when it cannot listen, for this endpoint (its words for TCP and TLS)."""
    reason = getattr(error.socketError, "strerror", None) or str(error.socketError)
    kind = description.partition(":")[0].lower()
    if kind in ("tcp", "tcp6", "ssl"):
        address = error.interface if error.interface not in ("", "0.0.0.0") else "*"
        return [f"Warning: Could not create server TCP listening socket {address}:{error.port}: "
                f"bind: {reason}",
                f"Failed listening on port {error.port} ({'TLS' if kind == 'ssl' else 'TCP'}), "
                "aborting."]
    if kind == "unix":
        return [f"Failed opening Unix socket: bind: {reason}"]
    return [f"Failed listening on {description or error.port}: {reason}"]


class HushService(service.MultiService):
    """The whole server.

    A listener that cannot open its port stops the start with Redis's lines
    (a :class:`~hush.server.startup.StartupFailure`) instead of a traceback. Under
    twistd it also says where the log goes: twistd takes the log observer
    from its Application's ILogObserver component, looked up after the
    plugin built the service and before anything starts, so joining the
    Application is the moment to set it.
    """

    #: The observer for twistd (hush.server.logconfig.observer), or None to leave twistd's.
    log_observer: ILogObserver | None = None

    def __init__(self) -> None:
        super().__init__()
        #: Listening service -> its endpoint description, to name it when it fails.
        self.listeners: dict[service.IService, str] = {}

    def add_listener(self, listener: service.IService, description: str) -> None:
        """Add a listening service made from the endpoint ``description``."""
        listener.setServiceParent(self)
        self.listeners[listener] = description

    def privilegedStartService(self) -> None:
        # MultiService's, one child at a time, to say which listener failed.
        service.Service.privilegedStartService(self)
        for child in self:
            try:
                child.privilegedStartService()
            except CannotListenError as error:
                lines = listen_failure(self.listeners.get(child, ""), error)
                for line in lines:
                    log.warn("{line}", line=line)
                raise StartupFailure(lines[-1]) from None

    def setServiceParent(self, parent) -> None:
        super().setServiceParent(parent)
        if (self.log_observer is not None and isinstance(parent, Componentized)
                and parent.getComponent(ILogObserver, None) is None):
            parent.setComponent(ILogObserver, self.log_observer)


def make_service(settings: Settings, clock: IReactorTime | None = None,
                 reactor: Any = None) -> HushService:
    """The whole server: the store service plus a listener per endpoint.

    ``reactor`` (by default the global one) is what the listeners listen
    with and, without a ``clock``, the clock.

    Raises :class:`BadEndpoint` for an endpoint no listener can be made of,
    :class:`hush.commands.modules.ModuleError` for a ``loadmodule`` that
    fails. Each listener without a ``backlog=`` of its own gets ``tcp-backlog``.
    """
    # Before anything else, as Redis loads them: the AOF may use their commands.
    load_at_start(settings.loadmodule)
    top = HushService()
    if settings.pidfile:
        # First: written before anything listens, removed after everything stopped.
        PidFile(settings.pidfile).setServiceParent(top)
    store_service = StoreService(settings, clock if clock is not None else reactor, reactor)
    store_service.setServiceParent(top)
    factory = RedisFactory(store_service)
    first_tcp_port = FirstTCPPort(settings)
    for description in settings.listen:
        try:
            listener = listener_service(
                with_backlog(description, settings.tcp_backlog), factory, first_tcp_port,
                reactor)
        except Exception as error:  # noqa: BLE001 -- each endpoint parser fails its own way
            raise BadEndpoint(description, error) from None
        top.add_listener(listener, description)
    return top
