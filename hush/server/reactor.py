# -*- test-case-name: tests.e2e.test_cli -*-
"""The reactor the ``hush`` command runs: Twisted's epoll reactor, less the
logging context it sets around every read and write.

Twisted's ``EPollReactor.doPoll`` hands each ready descriptor to
``_doReadOrWrite`` through ``twisted.python.log.callWithLogger``, which asks
the connection for its log prefix and copies the legacy logging context into
a new dict for the call: 1.4 us per read on a 2-core EPYC VM, about a tenth
of what an unpipelined request costs Hush. The context only names the
``system`` of events logged through the legacy ``twisted.python.log`` API
during the call; Hush logs through ``twisted.logger`` (whose events carry
their namespace), so without it those few legacy events (Twisted's own
reports of a connection's failure) read ``-`` as their system instead of the
connection's prefix. ``_doReadOrWrite`` still catches and logs what a read or
a write raises and disconnects the connection, as before.

The ``hush`` command and ``python -m hush`` install it; ``twistd -n hush``
runs on the reactor twistd is given (``--reactor``, or its default).
"""

from __future__ import annotations

from twisted.internet.epollreactor import EPollReactor
from twisted.internet.main import installReactor
from twisted.logger import Logger

log = Logger()


class HushReactor(EPollReactor):
    """An epoll reactor that dispatches ready descriptors without the legacy log context."""

    def doPoll(self, timeout: float | None) -> None:
        """Wait for events (at most ``timeout`` seconds, None: no limit) and handle them."""
        try:
            # At most one event per descriptor watched, as Twisted asks.
            events = self._poller.poll(-1 if timeout is None else timeout,
                                       len(self._selectables))
        except InterruptedError:
            return
        selectables = self._selectables
        handle = self._doReadOrWrite
        for fd, event in events:
            selectable = selectables.get(fd)
            if selectable is None:
                # Removed by the handling of an earlier event of this pass.
                continue
            try:
                handle(selectable, fd, event)
            except Exception:
                # _doReadOrWrite catches what reads and writes raise; this is
                # what callWithLogger did for anything that still escapes.
                log.failure("Unhandled error handling an event of {selectable!r}",
                            selectable=selectable)

    doIteration = doPoll


def install() -> HushReactor:
    """Install a :class:`HushReactor` as Twisted's reactor and return it."""
    reactor = HushReactor()
    installReactor(reactor)
    return reactor
