# -*- test-case-name: tests.unit.server.test_memory -*-
"""Admission by capacity: maxmemory (an estimate of the dataset's size) and maxkeys.

maxmemory tracking costs nothing until ``maxmemory`` is set: then every
database (and the store) switches to a subclass whose writes also keep a
per-key size estimate up to date (:class:`TrackedDatabase`), the keyspace is
measured once, and every connection's dispatcher takes its slow path
(``_gate``), where :meth:`MemoryManager.admit` evicts keys before a command
while the estimate is over the limit, or refuses a ``denyoom`` command with
Redis's OOM error when nothing (more) can be evicted. Setting ``maxmemory``
back to 0 switches all of it off again.

maxkeys evicts in the store, when a write adds a key (:mod:`hush.data.store`).
Only while a database is at maxkeys under a policy that may have nothing to
evict (``noeviction``, ``volatile-*``) do connections take the slow path too:
there a ``denyoom`` command that names a key the database does not hold is
refused with the same OOM error, worded for keys, before it runs -- in MULTI,
at EXEC and in scripts as for maxmemory.

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
from typing import Any

from hush.core.errors import CommandError
from hush.core.interfaces import Client, Server
from hush.data.eviction import choose_victim
from hush.data.store import Database, Store
from hush.data.types.zset import ZSet

#: What the server itself is counted as, in bytes (an empty Redis 7: ~1 MB).
BASELINE = 1_000_000

#: Per key: the OrderedDict entry and its links, the atime entry, the key's hash slot.
ENTRY_OVERHEAD = 104

#: Elements of a container looked at to estimate its average element size.
SAMPLE = 16

#: Commands a client in MULTI may still send when out of memory.
_MULTI_EXEMPT = frozenset(["exec", "discard", "quit", "reset"])

OOM = "OOM command not allowed when used memory > 'maxmemory'."

#: Redis's OOM error, for a write that would add a key past maxkeys.
OOM_KEYS = "OOM command not allowed when used keys > 'maxkeys'."

#: Commands whose denyoom flag depends on the script they run (shebang flags).
_SCRIPT_RUNNERS = frozenset(["eval", "evalsha", "eval_ro", "evalsha_ro"])

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
    """The capacity limits of one server: maxmemory tracking, eviction and OOM
    refusals, and the maxkeys settings with their refusals.

    @ivar limited: True while maxmemory is set or a database is full under a
        maxkeys policy that may refuse; connections take their gated dispatch
        path then.
    @ivar pre_command_oom: whether the last admitted command found memory
        over maxmemory with nothing to evict (Redis's pre_command_oom_state:
        what a script's first write is judged by).
    """

    def __init__(self, server: Server) -> None:
        self.server = server
        self.store = server.store
        self.settings = server.settings
        self.tracker: Tracker | None = None
        self.limited = False
        self.pre_command_oom = False
        settings = self.settings
        settings.on_change("maxmemory", self._limit_changed)
        store = self.store
        store.maxkeys_policy = settings.maxkeys_policy
        store.samples = settings.maxmemory_samples
        store.on_full = self._update_limited
        settings.on_change("maxkeys", self._maxkeys_changed)
        settings.on_change("maxkeys-policy", self._maxkeys_changed)
        settings.on_change("maxmemory-samples", self._samples_changed)
        if settings.maxmemory:
            self._limit_changed(settings.maxmemory)

    # -- switching on and off ------------------------------------------------

    def _limit_changed(self, limit: int) -> None:
        if limit and self.tracker is None:
            self._start()
        elif not limit and self.tracker is not None:
            self._stop()
        self._update_limited()
        if limit:
            # Redis starts evicting as soon as the limit is lowered.
            self.evict()

    def _maxkeys_changed(self, _value: Any) -> None:
        store = self.store
        store.maxkeys = self.settings.maxkeys
        store.maxkeys_policy = self.settings.maxkeys_policy
        # Lowering maxkeys evicts at once, as lowering maxmemory does.
        store.enforce_maxkeys()
        self._update_limited()

    def _samples_changed(self, samples: int) -> None:
        self.store.samples = samples

    def _update_limited(self) -> None:
        """Recompute :attr:`limited`; tell every connection when it changed."""
        limited = bool(self.settings.maxmemory) or bool(self.store.full)
        if limited == self.limited:
            return
        self.limited = limited
        for client in list(self.server.clients.values()):
            client.update_gate()

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

    # -- admission -------------------------------------------------------------

    def admit(self, client: Client, cmd: Any, argv: list[bytes]) -> CommandError | None:
        """Before a command: evict while over maxmemory; the error if it must be refused.

        As in Redis: out of memory, a ``denyoom`` command is refused, and so is
        every command queued in MULTI but EXEC/DISCARD/QUIT/RESET; EXEC of a
        transaction that holds a ``denyoom`` command discards it. A database at
        maxkeys with nothing to evict refuses ``denyoom`` commands (queued ones
        included) that name a key it does not hold; EXEC of a transaction
        holding one is discarded. The AOF being loaded is never refused.
        """
        if self.store.loading:
            return None
        name = (cmd.parent or cmd).name
        tracker = self.tracker
        self.pre_command_oom = (
            tracker is not None and BASELINE + tracker.used > self.settings.maxmemory
            and not self.evict()
        )
        if self.pre_command_oom:
            if name == "exec":
                if client.in_multi and self._queue_refused(client, self._denies_oom):
                    return self._abort(client, OOM)
            elif self._denies_oom(client.db, cmd, argv) or (
                    client.in_multi and name not in _MULTI_EXEMPT):
                return CommandError(OOM)
        if self.store.full:
            self.store.release_full()
            if not self.store.full:
                self._update_limited()
                return None
            if name == "exec":
                if client.in_multi and self._queue_refused(client, self._adds_key):
                    return self._abort(client, OOM_KEYS)
            elif self._adds_key(client.db, cmd, argv):
                return CommandError(OOM_KEYS)
        return None

    def script_refusal(self, client: Client, cmd: Any, argv: list[bytes]) -> CommandError | None:
        """The OOM error for a script's first write that may add data, or None.

        A script that has not written yet is stopped there, as Redis does: if
        memory was over maxmemory when it started, or if this command would
        add a key to a database at maxkeys with nothing to evict.
        """
        if "denyoom" not in cmd.flags or self.store.loading:
            return None
        if self.tracker is not None and self.pre_command_oom:
            return CommandError(OOM)
        if self.store.full and self._adds_key(client.db, cmd, argv):
            return CommandError(OOM_KEYS)
        return None

    def _denies_oom(self, _db: Database, cmd: Any, argv: list[bytes]) -> bool:
        """Redis's denyoom flag of this call: a script with a shebang and
        neither allow-oom nor no-writes makes EVAL one too."""
        if "denyoom" in cmd.flags:
            return True
        return cmd.name in _SCRIPT_RUNNERS and self.server.scripts.denies_oom(argv)

    def _adds_key(self, db: Database, cmd: Any, argv: list[bytes]) -> bool:
        """True if this may-add-data command names a key ``db`` does not hold,
        and ``db`` has no room for one (maxkeys)."""
        if not self.store.cannot_grow(db) or not self._denies_oom(db, cmd, argv):
            return False
        data = db.data
        return any(argv[index] not in data for index in cmd.key_positions(argv))

    def _queue_refused(self, client: Client, refused: Any) -> bool:
        """True if ``refused(db, cmd, argv)`` holds for a command queued in MULTI."""
        dbs = self.store.dbs
        db = client.db
        for cmd, argv in client.queued():
            if cmd.name == "select" and len(argv) == 2:
                # Later keys are checked against the database they will use.
                try:
                    index = int(argv[1])
                except ValueError:
                    continue
                if 0 <= index < len(dbs):
                    db = dbs[index]
            elif refused(db, cmd, argv):
                return True
        return False

    def _abort(self, client: Client, error: str) -> CommandError:
        client.end_transaction()
        return CommandError(f"EXECABORT Transaction discarded because of: {error}")

    # -- eviction ------------------------------------------------------------

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
