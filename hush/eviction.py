# -*- test-case-name: tests.test_memory -*-
"""Eviction policies: which key a policy gives up.

:func:`choose_victim` picks the key a policy gives up -- Redis's policy names
(``allkeys-lru``, ``volatile-lru``, ``allkeys-random``, ``volatile-random``,
``volatile-ttl``, ``noeviction``) -- among the databases it is given.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from itertools import islice
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hush.store import Database, Store

#: Policies that may evict any key; they never have to refuse a write.
ALLKEYS = frozenset(["allkeys-lru", "allkeys-random"])

#: Policies that evict only keys with a TTL.
VOLATILE = frozenset(["volatile-lru", "volatile-random", "volatile-ttl"])

def choose_victim(
    store: Store, policy: str, dbs: Sequence[Database], samples: int,
    exclude: bytes | None = None,
) -> tuple[Database, bytes] | None:
    """The (database, key) ``policy`` evicts among ``dbs``, or None if it may evict nothing.

    ``exclude`` is a key that must stay (the one a write just added; only a
    random pick could land on it). ``samples`` is maxmemory-samples: the
    volatile policies look at that many keys with a TTL, as Redis does.
    """
    if policy == "allkeys-lru":
        # Each database's OrderedDict head is its least recently used key;
        # across databases the older access stamp wins.
        best = None
        for db in dbs:
            if db.data:
                key = next(iter(db.data))
                stamp = db.atime.get(key, 0)
                if best is None or stamp < best[0]:
                    best = (stamp, db, key)
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
            _deadline, db, key = min(candidates, key=lambda c: c[1].atime.get(c[2], 0))
        return db, key
    return None  # noeviction


def _random_key(dbs: Sequence[Database], exclude: bytes | None) -> tuple[Database, bytes] | None:
    """A random live key, databases weighted by their size."""
    sized = [db for db in dbs if db.data]
    while sized:
        db = random.choices(sized, weights=[len(db.data) for db in sized])[0]
        if len(db.data) == 1 and exclude in db.data:
            sized.remove(db)
            continue
        key = db.random_key()
        if key is not None and key != exclude:
            return db, key
        sized = [db for db in sized if db.data]
    return None


def _volatile_sample(
    store: Store, policy: str, dbs: Sequence[Database], samples: int,
) -> list[tuple[int, Database, bytes]]:
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
