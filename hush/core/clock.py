# -*- test-case-name: tests.unit.core.test_clock -*-
"""A server clock that tests can move forward: the reactor's time plus an offset.

Every timestamp and timer in Hush comes from one injected IReactorTime (the
reactor in production, ``task.Clock`` in unit tests). A test server started
with ``enable-time-control yes`` gets an :class:`AdjustableClock` instead: it
reads the reactor's time, adds an offset, and keeps the server's timers
itself, with one real reactor timer armed for the earliest of them.
:meth:`AdjustableClock.advance` raises the offset and runs every timer that
became due, one at a time in the order of their deadlines, each seeing the
time it was due at -- so a key that expires at +3 s is gone before a BLPOP
that times out at +5 s answers, and the BLPOP's client sees the clock at +5.
A LoopingCall (a periodic sampler) skips to its last beat before the end of
the advance instead of running once per interval.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Any

from twisted.internet.base import DelayedCall
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from zope.interface import implementer

log = Logger()


class ClockError(Exception):
    """An advance the clock refuses (backwards, or from inside another advance)."""


@implementer(IReactorTime)
class AdjustableClock:
    """An IReactorTime on top of ``reactor`` whose time can be moved forward.

    @ivar offset: seconds added to the reactor's time so far.
    """

    def __init__(self, reactor: IReactorTime) -> None:
        self._reactor = reactor
        self.offset = 0.0
        # (time, sequence, call): entries go stale when a call is reset or
        # cancelled; _current holds each live call's latest sequence.
        self._heap: list[tuple[float, int, DelayedCall]] = []
        self._current: dict[DelayedCall, int] = {}
        self._sequence = itertools.count()
        self._real: IDelayedCall | None = None
        self._real_at = 0.0
        # While advance() runs: the time of the timer being run.
        self._pinned: float | None = None

    def __getattr__(self, name: str) -> Any:
        # Anything else is the reactor's (stop for SHUTDOWN, doIteration for
        # long scripts), so the clock stands in for it wherever it is handed.
        if name.startswith("__") or name == "_reactor":
            raise AttributeError(name)
        return getattr(self._reactor, name)

    # -- IReactorTime ------------------------------------------------------------

    def seconds(self) -> float:
        """The reactor's time plus the offset (during an advance: the running timer's time)."""
        pinned = self._pinned
        if pinned is not None:
            return pinned
        return self._reactor.seconds() + self.offset

    def callLater(self, delay: float, callable: Callable[..., Any], *args: Any,
                  **kw: Any) -> IDelayedCall:
        """Run ``callable(*args, **kw)`` when the clock reaches now + ``delay``."""
        call = DelayedCall(self.seconds() + max(0.0, delay), callable, args, kw,
                           self._cancelled, self._moved, seconds=self.seconds)
        self._push(call)
        return call

    def getDelayedCalls(self) -> list[IDelayedCall]:
        """The timers not yet run nor cancelled."""
        return list(self._current)

    # -- moving the time -----------------------------------------------------------

    @property
    def advancing(self) -> bool:
        """True while :meth:`advance` runs the timers that came due."""
        return self._pinned is not None

    def advance(self, seconds: float) -> int:
        """Move the time forward by ``seconds`` and run every timer due by then.

        Timers run in deadline order, each with the clock at its own
        deadline; timers they set that fall due within the advance run too.
        Returns how many ran. Raises :class:`ClockError` for a negative
        amount or when called from a timer of a running advance.
        """
        if seconds < 0:
            raise ClockError("the clock only moves forward")
        if self._pinned is not None:
            raise ClockError("the clock is already advancing")
        start = self.seconds()
        target = start + seconds
        self._pinned = start
        ran = 0
        try:
            while self._heap:
                due = self._next_due(target)
                if due is None:
                    break
                interval = getattr(due.func, "interval", 0) if isinstance(
                    due.func, LoopingCall) else 0
                if interval and target - due.time > interval:
                    # A periodic sampler (INFO's, every 100 ms) would run 864,000
                    # times in an advance of a day: it skips to its last beat
                    # before the target, as a LoopingCall skips the beats a busy
                    # reactor made it miss.
                    due.time = target - (target - due.time) % interval
                    self._push(due)
                    continue
                self._pinned = max(self._pinned, due.time)
                self._run(due)
                ran += 1
        finally:
            self._pinned = None
            self.offset += seconds
        self._arm()
        return ran

    # -- the timers ------------------------------------------------------------

    def _push(self, call: DelayedCall) -> None:
        sequence = next(self._sequence)
        self._current[call] = sequence
        heapq.heappush(self._heap, (call.time, sequence, call))
        if self._pinned is None:
            self._arm()

    def _cancelled(self, call: DelayedCall) -> None:
        self._current.pop(call, None)
        if self._pinned is None and not self._current and self._real is not None:
            self._real.cancel()
            self._real = None

    def _moved(self, call: DelayedCall) -> None:
        # An earlier time (reset/delay): a new entry supersedes the old one.
        self._push(call)

    def _next_due(self, until: float) -> DelayedCall | None:
        """Pop the earliest live call due at ``until`` or before (None if there is none)."""
        heap = self._heap
        while heap:
            at, sequence, call = heap[0]
            if self._current.get(call) != sequence:
                heapq.heappop(heap)
                continue
            if at > until:
                return None
            heapq.heappop(heap)
            if call.delayed_time:
                # Postponed by reset/delay, which the reactor applies lazily, when
                # the call comes up: so do we.
                call.activate_delay()
                self._push(call)
                continue
            del self._current[call]
            return call
        return None

    def _run(self, call: DelayedCall) -> None:
        call.called = 1
        try:
            call.func(*call.args, **call.kw)
        except Exception:
            # As the reactor does: a failing timer is logged, the others still run.
            log.failure("Unhandled error in a timer of the adjustable clock")

    def _arm(self) -> None:
        """Keep one reactor timer for the earliest live deadline."""
        heap = self._heap
        while heap and self._current.get(heap[0][2]) != heap[0][1]:
            heapq.heappop(heap)
        real = self._real
        if not heap:
            if real is not None and real.active():
                real.cancel()
            self._real = None
            return
        at = heap[0][0]
        if real is not None and real.active():
            if at >= self._real_at:
                return
            real.cancel()
        self._real_at = at
        self._real = self._reactor.callLater(max(0.0, at - self.seconds()), self._fire)

    def _fire(self) -> None:
        """The reactor timer: run what is due now, as the reactor would."""
        self._real = None
        now = self.seconds()
        while True:
            due = self._next_due(now)
            if due is None:
                break
            self._run(due)
        self._arm()
