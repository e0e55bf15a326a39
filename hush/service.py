# -*- test-case-name: tests.test_tap -*-
"""Wiring: the store service and one listening service per endpoint.

:class:`StoreService` owns what all connections share -- the store, the
blocking manager, the settings, the client registry -- and stops the expiry
timer on shutdown. :func:`make_service` builds the twistd MultiService.
"""

from __future__ import annotations

import itertools
import os
import time
from typing import TYPE_CHECKING

from twisted.application import service, strports
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from hush import auth, commandstats, limits
from hush.blocking import BlockingManager
from hush.clientpause import ClientPause
from hush.config import Settings
from hush.errors import CommandError
from hush.memory import MemoryManager
from hush.persistence import Persistence
from hush.pubsub import PubSub
from hush.scripting import ScriptEngine
from hush.slowlog import SlowLog
from hush.store import Store

if TYPE_CHECKING:
    from hush.protocol import RedisProtocol

log = Logger()


class StoreService(service.Service):
    """The shared state of a Hush server.

    @ivar clock: the IReactorTime every timer and timestamp comes from.
    @ivar clients: client id -> connection, for CLIENT LIST and INFO.
    """

    name = "hush-store"

    def __init__(self, settings: Settings, clock: IReactorTime | None = None) -> None:
        if clock is None:
            from twisted.internet import reactor

            clock = reactor
        self.clock = clock
        self.settings = settings
        self.store = Store(clock, settings.databases, settings.maxkeys)
        self.blocking = BlockingManager(self.store, clock)
        self.pubsub = PubSub()
        self.scripts = ScriptEngine(self)
        self.clients: dict[int, RedisProtocol] = {}
        self._ids = itertools.count(1)
        self.started_at = clock.seconds()
        self.started_monotonic = time.monotonic()
        self.run_id = os.urandom(20).hex()
        self.memory = MemoryManager(self)
        settings.on_change("maxkeys", self._set_maxkeys)
        settings.on_change("proto-max-bulk-len", self._apply_limits)
        settings.on_change("client-query-buffer-limit", self._apply_limits)
        self.idle = limits.IdleReaper(self, clock)
        settings.on_change("timeout", lambda _timeout: self.idle.arm())
        self.persistence = Persistence(self)
        settings.on_change("appendonly", self.persistence.set_appendonly)
        #: False when hush.startup loads the AOF itself, after the startup
        #: banner (as Redis logs it); that is still before the reactor runs.
        self.load_first = True
        self.slowlog = SlowLog()
        self.pause = ClientPause(self)
        #: Called after every command as watcher(client, cmd, argv, seconds)
        #: (MONITOR, --metrics); the dispatcher skips them when empty.
        self.watchers: list = []
        #: Clients in MONITOR mode (hush.monitor).
        self.monitors: list[RedisProtocol] = []
        commandstats.reset()

    def _set_maxkeys(self, maxkeys: int) -> None:
        self.store.maxkeys = maxkeys

    def _apply_limits(self, _limit: int) -> None:
        # Connected clients' parsers too, as Redis applies them at once.
        for client in self.clients.values():
            client.apply_limits()

    def refusal(self, transport) -> bytes | None:
        """The error to send a new connection before closing it, or None to serve it.

        maxclients first, then protected mode, as Redis checks them.
        """
        if len(self.clients) >= self.settings.maxclients:
            self.store.stats.rejected_connections += 1
            return limits.MAX_CLIENTS_REPLY
        if auth.denied_by_protected_mode(self.settings, transport.getPeer()):
            self.store.stats.rejected_connections += 1
            return auth.DENIED_REPLY
        return None

    def register_client(self, client: RedisProtocol) -> int:
        """Give a new connection its id and list it."""
        client_id = next(self._ids)
        self.clients[client_id] = client
        self.store.stats.total_connections_received += 1
        self.idle.arm()
        return client_id

    def unregister_client(self, client: RedisProtocol) -> None:
        """Forget a closed connection."""
        self.clients.pop(client.client_id, None)
        if client.monitoring:
            from hush.monitor import stop_monitoring

            stop_monitoring(self, client)

    def authenticate(self, client: RedisProtocol, user: bytes, password: bytes) -> None:
        """Check credentials for AUTH / HELLO AUTH; raise WRONGPASS if they fail.

        Without requirepass the default user has no password, so any password
        is accepted for it, as in Redis. Failures are counted
        (``acl_access_denied_auth``); the password is never logged.
        """
        if not auth.check_credentials(self.settings, user, password):
            self.store.stats.acl_access_denied_auth += 1
            raise CommandError(auth.WRONGPASS)
        client.authenticated = True
        client.update_gate()

    def privilegedStartService(self) -> None:
        # Before the listeners open, as Redis does it: raise the open-files
        # limit maxclients needs, or lower maxclients to what the OS allows.
        try:
            maxclients, warnings = limits.adjust_open_files_limit(self.settings.maxclients)
        except limits.FileLimitError as error:
            log.critical("{message}", message=str(error))
            raise SystemExit(1) from None
        emit = log.warn if maxclients < self.settings.maxclients else log.info
        for warning in warnings:
            emit("{message}", message=warning)
        self.settings.maxclients = maxclients
        # Before any listener's privilegedStartService: the data is back
        # before the first client can connect.
        if self.load_first:
            self.persistence.start()
        super().privilegedStartService()

    def stopService(self) -> None:
        self.persistence.stop()
        self.store.stop()
        self.idle.stop()
        return super().stopService()


def make_service(settings: Settings, clock: IReactorTime | None = None) -> service.MultiService:
    """The whole server: the store service plus a listener per endpoint."""
    from hush.protocol import RedisFactory

    top = service.MultiService()
    store_service = StoreService(settings, clock)
    store_service.setServiceParent(top)
    factory = RedisFactory(store_service)
    for description in settings.listen:
        strports.service(description, factory).setServiceParent(top)
    return top
