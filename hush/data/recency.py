# -*- test-case-name: tests.unit.data.test_recency -*-
"""When each key was last used, kept in the order of its database's dict.

A database's ``data`` dict is in least-recently-used-first order: a read or
a write moves its key to the end (pop and insert). Between the keys sit
*ticks*: entries whose key is an ``int`` (a serial number; clients' keys are
bytes, so no key can be one) and whose value is a unix second. Each key was
last used in the second of the nearest tick before it. The store adds a tick
to every database when its second changes (:meth:`Recency.tick`), so a key
costs its dict entry and nothing else: no per-key access time, which in
CPython would be a second dict entry per key (about 42 bytes at a million
keys, as much as the dict itself).

What needs a key's second reads it from there:

- the least recently used key is the first key of the dict
  (:meth:`Recency.lru_head`). Finding it walks from the start of the dict,
  over the slots of keys deleted or moved since the dict was last resized:
  so a batch of the oldest keys is taken at once (``victims``), and a key
  used or removed meanwhile leaves the batch;
- OBJECT IDLETIME and DEBUG OBJECT read one key's second: the first time
  that walks the whole dict and keeps every key's second in ``index``,
  which uses keep current until nothing asked for :data:`INDEX_KEEP`
  seconds, when it is dropped again;
- RESTORE ... IDLETIME and keys loaded from an RDB file with their idle
  time have a second their place cannot tell: it is kept in ``pins`` until
  the key is used or removed.

Ticks only accrue while a database is used (a tick with no key after it
takes the new second instead of a new tick); past :data:`TICKS_MAX` of them
the older half is thinned (:meth:`Recency.thin`): a key whose tick went counts
from the tick before, so an idle time older than :data:`TICKS_MAX` / 2 busy
seconds may read high by under 1% -- never low.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterator
from itertools import count, islice
from typing import Any

#: Most ticks per database before the older half is thinned.
TICKS_MAX = 8192
#: A database with at most this many entries drops its empty ticks by a walk
#: before thinning (cheap at that size, and exact).
WALK_LIMIT = 1 << 16
#: Seconds the per-key index survives without a lookup.
INDEX_KEEP = 300
#: Fewest entries taken per batch of eviction candidates; a large database
#: takes 1/64 of them, so the walk over deleted slots is paid once per batch.
BATCH_MIN = 64

#: Tick serial numbers: unique across databases, as SWAPDB exchanges dicts.
_serials = count(1)


class Recency:
    """The ticks of one database's dict, and what is derived from them.

    @ivar ticks: the tick serials in dict order (oldest first).
    @ivar index: key -> second of last use, while kept (else None).
    @ivar index_used: the second of the index's last lookup.
    @ivar pins: key -> second, for keys whose place does not tell it.
    @ivar victims: the eviction candidates: the first entries of the dict
        (keys and ticks) when they were taken, oldest first.
    @ivar live: the entries of ``victims`` not used or removed since they were taken.
    @ivar head: the tick the first candidate counts from, and its second.
    """

    __slots__ = ("ticks", "index", "index_used", "pins", "victims", "live", "head",
                 "head_second")

    def __init__(self, data: dict[Any, Any], second: int) -> None:
        """Start recording for the empty ``data``: its first tick, at ``second``."""
        serial = next(_serials)
        data[serial] = second
        self.ticks: deque[int] = deque([serial])
        self.index: dict[bytes, int] | None = None
        self.index_used = 0
        self.pins: dict[bytes, int] = {}
        self.victims: deque[Any] = deque()
        self.live: set[Any] = set()
        self.head = serial
        self.head_second = second

    @property
    def active(self) -> bool:
        """True if a use or removal of a key must be reported (:meth:`touched`)."""
        return self.index is not None or bool(self.pins) or bool(self.live)

    # -- the clock -------------------------------------------------------------

    def tick(self, data: dict[Any, Any], second: int) -> None:
        """The store's second changed: keys used from now on belong to ``second``."""
        newest = self.ticks[-1]
        if next(reversed(data)) is newest:
            # Nothing was used since the last tick: it takes the new second.
            data[newest] = second
        else:
            serial = next(_serials)
            data[serial] = second
            self.ticks.append(serial)
            if len(self.ticks) > TICKS_MAX:
                self.thin(data)
        if self.index is not None and second - self.index_used > INDEX_KEEP:
            self.index = None

    def thin(self, data: dict[Any, Any]) -> None:
        """Bring the ticks down to 3/4 of :data:`TICKS_MAX`: the empty ones
        first (small databases), then ticks of the older half, least harmful
        first.

        Dropping a tick makes its keys count from the tick before it: their
        idle time reads high by up to the gap between the two. Each step drops
        the tick whose merged gap is the smallest part of the age of the
        youngest key it affects, so an idle time is overstated by a share of
        itself (under 1% even after weeks of a busy database), never
        understated.
        """
        if len(data) <= WALK_LIMIT:
            self._drop_empty(data)
        ticks = list(self.ticks)
        count = len(ticks)
        excess = count - TICKS_MAX * 3 // 4
        if excess <= 0:
            return
        seconds = [data[serial] for serial in ticks]
        now = seconds[-1]
        before = list(range(-1, count - 1))
        after = list(range(1, count + 1))
        # The first tick is the head's mark; the newer half stays exact.
        older = count // 2

        def harm(position: int) -> float:
            following = seconds[after[position]]
            # max(): a clock set back can leave a tick ahead of the newest.
            return (following - seconds[before[position]]) / max(1, now - following + 1)

        heap = [(harm(position), position) for position in range(1, older)]
        heapq.heapify(heap)
        dropped = set()
        while len(dropped) < excess and heap:
            cost, position = heapq.heappop(heap)
            if position in dropped or cost != harm(position):
                continue   # dropped, or its neighbours changed since
            dropped.add(position)
            previous, following = before[position], after[position]
            after[previous] = following
            before[following] = previous
            for neighbour in (previous, following):
                if 0 < neighbour < older and neighbour not in dropped:
                    heapq.heappush(heap, (harm(neighbour), neighbour))
        for position in dropped:
            del data[ticks[position]]
        self.ticks = deque(serial for position, serial in enumerate(ticks)
                           if position not in dropped)

    def _drop_empty(self, data: dict[Any, Any]) -> None:
        # A tick followed by another tick has no key: dropping it changes no
        # key's second. The newest one stays (new keys go after it).
        empty = []
        previous = None
        for entry in data:
            if entry.__class__ is int:
                if previous is not None:
                    empty.append(previous)
                previous = entry
            else:
                previous = None
        if not empty:
            return
        gone = set(empty)
        for serial in empty:
            del data[serial]
        self.ticks = deque(serial for serial in self.ticks if serial not in gone)

    # -- what changed ------------------------------------------------------------

    def touched(self, key: bytes, second: int) -> None:
        """``key`` was used (and so moved to the end) in ``second``."""
        if self.index is not None:
            self.index[key] = second
        if self.pins:
            self.pins.pop(key, None)
        if self.live:
            self.live.discard(key)

    def removed(self, key: bytes) -> None:
        """``key`` left the database."""
        if self.index is not None:
            self.index.pop(key, None)
        if self.pins:
            self.pins.pop(key, None)
        if self.live:
            self.live.discard(key)

    def pin(self, key: bytes, second: int) -> None:
        """``key`` was last used in ``second``, whatever its place says (RESTORE IDLETIME)."""
        self.pins[key] = second
        if self.index is not None:
            self.index[key] = second

    # -- reading it ---------------------------------------------------------------

    def last_used(self, data: dict[Any, Any], key: bytes, now: int) -> int:
        """The second ``key`` (which is in ``data``) was last used."""
        pinned = self.pins.get(key)
        if pinned is not None:
            return pinned
        index = self.index
        if index is None or key not in index:
            # Built whole: a client asking for one key's idle time (a SCAN
            # over OBJECT IDLETIME, say) is likely to ask for the others.
            index = self.index = {key: second for key, _value, second in self.entries(data)}
        self.index_used = now
        return index[key]

    def entries(self, data: dict[Any, Any]) -> Iterator[tuple[bytes, Any, int]]:
        """(key, value, second of last use) of every key, least recent first."""
        pins = self.pins
        second = 0
        for key, value in data.items():
            if key.__class__ is int:
                second = value
            elif pins and key in pins:
                yield key, value, pins[key]
            else:
                yield key, value, second

    def lru_head(self, data: dict[Any, Any]) -> tuple[int, bytes] | None:
        """(second, key) of the least recently used key, or None if there is none."""
        key = self._front(data)
        return None if key is None else (self.head_second, key)

    def pop_lru(self, data: dict[Any, Any]) -> bytes | None:
        """The least recently used key, taken off the candidates (the caller
        removes it from ``data``), or None if there is none."""
        key = self._front(data)
        if key is not None:
            self.victims.popleft()
            self.live.discard(key)
        return key

    def _front(self, data: dict[Any, Any]) -> bytes | None:
        # The candidates are a prefix of the dict, ticks included: a key
        # used or removed since left ``live``; passing a tick means every
        # key of the segment before it is gone, and so is its tick.
        victims = self.victims
        ticks = self.ticks
        while True:
            live = self.live
            while victims:
                entry = victims[0]
                if entry.__class__ is int:
                    victims.popleft()
                    if entry not in data:
                        continue   # thinned: its keys count from the head's second
                    head = self.head
                    if head is not entry and ticks[0] is head:
                        del data[head]
                        ticks.popleft()
                    self.head = entry
                    self.head_second = data.get(entry, self.head_second)
                elif entry in live:
                    return entry
                else:
                    victims.popleft()
            if len(data) == len(ticks):
                self.live = set()
                return None
            # One walk from the start of the dict, over the slots of every key
            # removed from the front since the dict was last resized, takes
            # the batch.
            batch = list(islice(data, max(BATCH_MIN, len(data) >> 6)))
            victims.extend(batch)
            self.live = set(batch)
