"""maxmemory: the running size estimate, each eviction policy, and the OOM refusals."""

from __future__ import annotations

import random

import pytest

from hush.data.sizes import SizeTracker, key_size
from hush.server.memory import BASELINE, OOM
from tests.support import FakeServer

BIG = 100 * 1024 * 1024


@pytest.fixture
def server() -> FakeServer:
    return FakeServer(maxkeys=0)


def used(server: FakeServer) -> int:
    return server.service.memory.used_memory()


def fresh_walk(server: FakeServer) -> int:
    return BASELINE + SizeTracker(db.items() for db in server.service.store.dbs).used


def limit_to_drop(server: FakeServer, client, size: int) -> None:
    """Set maxmemory so that the dataset must shrink by ``size`` bytes (at least)."""
    assert client.call("CONFIG", "SET", "maxmemory", str(used(server) - size)) == b"OK"


# -- switching on and off ---------------------------------------------------------


def test_nothing_is_tracked_without_maxmemory(server, client):
    memory = server.service.memory
    store = server.service.store
    assert memory.used_memory() is None and not memory.limited
    assert store.tracker is None and all(db.tracker is None for db in store.dbs)
    assert not client.protocol.session._gated
    client.call("SET", "a", "1")
    client.call("CONFIG", "SET", "maxmemory", str(BIG))
    assert store.tracker is not None and all(db.tracker is store.tracker for db in store.dbs)
    assert client.protocol.session._gated and server.client().protocol.session._gated
    assert used(server) == BASELINE + key_size(b"a", b"1")
    client.call("CONFIG", "SET", "maxmemory", "0")
    assert store.tracker is None and all(db.tracker is None for db in store.dbs)
    assert not client.protocol.session._gated
    assert memory.used_memory() is None


def test_maxmemory_from_settings_at_startup():
    server = FakeServer(maxkeys=0, maxmemory=BIG)
    assert server.service.memory.used_memory() == BASELINE
    assert server.client().protocol.session._gated


# -- the estimate ------------------------------------------------------------------


def test_estimate_grows_and_shrinks(server, client):
    client.call("CONFIG", "SET", "maxmemory", str(BIG))
    assert used(server) == BASELINE
    client.call("SET", "k", "v" * 100)
    one = used(server)
    assert one == BASELINE + key_size(b"k", b"v" * 100)
    client.call("APPEND", "k", "w" * 1000)
    assert used(server) == one + 1000
    client.call("RPUSH", "list", *["x" * 50] * 100)
    with_list = used(server)
    assert with_list > one + 100 * 50
    client.call("LTRIM", "list", "0", "9")
    assert one < used(server) < with_list
    client.call("HSET", "h", "f", "v" * 500)
    client.call("SADD", "s", "m1", "m2")
    client.call("ZADD", "z", "1", "a", "2", "b")
    assert used(server) == fresh_walk(server)
    client.call("DEL", "k", "list", "h", "s", "z")
    assert used(server) == BASELINE


def test_estimate_follows_expiry_flush_and_swapdb(server, client):
    client.call("CONFIG", "SET", "maxmemory", str(BIG))
    client.call("SET", "gone", "x" * 100, "PX", "100")
    client.call("SET", "stays", "y")
    server.clock.advance(1)
    assert used(server) == BASELINE + key_size(b"stays", b"y")
    client.call("SWAPDB", "0", "1")
    client.call("SELECT", "1")
    client.call("DEL", "stays")
    assert used(server) == BASELINE
    client.call("SET", "a", "1")
    client.call("SELECT", "0")
    client.call("SET", "b", "1")
    client.call("FLUSHDB")
    assert used(server) == BASELINE + key_size(b"a", b"1")
    client.call("FLUSHALL")
    assert used(server) == BASELINE


def test_incremental_estimate_matches_a_fresh_walk(server, client):
    client.call("CONFIG", "SET", "maxmemory", str(BIG))
    rng = random.Random(7)
    keys = [f"k{i}" for i in range(12)]
    commands = [
        lambda k: ("SET", k, "v" * rng.randrange(200)),
        lambda k: ("APPEND", k, "x" * rng.randrange(50)),
        lambda k: ("INCR", k),
        lambda k: ("RPUSH", k, *["e" * rng.randrange(30)] * rng.randrange(1, 5)),
        lambda k: ("LPOP", k),
        lambda k: ("HSET", k, f"f{rng.randrange(20)}", "v" * rng.randrange(40)),
        lambda k: ("HDEL", k, f"f{rng.randrange(20)}"),
        lambda k: ("SADD", k, *[f"m{rng.randrange(30)}" for _ in range(3)]),
        lambda k: ("SREM", k, f"m{rng.randrange(30)}"),
        lambda k: ("ZADD", k, str(rng.random()), f"z{rng.randrange(30)}"),
        lambda k: ("ZREM", k, f"z{rng.randrange(30)}"),
        lambda k: ("DEL", k),
        lambda k: ("EXPIRE", k, "1"),
        lambda k: ("RENAME", k, rng.choice(keys)),
        lambda k: ("LMOVE", k, rng.choice(keys), "LEFT", "RIGHT"),
        lambda k: ("SMOVE", k, rng.choice(keys), f"m{rng.randrange(30)}"),
        lambda k: ("MOVE", k, "1"),
        lambda k: ("COPY", k, rng.choice(keys), "DB", "0", "REPLACE"),
        lambda k: ("SETRANGE", k, str(rng.randrange(40)), "abc"),
        lambda k: ("GETDEL", k),
        lambda k: ("SPOP", k),
        lambda k: ("ZPOPMIN", k),
        lambda k: ("HINCRBY", k, f"f{rng.randrange(20)}", "5"),
        lambda k: ("LSET", k, "0", "w" * rng.randrange(30)),
        lambda k: ("LINSERT", k, "BEFORE", "e", "inserted"),
        lambda k: ("SUNIONSTORE", k, rng.choice(keys), rng.choice(keys)),
        lambda k: ("ZUNIONSTORE", k, "2", rng.choice(keys), rng.choice(keys)),
        lambda k: ("MSET", k, "1", rng.choice(keys), "2"),
        lambda k: ("LREM", k, "0", "e"),
        lambda k: ("SINTERSTORE", k, rng.choice(keys), rng.choice(keys)),
        lambda k: ("HSETNX", k, "only", "once"),
        lambda k: ("ZINCRBY", k, "2", f"z{rng.randrange(30)}"),
    ]
    for step in range(1500):
        client.call(*rng.choice(commands)(rng.choice(keys)))
        if step % 300 == 299:
            server.clock.advance(2)
        assert used(server) == fresh_walk(server), step


def test_streams_are_sized_with_their_entries(server, client):
    client.call("CONFIG", "SET", "maxmemory", str(BIG))
    client.call("XADD", "s", "1-0", "field", "v" * 100)
    one = used(server)
    for ms in range(2, 101):
        client.call("XADD", "s", f"{ms}-0", "field", "v" * 100)
    full = used(server)
    assert full > one + 99 * 100
    assert full == fresh_walk(server)
    client.call("XGROUP", "CREATE", "s", "g", "0")
    client.call("XTRIM", "s", "MAXLEN", "10")
    assert used(server) == fresh_walk(server) < full - 90 * 100
    client.call("DEL", "s")
    assert used(server) == BASELINE


# -- eviction policies ------------------------------------------------------------


def fill(client, *keys: str) -> None:
    for key in keys:
        client.call("SET", key, "v" * 100)


def remaining(client) -> set[bytes]:
    return set(client.call("KEYS", "*"))


def set_policy(client, policy: str) -> None:
    assert client.call("CONFIG", "SET", "maxmemory-policy", policy,
                       "maxmemory-samples", "64") == b"OK"


def test_allkeys_lru_evicts_the_least_recently_used(server, client):
    set_policy(client, "allkeys-lru")
    client.call("CONFIG", "SET", "maxmemory", str(BIG))
    fill(client, "a", "b", "c")
    client.call("GET", "a")
    limit_to_drop(server, client, 1)
    assert remaining(client) == {b"a", b"c"}
    assert "evicted_keys:1\r\n" in client.call("INFO", "stats").decode()
    # Across databases: the older access loses.
    client.call("CONFIG", "SET", "maxmemory", str(BIG))
    client.call("SELECT", "1")
    server.clock.advance(5)
    server.service.store.tick(server.clock.seconds())
    fill(client, "newer")
    client.call("SELECT", "0")
    limit_to_drop(server, client, 1)
    assert remaining(client) == {b"a"}


def test_volatile_lru_evicts_only_keys_with_a_ttl(server, client):
    set_policy(client, "volatile-lru")
    client.call("CONFIG", "SET", "maxmemory", str(BIG))
    fill(client, "persistent", "old", "young")
    client.call("EXPIRE", "old", "100")
    client.call("EXPIRE", "young", "100")
    server.clock.advance(10)
    server.service.store.tick(server.clock.seconds())
    client.call("GET", "young")
    limit_to_drop(server, client, 1)
    assert remaining(client) == {b"persistent", b"young"}
    limit_to_drop(server, client, 1)
    assert remaining(client) == {b"persistent"}
    # Nothing volatile is left: writes are refused, the persistent key stays.
    client.call("CONFIG", "SET", "maxmemory", "1")
    assert str(client.call("SET", "more", "x")) == OOM
    assert remaining(client) == {b"persistent"}


def test_volatile_ttl_evicts_the_nearest_deadline(server, client):
    set_policy(client, "volatile-ttl")
    client.call("CONFIG", "SET", "maxmemory", str(BIG))
    fill(client, "persistent", "late", "soon", "middle")
    client.call("EXPIRE", "late", "300")
    client.call("EXPIRE", "soon", "10")
    client.call("EXPIRE", "middle", "100")
    limit_to_drop(server, client, 1)
    assert remaining(client) == {b"persistent", b"late", b"middle"}
    limit_to_drop(server, client, 1)
    assert remaining(client) == {b"persistent", b"late"}


def test_volatile_random_evicts_only_keys_with_a_ttl(server, client):
    random.seed(3)
    set_policy(client, "volatile-random")
    client.call("CONFIG", "SET", "maxmemory", str(BIG))
    fill(client, *[f"p{i}" for i in range(10)], *[f"t{i}" for i in range(10)])
    for i in range(10):
        client.call("EXPIRE", f"t{i}", "100")
    limit_to_drop(server, client, 5 * key_size(b"t0", b"v" * 100) - 1)
    left = remaining(client)
    assert {f"p{i}".encode() for i in range(10)} <= left
    assert len(left) == 15


def test_allkeys_random_evicts_any_key(server, client):
    random.seed(5)
    set_policy(client, "allkeys-random")
    client.call("CONFIG", "SET", "maxmemory", str(BIG))
    fill(client, *[f"k{i:02}" for i in range(20)])
    limit_to_drop(server, client, 10 * key_size(b"k10", b"v" * 100) - 1)
    assert len(remaining(client)) == 10
    assert used(server) <= server.settings.maxmemory


def test_noeviction_refuses_denyoom_commands_only(server, client):
    fill(client, "a")
    client.call("CONFIG", "SET", "maxmemory", "1")
    assert server.settings.maxmemory_policy == "noeviction"
    assert str(client.call("SET", "b", "1")) == OOM
    assert str(client.call("RPUSH", "l", "1")) == OOM
    assert client.call("GET", "a") == b"v" * 100
    assert client.call("EXPIRE", "a", "10") == 1
    assert client.call("DEL", "a") == 1
    assert "evicted_keys:0\r\n" in client.call("INFO", "stats").decode()
    client.call("CONFIG", "SET", "maxmemory", "0")
    assert client.call("SET", "b", "1") == b"OK"


def test_multi_and_exec_when_out_of_memory(server, client):
    other = server.client()
    assert client.call("MULTI") == b"OK"
    assert client.call("SET", "x", "1") == b"QUEUED"
    other.call("CONFIG", "SET", "maxmemory", "1")
    assert str(client.call("EXEC")) == f"EXECABORT Transaction discarded because of: {OOM}"
    assert client.call("MULTI") == b"OK"
    assert str(client.call("GET", "x")) == OOM
    assert str(client.call("EXEC")) == (
        "EXECABORT Transaction discarded because of previous errors.")
    assert client.call("MULTI") == b"OK"
    assert client.call("DISCARD") == b"OK"


def test_lowering_maxmemory_evicts_at_once_and_watch_sees_it(server, client):
    set_policy(client, "allkeys-lru")
    fill(client, "a", "b")
    client.call("WATCH", "a")
    client.call("MULTI")
    client.call("PING")
    server.client().call("CONFIG", "SET", "maxmemory", str(fresh_walk(server) - 1))
    assert server.service.store.dbs[0].peek(b"a") is None
    assert client.call("EXEC") is None


def test_maxkeys_eviction_keeps_the_estimate(server, client):
    client.call("CONFIG", "SET", "maxmemory", str(BIG), "maxkeys", "2")
    fill(client, "a", "b", "c")
    assert remaining(client) == {b"b", b"c"}
    assert used(server) == fresh_walk(server)


def test_info_reports_the_estimate(server, client):
    client.call("CONFIG", "SET", "maxmemory", "10mb", "maxmemory-policy", "allkeys-lru")
    fill(client, "a")
    info = client.call("INFO", "memory").decode()
    assert f"used_memory:{used(server)}\r\n" in info
    assert "maxmemory:10485760\r\n" in info and "maxmemory_policy:allkeys-lru\r\n" in info


def test_lfu_policies_are_refused(client):
    reply = client.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    assert str(reply).startswith(
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - "
        "argument(s) must be one of the following: ")


# -- differential: the OOM texts -------------------------------------------------------


def test_differential_oom(pair):
    pair.both("CONFIG", "SET", "maxmemory-policy", "noeviction")
    pair.both("SET", "kept", "1")
    pair.both("CONFIG", "SET", "maxmemory", "1")
    try:
        for args in [("SET", "x", "1"), ("GET", "kept"), ("LPUSH", "l", "a"), ("INCR", "kept"),
                     ("MULTI",), ("SET", "y", "1"), ("GET", "kept"), ("EXEC",),
                     ("MULTI",), ("DISCARD",), ("DEL", "kept"), ("PING",)]:
            pair.check(*args)
    finally:
        pair.both("CONFIG", "SET", "maxmemory", "0")


def test_differential_oom_in_scripts(pair):
    pair.both("SCRIPT", "FLUSH")
    pair.both("CONFIG", "SET", "maxmemory-policy", "noeviction")
    pair.both("SET", "kept", "1")
    pair.both("CONFIG", "SET", "maxmemory", "1")
    try:
        for args in [
            ("EVAL", "return redis.call('SET', 'x', '1')", "0"),
            ("EVAL", "return redis.pcall('SET', 'x', '1')", "0"),
            ("EVAL", "return redis.call('GET', 'kept')", "0"),
            # A script that wrote already is not stopped half-way.
            ("EVAL", "redis.call('DEL', 'kept') return redis.call('SET', 'x', '1')", "0"),
            ("EVAL", "#!lua\nreturn redis.call('SET', 'y', '1')", "0"),
            ("EVAL", "#!lua flags=allow-oom\nreturn redis.call('SET', 'y', '1')", "0"),
            ("EVAL", "#!lua flags=no-writes\nreturn redis.call('GET', 'y')", "0"),
            ("SCRIPT", "LOAD", "#!lua\nreturn 1"),
            ("EVALSHA", "cb70127618f0b0be70c53cf6bfcfa54a29d9b0c0", "0"),
            ("MULTI",), ("EXEC",),
        ]:
            pair.check(*args)
    finally:
        pair.both("CONFIG", "SET", "maxmemory", "0")


def test_differential_oom_in_functions(pair):
    """A function's flags make FCALL denyoom unless it declares allow-oom or no-writes."""
    pair.both("FUNCTION", "FLUSH")
    pair.both("FUNCTION", "LOAD", "#!lua name=oom\n"
              "redis.register_function('plain', function() return redis.call('SET', 'y', '1') end)\n"
              "redis.register_function{function_name='oomok', callback=function() "
              "return redis.call('SET', 'y', '1') end, flags={'allow-oom'}}\n"
              "redis.register_function{function_name='reader', callback=function() "
              "return redis.call('GET', 'y') end, flags={'no-writes'}}")
    pair.both("CONFIG", "SET", "maxmemory-policy", "noeviction")
    pair.both("SET", "kept", "1")
    pair.both("CONFIG", "SET", "maxmemory", "1")
    try:
        for args in [("FCALL", "plain", "0"), ("FCALL", "oomok", "0"), ("FCALL", "reader", "0"),
                     ("FCALL_RO", "reader", "0"), ("FCALL", "nosuch", "0"),
                     ("FUNCTION", "LOAD", "#!lua name=more\n"),
                     ("MULTI",), ("FCALL", "reader", "0"), ("EXEC",)]:
            pair.check(*args)
    finally:
        pair.both("CONFIG", "SET", "maxmemory", "0")
        pair.both("FUNCTION", "FLUSH")


def test_scripts_out_of_memory(server, client):
    client.call("SET", "kept", "1")
    client.call("CONFIG", "SET", "maxmemory", "1")
    assert str(client.call("EVAL", "return redis.call('SET', 'x', '1')", 0)).startswith(
        OOM + " script: ")
    assert str(client.call("EVAL", "#!lua\nreturn 1", 0)) == OOM
    assert client.call("EVAL", "#!lua flags=allow-oom\nreturn redis.call('SET', 'x', '1')",
                       0) == b"OK"
    assert client.call("EVAL", "redis.call('DEL', 'kept') return redis.call('SET', 'y', '1')",
                       0) == b"OK"
    client.call("MULTI")
    assert str(client.call("EVAL", "#!lua\nreturn 1", 0)) == OOM
    client.call("DISCARD")
    client.call("CONFIG", "SET", "maxmemory", "0")
    assert client.call("EVAL", "return redis.call('SET', 'z', '1')", 0) == b"OK"
