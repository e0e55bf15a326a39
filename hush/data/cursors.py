# -*- test-case-name: tests.unit.data.test_cursors -*-
"""Snapshot cursors for SCAN, HSCAN and SSCAN.

(ZSCAN does not need them: a large sorted set is walked in the CRC32 order
of its members, a position that stays meaningful while it changes --
:meth:`hush.data.types.zset.ZSet.scan`.)

Redis walks its hash tables in reverse-binary bucket order, which is what lets
SCAN promise that every element present for the whole iteration is returned
at least once. Hush's keyspace is an insertion-ordered dict that reorders on
every access (LRU ``move_to_end``), so a position in it means nothing one
command later. Instead, the first call of an iteration (cursor 0) copies the
collection's keys into a *snapshot*, and the cursor names the snapshot and an
offset into it:

    cursor = snapshot_id << 32 | offset        (an unsigned 64-bit integer)

Each later call resumes at the offset and skips the items that are gone by
then. So an item present for the whole iteration is returned exactly once,
items added during it may or may not be (they are not), and items deleted
during it are not returned after their deletion -- Redis's guarantees.

Details:

- A collection with at most COUNT items is answered whole with cursor 0 and no
  snapshot (like Redis's listpack-encoded small collections).
- A call examines at most ``COUNT * 10`` snapshot entries (Redis's
  ``maxiterations``), so a call can return fewer than COUNT items, even none,
  with a non-zero cursor, when many snapshotted items were deleted.
- Snapshots live in a bounded LRU :class:`CursorRegistry` on the store (64
  snapshots, and at most :data:`MAX_ITEMS` snapshotted items in all beyond the
  newest), and a snapshot is dropped when its iteration completes.
- A cursor the registry does not know -- evicted, invented by the client, from
  another database or another value, or past its snapshot's end -- starts the
  iteration again from the beginning with a new snapshot. Redis accepts any
  number as a cursor and never reports it invalid, so restarting is the only
  faithful answer that keeps the guarantee: it can return duplicates (which
  Redis allows) but never misses an item. An iteration only restarts if more
  than 64 other iterations began while it was paused.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable
from typing import Any

from hush.core.errors import CommandError

#: Most snapshots kept at once (least recently used goes first).
MAX_SNAPSHOTS = 64
#: Most snapshotted items kept in all; the newest snapshot is always kept.
MAX_ITEMS = 4_000_000
#: Redis examines at most COUNT * 10 buckets per call.
WORK_FACTOR = 10

_OFFSET_BITS = 32
_OFFSET_MASK = (1 << _OFFSET_BITS) - 1
_MAX_ID = (1 << 32) - 1
_ULONG_MAX = 2**64 - 1

INVALID_CURSOR = "ERR invalid cursor"


def parse_cursor(raw: bytes) -> int:
    """A SCAN cursor as Redis's ``strtoul`` reads it (base 10).

    Like C: an optional sign (a minus wraps around 2**64), leading zeros, an
    empty string is 0; leading whitespace, trailing junk and values beyond
    64 bits are ``ERR invalid cursor``.
    """
    text = raw
    negative = False
    if text[:1] in (b"+", b"-"):
        negative = text[:1] == b"-"
        text = text[1:]
    if not raw:
        return 0
    if not text or not text.isdigit() or not text.isascii():
        raise CommandError(INVALID_CURSOR)
    value = int(text)
    if value > _ULONG_MAX:
        raise CommandError(INVALID_CURSOR)
    return (-value) & _ULONG_MAX if negative else value


class _Snapshot:
    """The items of one collection at the start of an iteration."""

    __slots__ = ("owner", "items")

    def __init__(self, owner: Any, items: list[Hashable]) -> None:
        self.owner = owner
        self.items = items


class CursorRegistry:
    """The snapshots of the iterations in progress, bounded and LRU-ordered."""

    def __init__(self, max_snapshots: int = MAX_SNAPSHOTS, max_items: int = MAX_ITEMS) -> None:
        self.max_snapshots = max_snapshots
        self.max_items = max_items
        self._snapshots: OrderedDict[int, _Snapshot] = OrderedDict()
        self._items = 0
        self._last_id = 0

    def __len__(self) -> int:
        return len(self._snapshots)

    def page(
        self,
        owner: Any,
        cursor: int,
        count: int,
        items: Callable[[], Collection[Hashable]],
        present: Callable[[Hashable], bool],
    ) -> tuple[int, list[Hashable]]:
        """One step of an iteration: (next cursor, items to consider).

        @param owner: what is iterated (a database, a hash ...): a cursor is
            only honoured for the same object (compared by identity).
        @param cursor: the client's cursor (0 starts an iteration).
        @param count: the COUNT hint, at least 1.
        @param items: returns the collection's current items (called when a
            snapshot is taken).
        @param present: tells whether a snapshotted item still exists.
        @return: the next cursor (0 when done) and the items of this step,
            before any MATCH/TYPE filtering, which is the caller's.
        """
        snapshot = None
        offset = 0
        if cursor:
            snapshot_id, offset = cursor >> _OFFSET_BITS, cursor & _OFFSET_MASK
            snapshot = self._snapshots.get(snapshot_id)
            if snapshot is None or snapshot.owner is not owner or offset > len(snapshot.items):
                snapshot = None
                offset = 0
            else:
                self._snapshots.move_to_end(snapshot_id)
        if snapshot is None:
            current = items()
            if len(current) <= count:
                return 0, list(current)
            snapshot_id, snapshot = self._add(owner, list(current))
        return self._step(snapshot_id, snapshot, offset, count, present)

    def _step(
        self,
        snapshot_id: int,
        snapshot: _Snapshot,
        offset: int,
        count: int,
        present: Callable[[Hashable], bool],
    ) -> tuple[int, list[Hashable]]:
        entries = snapshot.items
        end = len(entries)
        stop = min(end, offset + count * WORK_FACTOR)
        found: list[Hashable] = []
        while offset < stop and len(found) < count:
            item = entries[offset]
            offset += 1
            if present(item):
                found.append(item)
        if offset >= end:
            self._drop(snapshot_id)
            return 0, found
        return snapshot_id << _OFFSET_BITS | offset, found

    def _add(self, owner: Any, items: list[Hashable]) -> tuple[int, _Snapshot]:
        snapshot_id = self._last_id % _MAX_ID + 1
        self._last_id = snapshot_id
        # After 2**32 iterations an id comes round again; the old one is stale.
        self._drop(snapshot_id)
        snapshot = _Snapshot(owner, items)
        self._snapshots[snapshot_id] = snapshot
        self._items += len(items)
        while len(self._snapshots) > 1 and (
            len(self._snapshots) > self.max_snapshots or self._items > self.max_items
        ):
            self._drop(next(iter(self._snapshots)))
        return snapshot_id, snapshot

    def _drop(self, snapshot_id: int) -> None:
        snapshot = self._snapshots.pop(snapshot_id, None)
        if snapshot is not None:
            self._items -= len(snapshot.items)

    def forget(self, owner: Any) -> None:
        """Drop every snapshot of ``owner`` (its collection is gone)."""
        for snapshot_id in [i for i, s in self._snapshots.items() if s.owner is owner]:
            self._drop(snapshot_id)

    def clear(self) -> None:
        """Drop every snapshot."""
        self._snapshots.clear()
        self._items = 0
