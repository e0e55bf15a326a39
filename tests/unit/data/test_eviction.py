"""maxkeys-policy: what a full database evicts, the OOM refusals, the log, CONFIG SET."""

from __future__ import annotations

import random

import pytest

from hush.data.eviction import EvictionLog, choose_victim
from hush.server.memory import OOM_KEYS
from tests.support import FakeServer, data, error_of

POLICIES = ["allkeys-lru", "volatile-lru", "allkeys-random", "volatile-random",
            "volatile-ttl", "noeviction"]


def full_server(policy: str, maxkeys: int = 3) -> FakeServer:
    return FakeServer(maxkeys=maxkeys, maxkeys_policy=policy)


def keys(server: FakeServer, db: int = 0) -> set[bytes]:
    return set(data(server, db))


def evicted(server: FakeServer) -> int:
    return server.service.store.stats.evicted_keys


# -- what each policy evicts --------------------------------------------------------


@pytest.mark.parametrize("policy", ["volatile-lru", "volatile-random", "volatile-ttl"])
def test_volatile_policies_evict_only_keys_with_a_ttl(policy):
    random.seed(1)
    server = full_server(policy, maxkeys=4)
    client = server.client()
    client.call("RPUSH", "queue", "job-1", "job-2")
    client.call("SET", "lock", "me")
    client.call("SET", "cache:1", "a", "EX", "100")
    client.call("SET", "cache:2", "b", "EX", "200")
    assert client.call("SET", "cache:3", "c", "EX", "300") == b"OK"
    assert evicted(server) == 1
    assert client.call("SET", "plain:1", "d") == b"OK"
    left = keys(server)
    assert {b"queue", b"lock", b"plain:1"} <= left and len(left) == 4
    assert client.call("SET", "plain:2", "e") == b"OK"
    assert keys(server) == {b"queue", b"lock", b"plain:1", b"plain:2"}
    assert evicted(server) == 3
    # Nothing with a TTL is left: the next new key is refused, the queue stays.
    assert error_of(client.call("SET", "plain:3", "f")) == OOM_KEYS
    assert client.call("LRANGE", "queue", "0", "-1") == [b"job-1", b"job-2"]


def test_volatile_lru_takes_the_least_recently_used_key_with_a_ttl():
    server = full_server("volatile-lru")
    client = server.client()
    client.call("SET", "persistent", "v")
    client.call("SET", "old", "v", "EX", "100")
    client.call("SET", "young", "v", "EX", "100")
    server.clock.advance(10)
    server.service.store.tick(server.clock.seconds())
    client.call("GET", "young")
    client.call("SET", "new", "v")
    assert keys(server) == {b"persistent", b"young", b"new"}


def test_volatile_ttl_takes_the_nearest_deadline():
    server = full_server("volatile-ttl")
    client = server.client()
    client.call("SET", "late", "v", "EX", "300")
    client.call("SET", "soon", "v", "EX", "10")
    client.call("SET", "middle", "v", "EX", "100")
    client.call("SET", "new", "v")
    assert keys(server) == {b"late", b"middle", b"new"}


def test_allkeys_random_never_evicts_the_key_being_added():
    for seed in range(30):
        random.seed(seed)
        server = full_server("allkeys-random", maxkeys=1)
        client = server.client()
        client.call("SET", "old", "v")
        client.call("SET", "new", "v")
        assert keys(server) == {b"new"}


def test_allkeys_lru_is_still_the_default():
    server = FakeServer(maxkeys=2)
    client = server.client()
    assert client.call("CONFIG", "GET", "maxkeys-policy") == [b"maxkeys-policy", b"allkeys-lru"]
    client.call("RPUSH", "queue", "job")
    client.call("SET", "a", "1")
    client.call("SET", "b", "1")
    assert keys(server) == {b"a", b"b"}


def test_each_database_has_its_own_capacity():
    server = full_server("noeviction", maxkeys=2)
    client = server.client()
    client.call("MSET", "a", "1", "b", "2")
    assert error_of(client.call("SET", "c", "3")) == OOM_KEYS
    client.call("SELECT", "1")
    assert client.call("MSET", "a", "1", "b", "2") == b"OK"
    assert error_of(client.call("SET", "c", "3")) == OOM_KEYS


def test_choose_victim_finds_nothing_for_noeviction_and_empty_databases():
    server = FakeServer(maxkeys=0)
    store = server.service.store
    assert choose_victim(store, "allkeys-lru", store.dbs, 5) is None
    store.dbs[0].set(b"k", b"v")
    assert choose_victim(store, "noeviction", store.dbs, 5) is None
    assert choose_victim(store, "volatile-lru", store.dbs, 5) is None
    assert choose_victim(store, "allkeys-random", store.dbs, 5, exclude=b"k") is None
    assert choose_victim(store, "allkeys-lru", store.dbs, 5) == (store.dbs[0], b"k")


# -- refusals: noeviction, and volatile policies with nothing to evict ---------------------


def test_noeviction_refuses_only_writes_that_would_add_a_key():
    server = full_server("noeviction")
    client = server.client()
    client.call("RPUSH", "queue", "job-1")
    client.call("SET", "counter", "1")
    client.call("SET", "other", "1")
    assert error_of(client.call("SET", "new", "1")) == OOM_KEYS
    assert error_of(client.call("RPUSH", "queue2", "job")) == OOM_KEYS
    assert error_of(client.call("MSET", "counter", "2", "new", "1")) == OOM_KEYS
    assert error_of(client.call("LMOVE", "queue", "new", "LEFT", "RIGHT")) == OOM_KEYS
    # Keys the database holds can still be written; reads and deletions run.
    assert client.call("RPUSH", "queue", "job-2") == 2
    assert client.call("INCR", "counter") == 2
    assert client.call("SET", "other", "2") == b"OK"
    assert client.call("GET", "new") is None
    assert client.call("DEL", "other") == 1
    assert client.call("SET", "new", "1") == b"OK"
    assert evicted(server) == 0
    info = client.call("INFO", "stats").decode()
    assert "evicted_keys:0\r\n" in info
    commandstats = client.call("INFO", "commandstats").decode()
    assert "cmdstat_set:calls=4,usec=" in commandstats
    assert "rejected_calls=1,failed_calls=0" in commandstats.split("cmdstat_set:")[1]


def test_a_write_refused_in_multi_aborts_exec():
    server = full_server("noeviction", maxkeys=1)
    client = server.client()
    client.call("SET", "a", "1")
    assert client.call("MULTI") == b"OK"
    assert client.call("SET", "a", "2") == b"QUEUED"
    assert error_of(client.call("SET", "b", "1")) == OOM_KEYS
    assert error_of(client.call("EXEC")) == (
        "EXECABORT Transaction discarded because of previous errors.")
    assert client.call("GET", "a") == b"1"


def test_exec_is_refused_when_the_database_filled_meanwhile():
    server = full_server("noeviction", maxkeys=2)
    client, other = server.client(), server.client()
    client.call("SET", "a", "1")
    assert client.call("MULTI") == b"OK"
    assert client.call("SET", "b", "1") == b"QUEUED"
    assert client.call("GET", "a") == b"QUEUED"
    other.call("SET", "c", "1")
    assert error_of(client.call("EXEC")) == (
        f"EXECABORT Transaction discarded because of: {OOM_KEYS}")
    assert client.call("GET", "b") is None
    # The transaction is over: no MULTI state is left behind.
    assert error_of(client.call("EXEC")) == "ERR EXEC without MULTI"


def test_exec_checks_queued_writes_against_the_database_they_select():
    server = full_server("noeviction", maxkeys=1)
    client = server.client()
    client.call("SELECT", "1")
    client.call("SET", "a", "1")
    client.call("SELECT", "0")
    client.call("MULTI")
    client.call("SELECT", "1")
    client.call("SET", "b", "1")
    client.call("SELECT", "0")
    # Database 0 is empty, so queueing passed; database 1 is full at EXEC.
    server.service.store.full.add(1)
    server.service.memory._update_limited()
    assert error_of(client.call("EXEC")).startswith("EXECABORT Transaction discarded because of: OOM")
    client.call("MULTI")
    client.call("SELECT", "1")
    client.call("SET", "a", "2")
    assert client.call("EXEC") == [b"OK", b"OK"]


def test_scripts_are_refused_before_their_first_write_only():
    server = full_server("noeviction", maxkeys=2)
    client = server.client()
    client.call("MSET", "a", "1", "b", "1")
    reply = error_of(client.call("EVAL", "return redis.call('SET', KEYS[1], 'v')", 1, "new"))
    assert reply.startswith(OOM_KEYS + " script: ")
    assert error_of(client.call(
        "EVAL", "return redis.pcall('SET', KEYS[1], 'v')", 1, "new")) == OOM_KEYS
    # Writing a key it holds is fine; after a write the script is not stopped
    # half-way (Redis's rule), so it may pass the limit by what it adds.
    assert client.call("EVAL", "redis.call('SET', 'a', '2') return redis.call('SET', 'c', 'v')",
                       0) == b"OK"
    assert keys(server) == {b"a", b"b", b"c"}


def test_scripts_with_a_shebang_are_refused_up_front_unless_allow_oom():
    server = full_server("noeviction", maxkeys=1)
    client = server.client()
    client.call("SET", "a", "1")
    body = "#!lua\nreturn redis.call('SET', KEYS[1], 'v')"
    assert error_of(client.call("EVAL", body, 1, "new")) == OOM_KEYS
    sha = client.call("SCRIPT", "LOAD", body).decode()
    assert error_of(client.call("EVALSHA", sha, 1, "new")) == OOM_KEYS
    assert client.call("EVAL", body, 1, "a") == b"OK"
    assert client.call("EVAL", "#!lua flags=no-writes\nreturn redis.call('GET', KEYS[1])",
                       1, "new") is None
    allowed = "#!lua flags=allow-oom\nreturn redis.call('SET', KEYS[1], 'v')"
    assert client.call("EVAL", allowed, 1, "new") == b"OK"


def test_volatile_policy_refuses_once_no_key_has_a_ttl():
    server = full_server("volatile-lru", maxkeys=2)
    client = server.client()
    client.call("SET", "a", "1")
    client.call("SET", "b", "1", "EX", "100")
    assert client.call("SET", "c", "1") == b"OK"
    assert keys(server) == {b"a", b"c"}
    assert error_of(client.call("SET", "d", "1")) == OOM_KEYS
    client.call("EXPIRE", "c", "100")
    assert client.call("SET", "d", "1") == b"OK"
    assert keys(server) == {b"a", b"d"}


def test_the_aof_loader_is_never_refused(tmp_path):
    aof = tmp_path / "appendonly.aof"
    aof.write_bytes(b"".join(
        b"*3\r\n$3\r\nSET\r\n$1\r\n%s\r\n$1\r\n1\r\n" % key for key in (b"a", b"b"))
        + b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1\r\n1\r\n*1\r\n$4\r\nEXEC\r\n")
    server = FakeServer(maxkeys=1, maxkeys_policy="noeviction", appendonly=True,
                        dir=str(tmp_path))
    server.service.persistence.start()
    try:
        assert keys(server) == {b"a", b"b", b"c"}
        client = server.client()
        assert error_of(client.call("SET", "d", "1")) == OOM_KEYS
    finally:
        server.service.persistence.stop()


# -- the dispatcher's fast path --------------------------------------------------------------


def test_connections_take_the_slow_path_only_while_a_database_is_full():
    server = full_server("noeviction", maxkeys=32)
    client = server.client()
    for i in range(31):
        client.call("SET", f"k{i}", "v")
    assert not client.protocol.session._gated
    client.call("SET", "k31", "v")
    assert client.protocol.session._gated and server.client().protocol.session._gated
    # Just under the limit it stays gated (a queue at the limit does not
    # flip every connection on each job) ...
    client.call("DEL", "k0")
    client.call("PING")
    assert client.protocol.session._gated
    # ... until the database is 1/16 below it.
    client.call("DEL", "k1")
    client.call("PING")
    assert not client.protocol.session._gated and not server.service.memory.limited


def test_allkeys_policies_never_take_the_slow_path():
    for policy in ("allkeys-lru", "allkeys-random"):
        server = full_server(policy)
        client = server.client()
        for i in range(10):
            client.call("SET", f"k{i}", "v")
        assert not client.protocol.session._gated and len(keys(server)) == 3


def test_swapdb_moves_the_full_mark_with_the_data():
    server = full_server("noeviction", maxkeys=2)
    client = server.client()
    client.call("MSET", "a", "1", "b", "1")
    client.call("SWAPDB", "0", "1")
    assert server.service.store.full == {1}
    assert client.call("SET", "c", "1") == b"OK"
    client.call("SELECT", "1")
    assert error_of(client.call("SET", "c", "1")) == OOM_KEYS


# -- CONFIG SET -------------------------------------------------------------------------------


def test_lowering_maxkeys_brings_every_database_down_at_once():
    server = FakeServer(maxkeys=0)
    client = server.client()
    for db in (0, 1, 2):
        client.call("SELECT", str(db))
        for i in range(10):
            client.call("SET", f"k{i}", "v")
    client.call("SELECT", "0")
    client.call("GET", "k0")
    assert client.call("CONFIG", "SET", "maxkeys", "4") == b"OK"
    for db in (0, 1, 2):
        assert len(keys(server, db)) == 4
    assert keys(server, 0) == {b"k0", b"k7", b"k8", b"k9"}
    assert evicted(server) == 18
    assert "evicted_keys:18\r\n" in client.call("INFO", "stats").decode()


def test_lowering_maxkeys_under_noeviction_evicts_nothing_and_refuses():
    server = full_server("noeviction", maxkeys=0)
    client = server.client()
    client.call("MSET", "a", "1", "b", "1", "c", "1")
    assert client.call("CONFIG", "SET", "maxkeys", "2") == b"OK"
    assert len(keys(server)) == 3 and evicted(server) == 0
    assert error_of(client.call("SET", "d", "1")) == OOM_KEYS
    assert client.call("CONFIG", "SET", "maxkeys-policy", "volatile-ttl") == b"OK"
    assert error_of(client.call("SET", "d", "1")) == OOM_KEYS
    client.call("EXPIRE", "a", "10")
    assert client.call("CONFIG", "SET", "maxkeys-policy", "allkeys-lru") == b"OK"
    assert len(keys(server)) == 2 and not client.protocol.session._gated
    assert client.call("CONFIG", "SET", "maxkeys", "0") == b"OK"
    assert client.call("SET", "d", "1") == b"OK"


def test_maxkeys_policy_setting():
    server = FakeServer(maxkeys=0)
    client = server.client()
    assert client.call("CONFIG", "SET", "maxkeys-policy", "VOLATILE-LRU") == b"OK"
    assert client.call("CONFIG", "GET", "maxkeys-policy") == [b"maxkeys-policy", b"volatile-lru"]
    assert server.service.store.maxkeys_policy == "volatile-lru"
    assert error_of(client.call("CONFIG", "SET", "maxkeys-policy", "allkeys-lfu")) == (
        "ERR CONFIG SET failed (possibly related to argument 'maxkeys-policy') - argument(s) "
        "must be one of the following: volatile-lru, volatile-random, volatile-ttl, "
        "allkeys-lru, allkeys-random, noeviction")


# -- what an eviction does to others -----------------------------------------------------------


def test_an_evicted_watched_key_fails_exec():
    server = FakeServer(maxkeys=2)
    client, other = server.client(), server.client()
    client.call("SET", "watched", "1")
    client.call("WATCH", "watched")
    other.call("SET", "b", "1")
    client.call("MULTI")
    client.call("GET", "b")
    other.call("SET", "c", "1")  # evicts "watched", the least recently used
    assert client.call("EXEC") is None


def test_an_evicted_stream_unblocks_its_xreadgroup_clients():
    server = FakeServer(maxkeys=2)
    client, waiter = server.client(), server.client()
    client.call("XGROUP", "CREATE", "stream", "group", "$", "MKSTREAM")
    assert waiter.call("XREADGROUP", "GROUP", "group", "c", "BLOCK", "0",
                       "STREAMS", "stream", ">") is None
    client.call("SET", "b", "1")
    client.call("SET", "c", "1")
    assert error_of(waiter.replies()[0]) == "UNBLOCKED the stream key no longer exists"


def test_blocked_list_clients_are_served_by_a_push_that_evicts():
    server = FakeServer(maxkeys=2)
    client, waiter = server.client(), server.client()
    client.call("SET", "a", "1")
    client.call("SET", "b", "1")
    assert waiter.call("BLPOP", "jobs", "0") is None
    assert client.call("RPUSH", "jobs", "job-1") == 1
    assert waiter.replies() == [[b"jobs", b"job-1"]]
    assert keys(server) == {b"b"}


# -- the log -------------------------------------------------------------------------------------


def messages(logged: list[dict]) -> list[str]:
    from twisted.logger import formatEvent

    return [formatEvent(event) for event in logged if "maxkeys" in event.get("log_format", "")]


def test_the_first_eviction_is_logged_then_one_count_a_minute(logged):
    server = FakeServer(maxkeys=2)
    client = server.client()
    client.call("RPUSH", "rq:queue:default", "job-1")
    client.call("SET", "a", "1")
    client.call("SET", "b", "1")
    [warning] = messages(logged)
    assert "Database 0 reached maxkeys (2 keys)" in warning
    assert "'rq:queue:default' (a list)" in warning and "allkeys-lru" in warning
    assert "'maxkeys 0'" in warning and "'maxkeys-policy noeviction'" in warning
    assert "CONFIG SET" in warning
    for i in range(5):
        client.call("SET", f"k{i}", "1")
    assert len(messages(logged)) == 1
    server.clock.advance(59)
    assert len(messages(logged)) == 1
    server.clock.advance(1)
    summary = messages(logged)[1]
    assert "5 more key(s) evicted in the last 60 seconds" in summary
    # Nothing evicted since: no line, and no timer left running.
    server.clock.advance(600)
    assert len(messages(logged)) == 2
    assert not server.clock.getDelayedCalls()
    client.call("SET", "k9", "1")
    server.clock.advance(60)
    assert "1 more key(s) evicted" in messages(logged)[2]


def test_the_log_shows_unprintable_keys_escaped_and_cut(logged):
    server = FakeServer(maxkeys=1)
    client = server.client()
    client.call("SET", b"\xff" + b"k" * 100, "1")
    client.call("SET", "b", "1")
    [warning] = messages(logged)
    assert "'\\xff" + "k" * 63 + "...' (a string)" in warning


def test_eviction_log_stops_with_the_store():
    server = FakeServer(maxkeys=1)
    client = server.client()
    client.call("SET", "a", "1")
    client.call("SET", "b", "1")
    assert server.clock.getDelayedCalls()
    server.service.store.stop()
    assert not [call for call in server.clock.getDelayedCalls() if call.active()]


def test_eviction_log_counts_alone():
    from twisted.internet.task import Clock

    clock = Clock()
    log = EvictionLog(clock)
    store = FakeServer(maxkeys=1).service.store
    db = store.dbs[0]
    log.evicted(store, db, b"k", b"v")
    log.evicted(store, db, b"k", b"v")
    log.evicted(store, db, b"k", b"v")
    assert log.pending == 2
    clock.advance(60)
    assert log.pending == 0
