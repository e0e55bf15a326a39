# -*- test-case-name: tests.unit.data.test_store -*-
"""Active expiry: one timer for the earliest deadline, over the keys grouped by deadline.

Keys' deadlines live in each database's ``expires`` map, which is the truth;
the scheduler only says when to look. Per database it keeps deadline -> the
keys given it (one key, or a list when several share the millisecond, as
keys written together with the same TTL do), and a heap of the deadlines:
a key with a TTL costs a slot in a list or a dict entry shared with the keys
of its millisecond, not a tuple and a heap slot of its own. Entries go stale
when a key's TTL changes or the key is deleted, and are skipped when their
deadline comes; everything is rebuilt from the current entries when stale
ones outnumber live ones, so rewriting TTLs cannot grow it without bound.
One ``callLater`` is armed for the earliest deadline -- never one per key.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from typing import Any

from twisted.internet.interfaces import IDelayedCall, IReactorTime

#: Most keys expired in one timer run, so a mass expiry cannot stall the reactor.
MAX_PER_RUN = 2000


class ExpiryScheduler:
    """Keeps the deadlines and the single timer for a :class:`Store`."""

    def __init__(
        self,
        clock: IReactorTime,
        expire_due: Callable[[int, bytes, int], bool],
        is_current: Callable[[int, int, bytes], bool],
        databases: int = 16,
    ) -> None:
        """
        @param clock: where time and timers come from.
        @param expire_due: called as C{expire_due(db_index, key, deadline_ms)}
            when an entry comes due; returns True if it expired a key.
        @param is_current: C{is_current(deadline_ms, db_index, key)} tells
            whether an entry still matches the key's deadline (for compaction).
        @param databases: how many databases keys come from.
        """
        self.clock = clock
        self._expire_due = expire_due
        self._is_current = is_current
        #: Per database: deadline -> the key given it, or a list of them.
        self._due: list[dict[int, Any]] = [{} for _ in range(databases)]
        #: The deadlines of ``_due`` (a deadline may be there twice, or stale).
        self._heap: list[int] = []
        #: Keys in ``_due``, stale ones included.
        self.entries = 0
        #: The deadline given last: a database stores an equal one as this
        #: same int object.
        self.last_deadline = 0
        self._timer: IDelayedCall | None = None
        self._timer_at = 0
        # Entries found current at the last compaction. Not raised on add: a
        # rewritten TTL adds an entry but no live key, so counting adds would
        # let rewrites grow the entries without bound.
        self.live = 0
        # DEBUG SET-ACTIVE-EXPIRE 0 turns the timer off; lookups still expire.
        self.enabled = True

    def set_enabled(self, enabled: bool) -> None:
        """Turn active expiry on or off (DEBUG SET-ACTIVE-EXPIRE)."""
        self.enabled = enabled
        if enabled and self._heap:
            self._arm(self._heap[0])
        elif not enabled:
            self.stop()

    def add(self, deadline_ms: int, db_index: int, key: bytes) -> None:
        """Note that ``key`` in database ``db_index`` has a deadline."""
        due = self._due[db_index]
        held = due.get(deadline_ms)
        if held is None:
            due[deadline_ms] = key
            heapq.heappush(self._heap, deadline_ms)
        elif held.__class__ is list:
            held.append(key)
        else:
            due[deadline_ms] = [held, key]
        self.entries += 1
        if self.entries > 1024 and self.entries > 2 * self.live:
            self.compact()
        if self.enabled and (self._timer is None or deadline_ms < self._timer_at):
            self._arm(deadline_ms)

    def compact(self) -> None:
        """Drop stale entries: the store is asked which deadlines are still current."""
        is_current = self._is_current
        deadlines = set()
        entries = 0
        for index, due in enumerate(self._due):
            kept: dict[int, Any] = {}
            for deadline, held in due.items():
                keys = held if held.__class__ is list else [held]
                current = [key for key in keys if is_current(deadline, index, key)]
                if current:
                    kept[deadline] = current if len(current) > 1 else current[0]
                    deadlines.add(deadline)
                    entries += len(current)
            self._due[index] = kept
        # In place: a run in progress holds the list.
        self._heap[:] = deadlines
        heapq.heapify(self._heap)
        self.entries = self.live = entries

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
        budget = MAX_PER_RUN
        while heap and heap[0] <= now_ms and budget > 0:
            deadline = heapq.heappop(heap)
            for index, due in enumerate(self._due):
                held = due.pop(deadline, None) if due else None
                if held is None:
                    continue
                keys = held if held.__class__ is list else [held]
                if len(keys) > budget:
                    # The rest waits for the next run, right after this one.
                    rest = keys[budget:]
                    due[deadline] = rest if len(rest) > 1 else rest[0]
                    keys = keys[:budget]
                budget -= len(keys)
                self.entries -= len(keys)
                self.live = max(0, self.live - len(keys))
                for key in keys:
                    self._expire_due(index, key, deadline)
                if not budget:
                    break
            if not budget and self._find(deadline) is not None:
                heapq.heappush(heap, deadline)
        if heap:
            self._arm(heap[0] if budget else now_ms)

    def _find(self, deadline: int) -> tuple[int, Any] | None:
        """(database, what it holds) of the first database with keys due at ``deadline``."""
        for index, due in enumerate(self._due):
            held = due.get(deadline) if due else None
            if held is not None:
                return index, held
        return None

    def sample(self, count: int) -> list[tuple[int, int, bytes]]:
        """``count`` random (deadline, db, key) entries, some maybe stale (for eviction)."""
        heap = self._heap
        if not heap:
            return []
        found = []
        for deadline in random.choices(heap, k=count):
            held = self._find(deadline)
            if held is not None:
                index, keys = held
                key = random.choice(keys) if keys.__class__ is list else keys
                found.append((deadline, index, key))
        return found

    def earliest(self) -> tuple[int, int, bytes] | None:
        """The entry with the soonest deadline (maybe stale), or None."""
        heap = self._heap
        while heap:
            held = self._find(heap[0])
            if held is not None:
                index, keys = held
                return heap[0], index, keys[0] if keys.__class__ is list else keys
            heapq.heappop(heap)   # a deadline met twice, or emptied by compaction
        return None

    def stop(self) -> None:
        """Cancel the timer (on service stop)."""
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def clear(self) -> None:
        """Forget every deadline (FLUSHALL)."""
        self._due = [{} for _ in self._due]
        self._heap = []
        self.entries = 0
        self.live = 0
        self.stop()
