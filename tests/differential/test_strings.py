"""String commands, byte for byte against a real redis-server (RESP2 and RESP3)."""

from __future__ import annotations

import random

import pytest

pytestmark = pytest.mark.differential

WRONG = ("RPUSH", "list", "a")

SET_SCRIPT = [
    ("SET", "k", "v"),
    ("GET", "k"),
    ("SET", "k", "v2", "GET"),
    ("SET", "k", "v3", "get"),
    ("SET", "new", "v", "GET"),
    ("SET", "k", "x", "NX"),
    ("SET", "k", "x", "NX", "GET"),
    ("SET", "fresh", "x", "NX"),
    ("SET", "absent", "x", "XX"),
    ("SET", "absent", "x", "XX", "GET"),
    ("SET", "k", "y", "XX"),
    ("SET", "k", "y", "nx", "nx"),
    ("SET", "k", "y", "XX", "XX", "GET"),
    ("SET", "k", "v", "NX", "XX"),
    ("SET", "k", "v", "XX", "NX"),
    ("SET", "k", "v", "EX", "100"),
    ("SET", "k", "v", "ex", "100", "EX", "200"),
    ("SET", "k", "v", "PX", "100000"),
    ("SET", "k", "v", "EXAT", "99999999999"),
    ("SET", "k", "v", "PXAT", "99999999999000"),
    ("SET", "k", "v", "KEEPTTL"),
    ("SET", "k", "v", "KEEPTTL", "GET", "XX"),
    ("SET", "k", "v", "EX", "10", "PX", "10"),
    ("SET", "k", "v", "EX", "10", "EXAT", "10"),
    ("SET", "k", "v", "PXAT", "10", "PX", "10"),
    ("SET", "k", "v", "KEEPTTL", "EX", "10"),
    ("SET", "k", "v", "PX", "10", "KEEPTTL"),
    ("SET", "k", "v", "EX"),
    ("SET", "k", "v", "PERSIST"),
    ("SET", "k", "v", "bogus"),
    ("SET", "k", "v", "EX", "abc", "bogus"),
    ("SET", "k", "v", "EX", "abc"),
    ("SET", "k", "v", "EX", "1.5"),
    ("SET", "k", "v", "EX", "0"),
    ("SET", "k", "v", "EX", "-1"),
    ("SET", "k", "v", "PX", "0"),
    ("SET", "k", "v", "EXAT", "0"),
    ("SET", "k", "v", "PXAT", "-5"),
    ("SET", "k", "v", "EX", "9223372036854775"),
    ("SET", "k", "v", "EX", "9223372036854776"),
    ("SET", "k", "v", "PX", "9223372036854775807"),
    ("SET", "k", "v", "EX", "9223372036854775808"),
    ("SET", "k", "v", "EXAT", "9223372036854775"),
    ("SET", "k", "v", "PXAT", "9223372036854775807"),
    ("SET", "k", "old"),
    ("SET", "k", "v", "PXAT", "1", "GET"),
    ("GET", "k"),
    ("SET", "k", "v", "EXAT", "1"),
    ("GET", "k"),
    WRONG,
    ("SET", "list", "v", "GET"),
    ("SET", "list", "v", "EX", "0", "GET"),
    ("SET", "list", "v", "NX", "GET"),
    ("GET", "list"),
    ("SET", "list", "now a string"),
    ("GET", "list"),
    ("SET", "k"),
    ("GET",),
    ("GET", "a", "b"),
    ("SET", "empty", ""),
    ("GET", "empty"),
    ("SET", "bin", b"\x00\xff\r\n"),
    ("GET", "bin"),
]

SETX_SCRIPT = [
    ("SETNX", "a", "1"),
    ("SETNX", "a", "2"),
    ("GET", "a"),
    ("SETNX", "a"),
    WRONG,
    ("SETNX", "list", "x"),
    ("SETEX", "b", "100", "v"),
    ("GET", "b"),
    ("SETEX", "b", "0", "v"),
    ("SETEX", "b", "-10", "v"),
    ("SETEX", "b", "x", "v"),
    ("SETEX", "b", "9223372036854775807", "v"),
    ("SETEX", "list", "100", "v"),
    ("GET", "list"),
    ("PSETEX", "c", "100000", "v"),
    ("GET", "c"),
    ("PSETEX", "c", "0", "v"),
    ("PSETEX", "c", "-1", "v"),
    ("PSETEX", "c", "1e3", "v"),
    ("PSETEX", "c", "9223372036854775807", "v"),
    ("SETEX", "b", "100"),
    ("GETSET", "a", "new"),
    ("GETSET", "missing", "v"),
    ("GET", "missing"),
    ("GETSET", "list", "v"),
    ("GETSET", "a"),
    ("GETDEL", "a"),
    ("GETDEL", "a"),
    ("GET", "a"),
    ("GETDEL", "list"),
    ("GETDEL",),
]

GETEX_SCRIPT = [
    ("SET", "k", "v"),
    ("GETEX", "k"),
    ("GETEX", "k", "EX", "100"),
    ("GETEX", "k", "PX", "100000"),
    ("GETEX", "k", "EXAT", "99999999999"),
    ("GETEX", "k", "PXAT", "99999999999000"),
    ("GETEX", "k", "PERSIST"),
    ("GETEX", "k", "persist", "PERSIST"),
    ("GETEX", "k", "ex", "10", "EX", "20"),
    ("GETEX", "k", "EX", "10", "PX", "10"),
    ("GETEX", "k", "PERSIST", "EX", "1"),
    ("GETEX", "k", "EX", "1", "PERSIST"),
    ("GETEX", "k", "NX"),
    ("GETEX", "k", "XX"),
    ("GETEX", "k", "GET"),
    ("GETEX", "k", "KEEPTTL"),
    ("GETEX", "k", "EX"),
    ("GETEX", "k", "EX", "abc"),
    ("GETEX", "k", "EX", "0"),
    ("GETEX", "k", "PX", "-1"),
    ("GETEX", "k", "EXAT", "0"),
    ("GETEX", "k", "EX", "9223372036854775"),
    ("GETEX", "missing", "EX", "0"),
    ("GETEX", "missing", "EX", "abc"),
    ("GETEX", "missing", "bogus"),
    ("GETEX", "missing"),
    ("GETEX", "k", "PXAT", "1"),
    ("GET", "k"),
    ("SET", "k", "v"),
    ("GETEX", "k", "EXAT", "1"),
    ("GETEX", "k"),
    WRONG,
    ("GETEX", "list"),
    ("GETEX", "list", "EX", "0"),
    ("GETEX", "list", "bogus"),
    ("GETEX",),
]

MULTI_SCRIPT = [
    ("MSET", "a", "1", "b", "2", "c", "3"),
    ("MGET", "a", "b", "c", "missing"),
    ("MSET", "a", "x", "a", "y"),
    ("GET", "a"),
    ("MSET", "a"),
    ("MSET", "a", "1", "b"),
    ("MSET",),
    ("MSETNX", "a", "1", "d", "4"),
    ("GET", "d"),
    ("MSETNX", "d", "4", "e", "5"),
    ("MGET", "d", "e"),
    ("MSETNX", "f", "1", "f", "2"),
    ("GET", "f"),
    ("MSETNX", "a"),
    ("MSETNX", "a", "1", "b"),
    WRONG,
    ("MGET", "list", "a"),
    ("MSETNX", "list", "1"),
    ("MSET", "list", "1"),
    ("GET", "list"),
    ("MGET",),
]

APPEND_SCRIPT = [
    ("APPEND", "s", "hello"),
    ("APPEND", "s", " world"),
    ("GET", "s"),
    ("APPEND", "s", ""),
    ("APPEND", "e", ""),
    ("GET", "e"),
    ("STRLEN", "e"),
    ("STRLEN", "s"),
    ("STRLEN", "missing"),
    ("SET", "n", "12345"),
    ("STRLEN", "n"),
    ("APPEND", "n", "6"),
    ("INCR", "n"),
    WRONG,
    ("APPEND", "list", "x"),
    ("STRLEN", "list"),
    ("APPEND", "s"),
    ("STRLEN",),
]

RANGE_SCRIPT = [
    ("SET", "s", "Hello, World"),
    ("GETRANGE", "s", "0", "4"),
    ("GETRANGE", "s", "-5", "-1"),
    ("GETRANGE", "s", "0", "-1"),
    ("GETRANGE", "s", "-1", "-5"),
    ("GETRANGE", "s", "5", "3"),
    ("GETRANGE", "s", "-100", "100"),
    ("GETRANGE", "s", "100", "200"),
    ("GETRANGE", "s", "11", "11"),
    ("GETRANGE", "s", "12", "-1"),
    ("GETRANGE", "s", "-100", "-50"),
    ("GETRANGE", "s", "0", "-100"),
    ("GETRANGE", "s", "9223372036854775807", "-9223372036854775808"),
    ("GETRANGE", "s", "-9223372036854775808", "9223372036854775807"),
    ("GETRANGE", "s", "a", "1"),
    ("GETRANGE", "s", "0", "b"),
    ("GETRANGE", "s", "0", "1.5"),
    ("GETRANGE", "missing", "0", "-1"),
    ("GETRANGE", "missing", "x", "-1"),
    ("SET", "empty", ""),
    ("GETRANGE", "empty", "0", "-1"),
    ("GETRANGE", "empty", "0", "0"),
    ("SET", "num", "123456"),
    ("GETRANGE", "num", "1", "3"),
    ("SUBSTR", "s", "0", "4"),
    ("SUBSTR", "s", "-3", "-1"),
    ("SETRANGE", "s", "7", "Redis"),
    ("GET", "s"),
    ("SETRANGE", "s", "20", "!"),
    ("GET", "s"),
    ("SETRANGE", "s", "0", ""),
    ("SETRANGE", "s", "100", ""),
    ("SETRANGE", "pad", "5", "x"),
    ("GET", "pad"),
    ("SETRANGE", "nothing", "5", ""),
    ("GET", "nothing"),
    ("SETRANGE", "s", "-1", "x"),
    ("SETRANGE", "s", "abc", "x"),
    ("SETRANGE", "s", "9223372036854775807", "x"),
    ("SETRANGE", "s", "9223372036854775808", "x"),
    ("SETRANGE", "s", "536870911", "xx"),
    ("SETRANGE", "new", "536870912", "x"),
    ("SETRANGE", "new", "536870911", ""),
    ("SET", "num", "100"),
    ("SETRANGE", "num", "1", "5"),
    ("INCR", "num"),
    WRONG,
    ("GETRANGE", "list", "0", "-1"),
    ("GETRANGE", "list", "x", "-1"),
    ("SETRANGE", "list", "0", "x"),
    ("SETRANGE", "list", "0", ""),
    ("SETRANGE", "list", "-1", "x"),
    ("GETRANGE", "s", "0"),
    ("SETRANGE", "s", "0"),
]

COUNTER_SCRIPT = [
    ("INCR", "c"),
    ("INCR", "c"),
    ("DECR", "c"),
    ("DECR", "d"),
    ("INCRBY", "c", "10"),
    ("INCRBY", "c", "-100"),
    ("DECRBY", "c", "-5"),
    ("DECRBY", "c", "5"),
    ("GET", "c"),
    ("INCRBY", "c", "abc"),
    ("INCRBY", "c", "1.5"),
    ("INCRBY", "c", " 1"),
    ("INCRBY", "c", "+1"),
    ("INCRBY", "c", "01"),
    ("INCRBY", "c", "-0"),
    ("INCRBY", "c", "9223372036854775808"),
    ("SET", "max", "9223372036854775807"),
    ("INCR", "max"),
    ("INCRBY", "max", "0"),
    ("DECRBY", "max", "-1"),
    ("SET", "min", "-9223372036854775808"),
    ("DECR", "min"),
    ("INCRBY", "min", "-1"),
    ("DECRBY", "min", "9223372036854775807"),
    ("DECRBY", "x", "-9223372036854775808"),
    ("DECRBY", "x", "9223372036854775807"),
    ("DECRBY", "x", "2"),
    ("INCRBY", "y", "9223372036854775807"),
    ("INCRBY", "y", "-9223372036854775808"),
    ("SET", "s", "abc"),
    ("INCR", "s"),
    ("SET", "s", "10 "),
    ("INCR", "s"),
    ("SET", "s", "010"),
    ("INCR", "s"),
    ("SET", "s", "1e3"),
    ("INCR", "s"),
    ("SET", "s", ""),
    ("INCR", "s"),
    ("SET", "s", "-0"),
    ("DECR", "s"),
    ("SET", "s", "99999999999999999999"),
    ("INCR", "s"),
    ("SET", "t", "5"),
    ("INCR", "t"),
    ("GET", "t"),
    WRONG,
    ("INCR", "list"),
    ("DECRBY", "list", "1"),
    ("INCRBY", "list", "abc"),
    ("INCR",),
    ("INCRBY", "c"),
]

FLOAT_SCRIPT = [
    ("INCRBYFLOAT", "f", "10.5"),
    ("INCRBYFLOAT", "f", "0.1"),
    ("INCRBYFLOAT", "f", "-5"),
    ("INCRBYFLOAT", "f", "5.0e3"),
    ("SET", "g", "3.0e3"),
    ("INCRBYFLOAT", "g", "0"),
    ("SET", "p", "0.1"),
    ("INCRBYFLOAT", "p", "0.2"),
    ("INCRBYFLOAT", "p", "1e300"),
    ("INCRBYFLOAT", "p", "-1e300"),
    ("INCRBYFLOAT", "p", "1e4000"),
    ("INCRBYFLOAT", "p", "1e4000"),
    ("SET", "q", "1.5"),
    ("INCRBYFLOAT", "q", "1e18"),
    ("INCRBYFLOAT", "q", "1e19"),
    ("INCRBYFLOAT", "r", "1.23456789012345678901234"),
    ("INCRBYFLOAT", "r2", "0.000003814697265625"),
    ("INCRBYFLOAT", "r3", "-0.000000000000000025"),
    ("INCRBYFLOAT", "r4", "-0.000000000000000001"),
    ("INCRBYFLOAT", "r5", "1e-4940"),
    ("INCRBYFLOAT", "r6", "4e-4951"),
    ("INCRBYFLOAT", "r7", "1.18e4932"),
    ("INCRBYFLOAT", "h1", "0x10"),
    ("INCRBYFLOAT", "h2", "0X.8"),
    ("INCRBYFLOAT", "h3", "-0x1p3"),
    ("INCRBYFLOAT", "h4", "+5"),
    ("INCRBYFLOAT", "h5", ".5"),
    ("INCRBYFLOAT", "h6", "5."),
    ("INCRBYFLOAT", "h7", "-.5e1"),
    ("INCRBYFLOAT", "h8", "0e-99999"),
    ("INCRBYFLOAT", "h9", "-0"),
    ("INCRBYFLOAT", "h10", "00012"),
    ("INCRBYFLOAT", "h11", "1E+2"),
    ("INCRBYFLOAT", "f", "inf"),
    ("INCRBYFLOAT", "f", "-Infinity"),
    ("INCRBYFLOAT", "f", "nan"),
    ("INCRBYFLOAT", "f", "abc"),
    ("INCRBYFLOAT", "f", ""),
    ("INCRBYFLOAT", "f", " 1"),
    ("INCRBYFLOAT", "f", "1 "),
    ("INCRBYFLOAT", "f", "1e"),
    ("INCRBYFLOAT", "f", "0x"),
    ("INCRBYFLOAT", "f", "1_0"),
    ("INCRBYFLOAT", "f", "1e5000"),
    ("INCRBYFLOAT", "f", "1e-5000"),
    ("INCRBYFLOAT", "f", "1e-4951"),
    ("INCRBYFLOAT", "f", "1.19e4932"),
    ("INCRBYFLOAT", "f", "1e99999999999999999999999"),
    ("INCRBYFLOAT", "f", b"1\x00"),
    ("INCRBYFLOAT", "f", "1" * 6000),
    ("GET", "f"),
    ("SET", "i", "inf"),
    ("INCRBYFLOAT", "i", "1"),
    ("INCRBYFLOAT", "i", "abc"),
    ("SET", "i", "-inf"),
    ("INCRBYFLOAT", "i", "inf"),
    ("SET", "big", "1.18e4932"),
    ("INCRBYFLOAT", "big", "1.18e4932"),
    ("SET", "s", "abc"),
    ("INCRBYFLOAT", "s", "1"),
    ("SET", "s", "1.5 "),
    ("INCRBYFLOAT", "s", "1"),
    ("SET", "s", b"\x00"),
    ("INCRBYFLOAT", "s", "1"),
    ("SET", "n", "7"),
    ("INCRBYFLOAT", "n", "0.5"),
    ("INCR", "n"),
    ("INCRBYFLOAT", "n", "0.5"),
    ("INCR", "n"),
    WRONG,
    ("INCRBYFLOAT", "list", "abc"),
    ("INCRBYFLOAT", "list", "1"),
    ("INCRBYFLOAT", "f"),
]

LCS_SCRIPT = [
    ("MSET", "a", "ohmytext", "b", "mynewtext"),
    ("LCS", "a", "b"),
    ("LCS", "a", "b", "LEN"),
    ("LCS", "a", "b", "len", "LEN"),
    ("LCS", "a", "b", "IDX"),
    ("LCS", "a", "b", "IDX", "WITHMATCHLEN"),
    ("LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"),
    ("LCS", "a", "b", "MINMATCHLEN", "-5", "IDX", "WITHMATCHLEN"),
    ("LCS", "a", "b", "WITHMATCHLEN"),
    ("LCS", "a", "b", "IDX", "LEN"),
    ("LCS", "a", "b", "IDX", "MINMATCHLEN"),
    ("LCS", "a", "b", "IDX", "MINMATCHLEN", "x"),
    ("LCS", "a", "b", "bogus"),
    ("LCS", "a", "missing"),
    ("LCS", "a", "missing", "IDX"),
    ("LCS", "missing", "missing", "LEN"),
    ("LCS", "a", "a", "IDX", "WITHMATCHLEN"),
    ("MSET", "x", "abcabcabc", "y", "cbacbacba"),
    ("LCS", "x", "y"),
    ("LCS", "x", "y", "IDX", "WITHMATCHLEN"),
    WRONG,
    ("LCS", "a", "list"),
    ("LCS", "list", "a", "bogus"),
    ("LCS", "a"),
]

def _encoding_after(*commands: tuple) -> list[tuple]:
    """The commands, each followed by OBJECT ENCODING of the key it wrote."""
    script = []
    for args in commands:
        script += [args, ("OBJECT", "ENCODING", args[1])]
    return script


LONG = "x" * 44

# OBJECT ENCODING of a string tells which command built it: SET, GETSET and
# friends try int, then embstr up to 44 bytes; APPEND and SETRANGE leave raw
# whatever the content; INCR makes int; INCRBYFLOAT a plain string.
ENCODING_SCRIPT = _encoding_after(
    ("SET", "s", "12"),
    ("SET", "s", "abc"),
    ("SET", "s", LONG),
    ("SET", "s", LONG + "y"),
    ("SET", "s", "-9223372036854775808"),
    ("SET", "s", "9223372036854775808"),
    ("SET", "s", "-0"),
    ("SET", "s", " 1"),
    ("SET", "s", "01"),
    ("APPEND", "s", "z"),
    ("SET", "s", "1"),
    ("APPEND", "s", "2"),
    ("APPEND", "s", ""),
    ("INCR", "s"),
    ("APPEND", "s", "0"),
    ("GETSET", "s", "7"),
    ("APPEND", "s", "x"),
    ("SET", "s", "abc", "KEEPTTL"),
    ("APPEND", "a1", "12"),
    ("APPEND", "a2", "abc"),
    ("APPEND", "a3", LONG + "y"),
    ("SETRANGE", "r", "0", "12"),
    ("SETRANGE", "r2", "2", "ab"),
    ("SET", "r3", "123"),
    ("SETRANGE", "r3", "0", ""),
    ("SETRANGE", "r3", "0", "9"),
    ("SETRANGE", "r3", "5", ""),
    ("MSET", "m", "5"),
    ("SETRANGE", "m", "0", "6"),
    ("MSETNX", "m2", "5"),
    ("SETNX", "m3", "abc"),
    ("SETEX", "m3", "100", "42"),
    ("PSETEX", "m3", "100000", "x"),
    ("APPEND", "m3", "y"),
    ("GETEX", "m3", "PERSIST"),
    ("GETDEL", "m3"),
    ("INCRBYFLOAT", "f", "1"),
    ("INCRBYFLOAT", "f", "0.5"),
    ("INCRBYFLOAT", "f", "1e30"),
    ("INCRBY", "f2", "5"),
    ("DECRBY", "f2", "-10000"),
    ("SET", "f2", "2.5"),
    ("INCRBYFLOAT", "f2", "0.5"),
    ("INCR", "f2"),
    ("SET", "big", LONG * 3),
    ("APPEND", "big", "x"),
) + [
    ("SET", "src", "1"),
    ("APPEND", "src", "2"),
    ("COPY", "src", "copied"),
    ("OBJECT", "ENCODING", "copied"),
    ("RENAME", "src", "renamed"),
    ("OBJECT", "ENCODING", "renamed"),
    ("MOVE", "renamed", "1"),
    ("SELECT", "1"),
    ("OBJECT", "ENCODING", "renamed"),
    ("SWAPDB", "0", "1"),
    ("SELECT", "0"),
    ("OBJECT", "ENCODING", "renamed"),
    ("SET", "renamed", "12"),
    ("OBJECT", "ENCODING", "renamed"),
    ("APPEND", "renamed", "3"),
    ("DEL", "renamed"),
    ("SET", "renamed", "12"),
    ("OBJECT", "ENCODING", "renamed"),
    ("RPUSH", "l", "a"),
    ("APPEND", "l", "x"),
    ("OBJECT", "ENCODING", "l"),
]

SCRIPTS = {
    "encoding": ENCODING_SCRIPT,
    "set": SET_SCRIPT,
    "setx": SETX_SCRIPT,
    "getex": GETEX_SCRIPT,
    "multi": MULTI_SCRIPT,
    "append": APPEND_SCRIPT,
    "range": RANGE_SCRIPT,
    "counter": COUNTER_SCRIPT,
    "float": FLOAT_SCRIPT,
    "lcs": LCS_SCRIPT,
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_script(pair, name):
    """Every command, option and error of the family replies as Redis does."""
    pair.run_script(SCRIPTS[name])


def test_sixty_four_bit_boundaries_for_expire_relative_to_now(pair):
    """An expire that overflows only after adding the current time is refused."""
    pair.run_script([
        ("SET", "k", "v", "PX", str(2**63 - 10**15)),
        ("GETEX", "k", "PX", str(2**63 - 10**15)),
        ("SET", "k", "v", "EX", str(2**63 // 1000 - 10**12)),
    ])


KEYS = ["k0", "k1", "k2", "k3", "k4"]


def _number(rng: random.Random) -> str:
    choice = rng.random()
    if choice < 0.4:
        return str(rng.randint(-100, 100))
    if choice < 0.6:
        return "%d.%d" % (rng.randint(-50, 50), rng.randint(0, 999))
    if choice < 0.7:
        return rng.choice(["1e3", "3.0e3", "-2.5e-3", "0.1", "0.2", "1e20", "-1e19"])
    if choice < 0.8:
        return str(rng.choice([2**63 - 1, -(2**63), 2**62, -(2**62)]))
    return rng.choice(["abc", "", "1.5", " 7", "inf", "x" * 3])


def _value(rng: random.Random) -> str:
    choice = rng.random()
    if choice < 0.4:
        return _number(rng)
    return "".join(rng.choice("abcxyz") for _ in range(rng.randint(0, 8)))


def _random_command(rng: random.Random) -> tuple:
    key = rng.choice(KEYS)
    other = rng.choice(KEYS)
    small = lambda: str(rng.randint(-12, 12))  # noqa: E731
    name = rng.choice([
        "SET", "SETOPT", "GET", "GETSET", "GETDEL", "GETEX", "SETNX", "SETEX", "PSETEX",
        "MGET", "MSET", "MSETNX", "APPEND", "STRLEN", "INCR", "DECR", "INCRBY", "DECRBY",
        "INCRBYFLOAT", "GETRANGE", "SUBSTR", "SETRANGE", "LCS", "RPUSH",
    ])
    if name == "SET":
        return ("SET", key, _value(rng))
    if name == "SETOPT":
        options = []
        for _ in range(rng.randint(1, 3)):
            opt = rng.choice(["NX", "XX", "GET", "KEEPTTL", "EX", "PX", "EXAT", "PXAT", "nx", "get"])
            options.append(opt)
            if opt in ("EX", "PX", "EXAT", "PXAT"):
                options.append(rng.choice(["1000", "100000", "0", "-1", "x", "99999999999999"]))
        return ("SET", key, _value(rng), *options)
    if name in ("GET", "GETDEL", "STRLEN", "INCR", "DECR"):
        return (name, key)
    if name == "GETEX":
        opt = rng.choice([(), ("PERSIST",), ("EX", "1000"), ("PX", "900000"), ("EX", "0"),
                          ("EXAT", "1"), ("PXAT", "99999999999999"), ("KEEPTTL",)])
        return ("GETEX", key, *opt)
    if name in ("GETSET", "SETNX", "APPEND"):
        return (name, key, _value(rng))
    if name == "SETEX":
        return ("SETEX", key, rng.choice(["1000", "0", "x"]), _value(rng))
    if name == "PSETEX":
        return ("PSETEX", key, rng.choice(["1000000", "-5"]), _value(rng))
    if name == "MGET":
        return ("MGET", *rng.sample(KEYS, rng.randint(1, 4)))
    if name in ("MSET", "MSETNX"):
        args = []
        for _ in range(rng.randint(1, 3)):
            args += [rng.choice(KEYS), _value(rng)]
        return (name, *args)
    if name in ("INCRBY", "DECRBY", "INCRBYFLOAT"):
        return (name, key, _number(rng))
    if name in ("GETRANGE", "SUBSTR"):
        return (name, key, small(), small())
    if name == "SETRANGE":
        return ("SETRANGE", key, str(rng.randint(-1, 12)), _value(rng))
    if name == "LCS":
        return ("LCS", key, other, *rng.choice([(), ("LEN",), ("IDX",), ("IDX", "WITHMATCHLEN"),
                                                ("IDX", "MINMATCHLEN", "2")]))
    return ("RPUSH", key, "item")


def test_random_commands(pair):
    """A seeded stream of string commands over a few keys replies as Redis does."""
    rng = random.Random(20260527)
    for _ in range(320):
        pair.check(*_random_command(rng))
    pair.check("MGET", *KEYS)


def test_lcs_of_long_strings(pair):
    """Long inputs walk back to the same string and ranges as Redis's table."""
    rng = random.Random(7)
    a = "".join(rng.choice("acgt") for _ in range(1500))
    b = "".join(rng.choice("acgt") for _ in range(1200))
    pair.check("MSET", "a", a, "b", b)
    pair.check("LCS", "a", "b")
    pair.check("LCS", "a", "b", "IDX", "MINMATCHLEN", "3", "WITHMATCHLEN")
    pair.check("LCS", "b", "a", "LEN")


STRING_COMMANDS = (
    "get set getset getdel getex setnx setex psetex mget mset msetnx append strlen incr decr "
    "incrby decrby incrbyfloat getrange setrange substr lcs"
).split()


def test_command_info(pair):
    """Arity, flags, ACL categories, tips and key specs are Redis's."""
    for name in STRING_COMMANDS:
        pair.check("COMMAND", "INFO", name)


def _random_float_text(rng: random.Random) -> str:
    sign = rng.choice(["", "-", "+"])
    kind = rng.random()
    if kind < 0.15:
        return sign + "0x" + "".join(rng.choice("0123456789abcdef") for _ in range(rng.randint(1, 20)))
    digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 25)))
    point = rng.randint(0, len(digits))
    text = digits[:point] + "." + digits[point:] if rng.random() < 0.7 else digits
    if rng.random() < 0.4:
        text += "e%d" % rng.randint(-30, 30)
    return sign + text


def test_random_incrbyfloat(pair):
    """Long double rounding and printing agree with Redis over many random values."""
    rng = random.Random(4242)
    for index in range(250):
        key = "f%d" % (index % 7)
        if rng.random() < 0.2:
            pair.check("SET", key, _random_float_text(rng))
        pair.check("INCRBYFLOAT", key, _random_float_text(rng))


_ENCODING_VALUES = ["0", "7", "-12", "10000", "9223372036854775807", "9223372036854775808",
                    "01", "-0", "1.5", "abc", "x" * 44, "y" * 45, "", " 3"]


def _encoding_command(rng: random.Random) -> tuple:
    key, other = rng.choice(KEYS), rng.choice(KEYS)
    value = rng.choice(_ENCODING_VALUES)
    return rng.choice([
        ("SET", key, value), ("SET", key, value, "KEEPTTL"), ("APPEND", key, value),
        ("SETRANGE", key, str(rng.randint(0, 3)), value), ("INCR", key), ("DECRBY", key, "3"),
        ("INCRBYFLOAT", key, rng.choice(["1", "0.5", "-2"])), ("GETSET", key, value),
        ("SETNX", key, value), ("MSET", key, value, other, rng.choice(_ENCODING_VALUES)),
        ("GETDEL", key), ("COPY", key, other, "REPLACE"), ("RENAME", key, other),
        ("SETEX", key, "100", value), ("GETEX", key, "PERSIST"), ("MOVE", key, "1"),
        ("SWAPDB", "0", "1"),
    ])


def test_random_encodings(pair):
    """OBJECT ENCODING of every key after each of a seeded stream of string writes."""
    rng = random.Random(20261207)
    for _ in range(300):
        pair.check(*_encoding_command(rng))
        for key in KEYS:
            pair.check("OBJECT", "ENCODING", key)
    pair.check("FLUSHALL")
