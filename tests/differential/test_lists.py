"""List commands compared byte for byte with a real redis-server (RESP2 and RESP3).

Blocking commands are only compared where they do not block for long: immediate
pops, argument errors, and timeouts of 0.01 seconds.
"""

from __future__ import annotations

import random

import pytest

from hush.commands import COMMANDS

pytestmark = pytest.mark.differential

PUSH_AND_POP = [
    ("LPUSH", "l", "a", "b", "c"),
    ("RPUSH", "l", "d", "e"),
    ("LPUSHX", "l", "x"),
    ("RPUSHX", "l", "y", "z"),
    ("LPUSHX", "none", "x"),
    ("RPUSHX", "none", "x", "y"),
    ("LRANGE", "l", "0", "-1"),
    ("LLEN", "l"),
    ("LLEN", "none"),
    ("LPOP", "l"),
    ("RPOP", "l"),
    ("LPOP", "l", "2"),
    ("RPOP", "l", "1"),
    ("LPOP", "l", "0"),
    ("RPOP", "l", "100"),
    ("LPOP", "l"),
    ("RPOP", "l"),
    ("LPOP", "l", "0"),
    ("LPOP", "l", "3"),
    ("RPOP", "l", "0"),
    ("LPOP", "l", "-1"),
    ("RPOP", "l", "abc"),
    ("LPOP", "l", "9223372036854775807"),
    ("LPOP", "l", "9223372036854775808"),
    ("LPOP", "l", "1", "2"),
    ("RPOP", "l", "1", "2"),
    ("LPOP",),
    ("LPUSH", "l"),
    ("RPUSHX", "l"),
    ("LLEN",),
    ("LLEN", "a", "b"),
    ("SET", "s", "str"),
    ("LPUSH", "s", "a"),
    ("RPUSH", "s", "a"),
    ("LPUSHX", "s", "a"),
    ("RPUSHX", "s", "a"),
    ("LPOP", "s"),
    ("RPOP", "s"),
    ("LPOP", "s", "0"),
    ("LPOP", "s", "-1"),
    ("LLEN", "s"),
    ("lpush", "mixed", "1"),
    ("LpUsH", "mixed", "2"),
    ("LRANGE", "mixed", "0", "-1"),
]

READ = [
    ("RPUSH", "l", "a", "b", "c", "a", "b", "c", "a"),
    ("LRANGE", "l", "0", "-1"),
    ("LRANGE", "l", "-100", "100"),
    ("LRANGE", "l", "2", "4"),
    ("LRANGE", "l", "4", "2"),
    ("LRANGE", "l", "7", "10"),
    ("LRANGE", "l", "-1", "-2"),
    ("LRANGE", "l", "-3", "-1"),
    ("LRANGE", "l", "x", "1"),
    ("LRANGE", "l", "0", "1.5"),
    ("LRANGE", "l", "9223372036854775808", "1"),
    ("LRANGE", "l", "-9223372036854775808", "9223372036854775807"),
    ("LRANGE", "none", "0", "-1"),
    ("LRANGE", "none", "x", "-1"),
    ("LRANGE", "l", "0"),
    ("LINDEX", "l", "0"),
    ("LINDEX", "l", "-1"),
    ("LINDEX", "l", "7"),
    ("LINDEX", "l", "-8"),
    ("LINDEX", "l", "x"),
    ("LINDEX", "none", "x"),
    ("LINDEX", "none", "0"),
    ("LPOS", "l", "a"),
    ("LPOS", "l", "a", "RANK", "2"),
    ("LPOS", "l", "a", "RANK", "-1"),
    ("LPOS", "l", "a", "RANK", "-3"),
    ("LPOS", "l", "a", "RANK", "4"),
    ("LPOS", "l", "a", "RANK", "0"),
    ("LPOS", "l", "a", "RANK", "x"),
    ("LPOS", "l", "a", "RANK", "-9223372036854775808"),
    ("LPOS", "l", "a", "RANK", "-9223372036854775808", "COUNT", "1"),
    ("LPOS", "l", "a", "RANK", "9223372036854775807"),
    ("LPOS", "l", "a", "COUNT", "0"),
    ("LPOS", "l", "a", "COUNT", "2"),
    ("LPOS", "l", "a", "COUNT", "-1"),
    ("LPOS", "l", "a", "COUNT", "x"),
    ("LPOS", "l", "a", "MAXLEN", "0"),
    ("LPOS", "l", "a", "MAXLEN", "3"),
    ("LPOS", "l", "b", "MAXLEN", "1"),
    ("LPOS", "l", "a", "MAXLEN", "3", "COUNT", "0"),
    ("LPOS", "l", "a", "MAXLEN", "-1"),
    ("LPOS", "l", "a", "MAXLEN", "x"),
    ("LPOS", "l", "a", "rank", "-2", "count", "2", "maxlen", "3"),
    ("LPOS", "l", "a", "rank", "-1", "count", "0"),
    ("LPOS", "l", "a", "RANK", "1", "RANK", "3"),
    ("LPOS", "l", "a", "RANK"),
    ("LPOS", "l", "a", "COUNT", "1", "RANK"),
    ("LPOS", "l", "a", "FOO", "1"),
    ("LPOS", "l", "z"),
    ("LPOS", "l", "z", "COUNT", "0"),
    ("LPOS", "none", "a"),
    ("LPOS", "none", "a", "COUNT", "1"),
    ("LPOS", "none", "a", "RANK", "0"),
    ("LPOS", "none", "a", "FOO"),
    ("LPOS", "l"),
    ("SET", "s", "str"),
    ("LRANGE", "s", "0", "-1"),
    ("LRANGE", "s", "x", "-1"),
    ("LINDEX", "s", "0"),
    ("LINDEX", "s", "x"),
    ("LPOS", "s", "a"),
    ("LPOS", "s", "a", "RANK", "0"),
    ("LPOS", "s", "a", "FOO"),
]

MODIFY = [
    ("RPUSH", "l", "a", "b", "c", "d", "e"),
    ("LSET", "l", "0", "A"),
    ("LSET", "l", "-1", "E"),
    ("LSET", "l", "5", "x"),
    ("LSET", "l", "-6", "x"),
    ("LSET", "l", "x", "x"),
    ("LSET", "none", "0", "x"),
    ("LSET", "none", "x", "x"),
    ("LRANGE", "l", "0", "-1"),
    ("LINSERT", "l", "BEFORE", "c", "X"),
    ("LINSERT", "l", "after", "E", "Y"),
    ("LINSERT", "l", "AFTER", "zz", "Y"),
    ("LINSERT", "l", "MIDDLE", "c", "X"),
    ("LINSERT", "none", "BEFORE", "a", "b"),
    ("LINSERT", "none", "MIDDLE", "a", "b"),
    ("LRANGE", "l", "0", "-1"),
    ("RPUSH", "r", "a", "b", "a", "c", "a", "b", "a"),
    ("LREM", "r", "2", "a"),
    ("LRANGE", "r", "0", "-1"),
    ("LREM", "r", "-1", "a"),
    ("LRANGE", "r", "0", "-1"),
    ("LREM", "r", "0", "b"),
    ("LREM", "r", "0", "zz"),
    ("LREM", "r", "-100", "a"),
    ("LREM", "r", "100", "c"),
    ("LLEN", "r"),
    ("LREM", "r", "x", "a"),
    ("LREM", "none", "x", "a"),
    ("LREM", "none", "0", "a"),
    ("LTRIM", "l", "1", "-2"),
    ("LRANGE", "l", "0", "-1"),
    ("LTRIM", "l", "-100", "100"),
    ("LTRIM", "l", "1", "1"),
    ("LRANGE", "l", "0", "-1"),
    ("LTRIM", "l", "5", "1"),
    ("LLEN", "l"),
    ("RPUSH", "l", "a", "b", "c"),
    ("LTRIM", "l", "-1", "-2"),
    ("LLEN", "l"),
    ("RPUSH", "l", "a", "b", "c"),
    ("LTRIM", "l", "3", "10"),
    ("LLEN", "l"),
    ("LTRIM", "none", "0", "1"),
    ("LTRIM", "none", "x", "1"),
    ("LTRIM", "l", "0", "y"),
    ("SET", "s", "str"),
    ("LSET", "s", "0", "v"),
    ("LSET", "s", "x", "v"),
    ("LREM", "s", "0", "v"),
    ("LREM", "s", "x", "v"),
    ("LTRIM", "s", "0", "1"),
    ("LTRIM", "s", "x", "1"),
    ("LINSERT", "s", "BEFORE", "a", "b"),
    ("LINSERT", "s", "MIDDLE", "a", "b"),
    ("LSET", "l", "0"),
    ("LINSERT", "l", "BEFORE", "a"),
]

MOVE = [
    ("RPUSH", "src", "a", "b", "c", "d"),
    ("LMOVE", "src", "dst", "LEFT", "RIGHT"),
    ("LMOVE", "src", "dst", "right", "left"),
    ("LMOVE", "src", "dst", "Left", "Left"),
    ("LMOVE", "src", "dst", "RIGHT", "RIGHT"),
    ("LRANGE", "dst", "0", "-1"),
    ("LLEN", "src"),
    ("LMOVE", "src", "dst", "LEFT", "RIGHT"),
    ("LMOVE", "dst", "dst", "LEFT", "RIGHT"),
    ("LMOVE", "dst", "dst", "RIGHT", "LEFT"),
    ("LRANGE", "dst", "0", "-1"),
    ("RPOPLPUSH", "dst", "other"),
    ("RPOPLPUSH", "dst", "dst"),
    ("RPOPLPUSH", "none", "dst"),
    ("LRANGE", "dst", "0", "-1"),
    ("LRANGE", "other", "0", "-1"),
    ("RPUSH", "one", "x"),
    ("LMOVE", "one", "one", "LEFT", "LEFT"),
    ("LRANGE", "one", "0", "-1"),
    ("LMOVE", "one", "two", "LEFT", "LEFT"),
    ("LLEN", "one"),
    ("LMOVE", "src", "dst", "MIDDLE", "RIGHT"),
    ("LMOVE", "none", "dst", "LEFT", "MIDDLE"),
    ("SET", "s", "str"),
    ("LMOVE", "s", "dst", "LEFT", "LEFT"),
    ("LMOVE", "dst", "s", "LEFT", "LEFT"),
    ("LMOVE", "none", "s", "LEFT", "LEFT"),
    ("RPOPLPUSH", "s", "dst"),
    ("RPOPLPUSH", "dst", "s"),
    ("LLEN", "dst"),
    ("LMOVE", "a", "b", "LEFT"),
    ("RPOPLPUSH", "a"),
]

MPOP = [
    ("RPUSH", "b", "1", "2", "3", "4"),
    ("LMPOP", "1", "b", "LEFT"),
    ("LMPOP", "2", "a", "b", "RIGHT"),
    ("LMPOP", "2", "a", "b", "LEFT", "COUNT", "2"),
    ("LMPOP", "2", "a", "b", "LEFT", "count", "5"),
    ("LMPOP", "2", "a", "b", "LEFT"),
    ("LMPOP", "1", "b", "RIGHT", "COUNT", "9223372036854775807"),
    ("RPUSH", "b", "1"),
    ("LMPOP", "1", "b", "left", "count", "9223372036854775808"),
    ("LMPOP", "0", "b", "LEFT"),
    ("LMPOP", "-1", "b", "LEFT"),
    ("LMPOP", "x", "b", "LEFT"),
    ("LMPOP", "3", "b", "LEFT"),
    ("LMPOP", "2", "b", "LEFT"),
    ("LMPOP", "2147483648", "b", "LEFT"),
    ("LMPOP", "9223372036854775807", "b", "LEFT"),
    ("LMPOP", "1", "b", "MIDDLE"),
    ("LMPOP", "1", "b", "LEFT", "COUNT", "0"),
    ("LMPOP", "1", "b", "LEFT", "COUNT", "-1"),
    ("LMPOP", "1", "b", "LEFT", "COUNT", "x"),
    ("LMPOP", "1", "b", "LEFT", "COUNT"),
    ("LMPOP", "1", "b", "LEFT", "COUNT", "1", "COUNT", "1"),
    ("LMPOP", "1", "b", "LEFT", "FOO"),
    ("LMPOP", "1", "b"),
    ("SET", "s", "str"),
    ("LMPOP", "2", "s", "b", "LEFT"),
    ("LMPOP", "2", "b", "s", "LEFT"),
    ("LMPOP", "2", "none", "s", "LEFT"),
    ("LMPOP", "1", "none", "LEFT"),
]

BLOCKING = [
    ("RPUSH", "a", "1", "2", "3"),
    ("RPUSH", "b", "4"),
    ("BLPOP", "none", "b", "a", "0"),
    ("BRPOP", "a", "b", "0"),
    ("BLPOP", "a", "a", "0.5"),
    ("BLPOP", "none", "0.01"),
    ("BRPOP", "none", "other", "0.01"),
    ("BLMPOP", "0.01", "2", "none", "a", "LEFT"),
    ("BLMOVE", "none", "d", "LEFT", "RIGHT", "0.01"),
    ("BRPOPLPUSH", "none", "d", "0.01"),
    ("RPUSH", "a", "x", "y", "z"),
    ("BLMPOP", "0", "2", "none", "a", "RIGHT", "COUNT", "2"),
    ("BLMPOP", "0", "1", "a", "LEFT", "COUNT", "5"),
    ("RPUSH", "a", "m", "n"),
    ("BLMOVE", "a", "d", "RIGHT", "LEFT", "0"),
    ("BRPOPLPUSH", "a", "d", "0"),
    ("BLMOVE", "d", "d", "LEFT", "RIGHT", "0"),
    ("LRANGE", "d", "0", "-1"),
    ("BLPOP", "d", "-1"),
    ("BLPOP", "d", "-0.0001"),
    ("BLPOP", "d", "0x10"),
    ("BLPOP", "d", ".01"),
    ("BLPOP", "d", "1e-2"),
    ("BLPOP", "d", "+1"),
    ("RPUSH", "d", "p", "q", "r", "s", "t"),
    ("BLPOP", "d", "inf"),
    ("BLPOP", "d", "-inf"),
    ("BLPOP", "d", "infinity"),
    ("BLPOP", "d", "nan"),
    ("BLPOP", "d", "1e20"),
    ("BLPOP", "d", "1e400"),
    ("BLPOP", "d", "1e5000"),
    ("BLPOP", "d", "1e-5000"),
    ("BLPOP", "d", "9223372036854775807"),
    ("BLPOP", "d", "abc"),
    ("BLPOP", "d", ""),
    ("BLPOP", "d", " 1"),
    ("BLPOP", "d", "1 "),
    ("BLPOP", "d", "1_0"),
    ("BLPOP", "d", "0x"),
    ("BLPOP", "d", "1e"),
    ("BLPOP", "d", "0b1"),
    ("BRPOP", "d", "x"),
    ("BRPOPLPUSH", "d", "e", "x"),
    ("BRPOPLPUSH", "d", "e", "-1"),
    ("BLMOVE", "d", "e", "LEFT", "RIGHT", "x"),
    ("BLMOVE", "d", "e", "MIDDLE", "RIGHT", "-1"),
    ("BLMOVE", "d", "e", "LEFT", "MIDDLE", "x"),
    ("BLMPOP", "-1", "1", "d", "LEFT"),
    ("BLMPOP", "x", "1", "d", "LEFT"),
    ("BLMPOP", "-1", "0", "d", "LEFT"),
    ("BLMPOP", "x", "5", "d", "LEFT"),
    ("BLMPOP", "-1", "1", "d", "MIDDLE"),
    ("BLMPOP", "-1", "1", "d", "LEFT", "COUNT", "0"),
    ("BLMPOP", "-1", "1", "d", "LEFT", "FOO"),
    ("BLMPOP", "0", "x", "d", "LEFT"),
    ("LRANGE", "d", "0", "-1"),
    ("SET", "s", "str"),
    ("BLPOP", "s", "0.01"),
    ("BLPOP", "d", "s", "0.01"),
    ("BLPOP", "s", "d", "0.01"),
    ("BLPOP", "s", "-1"),
    ("BRPOP", "s", "0.01"),
    ("BLMPOP", "0.01", "2", "s", "d", "LEFT"),
    ("BLMPOP", "0.01", "2", "d", "s", "LEFT"),
    ("BLMOVE", "s", "d", "LEFT", "LEFT", "0.01"),
    ("BLMOVE", "d", "s", "LEFT", "LEFT", "0.01"),
    ("BLMOVE", "none", "s", "LEFT", "LEFT", "0.01"),
    ("BRPOPLPUSH", "d", "s", "0.01"),
    ("BLPOP",),
    ("BLPOP", "k"),
    ("BRPOP", "k"),
    ("BLMOVE", "a", "b", "LEFT", "LEFT"),
    ("BRPOPLPUSH", "a", "b"),
    ("BLMPOP", "0", "1", "a"),
]

SCRIPTS = {
    "push_and_pop": PUSH_AND_POP,
    "read": READ,
    "modify": MODIFY,
    "move": MOVE,
    "mpop": MPOP,
    "blocking": BLOCKING,
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_recorded_script(pair, name):
    pair.run_script(SCRIPTS[name])


@pytest.mark.skipif(b"multi" not in COMMANDS, reason="MULTI is not registered")
def test_blocking_commands_inside_multi(pair):
    pair.run_script([
        ("RPUSH", "l", "a"),
        ("MULTI",),
        ("BLPOP", "l", "0"),
        ("BLPOP", "l", "0"),
        ("BRPOP", "none", "0"),
        ("BLMOVE", "l", "d", "LEFT", "LEFT", "0"),
        ("BRPOPLPUSH", "none", "d", "0"),
        ("BLMPOP", "0", "1", "none", "LEFT"),
        ("RPUSH", "l", "b"),
        ("BLMOVE", "l", "d", "LEFT", "LEFT", "0"),
        ("EXEC",),
        ("LRANGE", "d", "0", "-1"),
    ])


# -- a seeded random walk --------------------------------------------------------------

KEYS = ["k1", "k2", "k3", "str"]
ELEMENTS = ["a", "b", "c", "dd", ""]


def _index(rng: random.Random) -> str:
    return rng.choice([str(rng.randint(-8, 8))] * 8 + ["x", "9223372036854775807", "-0"])


def _side(rng: random.Random) -> str:
    return rng.choice(["LEFT", "RIGHT", "left", "Right"] * 5 + ["UP"])


def _random_command(rng: random.Random) -> tuple[str, ...]:
    key = rng.choice(KEYS)
    other = rng.choice(KEYS)
    element = rng.choice(ELEMENTS)
    elements = [rng.choice(ELEMENTS) for _ in range(rng.randint(1, 4))]
    choice = rng.randrange(24)
    if choice == 0:
        return ("LPUSH", key, *elements)
    if choice == 1:
        return ("RPUSH", key, *elements)
    if choice == 2:
        return (rng.choice(["LPUSHX", "RPUSHX"]), key, *elements)
    if choice in (3, 4):
        name = rng.choice(["LPOP", "RPOP"])
        if rng.random() < 0.5:
            return (name, key)
        return (name, key, rng.choice(["0", "1", "2", "5", "-1"]))
    if choice == 5:
        return ("LLEN", key)
    if choice in (6, 7):
        return ("LRANGE", key, _index(rng), _index(rng))
    if choice == 8:
        return ("LINDEX", key, _index(rng))
    if choice == 9:
        return ("LSET", key, _index(rng), element)
    if choice == 10:
        return ("LREM", key, rng.choice(["0", "1", "-1", "2", "-2"]), element)
    if choice == 11:
        return ("LTRIM", key, _index(rng), _index(rng))
    if choice == 12:
        return ("LINSERT", key, rng.choice(["BEFORE", "AFTER", "after"]), element,
                rng.choice(ELEMENTS))
    if choice == 13:
        options: list[str] = []
        for option in ("RANK", "COUNT", "MAXLEN"):
            if rng.random() < 0.4:
                value = {"RANK": ["1", "2", "-1", "-2", "0"], "COUNT": ["0", "1", "2", "-1"],
                         "MAXLEN": ["0", "1", "3", "-1"]}[option]
                options += [option, rng.choice(value)]
        return ("LPOS", key, element, *options)
    if choice == 14:
        return ("LMOVE", key, other, _side(rng), _side(rng))
    if choice == 15:
        return ("RPOPLPUSH", key, other)
    if choice == 16:
        keys = rng.sample(KEYS, rng.randint(1, 3))
        count = ["COUNT", rng.choice(["1", "2", "10", "0"])] if rng.random() < 0.5 else []
        return ("LMPOP", str(len(keys)), *keys, _side(rng), *count)
    if choice == 17:
        keys = rng.sample(KEYS, rng.randint(1, 3))
        return (rng.choice(["BLPOP", "BRPOP"]), *keys, "0.01")
    if choice == 18:
        return ("BLMOVE", key, other, _side(rng), _side(rng), "0.01")
    if choice == 19:
        return ("BRPOPLPUSH", key, other, "0.01")
    if choice == 20:
        keys = rng.sample(KEYS, rng.randint(1, 3))
        count = ["COUNT", rng.choice(["1", "3"])] if rng.random() < 0.5 else []
        return ("BLMPOP", "0.01", str(len(keys)), *keys, _side(rng), *count)
    if choice == 21:
        return ("SET", "str", element)
    return ("LRANGE", key, "0", "-1")


def test_seeded_random_commands(pair):
    rng = random.Random(20240607)
    pair.check("SET", "str", "value")
    for _ in range(600):
        pair.check(*_random_command(rng))
    for key in KEYS:
        pair.check("LLEN", key)
        pair.check("LRANGE", key, "0", "-1")
