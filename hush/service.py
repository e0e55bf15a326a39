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

from hush.blocking import BlockingManager
from hush.config import Settings
from hush.errors import CommandError
from hush.persistence import Persistence
from hush.pubsub import PubSub
from hush.store import Store

if TYPE_CHECKING:
    from hush.protocol import RedisProtocol


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
        self.clients: dict[int, RedisProtocol] = {}
        self._ids = itertools.count(1)
        self.started_at = clock.seconds()
        self.started_monotonic = time.monotonic()
        self.run_id = os.urandom(20).hex()
        self.persistence = Persistence(self)

    def register_client(self, client: RedisProtocol) -> int:
        """Give a new connection its id and list it."""
        client_id = next(self._ids)
        self.clients[client_id] = client
        self.store.stats.total_connections_received += 1
        return client_id

    def unregister_client(self, client: RedisProtocol) -> None:
        """Forget a closed connection."""
        self.clients.pop(client.client_id, None)

    def authenticate(self, client: RedisProtocol, user: bytes, password: bytes) -> None:
        """Check credentials for AUTH / HELLO AUTH; raise WRONGPASS if they fail.

        Without requirepass the default user has no password, so any password
        is accepted for it, as in Redis.
        """
        if user != b"default":
            raise CommandError(
                "WRONGPASS invalid username-password pair or user is disabled."
            )

    def privilegedStartService(self) -> None:
        # Before any listener's privilegedStartService: the data is back
        # before the first client can connect.
        self.persistence.start()
        super().privilegedStartService()

    def stopService(self) -> None:
        self.persistence.stop()
        self.store.stop()
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
