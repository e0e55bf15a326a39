"""The store: keyspace operations, types, databases and LRU eviction."""

from __future__ import annotations

from collections import deque

import pytest

from hush.core.errors import WrongType
from hush.data.types.registry import type_name
from tests.support import make_store

# -- basic operations -----------------------------------------------------


def test_set_get_delete(db):
    assert db.get(b"k") is None
    db.set(b"k", b"v")
    assert db.get(b"k") == b"v"
    assert db.exists(b"k")
    assert len(db) == 1
    assert db.delete(b"k") is True
    assert db.delete(b"k") is False
    assert db.get(b"k") is None
    assert len(db) == 0


def test_typed_lookups(db):
    db.set(b"s", b"v")
    db.set(b"l", deque([b"a"]))
    assert db.get_string(b"s") == b"v"
    assert db.get_list(b"l") == deque([b"a"])
    assert db.get_typed(b"l", deque) == deque([b"a"])
    assert db.get_string(b"missing") is None
    assert db.get_list(b"missing") is None
    with pytest.raises(WrongType):
        db.get_string(b"l")
    with pytest.raises(WrongType):
        db.get_list(b"s")
    with pytest.raises(WrongType):
        db.get_typed(b"s", deque)
    assert type_name(db.peek(b"s")) == b"string"
    assert type_name(db.peek(b"l")) == b"list"


def test_pop_value(db):
    db.set(b"k", b"v")
    assert db.pop_value(b"k") == b"v"
    assert db.pop_value(b"k") is None
    assert not db.exists(b"k")


def test_keys_with_pattern(db):
    for key in (b"user:1", b"user:2", b"session:1", b"h\xffllo"):
        db.set(key, b"x")
    assert sorted(db.keys()) == sorted([b"user:1", b"user:2", b"session:1", b"h\xffllo"])
    assert sorted(db.keys(b"user:*")) == [b"user:1", b"user:2"]
    assert sorted(db.keys(b"*:1")) == [b"session:1", b"user:1"]
    assert db.keys(b"nomatch*") == []


def test_random_key(db):
    assert db.random_key() is None
    keys = {b"a", b"b", b"c"}
    for key in keys:
        db.set(key, b"x")
    assert {db.random_key() for _ in range(200)} == keys


def test_clear(db):
    db.set(b"a", b"1")
    db.set_expire(b"a", db.store.now_ms() + 10_000)
    db.clear()
    assert len(db) == 0
    assert db.get_expire(b"a") is None


def test_databases_are_separate(store):
    store.dbs[0].set(b"k", b"zero")
    store.dbs[1].set(b"k", b"one")
    assert store.dbs[0].get(b"k") == b"zero"
    assert store.dbs[1].get(b"k") == b"one"
    assert len(store.dbs) == 16
    assert [db.index for db in store.dbs] == list(range(16))


def test_swapdb(store):
    store.dbs[0].set(b"a", b"0")
    store.dbs[3].set(b"b", b"3")
    store.dbs[3].set_expire(b"b", store.now_ms() + 5000)
    store.swapdb(0, 3)
    assert store.dbs[0].get(b"b") == b"3"
    assert store.dbs[0].get_expire(b"b") == store.now_ms() + 5000
    assert store.dbs[3].get(b"a") == b"0"
    assert store.dbs[0].get(b"a") is None


def test_flushall(store):
    for db in store.dbs[:3]:
        db.set(b"k", b"v")
        db.set_expire(b"k", store.now_ms() + 1000)
    store.flushall()
    assert all(len(db) == 0 for db in store.dbs)
    assert store.clock.getDelayedCalls() == []


def test_pushed_signals_blocked_keys_only(store):
    db = store.dbs[2]
    db.set(b"q", deque([b"x"]))
    db.pushed(b"q")
    assert store.ready_keys == []
    store.blocking_keys[(2, b"q")] = deque(["waiter"])
    db.pushed(b"q")
    assert store.ready_keys == [(2, b"q")]


def test_creating_a_blocked_key_signals_it(store):
    store.blocking_keys[(0, b"q")] = deque(["waiter"])
    store.dbs[0].set(b"q", deque([b"x"]))
    assert store.ready_keys == [(0, b"q")]


def test_now_ms_comes_from_the_clock(store):
    before = store.now_ms()
    store.clock.advance(1.5)
    assert store.now_ms() - before == 1500


def test_stats_reset(store):
    store.stats.expired_keys = 5
    store.stats.evicted_keys = 2
    store.stats.reset()
    assert store.stats.expired_keys == 0
    assert store.stats.evicted_keys == 0


# -- LRU eviction with maxkeys -----------------------------------------------


def test_eviction_takes_the_least_recently_written():
    db = make_store(maxkeys=3).dbs[0]
    for key in (b"a", b"b", b"c", b"d"):
        db.set(key, key)
    assert db.key_list() == [b"b", b"c", b"d"]
    assert db.store.stats.evicted_keys == 1
    db.set(b"e", b"e")
    assert sorted(db.keys()) == [b"c", b"d", b"e"]
    assert db.store.stats.evicted_keys == 2


def test_reads_count_as_use():
    db = make_store(maxkeys=3).dbs[0]
    for key in (b"a", b"b", b"c"):
        db.set(key, key)
    assert db.get(b"a") == b"a"
    db.set(b"d", b"d")
    assert sorted(db.keys()) == [b"a", b"c", b"d"]
    assert db.get_string(b"c") == b"c"
    db.set(b"e", b"e")  # a was read before c and d were used
    assert sorted(db.keys()) == [b"c", b"d", b"e"]


def test_exists_and_peek_do_not_count_as_use():
    db = make_store(maxkeys=3).dbs[0]
    for key in (b"a", b"b", b"c"):
        db.set(key, key)
    assert db.exists(b"a")
    assert db.peek(b"a") == b"a"
    db.set(b"d", b"d")
    assert not db.exists(b"a")


def test_overwriting_moves_to_the_end_without_evicting():
    db = make_store(maxkeys=3).dbs[0]
    for key in (b"a", b"b", b"c"):
        db.set(key, key)
    db.set(b"a", b"new")
    assert db.store.stats.evicted_keys == 0
    db.set(b"d", b"d")
    assert sorted(db.keys()) == [b"a", b"c", b"d"]
    assert db.get(b"a") == b"new"


def test_eviction_removes_the_ttl_of_the_evicted_key():
    db = make_store(maxkeys=2).dbs[0]
    db.set(b"a", b"a")
    db.set_expire(b"a", db.store.now_ms() + 10_000)
    db.set(b"b", b"b")
    db.set(b"c", b"c")
    assert b"a" not in db.expires
    assert db.store.stats.evicted_keys == 1
    db.store.clock.advance(20)
    assert db.store.stats.expired_keys == 0


def test_maxkeys_applies_to_each_database():
    store = make_store(maxkeys=2)
    for index in (0, 1):
        for key in (b"a", b"b"):
            store.dbs[index].set(key, key)
    assert len(store.dbs[0]) == len(store.dbs[1]) == 2
    assert store.stats.evicted_keys == 0


def test_unlimited_when_maxkeys_is_zero():
    db = make_store(maxkeys=0).dbs[0]
    for i in range(5000):
        db.set(b"k%d" % i, b"v")
    assert len(db) == 5000
    assert db.store.stats.evicted_keys == 0


def test_eviction_counts_every_evicted_key():
    db = make_store(maxkeys=10).dbs[0]
    for i in range(110):
        db.set(b"k%d" % i, b"v")
    assert len(db) == 10
    assert db.store.stats.evicted_keys == 100
    assert sorted(db.keys()) == sorted(b"k%d" % i for i in range(100, 110))


# -- frozen time ------------------------------------------------------------


def test_frozen_time_holds_the_clock_and_keeps_keys_alive(store, db):
    db.set(b"k", b"v")
    db.set_expire(b"k", store.now_ms() + 100)
    store.frozen_ms = store.now_ms()
    store.clock.advance(1)
    assert store.now_ms() == store.frozen_ms
    assert db.get(b"k") == b"v"
    store.frozen_ms = None
    assert store.now_ms() == 1_700_000_001_000
    assert db.get(b"k") is None
