"""HyperLogLog commands, byte for byte against a real redis-server (RESP2 and RESP3).

GET of an HLL key shows its bytes, so comparing GET after each change pins
the sparse opcodes, the promotion to dense and the cached cardinality.
"""

from __future__ import annotations

import random

import pytest

from tests.differential.harness import Pair, parse_reply

pytestmark = pytest.mark.differential

BASIC_SCRIPT = [
    ("PFADD", "h"),
    ("GET", "h"),
    ("PFCOUNT", "h"),
    ("GET", "h"),
    ("PFADD", "h", "a", "b", "c"),
    ("GET", "h"),
    ("PFADD", "h", "a", "b", "c"),
    ("PFADD", "h", ""),
    ("PFCOUNT", "h"),
    ("GET", "h"),
    ("PFCOUNT", "h"),
    ("OBJECT", "ENCODING", "h"),
    ("TYPE", "h"),
    ("PFADD", "h2", "b", "c", "d"),
    ("PFADD", "h3", "c", "d", "e"),
    ("PFCOUNT", "h", "h2", "h3"),
    ("PFCOUNT", "h", "nokey", "h3"),
    ("PFCOUNT", "nokey"),
    ("PFCOUNT", "nokey", "nokey2"),
    ("EXISTS", "nokey"),
    ("PFMERGE", "m", "h", "h2", "h3"),
    ("GET", "m"),
    ("PFCOUNT", "m"),
    ("PFMERGE", "m"),
    ("PFMERGE", "empty"),
    ("GET", "empty"),
    ("PFMERGE", "h", "h2"),
    ("GET", "h"),
    ("PFDEBUG", "ENCODING", "h"),
    ("PFDEBUG", "DECODE", "h"),
    ("PFDEBUG", "decode", "m"),
    ("PFDEBUG", "TODENSE", "h2"),
    ("PFDEBUG", "TODENSE", "h2"),
    ("PFDEBUG", "ENCODING", "h2"),
    ("PFDEBUG", "DECODE", "h2"),
    ("PFCOUNT", "h2"),
    ("GET", "h2"),
    ("PFMERGE", "m2", "h3", "h2"),
    ("PFDEBUG", "encoding", "m2"),
    ("PFCOUNT", "m2"),
    ("PFDEBUG", "GETREG", "h3"),
    ("PFDEBUG", "ENCODING", "h3"),
    ("PFDEBUG", "BOGUS", "h3"),
    ("PFDEBUG", "GETREG", "nokey"),
    ("PFDEBUG", "BOGUS", "nokey"),
    ("PFDEBUG", "GETREG"),
    ("PFDEBUG", "GETREG", "h", "x"),
    ("PFADD",),
    ("PFCOUNT",),
    ("PFMERGE",),
    # A TTL survives (the HLL changes in place); a SET value becomes raw.
    ("SET", "t", "x"),
    ("DEL", "t"),
    ("PFADD", "t", "x"),
    ("EXPIRE", "t", "1000"),
    ("PFADD", "t", "y"),
    ("PFCOUNT", "t"),
    ("PFMERGE", "t", "h"),
    ("TTL", "t"),
]

ERRORS_SCRIPT = [
    ("SET", "str", "bar"),
    ("PFADD", "str", "1"),
    ("PFCOUNT", "str"),
    ("PFCOUNT", "nokey", "str"),
    ("PFMERGE", "str", "nokey"),
    ("PFMERGE", "dest", "str"),
    ("EXISTS", "dest"),
    ("PFDEBUG", "ENCODING", "str"),
    ("RPUSH", "list", "a"),
    ("PFADD", "list", "1"),
    ("PFCOUNT", "list"),
    ("PFCOUNT", "list", "str"),
    ("PFCOUNT", "str", "list"),
    ("PFMERGE", "list", "str"),
    ("PFMERGE", "dest", "list"),
    ("PFDEBUG", "ENCODING", "list"),
    # Redis's own corruption tests: extra bytes, a broken magic, a bad encoding,
    # a dense value of the wrong length.
    ("PFADD", "c1", "a", "b", "c"),
    ("APPEND", "c1", "hello"),
    ("PFCOUNT", "c1"),
    ("PFADD", "c1", "x", "y"),
    ("PFMERGE", "c1dest", "c1"),
    ("PFDEBUG", "GETREG", "c1"),
    ("PFDEBUG", "DECODE", "c1"),
    ("PFADD", "c2", "a", "b", "c"),
    ("SETRANGE", "c2", "0", "0123"),
    ("PFCOUNT", "c2"),
    ("PFADD", "c3", "a", "b", "c"),
    ("SETRANGE", "c3", "4", "x"),
    ("PFCOUNT", "c3"),
    ("PFADD", "c4", "a", "b", "c"),
    ("SETRANGE", "c4", "4", "\x00"),
    ("PFCOUNT", "c4"),
    ("SET", "short", "HYLL"),
    ("PFADD", "short", "a"),
    ("SET", "c5", b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f"),
    ("PFCOUNT", "c5"),
    ("PFADD", "c5", "a"),
    ("GET", "c5"),
    ("PFDEBUG", "TODENSE", "c5"),
]


def test_basic(pair):
    pair.run_script(BASIC_SCRIPT)


def test_errors_and_corruption(pair):
    pair.run_script(ERRORS_SCRIPT)


def test_promotion_to_dense_at_the_sparse_limit(pair):
    """Adds in steps until the sparse value passes hll-sparse-max-bytes."""
    rng = random.Random(4)
    for step in range(60):
        elements = [str(rng.getrandbits(32)) for _ in range(40)]
        pair.check("PFADD", "grow", *elements)
        pair.check("STRLEN", "grow")
        pair.check("PFDEBUG", "ENCODING", "grow")
        if step % 10 == 0:
            pair.check("GET", "grow")
            pair.check("PFCOUNT", "grow")
    pair.check("GET", "grow")
    pair.check("PFCOUNT", "grow")


def test_sparse_limit_follows_config(pair):
    pair.check("CONFIG", "SET", "hll-sparse-max-bytes", "60")
    try:
        for index in range(20):
            pair.check("PFADD", "small", "e%d" % index)
            pair.check("PFDEBUG", "ENCODING", "small")
        pair.check("GET", "small")
        pair.check("PFMERGE", "merged", "small")
        pair.check("PFDEBUG", "ENCODING", "merged")
    finally:
        pair.check("CONFIG", "SET", "hll-sparse-max-bytes", "3000")


def test_merges_of_sparse_and_dense(pair):
    rng = random.Random(11)
    for key in ("s1", "s2", "d1"):
        pair.check("PFADD", key, *(str(rng.getrandbits(20)) for _ in range(300)))
    pair.check("PFDEBUG", "TODENSE", "d1")
    pair.check("PFMERGE", "u1", "s1", "s2")
    pair.check("GET", "u1")
    pair.check("PFMERGE", "u2", "s1", "d1", "s2")
    pair.check("GET", "u2")
    pair.check("PFMERGE", "s1", "s2")
    pair.check("GET", "s1")
    pair.check("PFCOUNT", "s1", "s2", "d1", "u1")
    pair.check("PFCOUNT", "u2")


def test_values_copy_between_hush_and_redis(pair):
    """An HLL made by one server keeps working on the other (GET/SET)."""
    rng = random.Random(99)
    elements = [str(rng.getrandbits(48)) for _ in range(2500)]
    pair.check("PFADD", "orig", *elements[:200])
    pair.check("PFADD", "dense", *elements)
    for key in ("orig", "dense"):
        ours, theirs = pair.both("GET", key)
        assert ours == theirs
        value = parse_reply(ours)
        # Each server gets the other's bytes.
        pair.hush.call("SET", key + "-copy", value)
        pair.redis.call("SET", key + "-copy", value)
        pair.check("PFCOUNT", key + "-copy")
        pair.check("OBJECT", "ENCODING", key + "-copy")
        pair.check("PFADD", key + "-copy", "more", "and more")
        pair.check("GET", key + "-copy")


def test_pfselftest(pair):
    pair.check("PFSELFTEST")
    pair.check("PFSELFTEST", "x")


def test_command_info(pair):
    # PFCOUNT (and PUBLISH) may replicate, which Redis does not list among the flags.
    for name in ("PFADD", "PFCOUNT", "PFMERGE", "PFDEBUG", "PFSELFTEST", "PUBLISH"):
        pair.check("COMMAND", "INFO", name)


def test_pfcount_may_write_so_read_only_scripts_refuse_it(pair):
    pair.check("PFADD", "h", "a")
    pair.check("EVAL_RO", "return redis.call('pfcount', KEYS[1])", "1", "h")
    pair.check("EVAL_RO", "return redis.call('pfcount', KEYS[1], 'x')", "1", "h")
    pair.check("EVAL", "return redis.call('pfcount', KEYS[1])", "1", "h")


@pytest.mark.parametrize("args", [
    "PFADD k a b",
    "PFCOUNT a b c",
    "PFMERGE d a b",
    "PFDEBUG GETREG k",
])
def test_command_getkeys(pair, args):
    pair.check("COMMAND", "GETKEYS", *args.split())


def test_watch_sees_pfadd_and_pfcount(pair, hush_process, redis_process):
    other = Pair(hush_process.port, redis_process.port)
    try:
        pair.check("PFADD", "w", "a")
        for command in [("PFADD", "w", "a"), ("PFADD", "w", "b"), ("PFCOUNT", "w"),
                        ("PFCOUNT", "w"), ("PFMERGE", "w")]:
            pair.check("WATCH", "w")
            other.check(*command)
            pair.check("MULTI")
            pair.check("PING")
            pair.check("EXEC")
    finally:
        other.close()


def test_random_hll_commands(pair):
    rng = random.Random(31337)
    keys = ["p1", "p2", "p3"]
    for _ in range(400):
        key = rng.choice(keys)
        roll = rng.random()
        if roll < 0.5:
            count = rng.choice([1, 3, 20, 150])
            pair.check("PFADD", key, *(str(rng.getrandbits(16)) for _ in range(count)))
        elif roll < 0.7:
            pair.check("PFCOUNT", *rng.sample(keys, rng.randint(1, 3)))
        elif roll < 0.8:
            pair.check("PFMERGE", key, *rng.sample(keys, rng.randint(0, 2)))
        elif roll < 0.85:
            pair.check("PFDEBUG", rng.choice(["ENCODING", "TODENSE", "DECODE"]), key)
        elif roll < 0.9:
            pair.check("DEL", key)
        else:
            pair.check("GET", key)
    for key in keys:
        pair.check("GET", key)
