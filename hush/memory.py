# -*- test-case-name: tests.test_memory -*-
"""maxmemory: a running estimate of the dataset's size, and eviction by policy.

Tracking costs nothing until ``maxmemory`` is set: then every database (and
the store) switches to a subclass whose writes also keep a per-key size
estimate up to date (:class:`TrackedDatabase`), the keyspace is measured
once, and every connection's dispatcher takes its slow path (``_gate``),
where :meth:`MemoryManager.admit` evicts keys before a command while the
estimate is over the limit, or refuses a ``denyoom`` command with Redis's OOM
error when nothing (more) can be evicted. Setting ``maxmemory`` back to 0
switches all of it off again.

The estimate is what CPython would need for the keys and values: a key's
size is its bytes object plus a dictionary entry's bookkeeping, a value's is
``sys.getsizeof`` of the container plus its length times the average size of
up to :data:`SAMPLE` of its elements (so updating a large hash after HSET is
not a walk over the hash). :data:`BASELINE` stands for the server itself,
about what an empty Redis 7 reports, so that maxmemory values sized for Redis
leave Hush about the same room for data.
"""

from __future__ import annotations

from collections import deque
from itertools import islice
from sys import getsizeof
from typing import TYPE_CHECKING, Any

from hush.errors import CommandError
from hush.eviction import choose_victim
from hush.store import Database, Store
from hush.zset import ZSet

if TYPE_CHECKING:
    from hush.protocol import RedisProtocol
    from hush.service import StoreService

#: What the server itself is counted as, in bytes (an empty Redis 7: ~1 MB).
BASELINE = 1_000_000

#: Per key: the OrderedDict entry and its links, the atime entry, the key's hash slot.
ENTRY_OVERHEAD = 104

#: Elements of a container looked at to estimate its average element size.
SAMPLE = 16

#: Commands a client in MULTI may still send when out of memory.
_MULTI_EXEMPT = frozenset(["exec", "discard", "quit", "reset"])

OOM = "OOM command not allowed when used memory > 'maxmemory'."

_BYTES_BASE = getsizeof(b"")
#: A key and a string value together, less their lengths (the common case, inlined).
_STRING_ENTRY = ENTRY_OVERHEAD + 2 * _BYTES_BASE
_FLOAT_SIZE = getsizeof(0.0)
_PAIR_SIZE = getsizeof((0.0, b""))


def value_size(value: Any) -> int:
    """Estimated bytes held by a stored value (sampling large containers)."""
    cls = value.__class__
    if cls is bytes:
        return getsizeof(value)
    count = len(value)
    if cls is dict:
        if not count:
            return getsizeof(value)
        sample = list(islice(value.items(), SAMPLE))
        each = sum(getsizeof(field) + getsizeof(item) for field, item in sample) / len(sample)
        return getsizeof(value) + int(count * each)
    if cls is deque or cls is set:
        if not count:
            return getsizeof(value)
        sample = list(islice(value, SAMPLE))
        each = sum(map(getsizeof, sample)) / len(sample)
        return getsizeof(value) + int(count * each)
    if cls is ZSet:
        scores = value.scores
        if not count:
            return getsizeof(scores)
        sample = list(islice(scores, SAMPLE))
        # Each member: its bytes, its float score, and the (score, member)
        # pair in the sorted order with that list's slot.
        each = sum(map(getsizeof, sample)) / len(sample) + _FLOAT_SIZE + _PAIR_SIZE + 8
        return getsizeof(scores) + int(count * each)
    return getsizeof(value)


def key_size(key: bytes, value: Any) -> int:
    """Estimated bytes held by one key and its value."""
    if value.__class__ is bytes:
        return _STRING_ENTRY + len(key) + len(value)
    return ENTRY_OVERHEAD + _BYTES_BASE + len(key) + value_size(value)


class Tracker:
    """The per-key size estimates of every database, and their sum."""

    def __init__(self, store: Store) -> None:
        self.used = 0
        self.sizes: list[dict[bytes, int]] = [{} for _ in store.dbs]
        for db in store.dbs:
            sizes = self.sizes[db.index]
            for key, value in db.data.items():
                sizes[key] = size = key_size(key, value)
                self.used += size

    def account(self, db: Database, key: bytes) -> None:
        """Re-measure ``key`` after a write (or forget it if it is gone)."""
        sizes = self.sizes[db.index]
        value = db.data.get(key)
        old = sizes.get(key, 0)
        if value is None:
            if key in sizes:
                del sizes[key]
                self.used -= old
            return
        sizes[key] = new = key_size(key, value)
        self.used += new - old

    def forget(self, db: Database, key: bytes) -> None:
        """``key`` was removed."""
        size = self.sizes[db.index].pop(key, None)
        if size is not None:
            self.used -= size

    def clear(self, db: Database) -> None:
        """Every key of ``db`` was removed."""
        sizes = self.sizes[db.index]
        self.used -= sum(sizes.values())
        sizes.clear()


class TrackedDatabase(Database):
    """A :class:`Database` whose writes keep the memory estimate current."""

    __slots__ = ()

    def set(self, key: bytes, value: Any, keep_ttl: bool = False) -> None:
        Database.set(self, key, value, keep_ttl)
        # Inlined Tracker.account: the value is the one just stored.
        tracker = self.store.memory_tracker
        sizes = tracker.sizes[self.index]
        if value.__class__ is bytes:
            new = _STRING_ENTRY + len(key) + len(value)
        else:
            new = key_size(key, value)
        tracker.used += new - sizes.get(key, 0)
        sizes[key] = new

    def modified(self, key: bytes) -> None:
        Database.modified(self, key)
        self.store.memory_tracker.account(self, key)

    def pushed(self, key: bytes) -> None:
        Database.pushed(self, key)
        self.store.memory_tracker.account(self, key)

    def _remove(self, key: bytes) -> None:
        Database._remove(self, key)
        self.store.memory_tracker.forget(self, key)

    def _evict(self, key: bytes | None = None) -> tuple[bytes, Any]:
        key, value = Database._evict(self, key)
        self.store.memory_tracker.forget(self, key)
        return key, value

    def _expire_if_due(self, key: bytes) -> bool:
        expired = Database._expire_if_due(self, key)
        if expired:
            self.store.memory_tracker.forget(self, key)
        return expired

    def clear(self) -> None:
        Database.clear(self)
        self.store.memory_tracker.clear(self)


class TrackedStore(Store):
    """A :class:`Store` whose SWAPDB moves the size estimates with the data."""

    __slots__ = ()

    def swapdb(self, first: int, second: int) -> None:
        Store.swapdb(self, first, second)
        sizes = self.memory_tracker.sizes
        sizes[first], sizes[second] = sizes[second], sizes[first]


class MemoryManager:
    """The maxmemory limit of one server: tracking, eviction and OOM refusals.

    @ivar limited: True while maxmemory is set; connections take their
        gated dispatch path then.
    """

    def __init__(self, server: StoreService) -> None:
        self.server = server
        self.store = server.store
        self.settings = server.settings
        self.tracker: Tracker | None = None
        self.limited = False
        self.settings.on_change("maxmemory", self._limit_changed)
        if self.settings.maxmemory:
            self._limit_changed(self.settings.maxmemory)

    # -- switching on and off ------------------------------------------------

    def _limit_changed(self, limit: int) -> None:
        if limit and self.tracker is None:
            self._start()
        elif not limit and self.tracker is not None:
            self._stop()
        self.limited = bool(limit)
        for client in list(self.server.clients.values()):
            client.update_gate()
        if limit:
            # Redis starts evicting as soon as the limit is lowered.
            self.evict()

    def _start(self) -> None:
        store = self.store
        self.tracker = store.memory_tracker = Tracker(store)
        store.__class__ = TrackedStore
        for db in store.dbs:
            db.__class__ = TrackedDatabase

    def _stop(self) -> None:
        store = self.store
        for db in store.dbs:
            db.__class__ = Database
        store.__class__ = Store
        self.tracker = None
        del store.memory_tracker

    # -- figures -------------------------------------------------------------

    def used_memory(self) -> int | None:
        """The estimate INFO reports as used_memory, or None while not tracking."""
        tracker = self.tracker
        return None if tracker is None else BASELINE + tracker.used

    # -- eviction ------------------------------------------------------------

    def admit(self, client: RedisProtocol, cmd: Any) -> CommandError | None:
        """Before a command: evict while over the limit; the error if it must be refused.

        As in Redis: a ``denyoom`` command is refused, and so is every command
        queued in MULTI but EXEC/DISCARD/QUIT/RESET; EXEC of a transaction that
        holds a ``denyoom`` command discards it.
        """
        tracker = self.tracker
        if tracker is None or BASELINE + tracker.used <= self.settings.maxmemory:
            return None
        if self.evict():
            return None
        name = (cmd.parent or cmd).name
        if name == "exec":
            if client.in_multi and _queues_denyoom(client):
                from hush.commands.transactions import end_transaction

                end_transaction(client)
                return CommandError(f"EXECABORT Transaction discarded because of: {OOM}")
            return None
        if "denyoom" in cmd.flags or (client.in_multi and name not in _MULTI_EXEMPT):
            return CommandError(OOM)
        return None

    def evict(self) -> bool:
        """Evict keys by the policy until under maxmemory; False if that was not possible."""
        tracker = self.tracker
        if tracker is None:
            return True
        limit = self.settings.maxmemory
        store = self.store
        while BASELINE + tracker.used > limit:
            victim = choose_victim(store, self.settings.maxmemory_policy, store.dbs,
                                   self.settings.maxmemory_samples)
            if victim is None:
                return False
            db, key = victim
            db._evict(key)
        return True


def _queues_denyoom(client: RedisProtocol) -> bool:
    # EXEC is refused when its transaction holds a command that would be.
    from hush.commands.table import lookup

    for argv in client.multi_queue:
        cmd = lookup(argv[0])
        if cmd is not None and "denyoom" in cmd.flags:
            return True
    return False
