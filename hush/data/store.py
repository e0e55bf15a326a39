# -*- test-case-name: tests.unit.data.test_store -*-
"""The shared store: numbered databases of keys, with TTLs and LRU eviction.

No networking lives here. Values are plain Python objects, one class per Redis
type (bytes for strings, deque for lists, ...: :mod:`hush.data.types`), kept
as they came (a string is the bytes object the parser made). Each
:class:`Database` keeps one plain dict whose order is the LRU order (a read
or write moves the key to the end, eviction takes the head), with the
seconds of last use marked in it by ticks (:mod:`hush.data.recency`): no
per-key bookkeeping besides the dict entry. Keys with a TTL also have an
entry in the ``expires`` map of absolute deadlines in milliseconds. Expiry
is lazy (every lookup checks the deadline) and active
(:mod:`hush.data.expiry`).

``maxkeys`` caps each database: a write that adds a key past it evicts one by
``maxkeys_policy`` (:mod:`hush.data.eviction`). Under ``noeviction`` and the
volatile policies a database may have nothing to evict; it is then noted in
:attr:`Store.full`, and the dispatcher refuses writes that would add keys to
it before they run (:mod:`hush.server.memory`).

While maxmemory is set, every write also updates a per-key size estimate
(:meth:`Store.track_sizes`, :mod:`hush.data.sizes`); otherwise that costs a
write one test of the database's ``tracker`` slot.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Iterator
from itertools import compress, repeat
from operator import is_not
from typing import Any

from twisted.internet.interfaces import IReactorTime

from hush.core.errors import WrongType
from hush.core.glob import compile_glob
from hush.data.cursors import CursorRegistry
from hush.data.eviction import ALLKEYS, EvictionLog, choose_victim
from hush.data.expiry import ExpiryScheduler
from hush.data.recency import Recency
from hush.data.sizes import SizeTracker
from hush.data.slots import SlotIndex
from hush.data.tracking import Tracking

#: As many Nones as a map over keys takes (dict.pop's default, is_not's other side).
_NONES = repeat(None)


class Stats:
    """Counters reported by INFO stats."""

    __slots__ = (
        "expired_keys",
        "evicted_keys",
        "keyspace_hits",
        "keyspace_misses",
        "total_commands_processed",
        "total_connections_received",
        "rejected_connections",
        "client_output_buffer_limit_disconnections",
        "acl_access_denied_auth",
        "acl_access_denied_cmd",
        "acl_access_denied_key",
        "acl_access_denied_channel",
        "total_net_input_bytes",
        "total_net_output_bytes",
        "client_query_buffer_limit_disconnections",
    )

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Zero every counter (CONFIG RESETSTAT)."""
        for name in self.__slots__:
            setattr(self, name, 0)


class Database:
    """One numbered keyspace: key -> value in LRU order, and key -> deadline.

    @ivar data: key -> value, least recently used first, with the ticks of
        :mod:`hush.data.recency` between the keys (entries whose key is an
        int): iterate with :meth:`items` or :meth:`keys`, count with
        ``len(db)``.
    @ivar recency: the ticks, and what is derived from them.
    @ivar noting: True while uses and removals of keys must be reported to
        ``recency`` (an index, pins or eviction candidates are kept): the one
        test that costs a read or write otherwise.
    @ivar expires: key -> absolute deadline in milliseconds, for keys with a TTL.
    @ivar encodings: key -> the OBJECT ENCODING a command noted for a value
        whose content does not tell it (APPEND's ``raw``: the string type's
        rule, :mod:`hush.data.types.string`); storing a new value or removing
        the key forgets it.
    @ivar tracker: the store's :class:`SizeTracker` while maxmemory is set,
        else None; every write reports to it.
    @ivar slots: in cluster mode, database 0's :class:`SlotIndex` (keys by
        hash slot); else None. Keys added and removed are reported to it.
    """

    __slots__ = ("index", "store", "data", "recency", "noting", "expires", "encodings",
                 "tracker", "slots")

    def __init__(self, store: Store, index: int) -> None:
        self.store = store
        self.index = index
        self.data: dict[Any, Any] = {}
        self.recency = Recency(self.data, store.lru_second)
        self.noting = False
        self.expires: dict[bytes, int] = {}
        self.encodings: dict[bytes, bytes] = {}
        self.tracker: SizeTracker | None = store.tracker
        self.slots: SlotIndex | None = None

    def __len__(self) -> int:
        return len(self.data) - len(self.recency.ticks)

    def items(self) -> Iterator[tuple[bytes, Any]]:
        """(key, value) of every key, least recently used first, expired ones included."""
        for key, value in self.data.items():
            if key.__class__ is not int:
                yield key, value

    def key_list(self) -> list[bytes]:
        """Every key, least recently used first, expired ones included."""
        return [key for key in self.data if key.__class__ is not int]

    # -- lookups ---------------------------------------------------------

    def get(self, key: bytes) -> Any:
        """Return the live value of ``key`` (or None), marking it recently used."""
        data = self.data
        # Popped and put back: the key moves to the end of the LRU order.
        value = data.pop(key, None)
        if value is None:
            return None
        data[key] = value
        if self.expires and key in self.expires and self._expire_if_due(key):
            return None
        if self.noting:
            recency = self.recency
            if recency.index is None and not recency.pins:
                # Only eviction candidates are kept (a full database): inlined.
                recency.live.discard(key)
            else:
                recency.touched(key, self.store.lru_second)
        return value

    def get_run(self, keys: list[bytes]) -> list[Any]:
        """``[self.get(key) for key in keys]``, in a few C calls when it can be.

        When no key repeats, none has a TTL and no use is to be noted, the
        keys are popped and the found ones put back in order: the same
        values and the same LRU order as one get() after another.
        """
        if self.noting or not self._distinct_without_ttl(keys):
            return list(map(self.get, keys))
        data = self.data
        values = list(map(data.pop, keys, _NONES))
        found = list(map(is_not, values, _NONES))
        data.update(zip(compress(keys, found), compress(values, found), strict=True))
        return values

    def get_typed(self, key: bytes, cls: type) -> Any:
        """Return the value of ``key`` if it is a ``cls``, None if absent, else WRONGTYPE."""
        value = self.get(key)
        if value is not None and value.__class__ is not cls:
            return self._other_class(key, value, cls)
        return value

    def read_typed(self, key: bytes, cls: type) -> Any:
        """Redis's lookupKeyRead: like :meth:`get_typed`, counting a keyspace hit or miss."""
        value = self.get(key)
        stats = self.store.stats
        if value is None:
            stats.keyspace_misses += 1
            return None
        stats.keyspace_hits += 1
        if value.__class__ is not cls:
            return self._other_class(key, value, cls)
        return value

    def get_string(self, key: bytes) -> bytes | None:
        """The string at ``key``, None if absent; WRONGTYPE for other types."""
        value = self.get(key)
        if value is not None and value.__class__ is not bytes:
            return self.frozen_string(key, value)
        return value

    def frozen_string(self, key: bytes, value: Any) -> bytes:
        """The live ``key``'s ``value`` as bytes if it is a string, else WRONGTYPE.

        The bit commands keep a string they change as a bytearray
        (:mod:`hush.data.types.bitmap`); any other command reads it as bytes,
        which the key holds from then on (the same data: not a write). So a
        reply never holds a buffer a later command changes.
        """
        if value.__class__ is not bytearray:
            raise WrongType()
        frozen = bytes(value)
        self.data[key] = frozen
        return frozen

    def _other_class(self, key: bytes, value: Any, cls: type) -> Any:
        if cls is bytes:
            return self.frozen_string(key, value)
        raise WrongType()

    def get_list(self, key: bytes) -> deque | None:
        """The list at ``key``, None if absent; WRONGTYPE for other types."""
        value = self.get(key)
        if value is not None and value.__class__ is not deque:
            raise WrongType()
        return value

    def exists(self, key: bytes) -> bool:
        """True if ``key`` is live. Does not count as a use for LRU."""
        if key not in self.data:
            return False
        return not (self.expires and key in self.expires and self._expire_if_due(key))

    def peek(self, key: bytes) -> Any:
        """The live value of ``key`` without touching its LRU position."""
        if not self.exists(key):
            return None
        return self.data[key]

    def last_used(self, key: bytes) -> int:
        """The unix second the live ``key`` was last read or written (OBJECT IDLETIME)."""
        second = self.recency.last_used(self.data, key, self.store.lru_second)
        # The index it may have built must hear of uses.
        self.noting = True
        return second

    def pin_use(self, key: bytes, second: int) -> None:
        """Say that the live ``key`` was last used in ``second`` (RESTORE IDLETIME, RDB)."""
        self.recency.pin(key, second)
        self.noting = True

    def used_items(self) -> Iterator[tuple[bytes, Any, int]]:
        """(key, value, second of last use) of every key, least recently used first."""
        return self.recency.entries(self.data)

    # -- writes ----------------------------------------------------------

    def set(self, key: bytes, value: Any, keep_ttl: bool = False) -> None:
        """Store ``value`` at ``key``; drops the TTL unless ``keep_ttl``."""
        data = self.data
        store = self.store
        if key in data and not (self.expires and key in self.expires and self._expire_if_due(key)):
            # Deleted first: the key goes to the end of the LRU order.
            del data[key]
            data[key] = value
            if not keep_ttl and self.expires:
                self.expires.pop(key, None)
        else:
            data[key] = value
            if self.slots is not None:
                self.slots.add(key)
            # len(data) counts the ticks too: a cheap first test.
            if store.maxkeys and len(data) >= store.maxkeys:
                store.capacity_reached(self, key)
        if self.noting:
            recency = self.recency
            if recency.index is None and not recency.pins:
                # Only eviction candidates are kept (a full database): inlined.
                recency.live.discard(key)
            else:
                recency.touched(key, store.lru_second)
        if store.blocking_keys:
            # A new value may serve waiters; an overwritten stream wakes its
            # XREADGROUP waiters with an error (Redis 7).
            store.signal_ready(self.index, key)
        if self.encodings:
            self.encodings.pop(key, None)
        store.dirty += 1
        if store.signalling:
            store.signal(self.index, key)
        # maxmemory's size estimate; while it is off this test of a slot is
        # all it costs (a SizeTracker is always true).
        if self.tracker:
            self.tracker.stored(self.index, key, value)

    def set_run(self, keys: list[bytes], values: list[Any], keep_ttl: bool = False) -> None:
        """``self.set(key, value, keep_ttl)`` for each pair in order, in a few C calls
        when it can be.

        When no key repeats or has a TTL and nothing watches single writes
        (cluster slots, a key limit that could be reached, recency noting,
        blocked clients, WATCH or tracking, encodings, maxmemory's sizes),
        every key is popped and the pairs put in at the end: what one set()
        after another leaves.
        """
        store = self.store
        data = self.data
        if (
            self.noting or self.slots is not None or self.encodings or self.tracker
            or store.blocking_keys or store.signalling
            or (store.maxkeys and len(data) + len(keys) >= store.maxkeys)
            or not self._distinct_without_ttl(keys)
        ):
            for key, value in zip(keys, values, strict=True):
                self.set(key, value, keep_ttl)
            return
        deque(map(data.pop, keys, _NONES), 0)
        data.update(zip(keys, values, strict=True))
        store.dirty += len(keys)

    def _distinct_without_ttl(self, keys: list[bytes]) -> bool:
        """True if no key of ``keys`` repeats or has a TTL (a run may then take them all at once)."""
        expires = self.expires
        if expires and not expires.keys().isdisjoint(keys):
            return False
        return len(set(keys)) == len(keys)

    def modified(self, key: bytes, times: int = 1) -> None:
        """Tell the store a value was changed in place, in ``times`` writes (for WATCH,
        the AOF and maxmemory)."""
        self.store.dirty += times
        if self.store.signalling:
            self.store.signal(self.index, key)
        if self.tracker:
            self.tracker.account(self.index, key, self.data.get(key))

    def pushed(self, key: bytes, times: int = 1) -> None:
        """A list (or other blocking source) at ``key`` gained elements, in ``times`` writes."""
        store = self.store
        store.dirty += times
        if store.blocking_keys:
            store.signal_ready(self.index, key)
        if store.signalling:
            store.signal(self.index, key)
        if self.tracker:
            self.tracker.account(self.index, key, self.data.get(key))

    def delete(self, key: bytes) -> bool:
        """Remove ``key``; True if it was live."""
        if not self.exists(key):
            return False
        self._remove(key)
        return True

    def _remove(self, key: bytes) -> None:
        del self.data[key]
        if self.slots is not None:
            self.slots.remove(key)
        if self.noting:
            self.recency.removed(key)
        if self.encodings:
            self.encodings.pop(key, None)
        if self.expires:
            self.expires.pop(key, None)
        self.store.dirty += 1
        if self.store.blocking_keys:
            # A deleted stream wakes its XREADGROUP waiters with an error (Redis 7).
            self.store.signal_ready(self.index, key)
        if self.store.signalling:
            self.store.signal(self.index, key)
        if self.tracker:
            self.tracker.forget(self.index, key)

    def pop_value(self, key: bytes) -> Any:
        """Remove ``key`` and return its live value (None if absent)."""
        if not self.exists(key):
            return None
        value = self.data[key]
        self._remove(key)
        return value

    def clear(self) -> None:
        """Remove every key (FLUSHDB)."""
        store = self.store
        store.dirty += len(self)
        if store.watched_keys:
            for key, _value in self.items():
                store.touch(self.index, key)
        if store.blocking_keys:
            for db_index, key in list(store.blocking_keys):
                if db_index == self.index and key in self.data:
                    store.signal_ready(db_index, key)
        self.data = {}
        self.recency = Recency(self.data, store.lru_second)
        self.noting = False
        self.expires = {}
        self.encodings = {}
        if self.slots is not None:
            self.slots.clear()
        if self.tracker:
            self.tracker.clear(self.index)

    def _evict(self, key: bytes | None = None) -> tuple[bytes, Any]:
        """Remove ``key`` (default: the least recently used) as Redis evicts:
        counted, WATCH spoiled, a DEL to the AOF. Returns the key and its value.

        Not counted in ``dirty``: the eviction is propagated on its own, and
        the command that caused it did not write it.
        """
        if key is None:
            recency = self.recency
            victims = recency.victims
            key = victims[0] if victims else None
            if key is not None and key.__class__ is not int and key in recency.live:
                # The next candidate is a live key (the common case), inlined.
                victims.popleft()
                recency.live.discard(key)
            else:
                key = recency.pop_lru(self.data)
                assert key is not None, "evicting from an empty database"
            # The candidates it took must hear of uses.
            self.noting = True
            if recency.index is not None or recency.pins:
                recency.removed(key)
            value = self.data.pop(key)
        else:
            value = self.data.pop(key)
            if self.noting:
                self.recency.removed(key)
        if self.slots is not None:
            self.slots.remove(key)
        if self.encodings:
            self.encodings.pop(key, None)
        if self.expires:
            self.expires.pop(key, None)
        store = self.store
        store.stats.evicted_keys += 1
        if store.blocking_keys:
            # An evicted stream wakes its XREADGROUP waiters with an error.
            store.signal_ready(self.index, key)
        if store.signalling:
            store.signal(self.index, key, by_command=False)
        if store.propagator is not None:
            # Redis propagates an eviction as a DEL of the key.
            store.propagator.deleted(self.index, key)
        if self.tracker:
            self.tracker.forget(self.index, key)
        return key, value

    # -- time to live ------------------------------------------------------

    def set_expire(self, key: bytes, deadline_ms: int) -> None:
        """Give the live ``key`` an absolute deadline in milliseconds."""
        expiry = self.store.expiry
        # Keys written together with one TTL share their deadline's int
        # object (32 bytes each otherwise).
        if deadline_ms == expiry.last_deadline:
            deadline_ms = expiry.last_deadline
        else:
            expiry.last_deadline = deadline_ms
        self.expires[key] = deadline_ms
        self.store.dirty += 1
        expiry.add(deadline_ms, self.index, key)

    def get_expire(self, key: bytes) -> int | None:
        """The deadline of ``key`` in ms, or None if it has none."""
        return self.expires.get(key) if self.expires else None

    def persist(self, key: bytes) -> bool:
        """Remove the TTL of ``key``; True if it had one."""
        if self.expires.pop(key, None) is None:
            return False
        self.store.dirty += 1
        return True

    def _expire_if_due(self, key: bytes) -> bool:
        deadline = self.expires[key]
        if deadline > self.store.now_ms() or self.store.loading:
            # While the AOF loads nothing expires (as in Redis): replayed
            # commands must see the keys they saw when they ran.
            return False
        if self.store.replica:
            # A replica leaves the deletion to its master's DEL (Redis's
            # expireIfNeeded): the master's own commands still see the key,
            # other clients of a read-only replica see it gone.
            if self.store.obeying_master:
                return False
            if self.store.replica_read_only:
                return True
        del self.data[key]
        del self.expires[key]
        if self.slots is not None:
            self.slots.remove(key)
        if self.noting:
            self.recency.removed(key)
        if self.encodings:
            self.encodings.pop(key, None)
        self.store.stats.expired_keys += 1
        if self.store.blocking_keys:
            self.store.signal_ready(self.index, key)
        if self.store.signalling:
            self.store.signal(self.index, key, by_command=False)
        if self.store.propagator is not None:
            # Not counted in dirty: the command that noticed the expiry did
            # not write. The deletion itself is propagated as Redis does.
            self.store.propagator.deleted(self.index, key)
        if self.tracker:
            self.tracker.forget(self.index, key)
        return True

    # -- iteration ---------------------------------------------------------

    def keys(self, pattern: bytes | None = None) -> list[bytes]:
        """Every live key, optionally matching a glob pattern."""
        self.expire_all_due()
        keys = self.key_list()
        if self.store.replica and self.expires:
            # Expired keys a replica keeps for its master's DEL are not shown.
            keys = [key for key in keys if self.exists(key)]
        if pattern is None or pattern == b"*":
            return keys
        match = compile_glob(pattern)
        return [key for key in keys if match(key)]

    def expire_all_due(self) -> None:
        """Expire every key whose deadline has passed."""
        if not self.expires:
            return
        now = self.store.now_ms()
        for key in [k for k, d in self.expires.items() if d <= now]:
            self._expire_if_due(key)

    def random_key(self) -> bytes | None:
        """A random live key, or None when the database is empty."""
        # A replica keeps expired keys: after 100 of them, Redis answers one anyway.
        tries = 100 if self.store.replica else -1
        while len(self):
            key = next(_islice_at(self.data, random.randrange(len(self.data))))
            if key.__class__ is int:
                continue
            if self.exists(key):
                return key
            tries -= 1
            if not tries:
                return key
        return None

    def lru_head(self) -> tuple[int, bytes] | None:
        """(second of last use, key) of the least recently used key, or None."""
        head = self.recency.lru_head(self.data)
        # The batch of candidates it may have taken must hear of uses.
        self.noting = self.recency.active
        return head


def _islice_at(data: dict[Any, Any], index: int) -> Iterator[Any]:
    # Walk from whichever end is nearer.
    if index < len(data) // 2:
        iterator = iter(data)
    else:
        iterator = reversed(data)
        index = len(data) - 1 - index
    for _ in range(index):
        next(iterator)
    return iterator


class Store:
    """All databases, the expiry timer, and the state commands share.

    @ivar maxkeys: capacity of each database in keys (0: unlimited).
    @ivar maxkeys_policy: what a database at maxkeys gives up for a new key
        (Redis's policy names; see :mod:`hush.data.eviction`).
    @ivar samples: keys with a TTL the volatile policies look at (maxmemory-samples).
    @ivar full: indexes of databases at maxkeys whose policy may leave nothing
        to evict (noeviction, volatile-*): while there are any, the dispatcher
        checks writes against them (:meth:`cannot_grow`).
    @ivar blocking_keys: (db, key) -> waiters; set by :mod:`hush.data.blocking`.
    @ivar watched_keys: (db, key) -> watching clients; set by transactions.
    @ivar tracking: client-side caching's table (:mod:`hush.data.tracking`).
    @ivar signalling: True while a changed key concerns anyone (a WATCH, a
        tracking client): writes call :meth:`signal` only then, so without
        either a write pays one test.
    @ivar tracker: the per-key size estimate while maxmemory is set
        (:meth:`track_sizes`), else None.
    """

    def __init__(self, clock: IReactorTime, databases: int = 16, maxkeys: int = 0,
                 maxkeys_policy: str = "allkeys-lru") -> None:
        self.clock = clock
        self.maxkeys = maxkeys
        self.maxkeys_policy = maxkeys_policy
        self.samples = 5
        self.full: set[int] = set()
        #: Called when :attr:`full` gains its first database (the server
        #: sends every connection through its admission checks then).
        self.on_full: Callable[[], None] | None = None
        self.evictions = EvictionLog(clock)
        self.stats = Stats()
        self.expiry = ExpiryScheduler(clock, self._expire_due, self._deadline_is_current,
                                      databases)
        self.tracker: SizeTracker | None = None
        #: The unix second keys are stamped with when used (OBJECT IDLETIME).
        #: Like Redis's cached LRU clock it is refreshed per read from a
        #: client (:meth:`tick`), not per access: reading the clock costs more
        #: than the rest of a lookup.
        self.lru_second = int(clock.seconds())
        self.dbs = [Database(self, index) for index in range(databases)]
        self.blocking_keys: dict[tuple[int, bytes], Any] = {}
        self.watched_keys: dict[tuple[int, bytes], Any] = {}
        self.tracking = Tracking(clock)
        self.tracking.on_active_change = self.update_signalling
        self.signalling = False
        self.ready_keys: list[tuple[int, bytes]] = []
        #: Set by the blocking manager: serves clients whose keys became ready.
        self.serve_ready: Any = None
        #: Changes to the data (Redis's server.dirty): every write path raises
        #: it; the dispatcher propagates a command to the AOF when it moved.
        self.dirty = 0
        #: A :class:`hush.persistence.propagation.Propagator` while the AOF is on, else None.
        self.propagator: Any = None
        #: True while the AOF is replayed.
        self.loading = False
        #: While this server is a replica: keys expire by its master's DELs, not
        #: locally, and maxkeys evicts nothing (hush.replication sets these).
        self.replica = False
        self.replica_read_only = True
        #: True while the master's commands run on a replica: they see every key.
        self.obeying_master = False
        #: While a script runs, the time it started (ms), else None: as in
        #: Redis 7.0 time stands still for a script, so a key alive when it
        #: starts does not expire under it (hush.scripting.engine sets it).
        self.frozen_ms: int | None = None
        self.cursors = CursorRegistry()

    def tick(self, now: float) -> None:
        """Refresh :attr:`lru_second`; when it moves, every database marks the
        new second in its LRU order (:meth:`hush.data.recency.Recency.tick`)."""
        second = int(now)
        if second != self.lru_second:
            self.lru_second = second
            for db in self.dbs:
                recency = db.recency
                recency.tick(db.data, second)
                db.noting = recency.active

    def now_ms(self) -> int:
        """The current time in milliseconds, from the injected clock (or :attr:`frozen_ms`)."""
        frozen = self.frozen_ms
        if frozen is None:
            return int(self.clock.seconds() * 1000)
        return frozen

    # -- size tracking (maxmemory) ---------------------------------------------

    def track_sizes(self) -> SizeTracker:
        """Measure every key, then keep the estimate current on every write."""
        tracker = self.tracker = SizeTracker(db.items() for db in self.dbs)
        for db in self.dbs:
            db.tracker = tracker
        return tracker

    def untrack_sizes(self) -> None:
        """Stop estimating sizes: writes stop reporting."""
        self.tracker = None
        for db in self.dbs:
            db.tracker = None

    # -- cluster mode ----------------------------------------------------------

    def index_slots(self) -> SlotIndex:
        """Keep database 0's keys by hash slot from now on (Redis Cluster's only database)."""
        db = self.dbs[0]
        db.slots = SlotIndex(db.key_list())
        return db.slots

    def reindex_slots(self) -> None:
        """After a loader filled database 0 without :meth:`Database.set` (RDB, AOF
        preamble), its slot index anew, if it keeps one."""
        db = self.dbs[0]
        if db.slots is not None:
            db.slots.rebuild(db.key_list())

    # -- maxkeys -------------------------------------------------------------

    def capacity_reached(self, db: Database, key: bytes) -> None:
        """``key`` was added and ``db`` holds maxkeys keys or more: evict by the
        policy down to maxkeys, and note the database if it stays full."""
        if self.replica:
            # Its master evicts and sends the DELs (replica-ignore-maxmemory).
            return
        maxkeys = self.maxkeys
        if self.maxkeys_policy == "allkeys-lru":
            # The default, inlined (once per new key at the limit): the head is
            # the least recently used key, never the one just added.
            for _ in range(len(db.data) - len(db.recency.ticks) - maxkeys):
                evicted, value = db._evict()
                self.evictions.evicted(self, db, evicted, value)
            return
        if len(db) > maxkeys:
            self._shrink(db, key)
        if len(db) >= maxkeys and self.maxkeys_policy not in ALLKEYS:
            self._note_full(db)

    def _shrink(self, db: Database, keep: bytes | None = None) -> None:
        """Evict keys of ``db`` by the policy while it holds more than maxkeys."""
        policy = self.maxkeys_policy
        while len(db) > self.maxkeys:
            if policy == "allkeys-lru":
                key, value = db._evict()
            else:
                found = choose_victim(self, policy, [db], self.samples, keep)
                if found is None:
                    return
                key, value = db._evict(found[1])
            self.evictions.evicted(self, db, key, value)

    def _note_full(self, db: Database) -> None:
        if db.index not in self.full:
            self.full.add(db.index)
            if len(self.full) == 1 and self.on_full is not None:
                self.on_full()

    def enforce_maxkeys(self) -> None:
        """After maxkeys or maxkeys-policy changed: bring every database down to
        maxkeys (as far as the policy allows) and recount the full ones."""
        self.full.clear()
        if not self.maxkeys:
            return
        for db in self.dbs:
            if len(db) > self.maxkeys:
                self._shrink(db)
            if len(db) >= self.maxkeys and self.maxkeys_policy not in ALLKEYS:
                self._note_full(db)

    def cannot_grow(self, db: Database) -> bool:
        """True if a new key in ``db`` would pass maxkeys with nothing the policy may evict."""
        maxkeys = self.maxkeys
        if not maxkeys or len(db) < maxkeys:
            return False
        policy = self.maxkeys_policy
        return policy == "noeviction" or (policy not in ALLKEYS and not db.expires)

    def release_full(self) -> None:
        """Forget the databases that are no longer near maxkeys.

        A database leaves :attr:`full` only once it is 1/16 below maxkeys, so a
        queue hovering at the limit does not switch every connection between
        the dispatcher's fast and slow paths on each job.
        """
        maxkeys = self.maxkeys
        low = maxkeys - max(1, maxkeys // 16)
        policy_refuses = maxkeys and self.maxkeys_policy not in ALLKEYS
        for index in list(self.full):
            if not policy_refuses or len(self.dbs[index]) <= low:
                self.full.discard(index)

    def signal_ready(self, db_index: int, key: bytes) -> None:
        """Note that clients blocked on ``key`` may now be served."""
        if (db_index, key) in self.blocking_keys:
            self.ready_keys.append((db_index, key))

    def update_signalling(self) -> None:
        """Recompute :attr:`signalling` (after WATCH, UNWATCH, or tracking turned on or off)."""
        self.signalling = bool(self.watched_keys) or self.tracking.active

    def signal(self, db_index: int, key: bytes, by_command: bool = True) -> None:
        """A key changed (Redis's signalModifiedKey): spoil WATCHes, invalidate caches.

        ``by_command`` is False for expiries and evictions.
        """
        if self.watched_keys:
            self.touch(db_index, key)
        tracking = self.tracking
        if tracking.active:
            tracking.invalidate(key, by_command)

    def touch(self, db_index: int, key: bytes) -> None:
        """A key changed: spoil the transactions of clients that WATCH it."""
        clients = self.watched_keys.get((db_index, key))
        if clients:
            for client in clients:
                client.dirty_cas = True

    def flushall(self) -> None:
        """Empty every database; tracking clients drop their whole caches."""
        for db in self.dbs:
            db.clear()
        self.expiry.clear()
        self.tracking.flushed()

    def swapdb(self, first: int, second: int) -> None:
        """Exchange the contents of two databases."""
        a, b = self.dbs[first], self.dbs[second]
        if self.watched_keys:
            for db in (a, b):
                for key, _value in db.items():
                    self.touch(db.index, key)
        a.data, b.data = b.data, a.data
        a.recency, b.recency = b.recency, a.recency
        a.noting, b.noting = b.noting, a.noting
        a.encodings, b.encodings = b.encodings, a.encodings
        a.expires, b.expires = b.expires, a.expires
        if self.tracker:
            self.tracker.swapped(first, second)
        if self.full:
            # The full databases' contents moved with their data.
            held = {first, second} & self.full
            self.full -= held
            self.full |= {second if index == first else first for index in held}
        for db in (a, b):
            for key, deadline in db.expires.items():
                self.expiry.add(deadline, db.index, key)
            if self.blocking_keys:
                for key, _value in db.items():
                    self.signal_ready(db.index, key)
            if self.watched_keys:
                for key, _value in db.items():
                    self.touch(db.index, key)

    def _expire_due(self, db_index: int, key: bytes, deadline: int) -> bool:
        db = self.dbs[db_index]
        if db.expires.get(key) != deadline:
            return False
        expired = db._expire_if_due(key)
        if self.ready_keys and self.serve_ready is not None:
            # The timer runs outside any command: serve the clients it woke.
            self.serve_ready()
        return expired

    def _deadline_is_current(self, deadline: int, db_index: int, key: bytes) -> bool:
        return self.dbs[db_index].expires.get(key) == deadline

    def stop(self) -> None:
        """Stop the expiry timer and the eviction summaries."""
        self.expiry.stop()
        self.evictions.stop()
