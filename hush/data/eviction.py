# -*- test-case-name: tests.unit.data.test_eviction -*-
"""Eviction policies, shared by maxkeys (one database) and maxmemory (all of them).

:func:`choose_victim` picks the key a policy gives up -- Redis's policy names
(``allkeys-lru``, ``volatile-lru``, ``allkeys-random``, ``volatile-random``,
``volatile-ttl``, ``noeviction``) -- among the databases it is given.
:class:`EvictionLog` says in the log that keys are being evicted: the first
time with what to change to stop it, then at most once a minute with a count,
so a queue lost to the capacity is never lost silently.

Both read databases and the store through the small protocols below
(:class:`Keyspace`, :class:`EvictingStore`), which
:class:`hush.data.store.Database` and :class:`~hush.data.store.Store` meet,
so that this module needs no import of the store that uses it.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from itertools import islice
from typing import Any, Protocol, TypeVar

from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger

from hush.data.expiry import ExpiryScheduler
from hush.data.types.registry import type_name

log = Logger()


class Keyspace(Protocol):
    """What the policies read of a database."""

    index: int
    #: key -> value (with the ticks of hush.data.recency between them).
    data: Mapping[Any, Any]
    expires: Mapping[bytes, int]

    def __len__(self) -> int:
        """How many keys there are."""

    def random_key(self) -> bytes | None:
        """A random live key, or None."""

    def lru_head(self) -> tuple[int, bytes] | None:
        """(second of last use, key) of the least recently used key, or None."""

    def last_used(self, key: bytes) -> int:
        """The second ``key`` was last used."""


class EvictingStore(Protocol):
    """What the policies and the log read of the store."""

    expiry: ExpiryScheduler
    maxkeys: int
    maxkeys_policy: str


Db = TypeVar("Db", bound=Keyspace)

#: Policies that may evict any key; they never have to refuse a write.
ALLKEYS = frozenset(["allkeys-lru", "allkeys-random"])

#: Policies that evict only keys with a TTL.
VOLATILE = frozenset(["volatile-lru", "volatile-random", "volatile-ttl"])

#: What each policy gives up, for the log.
_WHAT = {
    "allkeys-lru": "the least recently used key",
    "allkeys-random": "a random key",
    "volatile-lru": "the least recently used key with a TTL",
    "volatile-random": "a random key with a TTL",
    "volatile-ttl": "the key with the nearest TTL",
}


def choose_victim(
    store: EvictingStore, policy: str, dbs: Sequence[Db], samples: int,
    exclude: bytes | None = None,
) -> tuple[Db, bytes] | None:
    """The (database, key) ``policy`` evicts among ``dbs``, or None if it may evict nothing.

    ``exclude`` is a key that must stay (the one a write just added; only a
    random pick could land on it). ``samples`` is maxmemory-samples: the
    volatile policies look at that many keys with a TTL, as Redis does.
    """
    if policy == "allkeys-lru":
        # Each database's head is its least recently used key; across
        # databases the older second wins.
        best = None
        for db in dbs:
            head = db.lru_head()
            if head is not None and (best is None or head[0] < best[0]):
                best = (head[0], db, head[1])
        return None if best is None else (best[1], best[2])
    if policy == "allkeys-random":
        return _random_key(dbs, exclude)
    if policy in VOLATILE:
        candidates = _volatile_sample(store, policy, dbs, samples)
        if not candidates:
            return None
        if policy == "volatile-random":
            _deadline, db, key = random.choice(candidates)
        elif policy == "volatile-ttl":
            _deadline, db, key = min(candidates, key=lambda c: c[0])
        else:
            _deadline, db, key = min(candidates, key=lambda c: c[1].last_used(c[2]))
        return db, key
    return None  # noeviction


def _random_key(dbs: Sequence[Db], exclude: bytes | None) -> tuple[Db, bytes] | None:
    """A random live key, databases weighted by their size."""
    sized = [db for db in dbs if len(db)]
    while sized:
        db = random.choices(sized, weights=[len(db) for db in sized])[0]
        if len(db) == 1 and exclude in db.data:
            sized.remove(db)
            continue
        key = db.random_key()
        if key is not None and key != exclude:
            return db, key
        sized = [db for db in sized if len(db)]
    return None


def _volatile_sample(
    store: EvictingStore, policy: str, dbs: Sequence[Db], samples: int,
) -> list[tuple[int, Db, bytes]]:
    """Up to ``samples`` keys with a TTL in ``dbs``: random ones from the expiry
    heap, the soonest deadline (for volatile-ttl), and, should those all be
    stale or elsewhere, the first ones of each database's expires map."""
    wanted = {db.index: db for db in dbs}
    entries = store.expiry.sample(samples)
    if policy == "volatile-ttl":
        earliest = store.expiry.earliest()
        if earliest is not None:
            entries.append(earliest)
    found = {}
    for deadline, index, key in entries:
        db = wanted.get(index)
        if db is not None and db.expires.get(key) == deadline and key in db.data:
            found[(index, key)] = (deadline, db, key)
    if not found:
        for db in dbs:
            for key, deadline in islice(db.expires.items(), samples):
                if key in db.data:
                    found[(db.index, key)] = (deadline, db, key)
    return list(found.values())


def printable_key(key: bytes, limit: int = 64) -> str:
    """A key as the log shows it: escaped, and cut at ``limit`` bytes."""
    text = key[:limit].decode("utf-8", "backslashreplace")
    return text + "..." if len(key) > limit else text


class EvictionLog:
    """Tells the log that maxkeys evicts keys: a warning, then one count a minute.

    The first eviction logs which key went, why, and the settings that stop
    it. Later ones are counted; a timer on the injected clock logs the count
    a minute after the last line, and only if there is something to report.
    """

    #: Seconds between two summary lines, at the least.
    INTERVAL = 60.0

    def __init__(self, clock: IReactorTime) -> None:
        self.clock = clock
        self.warned = False
        #: Evictions not yet reported.
        self.pending = 0
        self._timer: IDelayedCall | None = None

    def evicted(self, store: EvictingStore, db: Keyspace, key: bytes, value: Any) -> None:
        """One key of ``db`` was evicted for maxkeys (``value`` was its value)."""
        if self.warned:
            self.pending += 1
            if self._timer is None:
                self._timer = self.clock.callLater(self.INTERVAL, self._report)
            return
        self.warned = True
        policy = store.maxkeys_policy
        log.warn(
            "Database {db} reached maxkeys ({maxkeys} keys): evicted {what}, "
            "'{key}' (a {type}), by maxkeys-policy {policy}. Evicted keys are gone "
            "for good, queues included. To keep every key, set 'maxkeys 0' (no "
            "limit), 'maxkeys-policy volatile-lru' (evict only keys with a TTL) or "
            "'maxkeys-policy noeviction' (refuse new keys with an OOM error): in the "
            "config file, as --maxkeys / --maxkeys-policy, or with CONFIG SET. "
            "Further evictions are counted here at most once a minute.",
            db=db.index, maxkeys=store.maxkeys, what=_WHAT.get(policy, "a key"),
            key=printable_key(key), type=type_name(value).decode(), policy=policy,
        )
        self._timer = self.clock.callLater(self.INTERVAL, self._report)

    def _report(self) -> None:
        self._timer = None
        if not self.pending:
            return
        log.warn(
            "maxkeys: {count} more key(s) evicted in the last {seconds} seconds "
            "(see 'maxkeys' and 'maxkeys-policy' to stop it).",
            count=self.pending, seconds=int(self.INTERVAL),
        )
        self.pending = 0
        self._timer = self.clock.callLater(self.INTERVAL, self._report)

    def stop(self) -> None:
        """Cancel the pending summary (the service stops)."""
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
