# -*- test-case-name: tests.unit.server.test_startup -*-
"""Starting and stopping as Redis does: its log lines, its pid file, its one-line failures.

:class:`StartupLog` logs Redis's banner lines, then one line per note of
what Hush does instead of the Redis directives the config file set
(:mod:`hush.config.directives`). twistd sends them wherever the log goes
(:mod:`hush.server.logconfig`). The service is the last child of the application,
so "Ready to accept connections" is logged once every listener is up.

:class:`PidFile` is Redis's ``pidfile``. A :class:`StartupFailure` is a
reason not to start that was already logged in Redis's words ("Failed
listening on port 6379 (TCP), aborting."): :func:`quiet_startup_failures`
keeps Python from adding a traceback to it, while twistd still cleans up
(its own pid file, the status pipe of a daemon) as for any other failure.
"""

from __future__ import annotations

import atexit
import os
import struct
import sys
from types import TracebackType

from twisted.application import service
from twisted.logger import Logger

from hush import REDIS_VERSION, __version__
from hush.config.settings import Settings
from hush.config.table import BY_NAME

log = Logger(namespace="hush")


class StartupFailure(Exception):
    """Hush cannot start; why was logged already, as one line."""


def quiet_startup_failures() -> None:
    """Let an uncaught :class:`StartupFailure` end the process (status 1) without a traceback."""
    previous = sys.excepthook
    if getattr(previous, "hush_quiet", False):
        return

    def hook(kind: type[BaseException], value: BaseException,
             traceback: TracebackType | None) -> None:
        if not issubclass(kind, StartupFailure):
            previous(kind, value, traceback)

    hook.hush_quiet = True  # type: ignore[attr-defined]
    sys.excepthook = hook


def notes(settings: Settings) -> list[tuple[str, list[str]]]:
    """(note, directives) for the Redis directives the config file set that Hush does
    not act on, one entry per note, in the order the file first sets each."""
    grouped: dict[str, list[str]] = {}
    for name in settings.noted:
        grouped.setdefault(BY_NAME[name].note, []).append(name)
    return list(grouped.items())


class StartupLog(service.Service):
    """Logs Redis's startup banner lines on start and its goodbye on stop."""

    #: The store service (hush.server.service.StoreService) whose AOF is loaded after
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
        if self.settings.config_file:
            log.info("Configuration loaded")
        for note, names in notes(self.settings):
            log.info("{names}: {note}", names=", ".join(names), note=note)
        cluster = getattr(self.store, "cluster", None)
        if cluster is not None:
            log.info("{what}, I'm {node_id}", node_id=cluster.myself.id.decode(),
                     what="No cluster configuration found" if cluster.created
                     else "Node configuration loaded")
        log.info("Running mode={mode}, port={port}.", port=self.settings.port,
                 mode="standalone" if cluster is None else "cluster")
        log.info("Listening on {endpoints}", endpoints=", ".join(self.settings.listen))
        log.info("Server initialized")
        if self.store is not None:
            self.store.persistence.start()
            self.store.check_cluster_data()
        log.info("Ready to accept connections")

    def stopService(self) -> None:
        # SHUTDOWN stops the services itself, and the reactor stops them again.
        if self.running:
            log.info("Hush is now ready to exit, bye bye...")
        return super().stopService()


class PidFile(service.Service):
    """Redis's ``pidfile``: the process id written at start, the file removed at exit.

    Written before the listeners open (the first child of the application)
    and after twistd has daemonized, so it names the serving process. Like
    Redis it is best effort: a file that cannot be written is only logged.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._written = False

    def privilegedStartService(self) -> None:
        super().privilegedStartService()
        try:
            with open(self.path, "w") as handle:
                handle.write(f"{os.getpid()}\n")
        except OSError as error:
            log.warn("Failed to write PID file: {reason}", reason=error.strerror)
            return
        self._written = True
        # Also when a later service fails to start and the process just exits.
        atexit.register(self.remove)

    def stopService(self) -> None:
        self.remove()
        return super().stopService()

    def remove(self) -> None:
        """Delete the pid file if this process wrote it (once)."""
        if self._written:
            self._written = False
            try:
                os.unlink(self.path)
            except OSError:
                pass
