# -*- test-case-name: tests.unit.data.test_slots -*-
"""The keys of a database by hash slot: Redis Cluster's slots-to-keys map.

In cluster mode Redis keeps, for every slot, the keys of database 0 that hash
to it, so that CLUSTER COUNTKEYSINSLOT answers at once and CLUSTER
GETKEYSINSLOT (which ``redis-cli --cluster reshard`` calls until a slot is
empty) does not walk the whole keyspace. :class:`SlotIndex` is that map; a
:class:`hush.data.store.Database` reports its keys to it only while it has
one (``Database.slots``), so a server outside cluster mode pays one test of
a slot per key added or removed.

A slot's keys are kept in insertion order; :meth:`SlotIndex.keys` lists the
newest first, as Redis's per-slot lists (new keys go to their head) do.
"""

from __future__ import annotations

from collections.abc import Iterable

from hush.formats.keyslot import key_slot


class SlotIndex:
    """Slot -> the keys in it (as dicts used as ordered sets), and their counts."""

    __slots__ = ("by_slot",)

    def __init__(self, keys: Iterable[bytes] = ()) -> None:
        self.by_slot: dict[int, dict[bytes, None]] = {}
        for key in keys:
            self.add(key)

    def add(self, key: bytes) -> None:
        """A key was added to the database."""
        slot = key_slot(key)
        members = self.by_slot.get(slot)
        if members is None:
            self.by_slot[slot] = {key: None}
        else:
            members[key] = None

    def remove(self, key: bytes) -> None:
        """A key left the database."""
        slot = key_slot(key)
        members = self.by_slot.get(slot)
        if members is not None:
            members.pop(key, None)
            if not members:
                del self.by_slot[slot]

    def clear(self) -> None:
        """Every key left (FLUSHDB, FLUSHALL)."""
        self.by_slot.clear()

    def rebuild(self, keys: Iterable[bytes]) -> None:
        """Index ``keys`` anew, in place: a loader filled the database without telling."""
        self.by_slot.clear()
        for key in keys:
            self.add(key)

    def count(self, slot: int) -> int:
        """How many keys hash to ``slot``."""
        members = self.by_slot.get(slot)
        return len(members) if members else 0

    def keys(self, slot: int, count: int) -> list[bytes]:
        """Up to ``count`` keys of ``slot``, the most recently added first."""
        members = self.by_slot.get(slot)
        if not members or count <= 0:
            return []
        found = []
        for key in reversed(members):
            if len(found) >= count:
                break
            found.append(key)
        return found

    def __len__(self) -> int:
        return sum(len(members) for members in self.by_slot.values())
