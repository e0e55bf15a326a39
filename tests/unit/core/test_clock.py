"""hush.core.clock: the adjustable clock over a task.Clock standing in for the reactor."""

from __future__ import annotations

import pytest
from twisted.internet.task import Clock, LoopingCall

from hush.core.clock import AdjustableClock, ClockError


@pytest.fixture
def reactor() -> Clock:
    reactor = Clock()
    reactor.advance(1000)
    return reactor


@pytest.fixture
def clock(reactor: Clock) -> AdjustableClock:
    return AdjustableClock(reactor)


def test_time_is_the_reactors_plus_the_offset(reactor, clock):
    assert clock.seconds() == 1000
    reactor.advance(2.5)
    assert clock.seconds() == 1002.5
    clock.advance(10)
    assert clock.seconds() == 1012.5
    reactor.advance(1)
    assert clock.seconds() == 1013.5


def test_timers_fire_on_real_time_too(reactor, clock):
    fired = []
    clock.callLater(3, fired.append, "a")
    reactor.advance(2.9)
    assert fired == []
    reactor.advance(0.2)
    assert fired == ["a"]
    assert clock.getDelayedCalls() == []


def test_advance_runs_due_timers_in_order_each_at_its_time(clock):
    seen = []
    clock.callLater(5, lambda: seen.append(("five", clock.seconds())))
    clock.callLater(3, lambda: seen.append(("three", clock.seconds())))
    clock.callLater(30, lambda: seen.append(("thirty", clock.seconds())))
    assert clock.advance(10) == 2
    assert seen == [("three", 1003), ("five", 1005)]
    assert clock.seconds() == 1010
    clock.advance(20)
    assert seen[-1] == ("thirty", 1030)


def test_timers_set_during_an_advance_run_when_due_within_it(clock):
    seen = []

    def chain(n):
        seen.append((n, clock.seconds()))
        clock.callLater(2, chain, n + 1)

    clock.callLater(2, chain, 0)
    clock.advance(7)
    assert seen == [(0, 1002), (1, 1004), (2, 1006)]
    # The next link is pending at 1008, and runs on a later advance.
    clock.advance(1)
    assert seen[-1] == (3, 1008)


def test_reset_delay_and_cancel_are_honoured(clock):
    fired = []
    moved = clock.callLater(2, fired.append, "moved")
    later = clock.callLater(3, fired.append, "later")
    cancelled = clock.callLater(1, fired.append, "cancelled")
    moved.reset(10)
    later.delay(-2)
    cancelled.cancel()
    clock.advance(5)
    assert fired == ["later"]
    assert moved.active() and not cancelled.active()
    clock.advance(10)
    assert fired == ["later", "moved"]
    assert clock.getDelayedCalls() == []


def test_looping_calls_skip_to_their_last_beat(clock):
    ticks = []
    loop = LoopingCall(lambda: ticks.append(clock.seconds()))
    loop.clock = clock
    loop.start(0.25, now=False)
    clock.advance(0.25)
    assert ticks == [1000.25]
    # A day in one step: one beat, the last before the end, not 345,600.
    clock.advance(86400.1)
    assert ticks == [1000.25, 1000.25 + 86400]
    clock.advance(0.15)
    assert ticks[-1] == 1000.5 + 86400
    loop.stop()


def test_a_failing_timer_does_not_stop_the_others(clock, logged):
    fired = []
    clock.callLater(1, lambda: 1 / 0)
    clock.callLater(2, fired.append, "after")
    clock.advance(3)
    assert fired == ["after"]
    assert any("ZeroDivisionError" in str(e.get("log_failure", "")) for e in logged)


def test_backwards_and_nested_advances_are_refused(clock):
    with pytest.raises(ClockError, match="only moves forward"):
        clock.advance(-1)
    errors = []

    def nested():
        try:
            clock.advance(1)
        except ClockError as error:
            errors.append(str(error))

    clock.callLater(1, nested)
    clock.advance(2)
    assert errors == ["the clock is already advancing"]
    assert clock.seconds() == 1002


def test_the_real_timer_follows_the_earliest_deadline(reactor, clock):
    call = clock.callLater(100, lambda: None)
    clock.callLater(50, lambda: None)
    assert [c.getTime() for c in reactor.getDelayedCalls()] == [1050]
    call.cancel()
    clock.advance(60)
    # Nothing left: no reactor timer either.
    assert reactor.getDelayedCalls() == []
