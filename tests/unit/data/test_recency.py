"""The seconds of last use, kept as ticks in the LRU order of a database's dict."""

from __future__ import annotations

import pytest

from hush.data import recency
from hush.data.store import Store
from tests.support import keyspace, make_store

START = 1_700_000_000


def advance(store: Store, seconds: int) -> None:
    """Move the clock on and let the store see it (as a client's read does)."""
    store.clock.advance(seconds)
    store.tick(store.clock.seconds())


def ticks(db) -> list[int]:
    return [entry for entry in db.data if entry.__class__ is int]


# -- what a key costs -----------------------------------------------------------------------


def test_a_key_costs_its_dict_entry_only(store, db):
    for second in range(3):
        for i in range(1000):
            db.set(b"k%d:%d" % (second, i), b"v")
        advance(store, 1)
    db.get(b"k0:0")
    assert len(db) == 3000
    # Three seconds of writes, one tick each (and the first, emptied by
    # nothing: it stays as the head's mark).
    assert len(db.data) - len(db) == len(ticks(db)) <= 4
    assert db.recency.index is None and db.recency.pins == {} and not db.noting
    assert db.expires == {} and db.encodings == {}


def test_an_idle_database_gains_no_ticks(store):
    for _ in range(100):
        advance(store, 1)
    assert all(len(db.recency.ticks) == 1 for db in store.dbs)
    assert all(db.data == {db.recency.ticks[0]: START + 100} for db in store.dbs)


# -- last use ---------------------------------------------------------------------------------


def test_last_used_is_the_second_of_the_last_read_or_write(store, db):
    db.set(b"a", b"1")
    db.set(b"b", b"1")
    advance(store, 5)
    db.get(b"a")
    db.set(b"c", b"1")
    advance(store, 3)
    assert db.last_used(b"a") == START + 5
    assert db.last_used(b"b") == START
    assert db.last_used(b"c") == START + 5
    db.set(b"b", b"2")
    assert db.last_used(b"b") == START + 8
    # No use: a lookup that does not touch, a miss.
    db.exists(b"c")
    db.peek(b"c")
    db.get(b"nothing")
    assert db.last_used(b"c") == START + 5


def test_the_index_follows_uses_then_goes_when_unused(store, db):
    db.set(b"a", b"1")
    db.set(b"b", b"1")
    assert db.last_used(b"a") == START
    assert db.recency.index == {b"a": START, b"b": START} and db.noting
    advance(store, 2)
    db.get(b"b")
    db.set(b"c", b"1")
    db.delete(b"a")
    assert db.recency.index == {b"b": START + 2, b"c": START + 2}
    advance(store, recency.INDEX_KEEP + 1)
    assert db.recency.index is None and not db.noting
    # Rebuilt from the ticks: the same seconds.
    assert db.last_used(b"b") == START + 2 and db.last_used(b"c") == START + 2


def test_pinned_seconds_hold_until_the_key_is_used(store, db):
    db.set(b"a", b"1")
    db.set(b"b", b"1")
    db.pin_use(b"a", START - 100)
    advance(store, 1)
    assert db.last_used(b"a") == START - 100
    assert [(key, second) for key, _value, second in db.used_items()] == [
        (b"a", START - 100), (b"b", START)]
    advance(store, recency.INDEX_KEEP + 1)
    assert db.recency.index is None and db.noting   # the pin outlives the index
    assert db.last_used(b"a") == START - 100
    db.get(b"a")
    assert db.recency.pins == {}
    assert db.last_used(b"a") == START + recency.INDEX_KEEP + 2


def test_used_items_run_least_recent_first(store, db):
    db.set(b"a", b"1")
    advance(store, 1)
    db.set(b"b", b"2")
    advance(store, 1)
    db.get(b"a")
    assert list(db.used_items()) == [(b"b", b"2", START + 1), (b"a", b"1", START + 2)]


# -- ticks stay bounded -------------------------------------------------------------------------


def test_empty_ticks_go_first_in_a_small_database(store, db, monkeypatch):
    monkeypatch.setattr(recency, "TICKS_MAX", 8)
    db.set(b"old", b"1")
    for _ in range(20):
        advance(store, 1)
        db.get(b"hot")          # a miss: no tick
        db.set(b"hot", b"1")    # one tick per second, emptied the next second
    assert len(db.recency.ticks) <= 8
    assert db.last_used(b"old") == START
    assert db.last_used(b"hot") == START + 20


def test_thinning_overstates_old_idle_times_only(store, db, monkeypatch):
    monkeypatch.setattr(recency, "TICKS_MAX", 16)
    monkeypatch.setattr(recency, "WALK_LIMIT", 0)   # as a large database: no walk
    used = {}
    for second in range(100):
        key = b"k%d" % second
        db.set(key, b"1")
        used[key] = START + second
        advance(store, 1)
    assert len(db.recency.ticks) <= 16
    for key, second in used.items():
        assert db.last_used(key) <= second
    # The newest half of the ticks is never thinned: recent seconds are exact.
    for second in range(92, 100):
        assert db.last_used(b"k%d" % second) == START + second
    assert db.data[db.recency.ticks[0]] == START   # the head keeps its second


def test_thinned_idle_times_stay_within_a_share_of_their_age(store, db, monkeypatch):
    monkeypatch.setattr(recency, "TICKS_MAX", 512)
    monkeypatch.setattr(recency, "WALK_LIMIT", 0)
    for second in range(5000):
        db.set(b"k%d" % second, b"1")
        advance(store, 1)
    assert len(db.recency.ticks) <= 512
    now = START + 5000
    for second in range(5000):
        error = START + second - db.last_used(b"k%d" % second)
        assert 0 <= error <= 0.05 * (now - START - second)


# -- the least recently used key ------------------------------------------------------------------


def test_lru_head_is_exact_over_batches():
    store = make_store(maxkeys=2000)
    db = store.dbs[0]
    gone = []
    store.evictions.evicted = lambda _store, _db, key, _value: gone.append(key)
    for i in range(2000):
        db.set(b"k%d" % i, b"v")
    assert db.lru_head() == (START, b"k0")
    # Reads move keys to the end, also once they are among the candidates.
    for i in range(0, 2000, 3):
        db.get(b"k%d" % i)
    for i in range(2000):
        db.set(b"new%d" % i, b"v")
    assert gone == [b"k%d" % i for i in range(2000) if i % 3] + \
        [b"k%d" % i for i in range(0, 2000, 3)]
    assert sorted(keyspace(db)) == sorted(b"new%d" % i for i in range(2000))


def test_eviction_order_is_the_lru_order(monkeypatch):
    monkeypatch.setattr(recency, "BATCH_MIN", 4)
    store = make_store(maxkeys=50)
    db = store.dbs[0]
    gone = []
    store.evictions.evicted = lambda _store, _db, key, _value: gone.append(key)
    for i in range(50):
        db.set(b"k%d" % i, b"v")
    order = [b"k%d" % i for i in range(50)]
    for i in range(0, 50, 7):
        db.get(b"k%d" % i)
        order.remove(b"k%d" % i)
        order.append(b"k%d" % i)
    for i in range(0, 50, 11):    # used while among the candidates taken
        db.lru_head()
        db.set(b"k%d" % i, b"again")
        order.remove(b"k%d" % i)
        order.append(b"k%d" % i)
    db.delete(b"k1")
    order.remove(b"k1")
    db.set(b"k1", b"back")
    order.append(b"k1")
    for i in range(50):
        db.set(b"n%d" % i, b"v")
    assert gone == order


def test_empty_leading_ticks_go_with_the_keys_after_them(store, monkeypatch):
    store = make_store(maxkeys=4)
    db = store.dbs[0]
    for second in range(4):
        db.set(b"k%d" % second, b"v")
        advance(store, 1)
    assert len(db.recency.ticks) == 5
    for i in range(4):
        db.set(b"n%d" % i, b"v")
    # The next batch of candidates drops the ticks the evicted keys left
    # empty, but the one before n0.
    assert db.lru_head() == (START + 4, b"n0")
    assert list(db.recency.ticks) == ticks(db) and len(ticks(db)) == 1


def test_a_tick_thinned_among_the_candidates_keeps_its_keys_seconds():
    store = make_store(maxkeys=6)
    db = store.dbs[0]
    for second in range(3):
        db.set(b"a%d" % second, b"v")
        db.set(b"b%d" % second, b"v")
        advance(store, 1)
    assert db.lru_head() == (START, b"a0")   # the candidates: the whole dict
    # Thinning drops the tick of the second second, as it would at TICKS_MAX.
    middle = db.recency.ticks[1]
    del db.data[middle]
    db.recency.ticks.remove(middle)
    db.set(b"new", b"v")
    db.set(b"newer", b"v")
    # a0 and b0 went; a1 and b1 now count from the first tick, which stays.
    assert keyspace(db).keys() == {b"a1", b"b1", b"a2", b"b2", b"new", b"newer"}
    assert db.lru_head() == (START, b"a1")
    assert db.last_used(b"a1") == db.last_used(b"b1") == START
    assert db.last_used(b"a2") == START + 2


def test_lru_head_across_seconds_picks_the_oldest_database():
    store = make_store(databases=2)
    first, second = store.dbs
    second.set(b"old", b"v")
    advance(store, 5)
    first.set(b"young", b"v")
    assert first.lru_head() == (START + 5, b"young")
    assert second.lru_head() == (START, b"old")


def test_swapdb_takes_the_seconds_along(store):
    a, b = store.dbs[0], store.dbs[1]
    a.set(b"x", b"1")
    advance(store, 3)
    b.set(b"y", b"1")
    store.swapdb(0, 1)
    assert a.last_used(b"y") == START + 3
    assert b.last_used(b"x") == START
    assert len(a) == len(b) == 1


def test_flushdb_starts_over(store, db):
    db.set(b"a", b"1")
    db.last_used(b"a")
    db.pin_use(b"a", START - 5)
    db.clear()
    assert len(db) == 0 and not db.noting
    assert list(db.data.values()) == [START]


@pytest.mark.parametrize("count", [0, 1, 17])
def test_random_key_never_returns_a_tick(store, db, count):
    for i in range(count):
        db.set(b"k%d" % i, b"v")
        advance(store, 1)
    for _ in range(50):
        key = db.random_key()
        assert (key is None) == (count == 0)
        assert key is None or key.__class__ is bytes


def test_a_clock_set_back_is_survived(store, db, monkeypatch):
    monkeypatch.setattr(recency, "TICKS_MAX", 8)
    monkeypatch.setattr(recency, "WALK_LIMIT", 0)
    # The newest second, 20, is one below the third tick's: thinning must
    # not divide by the (zero) age it gives that tick.
    for second in [10, 21, 30, 40, 50, 60, 70, 20, 3, 80, 1, 90, 91, 92]:
        db.set(b"k%d" % second, b"v")
        store.tick(START + second)
    assert len(db.recency.ticks) <= 8
    assert all(db.last_used(key) <= START + 92 for key in keyspace(db))
