"""Hash and set commands compared with a real redis-server (RESP2 and RESP3).

Most replies are compared byte for byte. Three kinds are not:

- ``U(...)``: replies whose order Redis leaves unspecified (a set in a
  hashtable) are compared as multisets, with the same type and length header.
- ``R(...)``: random replies (SRANDMEMBER, HRANDFIELD, SPOP) must have the
  same header and only hold members of the collection; after an SPOP the
  two servers' sets are made equal again.
- ``SCAN(...)``: a whole SSCAN/HSCAN iteration on each server, compared as
  the set of what it returned (cursor numbers differ by design).
"""

from __future__ import annotations

import random

import pytest

pytestmark = pytest.mark.differential


class U(tuple):
    """A command whose reply is compared without regard to order."""


class R(tuple):
    """A command with a random reply."""


class SCAN(tuple):
    """An SSCAN/HSCAN command, run to the end of its iteration on both servers."""


# -- a small RESP reader ------------------------------------------------------------


def parse(buf: bytes, pos: int = 0):
    """(value, end) of the RESP2/RESP3 reply at ``pos``; maps become lists of pairs."""
    line_end = buf.index(b"\r\n", pos)
    kind, head, after = buf[pos:pos + 1], buf[pos + 1:line_end], line_end + 2
    if kind in b"+":
        return head, after
    if kind == b"-":
        return ("error", head), after
    if kind in b":":
        return int(head), after
    if kind == b"_":
        return None, after
    if kind in b"$":
        size = int(head)
        if size < 0:
            return None, after
        return buf[after:after + size], after + size + 2
    if kind in b"*~%":
        count = int(head)
        if count < 0:
            return None, after
        items = []
        for _ in range(count * 2 if kind == b"%" else count):
            item, after = parse(buf, after)
            items.append(item)
        if kind == b"%":
            items = [[items[i], items[i + 1]] for i in range(0, len(items), 2)]
        return items, after
    raise ValueError(f"unexpected RESP {buf[pos:pos + 20]!r}")


def header(raw: bytes) -> bytes:
    return raw.split(b"\r\n", 1)[0]


def value_of(raw: bytes):
    return parse(raw)[0]


def canonical(raw: bytes, scan: bool = False):
    """A reply with its top-level elements sorted (a scan reply's elements, for scans)."""
    value = value_of(raw)
    if scan and isinstance(value, list):
        cursor, items = value
        return cursor, sorted(map(repr, items))
    if isinstance(value, list):
        return header(raw), sorted(map(repr, value))
    return raw


# -- running scripts ---------------------------------------------------------------------


def _population(pair, key: str):
    """The members (set) or the field -> value mapping (hash) at ``key``, from Hush."""
    kind = value_of(pair.hush.call("TYPE", key))
    if kind == b"set":
        return set(value_of(pair.hush.call("SMEMBERS", key)))
    if kind == b"hash":
        fields = value_of(pair.hush.call("HGETALL", key))
        if fields and not isinstance(fields[0], list):
            fields = [fields[i:i + 2] for i in range(0, len(fields), 2)]
        return {field: value for field, value in fields}
    return None


def _check_random(pair, args: tuple[str, ...]) -> None:
    name, key = args[0].upper(), args[1]
    population = _population(pair, key)
    ours, theirs = pair.both(*args)
    if ours[:1] == b"-" or theirs[:1] == b"-" or population is None:
        assert ours == theirs, f"{args!r}: hush {ours!r} != redis {theirs!r}"
        return
    assert header(ours)[:1] == header(theirs)[:1], (args, ours, theirs)
    if ours[:1] in b"*~":
        assert header(ours) == header(theirs), (args, ours, theirs)
    got = value_of(ours)
    if not isinstance(got, list):
        assert got is None or got in population, (args, got)
    elif name == "HRANDFIELD" and len(args) == 4:
        pairs = got if (got and isinstance(got[0], list)) else [
            got[i:i + 2] for i in range(0, len(got), 2)]
        for field, value in pairs:
            assert population[field] == value, (args, field, value)
        if int(args[2]) > 0:
            assert len({field for field, _ in pairs}) == len(pairs), (args, got)
    else:
        assert all(item in population for item in got), (args, got)
        if len(args) > 2 and int(args[2]) > 0:
            assert len(set(got)) == len(got), (args, got)
    if name == "SPOP":
        # Each server popped its own random members: make both hold Hush's rest.
        pair.check("SCARD", key)
        rest = value_of(pair.hush.call("SMEMBERS", key))
        pair.both("DEL", key)
        if rest:
            pair.both("SADD", key, *rest)


def _scan_all(conn, args: tuple[str, ...]):
    name, key, _cursor, *options = args
    cursor = b"0"
    seen = []
    for _ in range(10_000):
        reply = value_of(conn.call(name, key, cursor, *options))
        if isinstance(reply, tuple):
            return reply
        cursor, items = reply
        if name.upper() == "HSCAN":
            seen += [(items[i], items[i + 1]) for i in range(0, len(items), 2)]
        else:
            seen += items
        if cursor == b"0":
            return sorted(set(seen))
    raise AssertionError(f"{args!r} did not finish")


def run(pair, script) -> None:
    for args in script:
        if isinstance(args, U):
            ours, theirs = pair.both(*args)
            scan = args[0].upper() in ("SSCAN", "HSCAN")
            assert canonical(ours, scan) == canonical(theirs, scan), \
                f"{args!r}: hush {ours!r} != redis {theirs!r}"
        elif isinstance(args, R):
            _check_random(pair, args)
        elif isinstance(args, SCAN):
            ours, theirs = _scan_all(pair.hush, args), _scan_all(pair.redis, args)
            assert ours == theirs, f"{args!r}: hush {ours!r} != redis {theirs!r}"
        else:
            pair.check(*args)


# -- recorded scripts: hashes ------------------------------------------------------------

HASH_BASICS = [
    ("HSET", "h", "a", "1"),
    ("HSET", "h", "b", "2", "c", "3", "a", "10"),
    ("HSET", "h", "a", "1", "b"),
    ("HSET", "h"),
    ("HSET", "h", "a"),
    ("HMSET", "h", "d", "4"),
    ("HMSET", "h", "d", "4", "e"),
    ("HMSET", "h", "d"),
    ("HSETNX", "h", "a", "x"),
    ("HSETNX", "h", "z", "26"),
    ("HSETNX", "new", "f", "v"),
    ("HSETNX", "h", "a"),
    ("HGET", "h", "a"),
    ("HGET", "h", "nofield"),
    ("HGET", "nokey", "a"),
    ("HGET", "h"),
    ("HMGET", "h", "a", "nofield", "b", "a"),
    ("HMGET", "nokey", "a", "b"),
    ("HMGET", "h"),
    ("HGETALL", "h"),
    ("HGETALL", "nokey"),
    ("HKEYS", "h"),
    ("HVALS", "h"),
    ("HKEYS", "nokey"),
    ("HVALS", "nokey"),
    ("HGETALL", "h", "x"),
    ("HLEN", "h"),
    ("HLEN", "nokey"),
    ("HEXISTS", "h", "a"),
    ("HEXISTS", "h", "nofield"),
    ("HEXISTS", "nokey", "a"),
    ("HSTRLEN", "h", "a"),
    ("HSTRLEN", "h", "nofield"),
    ("HSTRLEN", "nokey", "a"),
    ("HSET", "h", "", ""),
    ("HSTRLEN", "h", ""),
    ("HGET", "h", ""),
    ("HDEL", "h", "a", "nofield", "a", "b"),
    ("HDEL", "nokey", "a"),
    ("HDEL", "h"),
    ("HGETALL", "h"),
    ("HDEL", "h", "c", "d", "z", "", "more"),
    ("EXISTS", "h"),
    ("HGETALL", "h"),
    ("HSET", "order", "z", "1", "y", "2", "x", "3"),
    ("HSET", "order", "y", "two", "w", "4"),
    ("HDEL", "order", "z"),
    ("HSET", "order", "z", "again"),
    ("HGETALL", "order"),
    ("HKEYS", "order"),
    ("HVALS", "order"),
    ("hset", "order", "Case", "1"),
    ("HgEtAlL", "order"),
    ("TYPE", "order"),
    ("OBJECT", "ENCODING", "order"),
]

HASH_COUNTERS = [
    ("HINCRBY", "h", "n", "5"),
    ("HINCRBY", "h", "n", "-7"),
    ("HINCRBY", "h", "n", "x"),
    ("HINCRBY", "h", "n", "1.5"),
    ("HINCRBY", "h", "n", "9223372036854775808"),
    ("HINCRBY", "h", "n", "9223372036854775807"),
    ("HINCRBY", "h", "n", "-9223372036854775808"),
    ("HSET", "h", "big", "9223372036854775807", "small", "-9223372036854775808"),
    ("HINCRBY", "h", "big", "1"),
    ("HINCRBY", "h", "big", "0"),
    ("HINCRBY", "h", "small", "-1"),
    ("HINCRBY", "h", "small", "1"),
    ("HSET", "h", "s", "abc", "lead", "007", "sp", " 1", "pl", "+1", "fl", "1.0", "e", ""),
    ("HINCRBY", "h", "s", "1"),
    ("HINCRBY", "h", "lead", "1"),
    ("HINCRBY", "h", "sp", "1"),
    ("HINCRBY", "h", "pl", "1"),
    ("HINCRBY", "h", "fl", "1"),
    ("HINCRBY", "h", "e", "1"),
    ("HINCRBY", "nokey", "f", "3"),
    ("HGETALL", "nokey"),
    ("HINCRBY", "h", "n"),
    ("HINCRBYFLOAT", "h", "f", "1.5"),
    ("HINCRBYFLOAT", "h", "f", "0.1"),
    ("HINCRBYFLOAT", "h", "f", "-1.6"),
    ("HINCRBYFLOAT", "h", "f", "1e3"),
    ("HINCRBYFLOAT", "h", "f", "0x10"),
    ("HINCRBYFLOAT", "h", "f", "abc"),
    ("HINCRBYFLOAT", "h", "f", ""),
    ("HINCRBYFLOAT", "h", "f", "inf"),
    ("HINCRBYFLOAT", "h", "f", "-inf"),
    ("HINCRBYFLOAT", "h", "f", "nan"),
    ("HINCRBYFLOAT", "h", "f", " 1"),
    ("HINCRBYFLOAT", "h", "f", "1e5000"),
    ("HINCRBYFLOAT", "h", "s", "1"),
    ("HINCRBYFLOAT", "h", "sp", "1"),
    ("HINCRBYFLOAT", "h", "lead", "1"),
    ("HINCRBYFLOAT", "h", "pl", "1"),
    ("HINCRBYFLOAT", "h", "fl", "0.25"),
    ("HINCRBYFLOAT", "h", "e", "1"),
    ("HINCRBYFLOAT", "h", "big", "1"),
    # Values past 64 bytes turn Redis's listpack into a hashtable: another key.
    ("HINCRBYFLOAT", "huge", "n", "1e308"),
    ("HINCRBYFLOAT", "huge", "n", "1e4000"),
    ("HINCRBYFLOAT", "huge", "n", "1e4932"),
    ("HINCRBYFLOAT", "huge", "n", "1e4932"),
    ("HINCRBYFLOAT", "huge", "m", "-1e4932"),
    ("HINCRBYFLOAT", "huge", "m", "-1e4932"),
    ("HINCRBYFLOAT", "huge", "m", "1e-4000"),
    U(("HGETALL", "huge")),
    ("OBJECT", "ENCODING", "huge"),
    ("HSET", "h", "inf", "inf", "minf", "-inf"),
    ("HINCRBYFLOAT", "h", "inf", "1"),
    ("HINCRBYFLOAT", "h", "minf", "1"),
    ("HINCRBYFLOAT", "nokey2", "f", "inf"),
    ("EXISTS", "nokey2"),
    ("HINCRBYFLOAT", "nokey2", "f", "2.5"),
    ("HGETALL", "nokey2"),
    ("HINCRBYFLOAT", "h", "f"),
    ("HGETALL", "h"),
]

HASH_RANDOM = [
    ("HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"),
    R(("HRANDFIELD", "h")),
    R(("HRANDFIELD", "h", "1")),
    R(("HRANDFIELD", "h", "2")),
    R(("HRANDFIELD", "h", "-3")),
    R(("HRANDFIELD", "h", "-10")),
    R(("HRANDFIELD", "h", "3", "WITHVALUES")),
    R(("HRANDFIELD", "h", "-6", "withvalues")),
    R(("HRANDFIELD", "h", "1", "WITHVALUES")),
    ("HRANDFIELD", "h", "4"),
    ("HRANDFIELD", "h", "100"),
    ("HRANDFIELD", "h", "100", "WITHVALUES"),
    ("HRANDFIELD", "h", "0"),
    ("HRANDFIELD", "h", "0", "WITHVALUES"),
    ("HRANDFIELD", "nokey"),
    ("HRANDFIELD", "nokey", "3"),
    ("HRANDFIELD", "nokey", "-3", "WITHVALUES"),
    ("HRANDFIELD", "h", "x"),
    ("HRANDFIELD", "h", "1.5"),
    ("HRANDFIELD", "h", "1", "foo"),
    ("HRANDFIELD", "h", "1", "WITHVALUES", "foo"),
    ("HRANDFIELD", "h", "-9223372036854775808"),
    ("HRANDFIELD", "h", "9223372036854775808"),
    ("HRANDFIELD", "h", "-9223372036854775808", "WITHVALUES"),
    ("HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"),
    ("HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"),
    ("HRANDFIELD", "nokey", "4611686018427387904", "WITHVALUES"),
    ("HRANDFIELD", "nokey", "x"),
    ("HRANDFIELD", "nokey", "1", "foo"),
    ("HRANDFIELD",),
]

HASH_SCAN = [
    ("HSET", "h", "a", "1", "b", "2", "ab", "3", "", "empty"),
    ("HSCAN", "h", "0"),
    ("HSCAN", "h", "0", "MATCH", "a*"),
    ("HSCAN", "h", "0", "MATCH", "*"),
    ("HSCAN", "h", "0", "match", "?", "count", "1"),
    ("HSCAN", "h", "0", "COUNT", "1", "MATCH", "b", "MATCH", "a"),
    ("HSCAN", "h", "12345"),
    ("HSCAN", "h", "-1"),
    ("HSCAN", "h", "18446744073709551616"),
    ("HSCAN", "h", "x"),
    ("HSCAN", "h", " 0"),
    ("HSCAN", "h", "0", "COUNT", "0"),
    ("HSCAN", "h", "0", "COUNT", "-1"),
    ("HSCAN", "h", "0", "COUNT", "x"),
    ("HSCAN", "h", "0", "COUNT"),
    ("HSCAN", "h", "0", "MATCH"),
    ("HSCAN", "h", "0", "TYPE", "string"),
    ("HSCAN", "h", "0", "NOVALUES"),
    ("HSCAN", "nokey", "0"),
    ("HSCAN", "nokey", "0", "COUNT", "0"),
    ("HSCAN", "nokey", "x"),
    ("HSCAN", "h"),
    SCAN(("HSCAN", "h", "0", "COUNT", "2")),
]

HASH_WRONGTYPE = [
    ("SET", "str", "x"),
    ("SADD", "set", "m"),
    ("HSET", "str", "a", "1"),
    ("HSET", "str", "a", "1", "b"),
    ("HMSET", "str", "a", "1"),
    ("HSETNX", "str", "a", "1"),
    ("HGET", "str", "a"),
    ("HMGET", "set", "a"),
    ("HGETALL", "str"),
    ("HKEYS", "set"),
    ("HVALS", "str"),
    ("HDEL", "str", "a"),
    ("HLEN", "set"),
    ("HEXISTS", "str", "a"),
    ("HSTRLEN", "str", "a"),
    ("HINCRBY", "str", "a", "1"),
    ("HINCRBY", "str", "a", "x"),
    ("HINCRBYFLOAT", "set", "a", "1"),
    ("HINCRBYFLOAT", "str", "a", "inf"),
    ("HINCRBYFLOAT", "str", "a", "x"),
    ("HRANDFIELD", "str"),
    ("HRANDFIELD", "str", "0"),
    ("HRANDFIELD", "str", "x"),
    ("HRANDFIELD", "str", "1", "foo"),
    ("HSCAN", "str", "0"),
    ("HSCAN", "str", "0", "COUNT", "0"),
    ("HSCAN", "str", "x"),
    ("GET", "str"),
]

# -- recorded scripts: sets -------------------------------------------------------------

SET_BASICS = [
    ("SADD", "s", "3", "1", "2"),
    ("SADD", "s", "2", "5", "5"),
    ("SADD", "s"),
    ("SMEMBERS", "s"),
    ("OBJECT", "ENCODING", "s"),
    ("SADD", "ints", "-9223372036854775808", "9223372036854775807", "0", "-1", "10", "9"),
    ("SMEMBERS", "ints"),
    ("OBJECT", "ENCODING", "ints"),
    ("SADD", "t", "a", "b", "c"),
    U(("SMEMBERS", "t")),
    ("OBJECT", "ENCODING", "t"),
    U(("SADD", "odd", "007", "-0", "+1", "9223372036854775808", "1", "")),
    U(("SMEMBERS", "odd")),
    ("SMEMBERS", "nokey"),
    ("SMEMBERS", "s", "x"),
    ("SISMEMBER", "s", "1"),
    ("SISMEMBER", "s", "4"),
    ("SISMEMBER", "nokey", "1"),
    ("SISMEMBER", "s"),
    ("SMISMEMBER", "t", "a", "z", "a"),
    ("SMISMEMBER", "nokey", "a", "b"),
    ("SMISMEMBER", "t"),
    ("SCARD", "t"),
    ("SCARD", "nokey"),
    ("SREM", "t", "a", "z", "a"),
    ("SREM", "nokey", "a"),
    ("SREM", "t"),
    ("SREM", "t", "b", "c"),
    ("EXISTS", "t"),
    ("SMOVE", "s", "t", "1"),
    ("SMEMBERS", "t"),
    ("SMOVE", "s", "t", "1"),
    ("SMOVE", "nokey", "t", "1"),
    ("SMOVE", "s", "s", "2"),
    ("SMOVE", "s", "s", "4"),
    ("SADD", "t", "3"),
    ("SMOVE", "s", "t", "3"),
    ("SMEMBERS", "s"),
    ("SMEMBERS", "t"),
    ("SMOVE", "s", "t", "2"),
    ("SMOVE", "s", "t", "5"),
    ("EXISTS", "s"),
    ("SMEMBERS", "t"),
    ("SMOVE", "s", "t"),
    ("sadd", "Mixed", "x"),
    ("SaDd", "Mixed", "x", "y"),
    ("TYPE", "Mixed"),
]

SET_RANDOM = [
    ("SADD", "s", "1", "2", "3", "4", "5"),
    ("SADD", "t", "a", "b", "c", "d", "e", "f"),
    R(("SRANDMEMBER", "s")),
    R(("SRANDMEMBER", "t")),
    R(("SRANDMEMBER", "s", "2")),
    R(("SRANDMEMBER", "t", "5")),
    R(("SRANDMEMBER", "t", "-20")),
    R(("SRANDMEMBER", "s", "-1")),
    ("SRANDMEMBER", "s", "5"),
    ("SRANDMEMBER", "s", "100"),
    U(("SRANDMEMBER", "t", "6")),
    ("SRANDMEMBER", "s", "0"),
    ("SRANDMEMBER", "nokey"),
    ("SRANDMEMBER", "nokey", "2"),
    ("SRANDMEMBER", "nokey", "-2"),
    ("SRANDMEMBER", "s", "x"),
    ("SRANDMEMBER", "nokey", "x"),
    ("SRANDMEMBER", "s", "1", "2"),
    ("SRANDMEMBER", "s", "-9223372036854775808"),
    ("SRANDMEMBER", "s", "9223372036854775808"),
    R(("SPOP", "s")),
    R(("SPOP", "t", "2")),
    R(("SPOP", "t", "1")),
    ("SPOP", "s", "0"),
    ("SPOP", "s", "-1"),
    ("SPOP", "s", "x"),
    ("SPOP", "s", "1", "2"),
    ("SPOP", "nokey"),
    ("SPOP", "nokey", "3"),
    ("SPOP", "nokey", "0"),
    ("SPOP", "nokey", "-1"),
    ("SPOP", "s", "100"),
    ("EXISTS", "s"),
    U(("SPOP", "t", "3")),
    ("EXISTS", "t"),
    ("SADD", "one", "x"),
    ("SPOP", "one"),
    ("EXISTS", "one"),
    ("SPOP",),
]

SET_ALGEBRA = [
    ("SADD", "a", "1", "2", "3", "4"),
    ("SADD", "b", "3", "4", "5"),
    ("SADD", "c", "x", "y", "3", "4"),
    ("SADD", "d", "y", "z"),
    ("SINTER", "a", "b"),
    ("SINTER", "a"),
    U(("SINTER", "a", "b", "c")),
    ("SINTER", "a", "nokey"),
    ("SINTER", "nokey"),
    ("SINTER", "a", "d"),
    ("SUNION", "a", "b"),
    U(("SUNION", "a", "c", "d")),
    ("SUNION", "nokey"),
    ("SUNION", "nokey", "a"),
    ("SDIFF", "a", "b"),
    ("SDIFF", "b", "a"),
    U(("SDIFF", "c", "a", "d")),
    ("SDIFF", "a", "a"),
    ("SDIFF", "nokey", "a"),
    ("SDIFF", "a", "nokey"),
    ("SINTERSTORE", "dst", "a", "b"),
    ("SMEMBERS", "dst"),
    ("OBJECT", "ENCODING", "dst"),
    ("SINTERSTORE", "dst", "a", "nokey"),
    ("EXISTS", "dst"),
    ("SUNIONSTORE", "dst", "a", "b"),
    ("SMEMBERS", "dst"),
    ("SUNIONSTORE", "dst", "c", "d"),
    U(("SMEMBERS", "dst")),
    ("SDIFFSTORE", "dst", "a", "b"),
    ("SMEMBERS", "dst"),
    ("SDIFFSTORE", "dst", "a", "a"),
    ("EXISTS", "dst"),
    ("SUNIONSTORE", "a", "a", "b"),
    ("SMEMBERS", "a"),
    ("SINTERSTORE", "b", "b", "a"),
    ("SMEMBERS", "b"),
    ("SET", "str", "x"),
    ("EXPIRE", "str", "100"),
    ("SUNIONSTORE", "str", "a"),
    ("TYPE", "str"),
    ("TTL", "str"),
    ("SET", "str", "x"),
    ("SINTERSTORE", "str", "nokey"),
    ("EXISTS", "str"),
    ("SUNIONSTORE", "dst", "nokey"),
    ("SUNIONSTORE", "dst"),
    ("SINTER",),
    ("SINTERCARD", "2", "a", "b"),
    ("SINTERCARD", "1", "a"),
    ("SINTERCARD", "3", "a", "b", "c"),
    ("SINTERCARD", "2", "a", "nokey"),
    ("SINTERCARD", "1", "a", "LIMIT", "2"),
    ("SINTERCARD", "1", "a", "limit", "0"),
    ("SINTERCARD", "1", "a", "LIMIT", "100"),
    ("SINTERCARD", "1", "a", "LIMIT", "1", "LIMIT", "3"),
    ("SINTERCARD", "1", "a", "LIMIT", "-1"),
    ("SINTERCARD", "1", "a", "LIMIT", "x"),
    ("SINTERCARD", "1", "a", "LIMIT"),
    ("SINTERCARD", "1", "a", "FOO", "1"),
    ("SINTERCARD", "1", "a", "extra"),
    ("SINTERCARD", "0", "a"),
    ("SINTERCARD", "-1", "a"),
    ("SINTERCARD", "x", "a"),
    ("SINTERCARD", "9223372036854775808", "a"),
    ("SINTERCARD", "3", "a", "b"),
    ("SINTERCARD", "2", "a", "LIMIT"),
    ("SINTERCARD", "1"),
]

SET_SCAN = [
    ("SADD", "ints", "5", "3", "1", "100", "-2"),
    ("SSCAN", "ints", "0"),
    ("SSCAN", "ints", "0", "COUNT", "1"),
    ("SSCAN", "ints", "77", "MATCH", "1*"),
    ("SADD", "t", "a", "b", "ab"),
    U(("SSCAN", "t", "0")),
    U(("SSCAN", "t", "0", "MATCH", "a*")),
    ("SSCAN", "t", "0", "MATCH", "zz*"),
    ("SSCAN", "t", "x"),
    ("SSCAN", "t", "0", "COUNT", "0"),
    ("SSCAN", "t", "0", "COUNT", "x"),
    ("SSCAN", "t", "0", "TYPE", "set"),
    ("SSCAN", "t", "0", "MATCH"),
    ("SSCAN", "nokey", "0"),
    ("SSCAN", "nokey", "0", "FOO"),
    ("SSCAN", "nokey", "18446744073709551616"),
    ("SSCAN", "t"),
    SCAN(("SSCAN", "t", "0", "COUNT", "1")),
]

SET_WRONGTYPE = [
    ("SET", "str", "x"),
    ("HSET", "hash", "f", "v"),
    ("SADD", "s", "1"),
    ("SADD", "str", "a"),
    ("SREM", "hash", "a"),
    ("SMEMBERS", "str"),
    ("SISMEMBER", "str", "a"),
    ("SMISMEMBER", "hash", "a"),
    ("SCARD", "str"),
    ("SPOP", "str"),
    ("SPOP", "str", "1"),
    ("SPOP", "str", "x"),
    ("SRANDMEMBER", "str"),
    ("SRANDMEMBER", "hash", "1"),
    ("SRANDMEMBER", "str", "x"),
    ("SMOVE", "str", "s", "a"),
    ("SMOVE", "s", "str", "1"),
    ("SMOVE", "s", "str", "nonmember"),
    ("SMOVE", "nokey", "str", "a"),
    ("SINTER", "s", "str"),
    ("SINTER", "nokey", "str"),
    ("SUNION", "s", "hash"),
    ("SDIFF", "nokey", "str"),
    ("SDIFF", "str", "nokey"),
    ("SINTERCARD", "2", "nokey", "str"),
    ("SINTERCARD", "2", "str", "nokey", "LIMIT", "-1"),
    ("SINTERSTORE", "dst", "s", "str"),
    ("SUNIONSTORE", "dst", "str"),
    ("SDIFFSTORE", "dst", "s", "hash"),
    ("EXISTS", "dst"),
    ("SSCAN", "str", "0"),
    ("SSCAN", "str", "x"),
    ("SSCAN", "hash", "0", "COUNT", "0"),
    ("SMEMBERS", "s"),
]

SCRIPTS = {
    "hash_basics": HASH_BASICS,
    "hash_counters": HASH_COUNTERS,
    "hash_random": HASH_RANDOM,
    "hash_scan": HASH_SCAN,
    "hash_wrongtype": HASH_WRONGTYPE,
    "set_basics": SET_BASICS,
    "set_random": SET_RANDOM,
    "set_algebra": SET_ALGEBRA,
    "set_scan": SET_SCAN,
    "set_wrongtype": SET_WRONGTYPE,
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_recorded_script(pair, name):
    run(pair, SCRIPTS[name])


def test_large_hash_and_set_scan_and_random(pair):
    # Past the listpack/intset limits Redis scans bucket by bucket.
    fields = [f"f{i}" for i in range(600)]
    for start in range(0, 600, 200):
        chunk = fields[start:start + 200]
        pair.check("HSET", "big", *[x for f in chunk for x in (f, f.upper())])
        pair.check("SADD", "bigset", *chunk)
    pair.check("SADD", "bigints", *[str(i) for i in range(600)])
    pair.check("HLEN", "big")
    pair.check("SCARD", "bigints")
    run(pair, [
        SCAN(("HSCAN", "big", "0")),
        SCAN(("HSCAN", "big", "0", "COUNT", "7", "MATCH", "f1*")),
        SCAN(("SSCAN", "bigset", "0", "COUNT", "20")),
        SCAN(("SSCAN", "bigints", "0", "MATCH", "*9")),
        U(("HGETALL", "big")),
        U(("HKEYS", "big")),
        U(("SMEMBERS", "bigints")),
        R(("HRANDFIELD", "big", "5", "WITHVALUES")),
        R(("HRANDFIELD", "big", "250")),
        R(("HRANDFIELD", "big", "-400")),
        R(("SRANDMEMBER", "bigset", "10")),
        R(("SRANDMEMBER", "bigset", "280")),
        R(("SPOP", "bigints", "450")),
        ("SCARD", "bigints"),
        ("OBJECT", "ENCODING", "big"),
        ("OBJECT", "ENCODING", "bigset"),
    ])


def test_command_info_matches(pair):
    names = ("hset hsetnx hmset hget hmget hgetall hdel hexists hlen hkeys hvals hstrlen "
             "hincrby hincrbyfloat hrandfield hscan sadd srem smembers sismember smismember "
             "scard spop srandmember smove sinter sintercard sinterstore sunion sunionstore "
             "sdiff sdiffstore sscan").split()
    for name in names:
        pair.check("COMMAND", "INFO", name)
        # Hush's table has no complexity, history or deprecation notes: compare the rest.
        ours, theirs = (_docs(raw) for raw in pair.both("COMMAND", "DOCS", name))
        for field in (b"summary", b"since", b"group"):
            assert ours[field] == theirs[field], (name, field, ours, theirs)


def _docs(raw: bytes) -> dict:
    value = value_of(raw)
    if value and isinstance(value[0], list):  # RESP3 map
        (_name, doc), = value
        return {k: v for k, v in doc}
    doc = value[1]
    return dict(zip(doc[::2], doc[1::2], strict=True))


def test_transaction_replies_are_snapshots(pair):
    run(pair, [
        ("HSET", "h", "a", "1"),
        ("SADD", "s", "1"),
        ("MULTI",),
        ("HGETALL", "h"),
        ("HSET", "h", "b", "2"),
        ("SMEMBERS", "s"),
        ("SADD", "s", "2"),
        ("HKEYS", "h"),
        ("EXEC",),
    ])


# -- a seeded random walk ----------------------------------------------------------------

# Mostly keys of the family's own type, sometimes another type's (WRONGTYPE).
SET_KEYS = ["s1", "s2", "s3"] * 4 + ["h1", "str"]
HASH_KEYS = ["h1", "h2"] * 5 + ["s1", "str"]
MEMBERS = ["1", "2", "3", "10", "-5", "a", "b", "c", "", "007"]
FIELDS = ["f", "g", "h", "n", "x", ""]
VALUES = ["v", "1", "-2", "1.5", "abc", "", "10"]


def _set_command(rng: random.Random) -> tuple:
    key = rng.choice(SET_KEYS)
    some = [rng.choice(MEMBERS) for _ in range(rng.randint(1, 4))]
    keys = [rng.choice(SET_KEYS) for _ in range(rng.randint(1, 3))]
    choice = rng.randrange(20)
    if choice in (0, 1, 2):
        return ("SADD", key, *some)
    if choice == 3:
        return ("SREM", key, *some)
    if choice == 4:
        return U(("SMEMBERS", key))
    if choice == 5:
        return ("SISMEMBER", key, some[0])
    if choice == 6:
        return ("SMISMEMBER", key, *some)
    if choice == 7:
        return ("SCARD", key)
    if choice == 8:
        return R(("SPOP", key, *rng.choice([[], ["1"], ["2"], ["0"], ["9"]])))
    if choice == 9:
        return R(("SRANDMEMBER", key, *rng.choice([[], ["2"], ["-3"], ["0"], ["20"]])))
    if choice == 10:
        return ("SMOVE", key, rng.choice(SET_KEYS), some[0])
    if choice == 11:
        return U((rng.choice(["SINTER", "SUNION", "SDIFF"]), *keys))
    if choice == 12:
        limit = rng.choice([[], ["LIMIT", "1"], ["LIMIT", "0"], ["LIMIT", "-1"]])
        return ("SINTERCARD", str(len(keys)), *keys, *limit)
    if choice == 13:
        destination = rng.choice(["s1", "s2", "s3", "s3", "str"])
        return (rng.choice(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), destination, *keys)
    if choice == 14:
        return U(("SSCAN", key, "0", *rng.choice([[], ["MATCH", "*1*"], ["COUNT", "20"]])))
    if choice == 15:
        return ("SET", "str", rng.choice(VALUES))
    if choice == 16:
        return ("TYPE", key)
    return ("SADD", key, *some)


def _hash_command(rng: random.Random) -> tuple:
    key = rng.choice(HASH_KEYS)
    field = rng.choice(FIELDS)
    fields = [rng.choice(FIELDS) for _ in range(rng.randint(1, 3))]
    pairs = [x for f in fields for x in (f, rng.choice(VALUES))]
    choice = rng.randrange(20)
    if choice in (0, 1, 2):
        return ("HSET", key, *pairs)
    if choice == 3:
        return ("HSETNX", key, field, rng.choice(VALUES))
    if choice == 4:
        return ("HMSET", key, *pairs)
    if choice == 5:
        return ("HGET", key, field)
    if choice == 6:
        return ("HMGET", key, *fields)
    if choice == 7:
        return (rng.choice(["HGETALL", "HKEYS", "HVALS"]), key)
    if choice == 8:
        return ("HDEL", key, *fields)
    if choice == 9:
        return (rng.choice(["HEXISTS", "HSTRLEN"]), key, field)
    if choice == 10:
        return ("HLEN", key)
    if choice == 11:
        return ("HINCRBY", key, field, rng.choice(["1", "-3", "100", "x"]))
    if choice == 12:
        return ("HINCRBYFLOAT", key, field, rng.choice(["0.1", "-1.5", "3", "2e3", "y"]))
    if choice == 13:
        count = rng.choice([[], ["1"], ["3"], ["-4"], ["0"], ["10"], ["2", "WITHVALUES"],
                            ["-3", "WITHVALUES"], ["10", "WITHVALUES"]])
        return R(("HRANDFIELD", key, *count))
    if choice == 14:
        return ("HSCAN", key, "0", *rng.choice([[], ["MATCH", "?"], ["COUNT", "1"]]))
    return ("HGETALL", key)


def test_seeded_random_commands(pair):
    rng = random.Random(20240611)
    pair.check("SET", "str", "value")
    script = []
    for _ in range(1000):
        script.append(_set_command(rng) if rng.random() < 0.5 else _hash_command(rng))
    run(pair, script)
    for key in sorted(set(SET_KEYS)):
        run(pair, [("TYPE", key), U(("SMEMBERS", key))])
    for key in sorted(set(HASH_KEYS)):
        run(pair, [("HGETALL", key)])
