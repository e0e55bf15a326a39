"""Bit commands, byte for byte against a real redis-server (RESP2 and RESP3)."""

from __future__ import annotations

import random

import pytest

from tests.differential.harness import Pair, parse_reply

pytestmark = pytest.mark.differential

SETBIT_SCRIPT = [
    ("SETBIT", "b", "7", "1"),
    ("SETBIT", "b", "7", "1"),
    ("SETBIT", "b", "7", "0"),
    ("SETBIT", "b", "0", "1"),
    ("SETBIT", "b", "100", "1"),
    ("GET", "b"),
    ("STRLEN", "b"),
    ("TYPE", "b"),
    ("OBJECT", "ENCODING", "b"),
    ("GETBIT", "b", "0"),
    ("GETBIT", "b", "1"),
    ("GETBIT", "b", "100"),
    ("GETBIT", "b", "101"),
    ("GETBIT", "b", "1000000"),
    ("GETBIT", "nokey", "5"),
    ("SETBIT", "b", "-1", "1"),
    ("SETBIT", "b", "x", "1"),
    ("SETBIT", "b", "1.5", "1"),
    ("SETBIT", "b", " 1", "1"),
    ("SETBIT", "b", "01", "1"),
    ("SETBIT", "b", "4294967296", "1"),
    ("SETBIT", "b", "9223372036854775807", "1"),
    ("SETBIT", "b", "9223372036854775808", "1"),
    ("SETBIT", "b", "1", "2"),
    ("SETBIT", "b", "1", "-1"),
    ("SETBIT", "b", "1", "x"),
    ("SETBIT", "b", "1", ""),
    ("SETBIT", "b", "x", "2"),
    ("GETBIT", "b", "-1"),
    ("GETBIT", "b", "x"),
    ("GETBIT", "b", "4294967296"),
    ("SETBIT", "b"),
    ("GETBIT", "b", "1", "2"),
    # On the string forms SET leaves: int, embstr, raw.
    ("SET", "i", "255"),
    ("GETBIT", "i", "2"),
    ("GETBIT", "i", "7"),
    ("GETBIT", "i", "23"),
    ("GETBIT", "i", "24"),
    ("OBJECT", "ENCODING", "i"),
    ("SETBIT", "i", "2", "1"),
    ("OBJECT", "ENCODING", "i"),
    ("GET", "i"),
    ("SET", "e", "hello"),
    ("SETBIT", "e", "0", "0"),
    ("OBJECT", "ENCODING", "e"),
    ("GET", "e"),
    ("APPEND", "e", "!"),
    ("GET", "e"),
    ("SETBIT", "e", "47", "1"),
    ("GET", "e"),
    ("INCR", "e"),
    ("SET", "n", "1"),
    ("SETBIT", "n", "7", "0"),
    ("INCR", "n"),
    ("GET", "n"),
    ("OBJECT", "ENCODING", "n"),
    # A TTL survives a SETBIT (the string changes in place).
    ("SET", "t", "x", "EX", "1000"),
    ("SETBIT", "t", "30", "1"),
    ("TTL", "t"),
    ("RPUSH", "list", "a"),
    ("SETBIT", "list", "1", "1"),
    ("GETBIT", "list", "1"),
    ("SETBIT", "list", "x", "1"),
    ("GETBIT", "list", "x"),
]

BITCOUNT_SCRIPT = [
    ("SET", "s", "foobar"),
    ("BITCOUNT", "s"),
    ("BITCOUNT", "s", "0", "0"),
    ("BITCOUNT", "s", "1", "1"),
    ("BITCOUNT", "s", "1", "-1"),
    ("BITCOUNT", "s", "-2", "-1"),
    ("BITCOUNT", "s", "-1", "-2"),
    ("BITCOUNT", "s", "-100", "100"),
    ("BITCOUNT", "s", "3", "2"),
    ("BITCOUNT", "s", "5", "30"),
    ("BITCOUNT", "s", "1", "5", "BIT"),
    ("BITCOUNT", "s", "1", "5", "bit"),
    ("BITCOUNT", "s", "5", "30", "BIT"),
    ("BITCOUNT", "s", "-3", "-1", "BIT"),
    ("BITCOUNT", "s", "0", "47", "BIT"),
    ("BITCOUNT", "s", "0", "-1", "BYTE"),
    ("BITCOUNT", "s", "9", "9", "BIT"),
    ("BITCOUNT", "s", "1", "5", "bits"),
    ("BITCOUNT", "s", "-1", "-2", "bogus"),
    ("BITCOUNT", "s", "1"),
    ("BITCOUNT", "s", "1", "2", "BIT", "x"),
    ("BITCOUNT", "s", "x", "2"),
    ("BITCOUNT", "s", "1", "y"),
    ("BITCOUNT", "s", "1", "9223372036854775808"),
    ("BITCOUNT", "s", "-9223372036854775808", "-1", "BIT"),
    ("BITCOUNT", "nokey"),
    ("BITCOUNT", "nokey", "x"),
    ("BITCOUNT", "nokey", "1", "2", "bogus", "extra"),
    ("SET", "num", "1234567"),
    ("BITCOUNT", "num"),
    ("BITCOUNT", "num", "2", "4"),
    ("SET", "empty", ""),
    ("BITCOUNT", "empty"),
    ("BITCOUNT", "empty", "0", "-1"),
    ("BITCOUNT", "empty", "0", "-1", "BIT"),
    ("RPUSH", "list", "a"),
    ("BITCOUNT", "list"),
    ("BITCOUNT", "list", "x"),
]

BITPOS_SCRIPT = [
    ("SET", "p", b"\xff\xf0\x00"),
    ("BITPOS", "p", "0"),
    ("BITPOS", "p", "1"),
    ("BITPOS", "p", "0", "1"),
    ("BITPOS", "p", "1", "2"),
    ("BITPOS", "p", "1", "2", "-1"),
    ("BITPOS", "p", "0", "0", "-1"),
    ("BITPOS", "p", "0", "3"),
    ("BITPOS", "p", "1", "0", "-1", "BIT"),
    ("BITPOS", "p", "0", "2", "10", "BIT"),
    ("BITPOS", "p", "0", "7", "15", "bit"),
    ("BITPOS", "p", "1", "7", "15", "BIT"),
    ("BITPOS", "p", "0", "20", "-1", "BIT"),
    ("BITPOS", "p", "0", "5", "BIT"),
    ("BITPOS", "p", "1", "12", "BIT"),
    ("BITPOS", "p", "0", "1", "1", "BYTE"),
    ("BITPOS", "p", "1", "-1", "-3"),
    ("BITPOS", "p", "2"),
    ("BITPOS", "p", "-1"),
    ("BITPOS", "p", "x"),
    ("BITPOS", "p", "1", "x"),
    ("BITPOS", "p", "1", "0", "x"),
    ("BITPOS", "p", "1", "0", "x", "bogus"),
    ("BITPOS", "p", "1", "0", "1", "bogus"),
    ("BITPOS", "p", "1", "0", "1", "BIT", "extra"),
    ("SET", "ones", b"\xff\xff"),
    ("BITPOS", "ones", "0"),
    ("BITPOS", "ones", "0", "0"),
    ("BITPOS", "ones", "0", "0", "-1"),
    ("BITPOS", "ones", "0", "0", "-1", "BIT"),
    ("SET", "zeros", b"\x00\x00"),
    ("BITPOS", "zeros", "1"),
    ("BITPOS", "zeros", "0"),
    ("BITPOS", "nokey", "1"),
    ("BITPOS", "nokey", "0"),
    ("BITPOS", "nokey", "0", "x"),
    ("BITPOS", "nokey", "2"),
    ("SET", "empty", ""),
    ("BITPOS", "empty", "0"),
    ("BITPOS", "empty", "1"),
    ("BITPOS", "empty", "0", "0", "-1"),
    ("RPUSH", "list", "a"),
    ("BITPOS", "list", "1"),
    ("BITPOS", "list", "3"),
]

BITOP_SCRIPT = [
    ("SET", "a", "foobar"),
    ("SET", "b", "abcdef"),
    ("SET", "c", "xy"),
    ("BITOP", "AND", "dest", "a", "b"),
    ("GET", "dest"),
    ("OBJECT", "ENCODING", "dest"),
    ("BITOP", "or", "dest", "a", "c"),
    ("GET", "dest"),
    ("BITOP", "Xor", "dest", "a", "b", "c", "nokey"),
    ("GET", "dest"),
    ("BITOP", "AND", "dest", "a", "nokey"),
    ("GET", "dest"),
    ("BITOP", "NOT", "dest", "c"),
    ("GET", "dest"),
    ("BITOP", "NOT", "c", "c"),
    ("GET", "c"),
    ("BITOP", "NOT", "dest", "a", "b"),
    ("BITOP", "NAND", "dest", "a"),
    ("BITOP", "AND", "dest"),
    ("SET", "dest", "x", "EX", "100"),
    ("BITOP", "OR", "dest", "a"),
    ("TTL", "dest"),
    ("BITOP", "OR", "dest", "nokey", "nokey2"),
    ("EXISTS", "dest"),
    ("SET", "empty", ""),
    ("BITOP", "AND", "dest", "a"),
    ("BITOP", "AND", "dest", "empty"),
    ("EXISTS", "dest"),
    ("SET", "num", "12"),
    ("BITOP", "OR", "dest", "num"),
    ("GET", "dest"),
    ("OBJECT", "ENCODING", "dest"),
    ("RPUSH", "list", "a"),
    ("BITOP", "AND", "dest", "a", "list"),
    ("BITOP", "AND", "list", "a"),
    ("TYPE", "list"),
    ("SETBIT", "bits", "3", "1"),
    ("BITOP", "NOT", "notbits", "bits"),
    ("GET", "notbits"),
    ("GET", "bits"),
]

BITFIELD_SCRIPT = [
    ("BITFIELD", "f", "SET", "i8", "0", "100", "GET", "i8", "0"),
    ("BITFIELD", "f", "INCRBY", "i8", "0", "100"),
    ("BITFIELD", "f", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "100"),
    ("BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "100", "GET", "u8", "0"),
    ("BITFIELD", "f", "OVERFLOW", "WRAP", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT",
     "INCRBY", "u2", "102", "1"),
    ("BITFIELD", "f", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2", "102", "1"),
    ("BITFIELD", "f", "SET", "u8", "#1", "255", "GET", "u8", "#1", "GET", "i4", "#3"),
    ("BITFIELD", "f", "SET", "i64", "64", "-9223372036854775808", "GET", "i64", "64"),
    ("BITFIELD", "f", "INCRBY", "i64", "64", "-1"),
    ("BITFIELD", "f", "OVERFLOW", "SAT", "INCRBY", "i64", "64", "-1"),
    ("BITFIELD", "f", "SET", "u63", "128", "9223372036854775807", "GET", "u63", "128"),
    ("BITFIELD", "f", "OVERFLOW", "FAIL", "SET", "u8", "0", "256", "SET", "i8", "0", "-129"),
    ("BITFIELD", "f", "SET", "u8", "0", "-1", "GET", "u8", "0"),
    ("BITFIELD", "f", "OVERFLOW", "SAT", "SET", "u8", "0", "-1", "SET", "i4", "0", "100"),
    ("BITFIELD", "f", "GET", "u1", "0", "GET", "i1", "0", "GET", "u7", "3", "GET", "i13", "5"),
    ("BITFIELD", "f", "GET", "u8", "100000"),
    ("GET", "f"),
    ("OBJECT", "ENCODING", "f"),
    ("BITFIELD", "f"),
    ("BITFIELD", "nokey"),
    ("EXISTS", "nokey"),
    ("BITFIELD", "nokey", "GET", "u8", "0"),
    ("EXISTS", "nokey"),
    ("BITFIELD", "nokey", "OVERFLOW", "FAIL", "INCRBY", "u8", "8", "300"),
    ("GET", "nokey"),
    ("BITFIELD", "f", "GET", "u64", "0"),
    ("BITFIELD", "f", "GET", "i65", "0"),
    ("BITFIELD", "f", "GET", "i0", "0"),
    ("BITFIELD", "f", "GET", "x8", "0"),
    ("BITFIELD", "f", "GET", "u", "0"),
    ("BITFIELD", "f", "GET", "U8", "0"),
    ("BITFIELD", "f", "GET", "u08", "0"),
    ("BITFIELD", "f", "GET", "u8", "-1"),
    ("BITFIELD", "f", "GET", "u8", "#-1"),
    ("BITFIELD", "f", "GET", "u8", "#x"),
    ("BITFIELD", "f", "GET", "u8", "4294967296"),
    ("BITFIELD", "f", "GET", "u8", "#536870912"),
    ("BITFIELD", "f", "GET", "u8", "#1152921504606846976"),
    ("BITFIELD", "f", "GET", "u8"),
    ("BITFIELD", "f", "SET", "u8", "0"),
    ("BITFIELD", "f", "SET", "u8", "0", "x"),
    ("BITFIELD", "f", "INCRBY", "u8", "0", "1.5"),
    ("BITFIELD", "f", "OVERFLOW"),
    ("BITFIELD", "f", "OVERFLOW", "BOGUS", "GET", "u8", "0"),
    ("BITFIELD", "f", "overflow", "fail", "incrby", "u8", "0", "1000"),
    ("BITFIELD", "f", "BOGUS", "u8", "0"),
    ("BITFIELD", "f", "GET", "u8", "0", "BOGUS"),
    ("BITFIELD", "f", "SET", "u8", "0", "1", "GET", "x8", "0"),
    ("BITFIELD_RO", "f", "GET", "u8", "0", "GET", "i16", "#1"),
    ("BITFIELD_RO", "f", "SET", "u8", "0", "1"),
    ("BITFIELD_RO", "f", "INCRBY", "u8", "0", "x"),
    ("BITFIELD_RO", "f", "OVERFLOW", "SAT"),
    ("BITFIELD_RO", "f", "GET", "u64", "0"),
    ("BITFIELD_RO", "nokey", "GET", "u8", "0"),
    ("SET", "n", "1234"),
    ("BITFIELD", "n", "GET", "u16", "0"),
    ("BITFIELD_RO", "n", "GET", "u16", "8"),
    ("OBJECT", "ENCODING", "n"),
    ("BITFIELD", "n", "SET", "u8", "0", "49"),
    ("OBJECT", "ENCODING", "n"),
    ("RPUSH", "list", "a"),
    ("BITFIELD", "list", "GET", "u8", "0"),
    ("BITFIELD", "list", "SET", "u8", "0", "1"),
    ("BITFIELD_RO", "list", "GET", "u8", "0"),
    ("BITFIELD", "list", "GET", "x8", "0"),
]


def test_setbit_getbit(pair):
    pair.run_script(SETBIT_SCRIPT)


def test_bitcount(pair):
    pair.run_script(BITCOUNT_SCRIPT)


def test_bitpos(pair):
    pair.run_script(BITPOS_SCRIPT)


def test_bitop(pair):
    pair.run_script(BITOP_SCRIPT)


def test_bitfield(pair):
    pair.run_script(BITFIELD_SCRIPT)


def test_offsets_obey_proto_max_bulk_len(pair):
    """Offsets are refused from proto-max-bulk-len bytes on (8 Mbit at 1 MB)."""
    pair.check("CONFIG", "SET", "proto-max-bulk-len", "1mb")
    try:
        pair.run_script([
            ("SETBIT", "big", "8388607", "1"),
            ("SETBIT", "big", "8388608", "1"),
            ("GETBIT", "big", "8388608"),
            ("STRLEN", "big"),
            ("BITCOUNT", "big"),
            ("BITPOS", "big", "1"),
            ("BITPOS", "big", "0", "-1"),
            ("BITFIELD", "big", "GET", "u8", "8388600", "GET", "u8", "8388601"),
            ("BITFIELD", "big", "SET", "u8", "#1048575", "7", "GET", "u8", "#1048575"),
            ("BITFIELD", "big", "SET", "u8", "#1048576", "7"),
            ("BITOP", "NOT", "inverse", "big"),
            ("BITCOUNT", "inverse"),
        ])
    finally:
        pair.check("CONFIG", "SET", "proto-max-bulk-len", "512mb")


def test_setbit_in_transactions_and_watch(pair, hush_process, redis_process):
    """The bytes a GET returned stay as they were while later bits change."""
    pair.run_script([
        ("SETBIT", "w", "1", "1"),
        ("MULTI",),
        ("GET", "w"),
        ("SETBIT", "w", "7", "1"),
        ("GET", "w"),
        ("BITFIELD", "w", "SET", "u8", "0", "255"),
        ("GET", "w"),
        ("EXEC",),
    ])
    other = Pair(hush_process.port, redis_process.port)
    try:
        for command in [("SETBIT", "w", "2", "1"), ("SETBIT", "w", "2", "1"),
                        ("BITFIELD", "w", "GET", "u8", "0"), ("BITOP", "NOT", "w", "w"),
                        ("BITFIELD", "w", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "999")]:
            pair.check("WATCH", "w")
            other.check(*command)
            pair.check("MULTI")
            pair.check("PING")
            pair.check("EXEC")
    finally:
        other.close()


def test_copy_rename_and_friends(pair):
    pair.run_script([
        ("SETBIT", "src", "10", "1"),
        ("COPY", "src", "copy"),
        ("SETBIT", "src", "11", "1"),
        ("GET", "copy"),
        ("GET", "src"),
        ("OBJECT", "ENCODING", "copy"),
        ("RENAME", "copy", "renamed"),
        ("OBJECT", "ENCODING", "renamed"),
        ("TYPE", "renamed"),
        ("SETBIT", "renamed", "0", "1"),
        ("GETRANGE", "renamed", "0", "0"),
        ("SETRANGE", "renamed", "0", "x"),
        ("GET", "renamed"),
        ("GETBIT", "renamed", "1"),
    ])
    # SCAN lists keys in each server's own order.
    ours, theirs = (parse_reply(raw) for raw in pair.both("SCAN", "0", "TYPE", "string"))
    assert sorted(ours[1]) == sorted(theirs[1]) == [b"renamed", b"src"]
    pair.check("DEL", "renamed", "src")


def test_command_info(pair):
    for name in ("SETBIT", "GETBIT", "BITCOUNT", "BITPOS", "BITOP", "BITFIELD", "BITFIELD_RO"):
        pair.check("COMMAND", "INFO", name)


@pytest.mark.parametrize("args", [
    "BITOP AND dest a b c",
    "BITFIELD k GET u8 0",
    "BITFIELD_RO k GET u8 0",
    "SETBIT k 0 1",
    "BITCOUNT k 0 1",
])
def test_command_getkeys(pair, args):
    pair.check("COMMAND", "GETKEYS", *args.split())


def _random_bit_command(rng: random.Random) -> tuple:
    keys = ["r1", "r2", "r3"]
    key = rng.choice(keys)
    offset = str(rng.choice([rng.randint(0, 70), rng.randint(0, 600), -1]))
    kind = rng.choice(["u", "i"]) + str(rng.randint(1, 64 if rng.random() < 0.5 else 9))
    number = str(rng.choice([rng.randint(-300, 300), 2**63 - 1, -(2**63), rng.getrandbits(40)]))
    return rng.choice([
        lambda: ("SETBIT", key, offset, str(rng.randint(0, 1))),
        lambda: ("GETBIT", key, offset),
        lambda: ("BITCOUNT", key),
        lambda: ("BITCOUNT", key, str(rng.randint(-10, 10)), str(rng.randint(-10, 80)),
                 rng.choice(["BIT", "BYTE"])),
        lambda: ("BITPOS", key, str(rng.randint(0, 1))),
        lambda: ("BITPOS", key, str(rng.randint(0, 1)), str(rng.randint(-5, 5)),
                 str(rng.randint(-90, 90)), rng.choice(["BIT", "BYTE"])),
        lambda: ("BITOP", rng.choice(["AND", "OR", "XOR"]), key, *rng.sample(keys, 2)),
        lambda: ("BITOP", "NOT", key, rng.choice(keys)),
        lambda: ("BITFIELD", key, "OVERFLOW", rng.choice(["WRAP", "SAT", "FAIL"]),
                 rng.choice(["SET", "INCRBY"]), kind, offset, number, "GET", kind, offset),
        lambda: ("BITFIELD_RO", key, "GET", kind, offset),
        lambda: ("GET", key),
        lambda: ("SET", key, rng.choice(["", "12", "abc", "\xff"])),
        lambda: ("DEL", key),
        lambda: ("OBJECT", "ENCODING", key),
    ])()


def test_random_bit_commands(pair):
    rng = random.Random(20260111)
    for _ in range(600):
        pair.check(*_random_bit_command(rng))
    for key in ("r1", "r2", "r3"):
        pair.check("GET", key)
