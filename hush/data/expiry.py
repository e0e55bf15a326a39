# -*- test-case-name: tests.unit.data.test_store -*-
"""Active expiry: one timer for the earliest deadline over a heap of deadlines.

Keys' deadlines live in each database's ``expires`` map, which is the truth;
the heap only says when to look. Entries go stale when a key's TTL changes or
the key is deleted, and are skipped when popped; the heap is rebuilt when stale
entries outnumber live ones, so rewriting TTLs cannot grow it without bound.
One ``callLater`` is armed for the earliest deadline -- never one per key.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable

from twisted.internet.interfaces import IDelayedCall, IReactorTime

#: Most keys expired in one timer run, so a mass expiry cannot stall the reactor.
MAX_PER_RUN = 2000


class ExpiryScheduler:
    """Keeps the deadline heap and the single timer for a :class:`Store`."""

    def __init__(
        self,
        clock: IReactorTime,
        expire_due: Callable[[int, bytes, int], bool],
        is_current: Callable[[int, int, bytes], bool],
    ) -> None:
        """
        @param clock: where time and timers come from.
        @param expire_due: called as C{expire_due(db_index, key, deadline_ms)}
            when a heap entry comes due; returns True if it expired a key.
        @param is_current: C{is_current(deadline_ms, db_index, key)} tells
            whether an entry still matches the key's deadline (for compaction).
        """
        self.clock = clock
        self._expire_due = expire_due
        self._is_current = is_current
        self._heap: list[tuple[int, int, bytes]] = []
        self._timer: IDelayedCall | None = None
        self._timer_at = 0
        # Entries found current at the last compaction. Not raised on add: a
        # rewritten TTL adds an entry but no live key, so counting adds would
        # let rewrites grow the heap without bound.
        self.live = 0
        # DEBUG SET-ACTIVE-EXPIRE 0 turns the timer off; lookups still expire.
        self.enabled = True

    def set_enabled(self, enabled: bool) -> None:
        """Turn active expiry on or off (DEBUG SET-ACTIVE-EXPIRE)."""
        self.enabled = enabled
        if enabled and self._heap:
            self._arm(self._heap[0][0])
        elif not enabled:
            self.stop()

    def add(self, deadline_ms: int, db_index: int, key: bytes) -> None:
        """Note that ``key`` in database ``db_index`` has a deadline."""
        heap = self._heap
        heapq.heappush(heap, (deadline_ms, db_index, key))
        if len(heap) > 1024 and len(heap) > 2 * self.live:
            self.compact()
        if self.enabled and (self._timer is None or deadline_ms < self._timer_at):
            self._arm(deadline_ms)


    def compact(self) -> None:
        """Drop stale entries: the store is asked which deadlines are still current."""
        self._heap = [entry for entry in self._heap if self._is_current(*entry)]
        heapq.heapify(self._heap)
        self.live = len(self._heap)

    def _arm(self, deadline_ms: int) -> None:
        delay = max(0.0, deadline_ms / 1000.0 - self.clock.seconds())
        if self._timer is not None and self._timer.active():
            self._timer.reset(delay)
        else:
            self._timer = self.clock.callLater(delay, self._run)
        self._timer_at = deadline_ms

    def _run(self) -> None:
        self._timer = None
        heap = self._heap
        now_ms = int(self.clock.seconds() * 1000)
        done = 0
        while heap and heap[0][0] <= now_ms and done < MAX_PER_RUN:
            deadline, db_index, key = heapq.heappop(heap)
            self.live = max(0, self.live - 1)
            self._expire_due(db_index, key, deadline)
            done += 1
        if heap:
            self._arm(heap[0][0] if done < MAX_PER_RUN else now_ms)

    def sample(self, count: int) -> list[tuple[int, int, bytes]]:
        """``count`` random (deadline, db, key) entries, some maybe stale (for eviction)."""
        heap = self._heap
        return random.choices(heap, k=count) if heap else []

    def earliest(self) -> tuple[int, int, bytes] | None:
        """The entry with the soonest deadline (maybe stale), or None."""
        return self._heap[0] if self._heap else None

    def stop(self) -> None:
        """Cancel the timer (on service stop)."""
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def clear(self) -> None:
        """Forget every deadline (FLUSHALL)."""
        self._heap = []
        self.live = 0
        self.stop()
