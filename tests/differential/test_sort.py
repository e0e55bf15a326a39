"""SORT and SORT_RO, byte for byte against a real redis-server (RESP2 and RESP3)."""

from __future__ import annotations

import random

import pytest

from tests.differential.harness import Pair

pytestmark = pytest.mark.differential

#: Clears errno in Redis (see the scores that are not numbers in SORT_SCRIPT).
ERRNO_RESET = ("ZADD", "errno-reset", "0", "x")

SETUP = [
    ("RPUSH", "nums", "3", "1", "2", "10", "-5", "2.5", "1e2", " 7", "0x10"),
    ("RPUSH", "words", "banana", "Apple", "cherry", "apple", "b\x00z", "b\x00a", "\xc3\xa9",
     "\xff", ""),
    ("SADD", "set", "5", "3", "9", "1"),
    ("SADD", "wordset", "x", "a", "m"),
    ("ZADD", "zs", "3", "c", "1", "a", "2", "b", "5", "e", "4", "d"),
    ("MSET", "w_3", "30", "w_1", "10", "w_2", "20", "w_10", "5", "w_-5", "x"),
    ("MSET", "name_c", "Carol", "name_a", "Alice", "name_b", "Bob", "name_d", "Dave"),
    ("HSET", "obj_a", "age", "30", "city", "Rome"),
    ("HSET", "obj_b", "age", "25"),
    ("HSET", "obj_c", "age", "35", "city", "Oslo"),
]

SORT_SCRIPT = [
    ("SORT", "nums"),
    ("SORT", "nums", "DESC"),
    ("SORT", "nums", "ALPHA"),
    ("SORT", "nums", "ALPHA", "DESC"),
    ("SORT", "nums", "LIMIT", "2", "3"),
    ("SORT", "nums", "LIMIT", "0", "0"),
    ("SORT", "nums", "LIMIT", "-5", "3"),
    ("SORT", "nums", "LIMIT", "7", "-1"),
    ("SORT", "nums", "LIMIT", "20", "3"),
    ("SORT", "nums", "LIMIT", "2", "100", "DESC"),
    ("SORT", "nums", "LIMIT", "x", "1"),
    ("SORT", "nums", "LIMIT", "1"),
    ("SORT", "nums", "LIMIT", "1", "2", "3"),
    ("SORT", "nums", "desc", "asc"),
    ("SORT", "words"),
    ("SORT", "words", "ALPHA"),
    ("SORT", "words", "ALPHA", "DESC", "LIMIT", "1", "4"),
    ("SORT", "set"),
    ("SORT", "set", "DESC"),
    ("SORT", "wordset", "ALPHA"),
    ("SORT", "wordset"),
    ("SORT", "zs"),
    ("SORT", "zs", "ALPHA"),
    ("SORT", "zs", "ALPHA", "DESC"),
    ("SORT", "nokey"),
    ("SORT", "nokey", "BY", "nosort", "DESC"),
    ("SORT", "nokey", "STORE", "dst"),
    ("SET", "str", "x"),
    ("SORT", "str"),
    ("SORT", "str", "BOGUS"),
    ("SORT", "nums", "BOGUS"),
    ("SORT", "nums", "BY"),
    ("SORT", "nums", "GET"),
    ("SORT", "nums", "STORE"),
    # BY with a pattern, with hash fields, and without '*' (no sorting).
    ("RPUSH", "ids", "3", "1", "2", "10", "-5"),
    ("SORT", "ids", "BY", "w_*"),
    ("SORT", "ids", "BY", "w_*", "DESC"),
    ("SORT", "ids", "BY", "w_*", "ALPHA"),
    ("SORT", "ids", "BY", "nosort"),
    ("SORT", "ids", "BY", "nosort", "DESC"),
    ("SORT", "ids", "BY", "nosort", "LIMIT", "1", "2"),
    ("SORT", "ids", "BY", "nosort", "LIMIT", "1", "2", "DESC"),
    ("SORT", "ids", "BY", "nosort", "LIMIT", "9", "2"),
    ("SORT", "ids", "BY", "w_*", "LIMIT", "1", "3"),
    ("SORT", "ids", "BY", "w_*", "GET", "#", "GET", "w_*", "GET", "nope_*"),
    ("SORT", "ids", "BY", "w_*", "GET", "#", "GET", "w_*", "LIMIT", "1", "2"),
    ("SORT", "ids", "GET", "w_*", "GET", "w_*->f"),
    ("SORT", "ids", "GET", "nostar"),
    ("SORT", "ids", "GET", "#"),
    ("RPUSH", "people", "b", "a", "c", "d"),
    ("SORT", "people", "BY", "obj_*->age"),
    ("SORT", "people", "BY", "obj_*->age", "DESC", "GET", "#", "GET", "obj_*->city"),
    ("SORT", "people", "BY", "name_*", "ALPHA", "GET", "name_*"),
    ("SORT", "people", "BY", "obj_*->city", "ALPHA"),
    ("SORT", "people", "BY", "obj_*->city", "ALPHA", "DESC", "LIMIT", "0", "2"),
    ("SORT", "people", "BY", "obj_*->", "ALPHA"),
    ("SORT", "people", "BY", "obj_*->nofield"),
    ("SORT", "people", "BY", "name_*"),
    ("SORT", "people", "BY", "obj_*->city"),
    ("SORT", "people", "ALPHA", "GET", "obj_*->age", "GET", "name_*->x"),
    ("SORT", "zs", "BY", "nosort"),
    ("SORT", "zs", "BY", "nosort", "DESC", "LIMIT", "1", "2"),
    ("SORT", "zs", "BY", "nosort", "LIMIT", "3", "10"),
    ("OBJECT", "ENCODING", "zs"),
    ("SORT", "set", "BY", "nosort"),
    # Scores that are not numbers. Redis's SORT reads strtod's errno without
    # clearing it first, so after an ERANGE it stays set until a command
    # parses a double with string2d (which clears it): each such SORT is
    # followed by a ZADD, which keeps Redis's answers to the next SORTs
    # deterministic.
    ("SORT", "words"),
    ("RPUSH", "tiny", "0x1p-1074", "0x1.8p-1070", "2.2250738585072014e-308", "0e-999", "-0"),
    ("SORT", "tiny"),
    ("RPUSH", "tiny2", "1", "1e-310"),
    ("SORT", "tiny2"),
    ERRNO_RESET,
    ("RPUSH", "tiny3", "1", "2.2250738585072009e-308"),
    ("SORT", "tiny3"),
    ERRNO_RESET,
    ("RPUSH", "tiny4", "1", "1e-400"),
    ("SORT", "tiny4"),
    ERRNO_RESET,
    ("RPUSH", "odd", "1", "inf", "-inf", "1e308", "4.9e-324", "2"),
    ("SORT", "odd"),
    ERRNO_RESET,
    ("RPUSH", "odd2", "1", "inf", "-inf", "1e308", "0x1p-1074", "2"),
    ("SORT", "odd2"),
    ("RPUSH", "huge", "1", "1e400"),
    ("SORT", "huge"),
    ERRNO_RESET,
    ("RPUSH", "nan", "1", "nan"),
    ("SORT", "nan"),
    ("RPUSH", "spaced", "1 ", "2"),
    ("SORT", "spaced"),
    ("RPUSH", "empty", "", "1", "-1"),
    ("SORT", "empty"),
    ("SORT", "ids", "BY", "w_*", "STORE", "bad"),
    ("EXISTS", "bad"),
    # SORT_RO: no STORE.
    ("SORT_RO", "nums"),
    ("SORT_RO", "ids", "BY", "w_*", "GET", "#"),
    ("SORT_RO", "nums", "STORE", "dst"),
    ("SORT_RO", "nums", "LIMIT", "0", "2", "DESC"),
    ("SORT_RO", "str"),
]

STORE_SCRIPT = [
    ("SORT", "nums", "STORE", "out"),
    ("LRANGE", "out", "0", "-1"),
    ("TYPE", "out"),
    ("OBJECT", "ENCODING", "out"),
    ("SORT", "words", "ALPHA", "STORE", "out"),
    ("LRANGE", "out", "0", "-1"),
    ("SORT", "ids", "BY", "w_*", "GET", "#", "GET", "nope_*", "STORE", "out"),
    ("LRANGE", "out", "0", "-1"),
    ("SORT", "ids", "STORE", "a", "STORE", "b"),
    ("EXISTS", "a"),
    ("LRANGE", "b", "0", "-1"),
    ("SET", "ttl", "x", "EX", "100"),
    ("SORT", "nums", "STORE", "ttl"),
    ("TTL", "ttl"),
    ("SORT", "nokey", "STORE", "ttl"),
    ("EXISTS", "ttl"),
    ("SORT", "nums", "LIMIT", "20", "5", "STORE", "out"),
    ("EXISTS", "out"),
    # A set sorted without sorting is sorted ALPHA when stored.
    ("SORT", "wordset", "BY", "nosort", "STORE", "out"),
    ("LRANGE", "out", "0", "-1"),
    ("SORT", "set", "BY", "nosort", "STORE", "out"),
    ("LRANGE", "out", "0", "-1"),
    ("SORT", "words", "ALPHA", "STORE", "words"),
    ("LRANGE", "words", "0", "-1"),
    ("SORT", "zs", "STORE", "zs"),
    ("TYPE", "zs"),
]


@pytest.fixture
def loaded(pair):
    pair.run_script(SETUP)
    return pair


def test_sort(loaded):
    loaded.run_script(SORT_SCRIPT)


def test_sort_store(loaded):
    loaded.run_script(STORE_SCRIPT)


def test_sort_in_scripts_sorts_sets(loaded):
    loaded.check("EVAL", "return redis.call('sort', KEYS[1], 'BY', 'nosort')", "1", "wordset")
    loaded.check("EVAL", "return redis.call('sort_ro', KEYS[1], 'by', 'x')", "1", "set")
    loaded.check("EVAL", "return redis.call('sort', KEYS[1], 'STORE', KEYS[2])", "2", "nums",
                 "out")
    loaded.check("EVAL_RO", "return redis.call('sort', KEYS[1])", "1", "nums")
    loaded.check("EVAL_RO", "return redis.call('sort_ro', KEYS[1])", "1", "nums")


def test_store_wakes_blocked_clients(loaded, hush_process, redis_process):
    waiter = Pair(hush_process.port, redis_process.port)
    try:
        waiter.send("BLPOP", "queue", "5")
        for conn in (waiter.hush, waiter.redis):
            conn.sock.settimeout(10)
        loaded.check("SORT", "nums", "DESC", "STORE", "queue")
        waiter.check_next("BLPOP served by SORT STORE")
        loaded.check("LRANGE", "queue", "0", "-1")
    finally:
        waiter.close()


def test_watch_sees_sort_store(loaded, hush_process, redis_process):
    other = Pair(hush_process.port, redis_process.port)
    try:
        loaded.check("LPUSH", "foo", "bar")
        for command in [("SORT", "emptylist", "STORE", "foo"), ("SORT", "nums", "STORE", "foo"),
                        ("SORT", "emptylist", "STORE", "foo")]:
            loaded.check("WATCH", "foo")
            other.check(*command)
            loaded.check("MULTI")
            loaded.check("PING")
            loaded.check("EXEC")
    finally:
        other.close()


def test_command_info(pair):
    for name in ("SORT", "SORT_RO"):
        pair.check("COMMAND", "INFO", name)


@pytest.mark.parametrize("args", [
    "SORT abc",
    "SORT abc STORE def",
    "SORT abc store invalid store stillbad store def",
    "SORT abc STORE x BY STORE STORE y",
    "SORT abc GET store LIMIT 1 2",
    "SORT abc STORE by STORE x",
    "SORT abc STORE",
    "SORT_RO abc",
    "SORT_RO abc STORE x",
])
def test_command_getkeys(pair, args):
    pair.check("COMMAND", "GETKEYS", *args.split())


def test_random_sorts(pair):
    rng = random.Random(8080)
    pool = ["1", "2", "10", "-3", "2.5", "07", "x", "a", "B", "1e3", "-0", "0", ""]
    for index in range(40):
        pair.check("SET", "wt_%d" % index, rng.choice(pool))
        pair.check("HSET", "h_%d" % index, "f", rng.choice(pool))
    for _ in range(250):
        key = rng.choice(["L", "S", "Z"])
        roll = rng.random()
        member = str(rng.randrange(40))
        if roll < 0.3:
            if key == "L":
                pair.check("RPUSH", key, member)
            elif key == "S":
                pair.check("SADD", key, member)
            else:
                pair.check("ZADD", key, str(rng.randint(0, 5)), member)
            continue
        options: list[str] = []
        if rng.random() < 0.5:
            options += ["BY", rng.choice(["wt_*", "h_*->f", "nosort", "missing_*"])]
        if rng.random() < 0.3:
            options.append("ALPHA")
        if rng.random() < 0.4:
            options += ["LIMIT", str(rng.randint(-2, 10)), str(rng.randint(-2, 10))]
        if rng.random() < 0.5:
            options.append(rng.choice(["ASC", "DESC"]))
        for _ in range(rng.randint(0, 2)):
            options += ["GET", rng.choice(["#", "wt_*", "h_*->f"])]
        if key == "S" and "nosort" in options and "STORE" not in options:
            # Redis lists an unsorted set in its hash table's order.
            continue
        if key == "Z" and "BY" in options and "nosort" not in options and "ALPHA" in options:
            # Ties among equal BY values keep the order of Redis's hash table.
            continue
        if rng.random() < 0.2:
            options += ["STORE", "dst"]
            pair.check("SORT", key, *options)
            pair.check("LRANGE", "dst", "0", "-1")
        else:
            pair.check("SORT", key, *options)
