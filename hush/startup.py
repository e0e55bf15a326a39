# -*- test-case-name: tests.test_e2e_ops -*-
"""The lines Hush logs when it starts and stops, worded as Redis words them.

twistd sends them wherever its log goes: standard output with ``-n`` (what
journald collects from a systemd unit) or the ``--logfile`` file. The service
is the last child of the application, so "Ready to accept connections" is
logged once every listener is up.
"""

from __future__ import annotations

import os
import struct

from twisted.application import service
from twisted.logger import Logger

from hush import REDIS_VERSION, __version__
from hush.config import Settings

log = Logger(namespace="hush")


class StartupLog(service.Service):
    """Logs Redis's startup banner lines on start and its goodbye on stop."""

    #: The store service (hush.service.StoreService) whose AOF is loaded after
    #: the banner; set with the parent.
    store = None

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def setServiceParent(self, parent: service.IServiceCollection) -> None:
        super().setServiceParent(parent)
        # Redis logs "DB loaded from append only file" after its banner: the
        # AOF is loaded here, once the listeners are bound (their ports are in
        # the banner) and before the reactor runs (no client is served yet).
        self.store = parent.getServiceNamed("hush-store")
        self.store.load_first = False

    def startService(self) -> None:
        super().startService()
        log.info("oO0OoO0OoO0Oo Hush is starting oO0OoO0OoO0Oo")
        log.info(
            "Hush version={hush}, Redis version={redis}, bits={bits}, pid={pid}, just started",
            hush=__version__, redis=REDIS_VERSION, bits=struct.calcsize("P") * 8,
            pid=os.getpid())
        log.info("Running mode=standalone, port={port}.", port=self.settings.port)
        log.info("Listening on {endpoints}", endpoints=", ".join(self.settings.listen))
        log.info("Server initialized")
        if self.store is not None:
            self.store.persistence.start()
        log.info("Ready to accept connections")

    def stopService(self) -> None:
        # SHUTDOWN stops the services itself, and the reactor stops them again.
        if self.running:
            log.info("Hush is now ready to exit, bye bye...")
        return super().stopService()
