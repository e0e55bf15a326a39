# -*- test-case-name: tests.unit.server.test_limits_clients -*-
"""Connection limits: maxclients, the open-files limit it needs, and idle timeouts.

As in Redis, the (maxclients + 1)th connection is refused with an error, and at
start the process's RLIMIT_NOFILE soft limit is raised to ``maxclients + 32``
(32 descriptors are kept for listeners, log files and the like); when the
operating system allows fewer, maxclients is lowered to fit, with Redis's
warning. Idle clients (``timeout`` seconds without a request) are closed by one
periodic timer, never one timer per client.
"""

from __future__ import annotations

import resource
from collections.abc import Callable

from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger

from hush.core.interfaces import Client, Server

log = Logger()

#: Descriptors Redis keeps beyond one per client (CONFIG_MIN_RESERVED_FDS).
RESERVED_FDS = 32

MAX_CLIENTS_REPLY = b"-ERR max number of clients reached\r\n"
#: Redis words it so in cluster mode (its bus connections count too; Hush has none).
MAX_CLIENTS_CLUSTER_REPLY = b"-ERR max number of clients + cluster connections reached\r\n"

#: Seconds between two idle-client sweeps (Redis checks every client about once a second).
SWEEP_INTERVAL = 1.0


class FileLimitError(Exception):
    """The open-files limit is too low for the server to start at all."""


def adjust_open_files_limit(
    maxclients: int,
    getrlimit: Callable[[int], tuple[int, int]] = resource.getrlimit,
    setrlimit: Callable[[int, tuple[int, int]], None] = resource.setrlimit,
) -> tuple[int, list[str]]:
    """Raise RLIMIT_NOFILE's soft limit for ``maxclients``; return (maxclients, warnings).

    The soft limit is raised up to the hard limit (an unprivileged process
    cannot go further). If even that is less than ``maxclients + 32``,
    maxclients is lowered to what fits and the warnings say so, in Redis's
    words. Raises :class:`FileLimitError` if 32 descriptors or fewer are
    allowed.
    """
    wanted = maxclients + RESERVED_FDS
    soft, hard = getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return maxclients, []
    ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    reached = soft
    # What Redis reports when it could not go above the hard limit.
    reason = "Operation not permitted"
    if ceiling > soft:
        try:
            setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))
        except (OSError, ValueError) as error:
            reason = getattr(error, "strerror", None) or str(error)
        else:
            reached = ceiling
    if reached >= wanted:
        return maxclients, [
            f"Increased maximum number of open files to {wanted} "
            f"(it was originally set to {soft})."
        ]
    if reached <= RESERVED_FDS:
        raise FileLimitError(
            f"Your current 'ulimit -n' of {soft} is not enough for the server to start. "
            f"Please increase your open file limit to at least {wanted}. Exiting."
        )
    reduced = reached - RESERVED_FDS
    return reduced, [
        f"You requested maxclients of {maxclients} requiring at least {wanted} "
        "max file descriptors.",
        f"Server can't set maximum open files to {wanted} because of OS error: {reason}.",
        f"Current maximum open files is {reached}. maxclients has been reduced to "
        f"{reduced} to compensate for low ulimit. If you need higher maxclients "
        "increase 'ulimit -n'.",
    ]


class IdleReaper:
    """Closes clients idle longer than ``timeout`` seconds, sweeping once a second.

    The timer runs only while a timeout is set and clients are connected: it
    is armed when a client connects (or CONFIG SET changes the timeout) and
    stops itself when there is nothing left to watch.
    """

    def __init__(self, service: Server, clock: IReactorTime) -> None:
        self.service = service
        self.clock = clock
        self._timer: IDelayedCall | None = None

    def arm(self) -> None:
        """Make sure the sweep runs if a timeout is set (cheap when already armed)."""
        if self._timer is None and self.service.settings.timeout > 0:
            self._timer = self.clock.callLater(SWEEP_INTERVAL, self._sweep)

    def stop(self) -> None:
        """Cancel the sweep (on service stop)."""
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _sweep(self) -> None:
        self._timer = None
        service = self.service
        timeout = service.settings.timeout
        if timeout <= 0:
            return
        now = self.clock.seconds()
        for client in list(service.clients.values()):
            if is_idle(client, now, timeout):
                close_idle(service, client)
        if service.clients:
            self.arm()


def is_idle(client: Client, now: float, timeout: int) -> bool:
    """Redis's rule: idle too long, and neither blocked nor subscribed.

    Blocked clients have their own timeout; subscribers legitimately wait
    for messages for as long as they like.
    """
    if client.blocked or client.subscriptions:
        return False
    # Redis compares whole seconds (server.unixtime - c->lastinteraction).
    return int(now) - int(client.last_interaction) > timeout


def close_idle(service: Server, client: Client) -> None:
    """Close ``client`` now, as Redis's freeClient (no reply is sent)."""
    log.debug("Closing idle client id={id}", id=client.client_id, redis_level="verbose")
    client.connection.disconnect()
    service.unregister_client(client)
