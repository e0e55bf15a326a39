"""Generic keyspace commands against a real redis-server (RESP2 and RESP3).

Replies are compared byte for byte, except where Redis itself gives no fixed
answer: SCAN and KEYS order (compared as sets, over complete iterations),
RANDOMKEY (null or not), and times that depend on the millisecond a command
ran at (compared within a small tolerance).
"""

from __future__ import annotations

import random
import time

import pytest

from tests.differential.harness import parse_reply

pytestmark = pytest.mark.differential


def check_set(pair, *args) -> list:
    """A reply whose order Redis does not fix (KEYS): same members, same shape."""
    ours, theirs = pair.both(*args)
    assert ours[:1] == theirs[:1], (args, ours, theirs)
    ours_value, theirs_value = parse_reply(ours), parse_reply(theirs)
    assert sorted(ours_value) == sorted(theirs_value), (args, ours, theirs)
    return ours_value


def check_close(pair, *args, tolerance: int) -> None:
    """A time that depends on when the command ran: equal, or close when positive."""
    ours, theirs = pair.both(*args)
    if ours == theirs:
        return
    a, b = parse_reply(ours), parse_reply(theirs)
    assert isinstance(a, int) and isinstance(b, int), (args, ours, theirs)
    assert a >= 0 and b >= 0 and abs(a - b) <= tolerance, (args, ours, theirs)


def scan_both(pair, *options) -> set[bytes]:
    """A complete SCAN iteration on each server; the key sets must be equal."""
    results = []
    for conn in (pair.hush, pair.redis):
        cursor, seen, calls = b"0", [], 0
        while True:
            raw = conn.call("SCAN", cursor, *options)
            assert raw.startswith(b"*2\r\n$"), raw
            cursor, keys = parse_reply(raw)
            seen += keys
            calls += 1
            assert calls < 10_000
            if cursor == b"0":
                break
        results.append(set(seen))
    assert results[0] == results[1], options
    return results[0]


# -- recorded scripts -----------------------------------------------------------------

GENERIC_SCRIPT = [
    ("SET", "a", "1"),
    ("EXISTS", "a", "a", "b", "a"),
    ("EXISTS", "b"),
    ("TOUCH", "a", "a", "b"),
    ("TYPE", "a"),
    ("TYPE", "b"),
    ("RPUSH", "l", "x"),
    ("TYPE", "l"),
    ("DEL", "a", "a", "b"),
    ("UNLINK", "l", "nokey"),
    ("DEL",),
    ("EXISTS",),
    ("TYPE",),
    ("TYPE", "a", "b"),
    ("TOUCH",),
    ("UNLINK",),
]

EXPIRE_SCRIPT = [
    ("SET", "k", "v"),
    ("TTL", "k"), ("PTTL", "k"), ("EXPIRETIME", "k"), ("PEXPIRETIME", "k"),
    ("TTL", "nokey"), ("PTTL", "nokey"), ("EXPIRETIME", "nokey"), ("PEXPIRETIME", "nokey"),
    ("EXPIRE", "k", "abc", "FOO"),
    ("EXPIRE", "k", "abc"),
    ("EXPIRE", "k", "1.5"),
    ("EXPIRE", "k", ""),
    ("EXPIRE", "k", "10", "FOO"),
    ("EXPIRE", "k", "10", "nx", "xx"),
    ("EXPIRE", "k", "10", "gt", "lt"),
    ("EXPIRE", "k", "10", "nx", "gt", "lt"),
    ("EXPIRE", "k", "10", "gt", "lt", "nx"),
    ("EXPIRE", "k", "abc", "nx", "xx"),
    ("PEXPIRE", "nokey", "abc", "LT", "GT"),
    ("EXPIRE", "k", "9223372036854775"),
    ("EXPIRE", "k", "9223372036854776"),
    ("EXPIRE", "k", "-9223372036854776"),
    ("EXPIRE", "k", "9223372036854775808"),
    ("PEXPIRE", "k", "9223372036854775807"),
    ("EXPIREAT", "k", "9223372036854776"),
    ("EXPIREAT", "k", "-9223372036854776"),
    ("EXPIREAT", "k", "9223372036854775"),
    ("EXPIRETIME", "k"), ("PEXPIRETIME", "k"),
    ("PEXPIREAT", "k", "9223372036854775807"),
    ("PEXPIRETIME", "k"),
    ("EXPIRE", "k", "-9223372036854775"),
    ("EXISTS", "k"),
    ("SET", "k", "v"),
    ("PEXPIRE", "k", "-9223372036854775808"),
    ("EXISTS", "k"),
    ("SET", "k", "v"),
    ("EXPIRE", "k", "100", "xx"),
    ("EXPIRE", "k", "100", "gt"),
    ("EXPIRE", "k", "100", "lt"),
    ("TTL", "k"),
    ("EXPIRE", "k", "100", "nx"),
    ("EXPIRE", "k", "200", "NX"),
    ("EXPIRE", "k", "50", "GT"),
    ("EXPIRE", "k", "200", "GT"),
    ("TTL", "k"),
    ("EXPIRE", "k", "300", "LT"),
    ("EXPIRE", "k", "50", "LT"),
    ("EXPIRE", "k", "50", "LT", "XX"),
    ("EXPIRE", "k", "40", "XX", "LT"),
    ("TTL", "k"),
    ("EXPIRE", "k", "-1", "GT"),
    ("EXPIRE", "k", "-1", "LT"),
    ("EXISTS", "k"),
    ("SET", "k", "v"),
    ("EXPIRE", "k", "0", "GT"),
    ("EXPIRE", "k", "0", "LT"),
    ("EXISTS", "k"),
    ("SET", "k", "v"),
    ("EXPIRE", "k", "0"),
    ("EXISTS", "k"),
    ("SET", "k", "v"),
    ("PEXPIRE", "k", "0"),
    ("EXISTS", "k"),
    ("SET", "k", "v"),
    ("EXPIREAT", "k", "1"),
    ("EXISTS", "k"),
    ("SET", "k", "v"),
    ("PEXPIREAT", "k", "-5"),
    ("EXISTS", "k"),
    ("EXPIRE", "nokey", "10"),
    ("EXPIRE", "nokey", "10", "nx", "xx"),
    ("SET", "k", "v"),
    ("EXPIREAT", "k", "4000000000"),
    ("EXPIRETIME", "k"), ("PEXPIRETIME", "k"),
    ("PEXPIREAT", "k", "4000000000499"),
    ("EXPIRETIME", "k"),
    ("PEXPIREAT", "k", "4000000000500"),
    ("EXPIRETIME", "k"),
    ("PEXPIREAT", "k", "4000000000001", "GT"),
    ("PEXPIREAT", "k", "4000000000001", "LT"),
    ("PEXPIRETIME", "k"),
    ("PERSIST", "nokey"),
    ("PERSIST", "k"),
    ("PERSIST", "k"),
    ("TTL", "k"),
    ("EXPIRE", "k"),
    ("EXPIRE",),
    ("TTL",),
    ("PERSIST", "a", "b"),
]

RENAME_SCRIPT = [
    ("RENAME", "nokey", "b"),
    ("RENAME", "nokey", "nokey"),
    ("RENAMENX", "nokey", "b"),
    ("SET", "a", "1"),
    ("RENAME", "a", "a"),
    ("RENAMENX", "a", "a"),
    ("SET", "b", "2"),
    ("RENAMENX", "a", "b"),
    ("RENAME", "a", "b"),
    ("GET", "b"),
    ("EXISTS", "a"),
    ("EXPIREAT", "b", "4000000000"),
    ("RENAME", "b", "c"),
    ("EXPIRETIME", "c"),
    ("SET", "d", "1"),
    ("RENAME", "d", "c"),
    ("TTL", "c"),
    ("RPUSH", "list", "x", "y"),
    ("RENAMENX", "list", "c"),
    ("RENAMENX", "list", "list2"),
    ("LRANGE", "list2", "0", "-1"),
    ("TYPE", "list2"),
    ("RENAME", "a"),
    ("RENAMENX", "a", "b", "c"),
]

COPY_MOVE_SCRIPT = [
    ("SET", "c", "1"),
    ("EXPIREAT", "c", "4000000000"),
    ("COPY", "c", "e"),
    ("EXPIRETIME", "e"),
    ("COPY", "c", "e"),
    ("SET", "f", "2"),
    ("COPY", "f", "e", "REPLACE"),
    ("TTL", "e"),
    ("GET", "e"),
    ("COPY", "c", "e", "db", "1", "replace"),
    ("COPY", "c", "c"),
    ("COPY", "c", "c", "DB", "0"),
    ("COPY", "nokey", "nokey"),
    ("COPY", "c", "c", "DB", "1"),
    ("COPY", "c", "c", "DB", "16"),
    ("COPY", "c", "c", "DB", "-1"),
    ("COPY", "c", "c", "DB", "x"),
    ("COPY", "c", "c", "DB", "2147483648"),
    ("COPY", "c", "c", "DB", "99999999999999999999"),
    ("COPY", "c", "c", "FOO"),
    ("COPY", "c", "c", "DB"),
    ("COPY", "c", "c", "REPLACE", "REPLACE", "DB", "2", "DB", "3"),
    ("COPY", "nokey", "x"),
    ("COPY", "nokey", "x", "DB", "99"),
    ("COPY", "c"),
    ("RPUSH", "l", "a", "b"),
    ("COPY", "l", "l2"),
    ("RPUSH", "l2", "c"),
    ("LRANGE", "l", "0", "-1"),
    ("LRANGE", "l2", "0", "-1"),
    ("MOVE", "nokey", "1"),
    ("MOVE", "c", "0"),
    ("MOVE", "nokey", "0"),
    ("MOVE", "c", "16"),
    ("MOVE", "c", "x"),
    ("MOVE", "c", "-1"),
    ("MOVE", "c", "2147483648"),
    ("MOVE", "c", "99999999999999999999"),
    ("MOVE", "c", "1"),
    ("MOVE", "l", "5"),
    ("MOVE", "l", "5"),
    ("SELECT", "5"),
    ("LRANGE", "l", "0", "-1"),
    ("SELECT", "1"),
    ("EXPIRETIME", "c"),
    ("GET", "e"),
    ("SELECT", "3"),
    ("GET", "c"),
    ("SELECT", "0"),
    ("MOVE", "c"),
]

OBJECT_SCRIPT = [
    ("SET", "i", "123"),
    ("SET", "big", "10000"),
    ("SET", "e", "hello"),
    ("SET", "mz", "-0"),
    ("SET", "lz", "007"),
    ("SET", "huge", "9223372036854775808"),
    ("SET", "max", "9223372036854775807"),
    ("SET", "min", "-9223372036854775808"),
    ("SET", "e44", "a" * 44),
    ("SET", "r45", "a" * 45),
    ("SET", "empty", ""),
    ("RPUSH", "l", "a"),
    *[("OBJECT", "ENCODING", key) for key in
      ("i", "big", "e", "mz", "lz", "huge", "max", "min", "e44", "r45", "empty", "l", "nokey")],
    *[("OBJECT", "REFCOUNT", key) for key in ("i", "big", "e", "min", "l", "nokey")],
    ("OBJECT", "IDLETIME", "nokey"),
    ("OBJECT", "FREQ", "e"),
    ("OBJECT", "FREQ", "nokey"),
    ("OBJECT", "HELP"),
    ("object", "help"),
    ("OBJECT", "HELP", "x"),
    ("OBJECT", "FOO", "e"),
    ("OBJECT", "ENCODING"),
    ("OBJECT", "ENCODING", "a", "b"),
    ("OBJECT",),
]

SCAN_ERRORS_SCRIPT = [
    ("SET", "a", "1"),
    ("SCAN", " 1"),
    ("SCAN", "1 "),
    ("SCAN", "x"),
    ("SCAN", "0x10"),
    ("SCAN", "-"),
    ("SCAN", "18446744073709551616"),
    ("SCAN", "-18446744073709551616"),
    ("SCAN", "0", "COUNT", "0"),
    ("SCAN", "0", "COUNT", "-1"),
    ("SCAN", "0", "COUNT", "x"),
    ("SCAN", "0", "COUNT", "99999999999999999999"),
    ("SCAN", "0", "MATCH"),
    ("SCAN", "0", "TYPE"),
    ("SCAN", "0", "COUNT"),
    ("SCAN", "0", "foo", "bar"),
    ("SCAN", "x", "COUNT", "0"),
    ("SCAN", "0", "COUNT", "0", "MATCH"),
    ("SCAN", "0", "COUNT", "1", "COUNT", "0"),
    ("SCAN",),
    # One key: every cursor form Redis accepts answers it whole.
    ("SCAN", "0"),
    ("SCAN", ""),
    ("SCAN", "+0"),
    ("SCAN", "-0"),
    ("SCAN", "0", "MATCH", "a", "TYPE", "string", "COUNT", "5"),
    ("SCAN", "0", "TYPE", "list"),
    ("SCAN", "0", "TYPE", "nosuchtype"),
    ("SCAN", "0", "MATCH", "zzz"),
    ("KEYS",),
    ("KEYS", "a", "b"),
    ("RANDOMKEY", "x"),
]

SCRIPTS = {
    "generic": GENERIC_SCRIPT,
    "expire": EXPIRE_SCRIPT,
    "rename": RENAME_SCRIPT,
    "copy_move": COPY_MOVE_SCRIPT,
    "object": OBJECT_SCRIPT,
    "scan_errors": SCAN_ERRORS_SCRIPT,
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_script(pair, name):
    """Every command, option and error of the family replies as Redis does."""
    pair.run_script(SCRIPTS[name])


# OBJECT itself is left out: Redis lists a container's subcommands in the
# order of a dict whose hash seed changes with every process.
KEYS_COMMANDS = (
    "del unlink exists type expire pexpire expireat pexpireat ttl pttl expiretime "
    "pexpiretime persist touch keys scan randomkey rename renamenx copy move "
    "object|encoding object|freq object|idletime object|refcount object|help"
).split()


def test_object_idletime(pair):
    """Idle seconds agree (a second boundary may fall between the two servers)."""
    pair.check("SET", "e", "hello")
    check_close(pair, "OBJECT", "IDLETIME", "e", tolerance=1)
    time.sleep(1.1)
    ours, theirs = pair.both("OBJECT", "IDLETIME", "e")
    assert parse_reply(ours) in (1, 2) and parse_reply(theirs) in (1, 2)
    pair.check("GET", "e")
    check_close(pair, "OBJECT", "IDLETIME", "e", tolerance=1)


def test_command_info(pair):
    """Arity, flags, ACL categories, tips and key specs are Redis's."""
    for name in KEYS_COMMANDS:
        pair.check("COMMAND", "INFO", name)
    pair.check("COMMAND", "GETKEYS", "COPY", "a", "b", "DB", "1", "REPLACE")
    pair.check("COMMAND", "GETKEYS", "OBJECT", "ENCODING", "k")


GLOB_KEYS = ["", "a", "b", "ab", "abc", "a]", "]", "-", "a-", "[", "a[b", "\\", "a\\", "*",
             "?", "^", "z", "ba", "aab", "ac", "abd", "a\nb", "hello", "hallo", "hxllo"]
GLOB_PATTERNS = ["*", "**", "a*", "*b", "a?", "?", "??", "a*c", "[ab]", "[^ab]", "[a-c]",
                 "[c-a]", "[a-]", "[-a]", "[]", "[^]", "[]]", "[\\]]", "a[b", "a[", "[",
                 "\\", "a\\", "\\*", "\\?", "\\a", "[\\-]", "[a\\-c]", "*[", "a[^", "[!a]",
                 "[^a-b]", "*a*", "?*", "[a-c-e]", "a?b", "[[]", "[a", "[^a", "a[]b", "[*]",
                 "h[ae]llo", "h*llo", "[a-\\]]", "*a*a*a*a*a*a*a*b"]


def test_keys_and_scan_match_glob_patterns(pair):
    """KEYS and SCAN MATCH select the same keys as Redis for awkward patterns."""
    for key in GLOB_KEYS:
        pair.check("SET", key, "1")
    for pattern in GLOB_PATTERNS:
        check_set(pair, "KEYS", pattern)
        scan_both(pair, "MATCH", pattern)


def test_scan_complete_iterations(pair):
    """Full iterations over a larger keyspace return the same keys, with every filter."""
    rng = random.Random(99)
    for i in range(0, 600, 50):
        pair.check("MSET", *[x for j in range(i, i + 50) for x in (f"user:{j}", str(j))])
    for i in range(40):
        pair.check("RPUSH", f"queue:{i}", "job")
    for _ in range(rng.randrange(5, 20)):
        pair.check("SET", f"other:{rng.randrange(1000)}", "x")
    assert len(scan_both(pair)) >= 640
    scan_both(pair, "COUNT", "1")
    scan_both(pair, "COUNT", "1000")
    scan_both(pair, "MATCH", "user:1*", "COUNT", "17")
    scan_both(pair, "TYPE", "list", "COUNT", "5")
    scan_both(pair, "TYPE", "LIST", "MATCH", "queue:3*")
    scan_both(pair, "TYPE", "string", "COUNT", "100")
    assert scan_both(pair, "MATCH", "nothing*") == set()
    check_set(pair, "KEYS", "queue:*")


def test_expired_keys_vanish_alike(pair):
    """Keys whose deadlines pass disappear from every command on both servers."""
    pair.check("SET", "gone", "1")
    pair.check("SET", "kept", "1")
    pair.check("RPUSH", "gonelist", "x")
    pair.check("PEXPIRE", "gone", "30")
    pair.check("PEXPIRE", "gonelist", "30")
    time.sleep(0.1)
    check_set(pair, "KEYS", "*")
    scan_both(pair)
    pair.check("EXISTS", "gone", "gonelist", "kept")
    pair.check("TTL", "gone")
    pair.check("TYPE", "gonelist")
    pair.check("OBJECT", "ENCODING", "gone")
    pair.check("RENAME", "gone", "x")
    pair.check("COPY", "gonelist", "y")
    pair.check("MOVE", "gone", "1")
    pair.check("PERSIST", "gone")
    pair.check("EXPIRE", "gone", "10")
    pair.check("RANDOMKEY")


# -- seeded random commands -------------------------------------------------------------

KEYS = ["k0", "k1", "k2", "k3", "k4", "k5"]
VALUES = ["1", "12345", "-0", "007", "x" * 44, "x" * 45, "hello", "99999999999999999999"]


def _when(rng: random.Random, absolute: bool, ms: bool) -> str:
    """Expire arguments far apart, so no comparison depends on the exact millisecond."""
    if rng.random() < 0.15:
        return rng.choice(["0", "-1", "abc", "9223372036854775807", "-9223372036854775808"])
    seconds = rng.choice([100, 200, 1000, 5000])
    if absolute:
        seconds += 4_000_000_000
    return str(seconds * 1000 if ms else seconds)


def _random_command(rng: random.Random) -> tuple:
    key, other = rng.choice(KEYS), rng.choice(KEYS)
    name = rng.choice([
        "SET", "SET", "RPUSH", "DEL", "UNLINK", "EXISTS", "TYPE", "TOUCH", "EXPIRE", "PEXPIRE",
        "EXPIREAT", "PEXPIREAT", "TTL", "EXPIRETIME", "PEXPIRETIME", "PERSIST", "RENAME",
        "RENAMENX", "COPY", "MOVE", "SELECT", "OBJECT", "GET",
    ])
    if name == "SET":
        return ("SET", key, rng.choice(VALUES))
    if name == "RPUSH":
        return ("RPUSH", key, *rng.sample(VALUES, rng.randint(1, 3)))
    if name in ("DEL", "UNLINK", "EXISTS", "TOUCH"):
        return (name, *rng.choices(KEYS, k=rng.randint(1, 4)))
    if name in ("EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"):
        options = rng.choice([(), (), ("NX",), ("XX",), ("GT",), ("LT",), ("XX", "GT"),
                              ("LT", "XX"), ("NX", "XX"), ("GT", "LT")])
        when = _when(rng, absolute=name.endswith("AT"), ms=name.startswith("P"))
        return (name, key, when, *options)
    if name in ("TTL", "EXPIRETIME", "PEXPIRETIME", "PERSIST", "TYPE", "GET"):
        return (name, key)
    if name in ("RENAME", "RENAMENX"):
        return (name, key, other)
    if name == "COPY":
        options = rng.choice([(), ("REPLACE",), ("DB", str(rng.randrange(3))),
                              ("DB", str(rng.randrange(3)), "REPLACE")])
        return ("COPY", key, other, *options)
    if name == "MOVE":
        return ("MOVE", key, str(rng.randrange(3)))
    if name == "SELECT":
        return ("SELECT", str(rng.randrange(3)))
    # Not REFCOUNT: Redis's COPY unshares a small integer (refcount 1), which
    # Hush, storing plain bytes, cannot tell from the shared one.
    return ("OBJECT", "ENCODING", key)


def _check(pair, args: tuple) -> None:
    if args[0] == "TTL":
        check_close(pair, *args, tolerance=1)
    elif args[0] in ("EXPIRETIME", "PEXPIRETIME"):
        check_close(pair, *args, tolerance=1 if args[0] == "EXPIRETIME" else 50)
    else:
        pair.check(*args)


def _compare_everything(pair) -> None:
    for index in range(3):
        pair.check("SELECT", str(index))
        keys = check_set(pair, "KEYS", "*")
        assert scan_both(pair, "COUNT", "2") == set(keys)
        for key in sorted(keys):
            kind = pair.check("TYPE", key)
            if kind == b"+list\r\n":
                pair.check("LRANGE", key, "0", "-1")
            else:
                pair.check("GET", key)
            check_close(pair, "PEXPIRETIME", key, tolerance=50)
        ours, theirs = pair.both("RANDOMKEY")
        assert (ours in (b"$-1\r\n", b"_\r\n")) == (theirs in (b"$-1\r\n", b"_\r\n"))


def test_random_commands(pair):
    """A seeded stream of keyspace commands over a few keys and databases agrees."""
    rng = random.Random(20261127)
    for step in range(600):
        _check(pair, _random_command(rng))
        if step % 150 == 149:
            _compare_everything(pair)
    _compare_everything(pair)
