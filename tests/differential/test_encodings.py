"""The encoding thresholds under CONFIG SET, compared byte for byte with redis-server.

OBJECT ENCODING must follow ``hash-max-listpack-*``, ``zset-max-listpack-*``,
``set-max-intset-entries`` (and the ``*-ziplist-*`` aliases) the way Redis
7.0's conversions do: at the write that passes a threshold, for good, and
never because a threshold changed. The stream node limits decide what
``~`` trims and XINFO STREAM's node figures.
"""

from __future__ import annotations

import random

import pytest

from tests.differential.harness import Pair, parse_reply

pytestmark = pytest.mark.differential

DEFAULTS = {
    "hash-max-listpack-entries": "512", "hash-max-listpack-value": "64",
    "zset-max-listpack-entries": "128", "zset-max-listpack-value": "64",
    "set-max-intset-entries": "512", "list-max-listpack-size": "-2",
    "list-compress-depth": "0", "stream-node-max-bytes": "4096",
    "stream-node-max-entries": "100",
}


@pytest.fixture
def thresholds(pair: Pair):
    """The pair, with every threshold back at its default afterwards."""
    yield pair
    for name, value in DEFAULTS.items():
        pair.both("CONFIG", "SET", name, value)


def test_config_get_and_set_with_aliases(thresholds):
    pair = thresholds
    for name in [*DEFAULTS, "hash-max-ziplist-entries", "hash-max-ziplist-value",
                 "zset-max-ziplist-entries", "zset-max-ziplist-value", "list-max-ziplist-size"]:
        pair.check("CONFIG", "GET", name)
    pair.check("CONFIG", "SET", "hash-max-ziplist-entries", "3")
    pair.check("CONFIG", "GET", "hash-max-listpack-entries")
    pair.check("CONFIG", "SET", "zset-max-ziplist-value", "1kb")
    pair.check("CONFIG", "GET", "zset-max-listpack-value")
    pair.check("CONFIG", "SET", "set-max-intset-entries", "-1")
    pair.check("CONFIG", "SET", "list-max-listpack-size", "x")
    pair.check("CONFIG", "SET", "stream-node-max-bytes", "2gb")
    pair.check("CONFIG", "GET", "stream-node-max-bytes")


SCRIPTS = [
    # A hash: listpack until a field too many or a value too long, then for good.
    [("CONFIG", "SET", "hash-max-listpack-entries", "3"), ("HSET", "h", "a", "1", "b", "2"),
     ("OBJECT", "ENCODING", "h"), ("HSET", "h", "c", "3"), ("OBJECT", "ENCODING", "h"),
     ("HSET", "h", "d", "4"), ("OBJECT", "ENCODING", "h"), ("HDEL", "h", "a", "b", "c"),
     ("OBJECT", "ENCODING", "h"), ("HSCAN", "h", "0"),
     ("CONFIG", "SET", "hash-max-listpack-entries", "512"), ("HSET", "h", "e", "5"),
     ("OBJECT", "ENCODING", "h")],
    [("CONFIG", "SET", "hash-max-listpack-value", "4"), ("HSET", "v", "f", "1234"),
     ("OBJECT", "ENCODING", "v"), ("HSET", "v", "f", "12345"), ("OBJECT", "ENCODING", "v"),
     ("HSET", "v", "f", "1"), ("OBJECT", "ENCODING", "v"), ("HSETNX", "w", "fieldname", "x"),
     ("OBJECT", "ENCODING", "w"), ("HINCRBY", "x", "counter", "5"), ("OBJECT", "ENCODING", "x"),
     ("HINCRBYFLOAT", "y", "f", "1.5"), ("OBJECT", "ENCODING", "y"),
     ("HINCRBYFLOAT", "y", "f", "0.001"), ("OBJECT", "ENCODING", "y"),
     ("HSET", "z", "a", "1"), ("HSETNX", "z", "a", "longvalue"), ("OBJECT", "ENCODING", "z"),
     ("HMSET", "z", "a", "longvalue"), ("OBJECT", "ENCODING", "z")],
    # Lowering a threshold converts nothing: existing values keep their encoding
    # until their next write.
    [("HSET", "h", "a", "1", "b", "2", "c", "3"), ("SADD", "s", "1", "2", "3"),
     ("ZADD", "z", "1", "a", "2", "b", "3", "c"),
     ("CONFIG", "SET", "hash-max-listpack-entries", "1"),
     ("CONFIG", "SET", "set-max-intset-entries", "1"),
     ("CONFIG", "SET", "zset-max-listpack-entries", "1"),
     ("OBJECT", "ENCODING", "h"), ("OBJECT", "ENCODING", "s"), ("OBJECT", "ENCODING", "z"),
     ("HSCAN", "h", "0"), ("SSCAN", "s", "0"), ("SMEMBERS", "s"), ("ZSCAN", "z", "0"),
     ("HDEL", "h", "a"), ("OBJECT", "ENCODING", "h"), ("HSET", "h", "a", "1"),
     ("OBJECT", "ENCODING", "h"), ("SREM", "s", "1"), ("OBJECT", "ENCODING", "s"),
     ("SADD", "s", "1"), ("OBJECT", "ENCODING", "s"), ("ZADD", "z", "4", "d"),
     ("OBJECT", "ENCODING", "z"), ("COPY", "h", "h2"), ("OBJECT", "ENCODING", "h2"),
     ("HSET", "new", "a", "1"), ("OBJECT", "ENCODING", "new"), ("HSET", "new2", "a", "1",
                                                                   "b", "2"),
     ("OBJECT", "ENCODING", "new2")],
    # A set: intset while integers up to the limit; SPOP of most of it rebuilds it.
    [("CONFIG", "SET", "set-max-intset-entries", "4"), ("SADD", "s", "3", "1", "2"),
     ("OBJECT", "ENCODING", "s"), ("SMEMBERS", "s"), ("SADD", "s", "4", "5"),
     ("OBJECT", "ENCODING", "s"), ("SREM", "s", "5", "4"), ("OBJECT", "ENCODING", "s"),
     ("SADD", "t", "x"), ("SREM", "t", "x"), ("SADD", "t", "1"), ("OBJECT", "ENCODING", "t"),
     ("SADD", "u", "1", "a"), ("SREM", "u", "a"), ("OBJECT", "ENCODING", "u"),
     ("SADD", "big", *[str(n) for n in range(10)]), ("OBJECT", "ENCODING", "big"),
     ("SCARD", "big"), ("OBJECT", "ENCODING", "big"),
     ("SINTERSTORE", "i", "s", "s"), ("OBJECT", "ENCODING", "i"), ("SMEMBERS", "i"),
     ("SUNIONSTORE", "un", "s", "u"), ("OBJECT", "ENCODING", "un"),
     ("SADD", "m1", "7"), ("SMOVE", "s", "m1", "1"), ("OBJECT", "ENCODING", "m1"),
     ("SMOVE", "m1", "m2", "7"), ("OBJECT", "ENCODING", "m2"),
     ("SADD", "a1", "x"), ("SMOVE", "a1", "m3", "x"), ("OBJECT", "ENCODING", "m3"),
     ("CONFIG", "SET", "set-max-intset-entries", "0"), ("SADD", "zero", "1"),
     ("OBJECT", "ENCODING", "zero")],
    # A sorted set: listpack until a member too many or too long.
    [("CONFIG", "SET", "zset-max-listpack-entries", "2"),
     ("CONFIG", "SET", "zset-max-listpack-value", "3"), ("ZADD", "z", "1", "a", "2", "b"),
     ("OBJECT", "ENCODING", "z"), ("ZADD", "z", "3", "c"), ("OBJECT", "ENCODING", "z"),
     ("ZREM", "z", "c", "b"), ("OBJECT", "ENCODING", "z"), ("ZADD", "y", "1", "long"),
     ("OBJECT", "ENCODING", "y"), ("ZADD", "x", "1", "abc"), ("OBJECT", "ENCODING", "x"),
     ("ZUNIONSTORE", "u", "1", "z"), ("OBJECT", "ENCODING", "u"),
     ("ZRANGESTORE", "r", "y", "0", "-1"), ("OBJECT", "ENCODING", "r"),
     ("CONFIG", "SET", "zset-max-listpack-entries", "0"), ("ZADD", "w", "1", "a"),
     ("OBJECT", "ENCODING", "w"), ("ZADD", "w", "-0", "b"), ("ZSCORE", "w", "b")],
    # Lists are quicklists in Redis 7.0 whatever the node size says.
    [("CONFIG", "SET", "list-max-listpack-size", "1"),
     ("CONFIG", "SET", "list-compress-depth", "2"), ("RPUSH", "l", "a", "b", "c", "d", "e"),
     ("OBJECT", "ENCODING", "l"), ("LRANGE", "l", "0", "-1")],
]


@pytest.mark.parametrize("index", range(len(SCRIPTS)))
def test_scripts(thresholds, index):
    thresholds.run_script(SCRIPTS[index])


_LOWERED = ("hash-max-listpack-entries", "zset-max-listpack-entries", "set-max-intset-entries")


def test_dump_writes_each_value_in_the_encoding_it_has(thresholds):
    """DUMP (and so dump files) writes the encoding a value has, as Redis writes
    o->encoding: one built before a threshold was lowered keeps its compact
    encoding, one that left it keeps the large one however small it gets;
    list nodes follow their limit, and a stream's nodes are those its XADDs
    made under the limits of their time. RESTORE gives what the thresholds
    then give, kept when they change again, and a stream the payload's nodes."""
    pair = thresholds
    pair.run_script([("HSET", "h", "a", "1", "b", "2"), ("ZADD", "z", "1", "a", "2", "b"),
                     ("SADD", "s", "1", "2")])
    pair.run_script([("CONFIG", "SET", name, "1") for name in _LOWERED])
    pair.run_script([("HSET", "h2", "a", "1", "b", "2"), ("ZADD", "z2", "1", "a", "2", "b"),
                     ("SADD", "s2", "1", "2"), ("CONFIG", "SET", "list-max-listpack-size", "2"),
                     ("RPUSH", "l", "a", "b", "c", "d", "e"),
                     ("CONFIG", "SET", "stream-node-max-entries", "2"),
                     *[("XADD", "x", f"{n}-1", "f", "v") for n in range(1, 6)]])
    pair.run_script([("CONFIG", "SET", name, DEFAULTS[name])
                     for name in (*_LOWERED, "stream-node-max-entries")])
    pair.run_script([("HDEL", "h2", "b"), ("ZREM", "z2", "b"), ("SREM", "s2", "2")])
    keys = ("h", "z", "s", "h2", "z2", "s2", "l", "x")
    for key in keys:
        pair.check("OBJECT", "ENCODING", key)
        pair.check("DUMP", key)
    payloads = {key: parse_reply(pair.redis.call("DUMP", key)) for key in keys}
    pair.run_script([("CONFIG", "SET", name, "1") for name in _LOWERED])
    for key in keys:
        pair.check("RESTORE", f"r{key}", 0, payloads[key])
        pair.check("OBJECT", "ENCODING", f"r{key}")
    pair.run_script([("CONFIG", "SET", name, DEFAULTS[name]) for name in _LOWERED])
    for key in keys:
        pair.check("OBJECT", "ENCODING", f"r{key}")
    # A restored stream keeps the payload's nodes, then grows by the limits.
    pair.run_script([("XINFO", "STREAM", "rx"), ("XADD", "rx", "9-1", "f", "v"),
                     ("XINFO", "STREAM", "rx"), ("DUMP", "rx")])


def test_spop_of_most_of_a_set_rebuilds_it(thresholds):
    pair = thresholds
    pair.check("CONFIG", "SET", "set-max-intset-entries", "4")
    # Which members go is random; the encoding of what stays is not.
    for key, size, count in [("big", 10, 9), ("big2", 20, 2), ("mid", 10, 8),
                             ("mixed", 12, 11)]:
        members = [str(n) for n in range(size)]
        if key == "mixed":
            members[-1] = "x"
        pair.check("SADD", key, *members)
        pair.check("OBJECT", "ENCODING", key)
        pair.both("SPOP", key, str(count))
        pair.check("SCARD", key)
        ours, theirs = pair.both("SMEMBERS", key)
        hush_members = parse_reply(ours)
        if b"x" in hush_members or b"x" in parse_reply(theirs):
            continue  # the members left differ: so may the encoding
        pair.check("OBJECT", "ENCODING", key)


def _stream_nodes(raw: bytes) -> bytes:
    """XINFO STREAM's length and node figures (its IDs hold times)."""
    reply = parse_reply(raw)
    if isinstance(reply, list):
        reply = dict(zip(reply[::2], reply[1::2], strict=True))
    return repr([reply.get(b"length"), reply.get(b"radix-tree-keys"),
                 reply.get(b"radix-tree-nodes")]).encode()


@pytest.mark.parametrize("entries,nbytes", [("100", "4096"), ("5", "4096"), ("0", "0"),
                                            ("10", "200"), ("3", "0")])
def test_stream_nodes_follow_the_limits(thresholds, entries, nbytes):
    pair = thresholds
    pair.check("CONFIG", "SET", "stream-node-max-entries", entries)
    pair.check("CONFIG", "SET", "stream-node-max-bytes", nbytes)
    for index in range(1, 61):
        pair.check("XADD", "s", f"{index}-1", "field", "v" * (index % 7))
    pair.check("XINFO", "STREAM", "s", mask=lambda _args, raw: _stream_nodes(raw))
    pair.check("XTRIM", "s", "MAXLEN", "~", "25")
    pair.check("XINFO", "STREAM", "s", mask=lambda _args, raw: _stream_nodes(raw))
    pair.check("XADD", "s", "MAXLEN", "~", "10", "100-1", "f", "v")
    pair.check("XLEN", "s")
    pair.check("XTRIM", "s", "MINID", "~", "50")
    pair.check("XLEN", "s")


def test_random_hash_and_set_writes(thresholds):
    """Seeded writes and threshold changes; OBJECT ENCODING after each."""
    pair = thresholds
    rng = random.Random(99)
    for _ in range(300):
        key = rng.choice(["h1", "h2", "s1", "s2"])
        is_hash = key.startswith("h")
        value = rng.choice(["1", "2", "17", "-3", "x", "long-value-here", "9" * 20])
        field = rng.choice(["a", "b", "c", "d", "e", "f"])
        step = rng.random()
        if step < 0.08:
            name = rng.choice(["hash-max-listpack-entries", "hash-max-listpack-value",
                               "set-max-intset-entries"])
            pair.check("CONFIG", "SET", name, str(rng.randint(0, 6)))
            continue
        if is_hash:
            pair.check(*rng.choice([("HSET", key, field, value), ("HDEL", key, field),
                                    ("HSETNX", key, field, value),
                                    ("HINCRBY", key, "n", str(rng.randint(-9, 9)))]))
        else:
            pair.check(*rng.choice([("SADD", key, value), ("SREM", key, value),
                                    ("SADD", key, value, str(rng.randint(0, 50)))]))
        encoding = pair.check("OBJECT", "ENCODING", key)
        if not is_hash:
            # An intset is listed in numeric order, a hashtable in an order of its own.
            pair.check("SSCAN", key, "0", "COUNT", "100",
                       mask=None if encoding == b"$6\r\nintset\r\n" else _sorted_scan)


def _sorted_scan(_args: tuple, raw: bytes) -> bytes:
    reply = parse_reply(raw)
    if isinstance(reply, list) and len(reply) == 2 and isinstance(reply[1], list):
        return repr([reply[0], sorted(reply[1])]).encode()
    return raw
