# -*- test-case-name: tests.unit.server.test_faults -*-
"""Unexpected exceptions: answer, log once, keep serving.

A bug in one command must cost that command, not the connection or the
server: the dispatcher turns an unexpected exception into an ``-ERR`` reply
and reports it here. A client could trigger the same bug in a loop, so the
traceback is logged for the first occurrence per place (a command name, "the
reply encoder", ...) and then at most once per :attr:`FailureLog.interval`
seconds, with the count of occurrences not logged in between.
"""

from __future__ import annotations

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

log = Logger()

#: Seconds between two logged tracebacks of the same place.
LOG_INTERVAL = 60.0


class FailureLog:
    """Rate-limited traceback logging, per place, on an injected clock.

    @ivar occurrences: place -> how many exceptions it raised in all.
    """

    def __init__(self, clock: IReactorTime, interval: float = LOG_INTERVAL) -> None:
        self.clock = clock
        self.interval = interval
        self.occurrences: dict[str, int] = {}
        self._last_logged: dict[str, tuple[float, int]] = {}

    def report(self, place: str, failure: Failure | None = None) -> bool:
        """Count an exception at ``place`` (call from an ``except`` block).

        Returns True if its traceback was logged, False if it was suppressed
        because the same place logged one less than ``interval`` seconds ago.
        """
        if failure is None:
            failure = Failure()
        count = self.occurrences.get(place, 0) + 1
        self.occurrences[place] = count
        now = self.clock.seconds()
        last = self._last_logged.get(place)
        if last is not None and now - last[0] < self.interval:
            return False
        suppressed = count - 1 - (last[1] if last is not None else 0)
        self._last_logged[place] = (now, count)
        log.failure(
            "Unexpected error in {place} ({suppressed} more not logged since the last "
            "report; each answered -ERR)",
            failure,
            place=place,
            suppressed=suppressed,
        )
        return True
