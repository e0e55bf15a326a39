"""Protocol tests of the generic keyspace commands, on a fake server and clock."""

from __future__ import annotations

import dataclasses
import random
from collections import deque

import pytest

from hush.core.errors import NOT_INTEGER
from hush.data.types import registry
from hush.data.types.list import LIST
from hush.data.types.registry import copy_value
from hush.data.types.string import encoding as string_encoding
from tests.support import error_of
from tests.support import raw_reply as raw

WRONG_ARGS = "ERR wrong number of arguments for '{}' command"
NX_CONFLICT = "ERR NX and XX, GT or LT options at the same time are not compatible"
GT_LT_CONFLICT = "ERR GT and LT options at the same time are not compatible"


# -- DEL, UNLINK, EXISTS, TOUCH, TYPE ----------------------------------------------


@pytest.mark.parametrize("name", ["DEL", "UNLINK"])
def test_del_counts_each_existing_key_once(client, name):
    client.call("SET", "a", "1")
    client.call("SET", "b", "2")
    assert client.call(name, "a", "a", "b", "missing") == 2
    assert client.call("EXISTS", "a", "b") == 0
    assert client.call(name, "a") == 0


@pytest.mark.parametrize("name", ["DEL", "UNLINK", "EXISTS", "TOUCH", "TYPE", "TTL", "PTTL",
                                  "EXPIRETIME", "PEXPIRETIME", "PERSIST", "KEYS", "SCAN"])
def test_arity_errors(client, name):
    assert error_of(client.call(name)) == WRONG_ARGS.format(name.lower())


def test_del_dirty_counter(client, store):
    client.call("SET", "a", "1")
    client.call("SET", "b", "1")
    before = store.dirty
    client.call("DEL", "a", "b", "c")
    assert store.dirty == before + 2


def test_exists_counts_repeats(client):
    client.call("SET", "a", "1")
    assert client.call("EXISTS", "a", "a", "b", "a") == 3


def test_touch_counts_existing(client):
    client.call("SET", "z", "1")
    assert client.call("TOUCH", "z", "z", "nokey") == 2


def test_type(client):
    client.call("SET", "s", "v")
    client.call("RPUSH", "l", "a")
    assert client.call("TYPE", "s") == b"string"
    assert client.call("TYPE", "l") == b"list"
    assert client.call("TYPE", "nokey") == b"none"
    assert raw(client, "TYPE", "s") == b"+string\r\n"
    client.call("HELLO", "3")
    assert raw(client, "TYPE", "nokey") == b"+none\r\n"


def test_read_lookups_count_hits_and_misses(client, store):
    client.call("SET", "a", "1")
    store.stats.reset()
    client.call("EXISTS", "a", "b", "a")      # 2 hits, 1 miss
    client.call("TYPE", "b")                  # 1 miss
    client.call("TTL", "a")                   # 1 hit
    client.call("TOUCH", "a", "b")            # 1 hit, 1 miss
    client.call("OBJECT", "ENCODING", "a")    # 1 hit
    client.call("EXPIRE", "a", "100")         # write lookups are not counted
    client.call("PERSIST", "a")
    client.call("DEL", "b")
    assert (store.stats.keyspace_hits, store.stats.keyspace_misses) == (5, 3)


# -- EXPIRE family -------------------------------------------------------------------


def test_expire_and_ttl(server, client):
    client.call("SET", "k", "v")
    assert client.call("TTL", "k") == -1
    assert client.call("PTTL", "k") == -1
    assert client.call("EXPIRE", "k", "10") == 1
    assert client.call("TTL", "k") == 10
    assert client.call("PTTL", "k") == 10_000
    server.clock.advance(2.4)
    assert client.call("PTTL", "k") == 7600
    assert client.call("TTL", "k") == 8        # rounded to the nearest second
    server.clock.advance(0.2)
    assert client.call("TTL", "k") == 7        # 7.4 s
    server.clock.advance(0.2)
    assert client.call("TTL", "k") == 7        # 7.2 s
    server.clock.advance(0.7)
    assert client.call("TTL", "k") == 7        # 6.5 s rounds up


def test_ttl_of_missing_key(client):
    for name in ("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"):
        assert client.call(name, "nokey") == -2


def test_expiretime(server, client, store):
    now = store.now_ms()
    client.call("SET", "k", "v")
    assert client.call("EXPIRETIME", "k") == -1
    assert client.call("PEXPIRETIME", "k") == -1
    client.call("PEXPIRE", "k", "1500")
    assert client.call("PEXPIRETIME", "k") == now + 1500
    assert client.call("EXPIRETIME", "k") == (now + 1500 + 500) // 1000
    client.call("EXPIREAT", "k", "2000000000")
    assert client.call("EXPIRETIME", "k") == 2_000_000_000
    assert client.call("PEXPIRETIME", "k") == 2_000_000_000_000
    client.call("PEXPIREAT", "k", "2000000000123")
    assert client.call("PEXPIRETIME", "k") == 2_000_000_000_123


def test_pexpire_and_expireat(server, client, store):
    client.call("SET", "k", "v")
    assert client.call("PEXPIRE", "k", "250") == 1
    assert client.call("PTTL", "k") == 250
    at = store.now_ms() // 1000 + 100
    assert client.call("EXPIREAT", "k", str(at)) == 1
    assert client.call("PEXPIRETIME", "k") == at * 1000
    assert client.call("PEXPIREAT", "k", str(store.now_ms() + 5)) == 1
    server.clock.advance(0.005)
    assert client.call("EXISTS", "k") == 0


def test_expire_on_missing_key(client):
    assert client.call("EXPIRE", "nokey", "10") == 0
    assert client.call("PEXPIREAT", "nokey", "10") == 0


@pytest.mark.parametrize("name", ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"])
@pytest.mark.parametrize("when", ["0", "-1", "-100000"])
def test_past_times_delete_the_key_at_once(client, store, name, when):
    client.call("SET", "k", "v")
    store.stats.reset()
    assert client.call(name, "k", when) == 1
    assert b"k" not in store.dbs[0].data
    # A deletion, not an expiry (Redis counts it as a DEL).
    assert store.stats.expired_keys == 0


def test_expire_options(client):
    client.call("SET", "k", "v")
    assert client.call("EXPIRE", "k", "100", "XX") == 0   # no TTL yet
    assert client.call("EXPIRE", "k", "100", "GT") == 0   # no TTL is infinite
    assert client.call("EXPIRE", "k", "100", "LT") == 1   # ... so any TTL is less
    assert client.call("EXPIRE", "k", "100", "NX") == 0
    assert client.call("EXPIRE", "k", "200", "nx") == 0
    assert client.call("EXPIRE", "k", "50", "GT") == 0
    assert client.call("EXPIRE", "k", "100", "GT") == 0   # equal is not greater
    assert client.call("EXPIRE", "k", "200", "gt") == 1
    assert client.call("EXPIRE", "k", "300", "LT") == 0
    assert client.call("EXPIRE", "k", "50", "lt") == 1
    assert client.call("EXPIRE", "k", "50", "LT", "XX") == 0
    assert client.call("EXPIRE", "k", "40", "XX", "LT") == 1
    assert client.call("TTL", "k") == 40
    assert client.call("EXPIRE", "k", "-1", "GT") == 0
    assert client.call("EXPIRE", "k", "-1", "LT") == 1
    assert client.call("EXISTS", "k") == 0


def test_expire_nx_on_key_without_ttl(client):
    client.call("SET", "k", "v")
    assert client.call("EXPIRE", "k", "100", "NX") == 1
    assert client.call("TTL", "k") == 100


@pytest.mark.parametrize("options,message", [
    (("NX", "XX"), NX_CONFLICT),
    (("NX", "GT"), NX_CONFLICT),
    (("lt", "nx"), NX_CONFLICT),
    (("GT", "LT", "NX"), NX_CONFLICT),
    (("GT", "LT"), GT_LT_CONFLICT),
    (("FOO",), "ERR Unsupported option FOO"),
    (("NX", "bar"), "ERR Unsupported option bar"),
])
def test_expire_option_errors(client, options, message):
    client.call("SET", "k", "v")
    assert error_of(client.call("EXPIRE", "k", "10", *options)) == message
    # Options are checked before the number and before the key.
    assert error_of(client.call("PEXPIRE", "nokey", "abc", *options)) == message


@pytest.mark.parametrize("name,when", [
    ("EXPIRE", "9223372036854775"),      # fits in ms, but not after adding now
    ("EXPIRE", "9223372036854776"),      # overflows the conversion to ms
    ("EXPIRE", "-9223372036854776"),
    ("PEXPIRE", "9223372036854775807"),
    ("EXPIREAT", "9223372036854776"),
    ("EXPIREAT", "-9223372036854776"),
])
def test_expire_overflow_errors(client, name, when):
    client.call("SET", "k", "v")
    message = f"ERR invalid expire time in '{name.lower()}' command"
    assert error_of(client.call(name, "k", when)) == message
    assert error_of(client.call(name, "nokey", when)) == message
    assert client.call("TTL", "k") == -1


def test_expire_extremes_that_fit(client, store):
    client.call("SET", "k", "v")
    assert client.call("EXPIREAT", "k", "9223372036854775") == 1
    assert client.call("PEXPIRETIME", "k") == 9223372036854775000
    assert client.call("PEXPIREAT", "k", "9223372036854775807") == 1
    assert client.call("PEXPIRETIME", "k") == 9223372036854775807
    assert client.call("EXPIRE", "k", "-9223372036854775") == 1   # deleted
    client.call("SET", "k", "v")
    assert client.call("PEXPIRE", "k", "-9223372036854775808") == 1
    assert client.call("EXISTS", "k") == 0


@pytest.mark.parametrize("when", ["abc", "1.5", " 1", "", "99999999999999999999"])
def test_expire_needs_an_integer(client, when):
    client.call("SET", "k", "v")
    assert error_of(client.call("EXPIRE", "k", when)) == NOT_INTEGER


def test_lazy_expiry_counts_expired_keys(server, client, store, db):
    client.call("SET", "k", "v")
    client.call("PEXPIRE", "k", "100")
    store.expiry.stop()   # only the lazy path is left
    server.clock.advance(0.1)
    assert b"k" in db.data
    store.stats.reset()
    assert client.call("TTL", "k") == -2
    assert b"k" not in db.data
    assert store.stats.expired_keys == 1


def test_active_expiry_removes_untouched_keys(server, client, store, db):
    for i in range(5):
        client.call("SET", f"k{i}", "v")
        client.call("PEXPIRE", f"k{i}", str(100 * (i + 1)))
    store.stats.reset()
    server.clock.advance(0.25)
    assert sorted(db.key_list()) == [b"k2", b"k3", b"k4"]
    assert store.stats.expired_keys == 2
    server.clock.advance(1)
    assert not len(db)
    assert store.stats.expired_keys == 5


def test_expire_rewrite_keeps_only_new_deadline(server, client, db):
    client.call("SET", "k", "v")
    client.call("PEXPIRE", "k", "100")
    client.call("PEXPIRE", "k", "1000")
    server.clock.advance(0.5)
    assert b"k" in db.data
    server.clock.advance(0.5)
    assert b"k" not in db.data


def test_set_clears_ttl(client):
    client.call("SET", "k", "v")
    client.call("EXPIRE", "k", "100")
    client.call("SET", "k", "w")
    assert client.call("TTL", "k") == -1


def test_persist(server, client, db):
    assert client.call("PERSIST", "nokey") == 0
    client.call("SET", "k", "v")
    assert client.call("PERSIST", "k") == 0
    client.call("EXPIRE", "k", "1")
    assert client.call("PERSIST", "k") == 1
    assert client.call("TTL", "k") == -1
    server.clock.advance(5)
    assert client.call("GET", "k") == b"v"


def test_persist_on_expired_key_is_missing(server, client):
    client.call("SET", "k", "v")
    client.call("PEXPIRE", "k", "10")
    server.clock.advance(0.01)
    assert client.call("PERSIST", "k") == 0


# -- KEYS ---------------------------------------------------------------------------------


def test_keys_glob(client):
    for key in ("hello", "hallo", "hxllo", "hllo", "heeeello", "a[b", ""):
        client.call("SET", key, "1")
    assert sorted(client.call("KEYS", "h?llo")) == [b"hallo", b"hello", b"hxllo"]
    assert sorted(client.call("KEYS", "h*llo")) == [b"hallo", b"heeeello", b"hello", b"hllo",
                                                     b"hxllo"]
    assert sorted(client.call("KEYS", "h[ae]llo")) == [b"hallo", b"hello"]
    assert sorted(client.call("KEYS", "h[^e]llo")) == [b"hallo", b"hxllo"]
    assert sorted(client.call("KEYS", "h[a-b]llo")) == [b"hallo"]
    assert client.call("KEYS", "a\\[b") == [b"a[b"]
    assert len(client.call("KEYS", "*")) == 7   # a lone * takes the empty key too
    assert len(client.call("KEYS", "**")) == 6
    assert client.call("KEYS", "nomatch*") == []


def test_keys_skips_expired(server, client):
    client.call("SET", "a", "1")
    client.call("SET", "b", "1")
    client.call("PEXPIRE", "b", "10")
    server.service.store.expiry.stop()
    server.clock.advance(0.02)
    assert client.call("KEYS", "*") == [b"a"]


# -- SCAN -------------------------------------------------------------------------------


def scan_all(client, *options, between=None, limit=100_000):
    """Every key a complete SCAN iteration returns (with repeats), and the call count."""
    cursor, seen, calls = b"0", [], 0
    while True:
        cursor, keys = client.call("SCAN", cursor, *options)
        seen.extend(keys)
        calls += 1
        assert calls < limit
        if cursor == b"0":
            return seen, calls
        if between is not None:
            between(calls)


def fill(db, count, prefix=b"key:"):
    for i in range(count):
        db.set(b"%s%d" % (prefix, i), b"v")


def test_scan_small_database_answers_at_once(client):
    for key in ("a", "b", "c"):
        client.call("SET", key, "1")
    cursor, keys = client.call("SCAN", "0")
    assert cursor == b"0"
    assert sorted(keys) == [b"a", b"b", b"c"]


def test_scan_empty_database(client):
    assert client.call("SCAN", "0") == [b"0", []]


def test_scan_pages_by_count(client, db):
    fill(db, 95)
    cursor, keys = client.call("SCAN", "0")
    assert cursor != b"0" and len(keys) == 10
    seen, calls = scan_all(client, "COUNT", "20")
    assert calls == 5
    assert sorted(seen) == sorted(db.key_list())


def test_scan_reply_shapes(client, db):
    fill(db, 3)
    assert raw(client, "SCAN", "0", "MATCH", "key:1") == b"*2\r\n$1\r\n0\r\n*1\r\n$5\r\nkey:1\r\n"
    client.call("HELLO", "3")
    assert raw(client, "SCAN", "0", "MATCH", "key:1") == b"*2\r\n$1\r\n0\r\n*1\r\n$5\r\nkey:1\r\n"


def test_scan_match_filters_after_selection(client, db):
    fill(db, 50, b"a:")
    fill(db, 50, b"b:")
    cursor, keys = client.call("SCAN", "0", "MATCH", "b:*", "COUNT", "10")
    # The first 10 keys are all a:..., so this step returns none.
    assert cursor != b"0" and keys == []
    seen, _ = scan_all(client, "MATCH", "b:*", "COUNT", "10")
    assert sorted(seen) == sorted(b"b:%d" % i for i in range(50))


def test_scan_type_filter(client, db):
    fill(db, 30)
    for i in range(5):
        client.call("RPUSH", f"list:{i}", "x")
    seen, _ = scan_all(client, "TYPE", "list", "COUNT", "7")
    assert sorted(seen) == [b"list:%d" % i for i in range(5)]
    seen, _ = scan_all(client, "type", "STRING")
    assert len(seen) == 30
    assert scan_all(client, "TYPE", "nosuchtype")[0] == []


def test_scan_match_and_type_combined(client, db):
    fill(db, 5)
    client.call("RPUSH", "key:list", "x")
    assert client.call("SCAN", "0", "MATCH", "key:*", "TYPE", "list") == [b"0", [b"key:list"]]


def test_scan_options_later_ones_win(client, db):
    fill(db, 30)
    cursor, keys = client.call("SCAN", "0", "COUNT", "100", "COUNT", "5")
    assert len(keys) == 5
    assert client.call("SCAN", "0", "MATCH", "zzz", "MATCH", "key:1", "COUNT", "100") == [
        b"0", [b"key:1"]]


@pytest.mark.parametrize("cursor", [" 1", "1 ", "x", "1x", "0x1", "-", "18446744073709551616",
                                    "1.0"])
def test_scan_invalid_cursor(client, cursor):
    assert error_of(client.call("SCAN", cursor)) == "ERR invalid cursor"
    # The cursor is checked before the options.
    assert error_of(client.call("SCAN", cursor, "COUNT", "0")) == "ERR invalid cursor"


@pytest.mark.parametrize("cursor", ["", "+0", "-0", "000", "18446744073709551615", "-1",
                                    "123456789"])
def test_scan_odd_cursors_are_valid(client, db, cursor):
    fill(db, 3)
    next_cursor, keys = client.call("SCAN", cursor)
    assert next_cursor == b"0" and len(keys) == 3


@pytest.mark.parametrize("options,message", [
    (("COUNT", "0"), "ERR syntax error"),
    (("COUNT", "-1"), "ERR syntax error"),
    (("COUNT", "x"), NOT_INTEGER),
    (("COUNT",), "ERR syntax error"),
    (("MATCH",), "ERR syntax error"),
    (("TYPE",), "ERR syntax error"),
    (("FOO", "bar"), "ERR syntax error"),
    (("COUNT", "1", "COUNT", "0"), "ERR syntax error"),
    (("COUNT", "0", "MATCH"), "ERR syntax error"),
])
def test_scan_option_errors(client, options, message):
    assert error_of(client.call("SCAN", "0", *options)) == message


def test_scan_skips_and_reaps_expired_keys(server, client, db, store):
    fill(db, 5)
    client.call("PEXPIRE", "key:1", "10")
    store.expiry.stop()
    server.clock.advance(0.02)
    store.stats.reset()
    seen, _ = scan_all(client)
    assert b"key:1" not in seen and len(seen) == 4
    assert store.stats.expired_keys == 1


def test_scan_guarantee_under_reordering_and_churn(client, db):
    """Keys present for the whole iteration come back despite LRU reordering."""
    fill(db, 500)
    stable = sorted(b"key:%d" % i for i in range(0, 500, 2))
    doomed = [b"key:%d" % i for i in range(1, 500, 2)]
    rng = random.Random(1234)
    deleted: set[bytes] = set()
    cursor, seen = b"0", []
    for step in range(1, 1000):
        cursor, keys = client.call("SCAN", cursor, "COUNT", "13")
        # Nothing deleted before this step may come back.
        assert not set(keys) & deleted
        seen += keys
        if cursor == b"0":
            break
        # Reads move keys to the end of the LRU order; writes insert and delete.
        for _ in range(20):
            client.call("GET", rng.choice(stable))
        for _ in range(3):
            if doomed:
                key = doomed.pop(rng.randrange(len(doomed)))
                client.call("DEL", key)
                deleted.add(key)
        client.call("SET", b"new:%d" % step, "1")
    assert cursor == b"0"
    assert set(stable) <= set(seen)
    assert len(seen) == len(set(seen))   # a snapshot returns each key once
    assert not [key for key in seen if key.startswith(b"new:")]


def test_scan_concurrent_iterations_from_two_clients(server, client, db):
    fill(db, 200)
    other = server.client(40001)
    a_cursor, a_seen = b"0", []
    b_cursor, b_seen = b"0", []
    while True:
        if a_cursor is not None:
            a_cursor, keys = client.call("SCAN", a_cursor, "COUNT", "9")
            a_seen += keys
            a_cursor = None if a_cursor == b"0" else a_cursor
        if b_cursor is not None:
            b_cursor, keys = other.call("SCAN", b_cursor, "COUNT", "17")
            b_seen += keys
            b_cursor = None if b_cursor == b"0" else b_cursor
        if a_cursor is None and b_cursor is None:
            break
    assert sorted(a_seen) == sorted(db.key_list()) == sorted(b_seen)


def test_scan_cursor_from_another_database_restarts(client, db, store):
    fill(db, 30)
    fill(store.dbs[1], 30, b"one:")
    cursor, _ = client.call("SCAN", "0")
    client.call("SELECT", "1")
    _, keys = client.call("SCAN", cursor, "COUNT", "100")
    assert all(key.startswith(b"one:") for key in keys) and len(keys) == 30


def test_scan_after_flushdb_finds_nothing_old(client, db):
    fill(db, 30)
    cursor, _ = client.call("SCAN", "0")
    client.call("FLUSHDB")
    client.call("SET", "fresh", "1")
    seen = []
    while True:
        cursor, keys = client.call("SCAN", cursor)
        seen += keys
        if cursor == b"0":
            break
    assert seen == []   # the iteration began before "fresh" existed


def test_scan_evicted_snapshot_restarts_without_missing(server, client, db):
    fill(db, 40)
    cursor, first = client.call("SCAN", "0")
    other = server.client(40001)
    for _ in range(70):            # more iterations than the registry keeps
        other.call("SCAN", "0")
    seen = list(first)
    while cursor != b"0":
        cursor, keys = client.call("SCAN", cursor)
        seen += keys
    assert set(seen) == set(db.key_list())


def test_scan_does_not_touch_lru_order(client, db):
    fill(db, 30)
    order = db.key_list()
    scan_all(client, "COUNT", "7")
    scan_all(client, "COUNT", "7", "TYPE", "string")
    assert db.key_list() == order


# -- RANDOMKEY ------------------------------------------------------------------------------


def test_randomkey(client):
    assert client.call("RANDOMKEY") is None
    client.call("HELLO", "3")
    assert raw(client, "RANDOMKEY") == b"_\r\n"
    for key in ("a", "b", "c"):
        client.call("SET", key, "1")
    seen = {client.call("RANDOMKEY") for _ in range(200)}
    assert seen == {b"a", b"b", b"c"}


def test_randomkey_skips_expired(server, client, store):
    client.call("SET", "a", "1")
    client.call("SET", "b", "1")
    client.call("PEXPIRE", "b", "10")
    store.expiry.stop()
    server.clock.advance(0.02)
    assert {client.call("RANDOMKEY") for _ in range(50)} == {b"a"}


def test_randomkey_only_expired_is_null(server, client, store):
    client.call("SET", "a", "1")
    client.call("PEXPIRE", "a", "10")
    store.expiry.stop()
    server.clock.advance(0.02)
    assert client.call("RANDOMKEY") is None


# -- RENAME, RENAMENX ---------------------------------------------------------------------


def test_rename(client):
    client.call("SET", "a", "1")
    assert client.call("RENAME", "a", "b") == b"OK"
    assert client.call("GET", "a") is None
    assert client.call("GET", "b") == b"1"


def test_rename_errors_and_same_key(client):
    assert error_of(client.call("RENAME", "nokey", "b")) == "ERR no such key"
    assert error_of(client.call("RENAME", "nokey", "nokey")) == "ERR no such key"
    assert error_of(client.call("RENAMENX", "nokey", "b")) == "ERR no such key"
    client.call("SET", "a", "1")
    assert client.call("RENAME", "a", "a") == b"OK"
    assert client.call("RENAMENX", "a", "a") == 0
    assert client.call("GET", "a") == b"1"


def test_rename_carries_ttl_and_replaces_target(client, store):
    client.call("SET", "a", "1")
    client.call("EXPIRE", "a", "100")
    client.call("SET", "b", "2")
    client.call("EXPIRE", "b", "500")
    client.call("RENAME", "a", "b")
    assert client.call("TTL", "b") == 100
    client.call("SET", "c", "3")
    client.call("RENAME", "c", "b")
    assert client.call("TTL", "b") == -1
    assert client.call("GET", "b") == b"3"


def test_rename_ttl_fires_on_new_name(server, client, db):
    client.call("SET", "a", "1")
    client.call("PEXPIRE", "a", "100")
    client.call("RENAME", "a", "b")
    server.clock.advance(0.1)
    assert b"b" not in db.data


def test_renamenx(client):
    client.call("SET", "a", "1")
    client.call("SET", "b", "2")
    assert client.call("RENAMENX", "a", "b") == 0
    assert client.call("GET", "b") == b"2"
    assert client.call("RENAMENX", "a", "c") == 1
    assert client.call("GET", "c") == b"1"
    assert client.call("EXISTS", "a") == 0


def test_renamenx_over_expired_target(server, client, store):
    client.call("SET", "a", "1")
    client.call("SET", "b", "2")
    client.call("PEXPIRE", "b", "10")
    store.expiry.stop()
    server.clock.advance(0.02)
    assert client.call("RENAMENX", "a", "b") == 1


def test_rename_keeps_list_identity_and_wakes_blocked_client(server, client):
    waiter = server.client(40001)
    assert waiter.call("BLPOP", "dst", "0") is None
    client.call("RPUSH", "src", "x")
    assert client.call("RENAME", "src", "dst") == b"OK"
    assert waiter.replies() == [[b"dst", b"x"]]


# -- COPY -----------------------------------------------------------------------------------


def test_copy_string_with_ttl(client):
    client.call("SET", "a", "1")
    client.call("EXPIRE", "a", "100")
    assert client.call("COPY", "a", "b") == 1
    assert client.call("GET", "b") == b"1"
    assert client.call("TTL", "b") == 100
    assert client.call("COPY", "a", "b") == 0
    client.call("SET", "c", "3")
    assert client.call("COPY", "c", "b", "REPLACE") == 1
    assert client.call("GET", "b") == b"3"
    assert client.call("TTL", "b") == -1


def test_copy_list_is_deep(client):
    client.call("RPUSH", "l", "a", "b")
    client.call("COPY", "l", "m")
    client.call("RPUSH", "m", "c")
    client.call("LPOP", "l")
    assert client.call("LRANGE", "l", "0", "-1") == [b"b"]
    assert client.call("LRANGE", "m", "0", "-1") == [b"a", b"b", b"c"]


def test_copy_to_other_database(client):
    client.call("SET", "a", "1")
    assert client.call("COPY", "a", "a", "DB", "1") == 1
    assert client.call("COPY", "a", "a", "db", "1") == 0
    assert client.call("COPY", "a", "a", "REPLACE", "DB", "1") == 1
    client.call("SELECT", "1")
    assert client.call("GET", "a") == b"1"


@pytest.mark.parametrize("args,message", [
    (("a", "a"), "ERR source and destination objects are the same"),
    (("a", "a", "DB", "0"), "ERR source and destination objects are the same"),
    (("nokey", "nokey"), "ERR source and destination objects are the same"),
    (("a", "b", "DB", "16"), "ERR DB index is out of range"),
    (("a", "b", "DB", "-1"), "ERR DB index is out of range"),
    (("a", "b", "DB", "x"), NOT_INTEGER),
    (("a", "b", "DB", "2147483648"),
     "ERR value is out of range, value must between -2147483648 and 2147483647"),
    (("a", "b", "DB"), "ERR syntax error"),
    (("a", "b", "FOO"), "ERR syntax error"),
    (("nokey", "b", "DB", "99"), "ERR DB index is out of range"),
])
def test_copy_errors(client, args, message):
    client.call("SET", "a", "1")
    assert error_of(client.call("COPY", *args)) == message


def test_copy_missing_source(client):
    assert client.call("COPY", "nokey", "b") == 0
    assert client.call("COPY", "nokey", "b", "REPLACE", "DB", "3", "DB", "2") == 0


def test_copy_wakes_blocked_client(server, client):
    waiter = server.client(40001)
    waiter.call("BLPOP", "dst", "0")
    client.call("RPUSH", "src", "x")
    client.call("COPY", "src", "dst")
    assert waiter.replies() == [[b"dst", b"x"]]
    assert client.call("LLEN", "src") == 1


class Thing:
    """A container type no family registered."""

    def __init__(self, items):
        self.items = list(items)


def test_copy_value_by_type():
    original = {b"f": b"v", b"nested": deque([b"x"])}
    copied = copy_value(original)
    copied[b"nested"].append(b"y")
    assert original[b"nested"] == deque([b"x"])
    members = {b"a", b"b"}
    copied_set = copy_value(members)
    copied_set.add(b"c")
    assert members == {b"a", b"b"}
    value = b"bytes"
    assert copy_value(value) is value
    thing = Thing([[1], [2]])
    copied_thing = copy_value(thing)
    copied_thing.items[0].append(9)
    assert thing.items == [[1], [2]]


def test_copy_of_a_registered_type(monkeypatch):
    class Counted(list):
        pass

    calls = []

    def copier(value):
        calls.append(value)
        return Counted(value)

    record = dataclasses.replace(LIST, name=b"counted", cls=Counted, copy=copier)
    monkeypatch.setitem(registry.BY_CLASS, Counted, record)
    source = Counted([1, 2])
    assert copy_value(source) == [1, 2] and calls == [source]


def test_copy_of_unregistered_type_through_the_store(client, db):
    db.set(b"h", {b"field": b"v"})
    assert client.call("COPY", "h", "h2") == 1
    db.data[b"h2"][b"field"] = b"changed"
    assert db.data[b"h"] == {b"field": b"v"}


# -- MOVE -------------------------------------------------------------------------------------


def test_move(client, store):
    client.call("SET", "a", "1")
    client.call("EXPIRE", "a", "100")
    assert client.call("MOVE", "a", "1") == 1
    assert client.call("EXISTS", "a") == 0
    client.call("SELECT", "1")
    assert client.call("GET", "a") == b"1"
    assert client.call("TTL", "a") == 100


def test_move_existing_target_or_missing_key(client):
    client.call("SET", "a", "1")
    client.call("SELECT", "1")
    client.call("SET", "a", "other")
    client.call("SELECT", "0")
    assert client.call("MOVE", "a", "1") == 0
    assert client.call("GET", "a") == b"1"
    assert client.call("MOVE", "nokey", "1") == 0


@pytest.mark.parametrize("args,message", [
    (("a", "0"), "ERR source and destination objects are the same"),
    (("nokey", "0"), "ERR source and destination objects are the same"),
    (("a", "16"), "ERR DB index is out of range"),
    (("a", "-1"), "ERR DB index is out of range"),
    (("a", "x"), NOT_INTEGER),
    (("a", "99999999999999999999"), NOT_INTEGER),
    (("a", "2147483648"),
     "ERR value is out of range, value must between -2147483648 and 2147483647"),
])
def test_move_errors(client, args, message):
    client.call("SET", "a", "1")
    assert error_of(client.call("MOVE", *args)) == message


def test_move_wakes_client_blocked_in_target_db(server, client):
    waiter = server.client(40001)
    waiter.call("SELECT", "1")
    waiter.call("BLPOP", "l", "0")
    client.call("RPUSH", "l", "x")
    assert client.call("MOVE", "l", "1") == 1
    assert waiter.replies() == [[b"l", b"x"]]


# -- OBJECT -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value,encoding", [
    (b"123", b"int"), (b"0", b"int"), (b"-5", b"int"),
    (b"9223372036854775807", b"int"), (b"-9223372036854775808", b"int"),
    (b"9223372036854775808", b"embstr"), (b"-0", b"embstr"), (b"007", b"embstr"),
    (b"+1", b"embstr"), (b"1.5", b"embstr"), (b"", b"embstr"),
    (b"a" * 44, b"embstr"), (b"a" * 45, b"raw"),
])
def test_string_encoding(value, encoding):
    assert string_encoding(value) == encoding


def test_object_encoding(client):
    client.call("SET", "i", "12")
    client.call("SET", "e", "hello")
    client.call("SET", "r", "x" * 100)
    client.call("RPUSH", "l", "a")
    assert client.call("OBJECT", "ENCODING", "i") == b"int"
    assert client.call("OBJECT", "encoding", "e") == b"embstr"
    assert client.call("OBJECT", "ENCODING", "r") == b"raw"
    assert client.call("OBJECT", "ENCODING", "l") == b"quicklist"


def test_object_encoding_of_unknown_type(client, db):
    db.set(b"odd", frozenset())
    assert client.call("OBJECT", "ENCODING", "odd") == b"unknown"


@pytest.mark.parametrize("sub", ["ENCODING", "FREQ", "IDLETIME", "REFCOUNT"])
def test_object_missing_key_is_null(client, sub):
    assert raw(client, "OBJECT", sub, "nokey") == b"$-1\r\n"
    client.call("HELLO", "3")
    assert raw(client, "OBJECT", sub, "nokey") == b"_\r\n"


def test_object_refcount(client):
    client.call("SET", "shared", "9999")
    client.call("SET", "big", "10000")
    client.call("SET", "neg", "-1")
    client.call("SET", "s", "text")
    client.call("RPUSH", "l", "1")
    assert client.call("OBJECT", "REFCOUNT", "shared") == 2147483647
    assert client.call("OBJECT", "REFCOUNT", "big") == 1
    assert client.call("OBJECT", "REFCOUNT", "neg") == 1
    assert client.call("OBJECT", "REFCOUNT", "s") == 1
    assert client.call("OBJECT", "REFCOUNT", "l") == 1


def test_object_freq_needs_lfu(client):
    client.call("SET", "a", "1")
    assert error_of(client.call("OBJECT", "FREQ", "a")).startswith(
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked.")


def test_object_idletime(server, client):
    client.call("SET", "a", "text")
    assert client.call("OBJECT", "IDLETIME", "a") == 0
    server.clock.advance(5)
    # No-touch lookups leave the idle time alone.
    for args in (("EXISTS", "a"), ("TYPE", "a"), ("TTL", "a"), ("OBJECT", "ENCODING", "a"),
                 ("SCAN", "0"), ("KEYS", "*")):
        client.call(*args)
    assert client.call("OBJECT", "IDLETIME", "a") == 5
    server.clock.advance(2)
    assert client.call("OBJECT", "IDLETIME", "a") == 7
    client.call("GET", "a")
    assert client.call("OBJECT", "IDLETIME", "a") == 0
    server.clock.advance(3)
    client.call("TOUCH", "a")
    assert client.call("OBJECT", "IDLETIME", "a") == 0
    server.clock.advance(3)
    client.call("EXPIRE", "a", "100")   # write lookups touch too
    assert client.call("OBJECT", "IDLETIME", "a") == 0


def test_object_idletime_after_rename_copy_move(server, client):
    client.call("SET", "a", "text")
    server.clock.advance(10)
    client.call("COPY", "a", "b")   # reads its source like GET: a use
    assert client.call("OBJECT", "IDLETIME", "a") == 0
    assert client.call("OBJECT", "IDLETIME", "b") == 0
    server.clock.advance(10)
    client.call("RENAME", "a", "c")
    assert client.call("OBJECT", "IDLETIME", "c") == 0


def test_idle_times_are_forgotten_with_their_keys(server, client, db):
    client.call("SET", "a", "1")
    client.call("SET", "b", "1")
    client.call("SET", "c", "1")
    payload = client.call("DUMP", "c")
    client.call("RESTORE", "c", "0", payload, "REPLACE", "IDLETIME", "50")
    client.call("PEXPIRE", "b", "10")
    # The first idle time read keeps every key's second until it goes unused.
    assert client.call("OBJECT", "IDLETIME", "a") == 0
    assert set(db.recency.index) == {b"a", b"b", b"c"} and set(db.recency.pins) == {b"c"}
    client.call("DEL", "a")
    client.call("DEL", "c")
    server.clock.advance(1)
    assert db.recency.index == {} and db.recency.pins == {}


def test_object_idletime_refused_under_lfu(server, client):
    server.settings.maxmemory_policy = "allkeys-lfu"
    client.call("SET", "a", "1")
    assert error_of(client.call("OBJECT", "IDLETIME", "a")).startswith(
        "ERR An LRU maxmemory policy is not selected, access time not tracked.")


def test_object_refcount_unshared_under_lru_with_maxmemory(server, client):
    server.settings.maxmemory = 1 << 30
    server.settings.maxmemory_policy = "allkeys-lru"
    client.call("SET", "a", "1")
    assert client.call("OBJECT", "REFCOUNT", "a") == 1


def test_object_help_and_errors(client):
    lines = client.call("OBJECT", "HELP")
    assert lines[0] == b"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert len(lines) == 15 and lines[-1] == b"    Prints this help."
    assert raw(client, "OBJECT", "HELP").startswith(b"*15\r\n+OBJECT <subcommand>")
    assert error_of(client.call("OBJECT", "FOO", "a")) == \
        "ERR unknown subcommand 'FOO'. Try OBJECT HELP."
    assert error_of(client.call("OBJECT")) == WRONG_ARGS.format("object")
    assert error_of(client.call("OBJECT", "ENCODING")) == WRONG_ARGS.format("object|encoding")
    assert error_of(client.call("OBJECT", "HELP", "x")) == WRONG_ARGS.format("object|help")


# -- the table --------------------------------------------------------------------------------


def test_command_info_of_the_family(client):
    info = client.call("COMMAND", "INFO", "del", "scan", "object|idletime", "renamenx")
    assert info[0][:6] == [b"del", -2, [b"write"], 1, -1, 1]
    assert info[1][:7] == [b"scan", -2, [b"readonly"], 0, 0, 0,
                           [b"@keyspace", b"@read", b"@slow"]]
    assert info[2][:6] == [b"object|idletime", 3, [b"readonly"], 2, 2, 1]
    assert info[3][8][1][1] == [b"OW", b"insert"]


def test_getkeys(client):
    assert client.call("COMMAND", "GETKEYS", "DEL", "a", "b", "c") == [b"a", b"b", b"c"]
    assert client.call("COMMAND", "GETKEYS", "RENAME", "a", "b") == [b"a", b"b"]
    assert client.call("COMMAND", "GETKEYS", "OBJECT", "ENCODING", "k") == [b"k"]


# -- WATCH ------------------------------------------------------------------------------------


@pytest.mark.parametrize("setup,command", [
    (["SET k v"], "EXPIRE k 100"),
    (["SET k v"], "PEXPIREAT k 1"),
    (["SET k v", "EXPIRE k 100"], "PERSIST k"),
    (["SET k v"], "RENAME k j"),
    (["SET j v"], "RENAME j k"),
    (["SET k v"], "MOVE k 1"),
    (["SET k v", "SET x y"], "COPY x k REPLACE"),
    (["SET k v"], "DEL k"),
    (["SET k v"], "UNLINK k"),
])
def test_writes_spoil_watching_transactions(server, client, setup, command):
    other = server.client(40001)
    for line in setup:
        client.call(*line.split())
    client.call("WATCH", "k")
    other.call(*command.split())
    client.call("MULTI")
    client.call("PING")
    assert client.call("EXEC") is None


@pytest.mark.parametrize("command", ["COPY x k", "EXPIRE k 100 XX", "PERSIST k", "TTL k",
                                     "OBJECT ENCODING k", "SCAN 0", "RENAMENX x k"])
def test_no_op_commands_leave_watch_alone(server, client, command):
    other = server.client(40001)
    client.call("SET", "k", "v")
    client.call("SET", "x", "y")
    client.call("WATCH", "k")
    other.call(*command.split())
    client.call("MULTI")
    client.call("PING")
    assert client.call("EXEC") == [b"PONG"]
