"""Differential tests: server and connection commands, Hush vs a real redis-server."""

from __future__ import annotations

import random
import re

import pytest

from tests.differential.harness import parse_reply

SCRIPT = [
    ("PING",),
    ("PING", "hello"),
    ("PING", "a", "b"),
    ("ECHO", "message with spaces"),
    ("ECHO",),
    ("ECHO", "a", "b"),
    ("SELECT", "1"),
    ("SELECT", "0"),
    ("SELECT", "16"),
    ("SELECT", "-1"),
    ("SELECT", "a"),
    ("SELECT", "01"),
    ("SELECT",),
    ("DBSIZE",),
    ("SET", "a", "1"),
    ("SET", "b", "2"),
    ("DBSIZE",),
    ("DBSIZE", "x"),
    ("SWAPDB", "0", "1"),
    ("DBSIZE",),
    ("SWAPDB", "1", "0"),
    ("SWAPDB", "a", "1"),
    ("SWAPDB", "0", "b"),
    ("SWAPDB", "0", "16"),
    ("SWAPDB", "-1", "0"),
    ("SWAPDB", "0"),
    ("SWAPDB", "3", "3"),
    ("FLUSHDB", "x"),
    ("FLUSHDB", "ASYNC", "SYNC"),
    ("FLUSHALL", "x"),
    ("FLUSHDB", "sync"),
    ("DBSIZE",),
    ("SET", "a", "1"),
    ("FLUSHALL", "ASYNC"),
    ("DBSIZE",),
    ("CONFIG", "GET", "databases"),
    ("CONFIG", "GET", "DATABASES"),
    ("CONFIG", "GET", "maxmemory"),
    ("CONFIG", "GET", "no-such-setting"),
    ("CONFIG", "GET"),
    ("CONFIG",),
    ("CONFIG", "FOO"),
    ("CONFIG", "SET", "maxmemory"),
    ("CONFIG", "SET", "no-such-setting", "1"),
    ("CONFIG", "SET", "databases", "3"),
    ("CONFIG", "SET", "a", "1", "b"),
    ("CONFIG", "RESETSTAT", "x"),
    ("CLIENT",),
    ("CLIENT", "FOO"),
    ("CLIENT", "GETNAME"),
    ("CLIENT", "SETNAME"),
    ("CLIENT", "SETNAME", "a b"),
    ("CLIENT", "SETNAME", "a\nb"),
    ("CLIENT", "SETNAME", "worker"),
    ("CLIENT", "GETNAME"),
    ("CLIENT", "SETNAME", ""),
    ("CLIENT", "GETNAME"),
    ("CLIENT", "GETNAME", "x"),
    ("CLIENT", "ID", "x"),
    ("CLIENT", "NO-EVICT"),
    ("CLIENT", "NO-EVICT", "maybe"),
    ("CLIENT", "NO-EVICT", "on"),
    ("CLIENT", "NO-EVICT", "off"),
    ("CLIENT", "LIST", "TYPE", "foo"),
    ("CLIENT", "LIST", "ID", "1", "a"),
    ("CLIENT", "LIST", "ID", "999999"),
    ("CLIENT", "LIST", "ID", "0"),
    ("CLIENT", "LIST", "foo"),
    ("CLIENT", "LIST", "TYPE", "pubsub"),
    ("CLIENT", "LIST", "TYPE", "master"),
    ("CLIENT", "KILL", "1.2.3.4:5"),
    ("CLIENT", "KILL", "ID", "999999"),
    ("CLIENT", "KILL", "ID", "abc"),
    ("CLIENT", "KILL", "foo", "bar"),
    ("CLIENT", "KILL", "ADDR", "1.2.3.4:5"),
    ("CLIENT", "KILL", "ID", "1", "SKIPME", "maybe"),
    ("CLIENT", "KILL", "TYPE", "foo"),
    ("CLIENT", "KILL", "LADDR", "1.2.3.4:5"),
    ("CLIENT", "KILL", "ID", "1", "2"),
    ("CLIENT", "KILL"),
    ("COMMAND", "FOO"),
    ("COMMAND", "COUNT", "x"),
    ("COMMAND", "INFO", "get"),
    ("COMMAND", "INFO", "nosuch"),
    ("COMMAND", "INFO", "ping", "echo", "select", "quit", "hello", "dbsize", "flushall",
     "flushdb", "swapdb", "time", "info"),
    ("COMMAND", "INFO", "client|id", "CLIENT|GETNAME", "client|setname", "client|list",
     "client|kill", "client|info", "client|no-evict", "client|help", "config|get",
     "config|set", "config|resetstat", "config|help"),
    ("COMMAND", "DOCS", "nosuch"),
    ("COMMAND", "GETKEYS"),
    ("COMMAND", "GETKEYS", "get"),
    ("COMMAND", "GETKEYS", "get", "a"),
    ("COMMAND", "GETKEYS", "get", "a", "b"),
    ("COMMAND", "GETKEYS", "nosuch", "a", "b"),
    ("COMMAND", "GETKEYS", "ping", "a", "b"),
    ("COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"),
    ("COMMAND", "LIST", "FILTERBY", "FOO", "x"),
    ("COMMAND", "LIST", "foo"),
    ("COMMAND", "LIST", "FILTERBY", "MODULE", "x"),
    ("INFO", "nosuch"),
    ("INFO", "keyspace"),
    ("SET", "k", "v"),
    ("SELECT", "5"),
    ("SET", "k", "v"),
    ("INFO", "keyspace"),
    ("SELECT", "0"),
    ("TIME", "x"),
    # Both servers refuse MODULE LOAD/UNLOAD by default (enable-module-command no).
    ("MODULE", "LIST"),
    ("MODULE", "HELP"),
    ("MODULE", "LOAD", "/nowhere/x.so"),
    ("MODULE", "LOADEX", "/nowhere/x.so", "ARGS", "1"),
    ("MODULE", "UNLOAD", "x"),
    ("MODULE", "LIST", "x"),
    ("MODULE", "LOAD"),
    ("MODULE", "NOPE"),
    ("COMMAND", "LIST", "FILTERBY", "MODULE", "x"),
]

_HELLO_ID = re.compile(rb"(\$2\r\nid\r\n:)\d+")


def _hello_id(args: tuple, raw: bytes) -> bytes:
    """The mask of HELLO replies: the connection id blanked."""
    return _HELLO_ID.sub(rb"\g<1>N", raw)


def test_script(pair):
    pair.run_script(SCRIPT)


@pytest.mark.parametrize("args", [
    (), ("2",), ("3",), ("2", "SETNAME", "conn-a"), ("3", "AUTH", "default", "whatever"),
    ("4",), ("1",), ("a",), ("03",), ("3", "setname"), ("3", "setname", "a", "b"),
    ("3", "foo"), ("2", "auth", "default"), ("3", "SETNAME", "a b"),
    ("3", "AUTH", "nobody", "pw"),
])
def test_hello(pair, args):
    pair.check("HELLO", *args, mask=_hello_id)
    # The protocol (and a name set before a bad option) must match afterwards.
    pair.check("CLIENT", "GETNAME")
    pair.check("PING")
    pair.check("CONFIG", "GET", "databases")


def test_hello_keeps_earlier_setname_on_error(pair):
    pair.check("HELLO", "3", "SETNAME", "first", "bogus", mask=_hello_id)
    pair.check("CLIENT", "GETNAME")
    pair.check("HELLO", "3", "SETNAME", "second", "AUTH", "nobody", "pw", mask=_hello_id)
    pair.check("CLIENT", "GETNAME")


@pytest.mark.parametrize("name", ["set", "lpush", "get", "echo", "client", "module"])
def test_command_info_metadata(pair, name):
    """Name, arity, flags, key positions, ACL categories and tips agree."""
    ours, theirs = (parse_reply(raw) for raw in pair.both("COMMAND", "INFO", name))
    assert ours[0] is not None, f"Hush does not know {name}"
    assert ours[0][:8] == theirs[0][:8]


#: Subcommands Hush has from later Redis releases (redis-py 5 sends SETINFO).
_NEWER_THAN_7_0 = {b"client|setinfo"}


def test_command_info_subcommand_sets_agree(pair):
    """Containers list the same subcommands Hush implements, with equal entries."""
    ours, theirs = (parse_reply(raw) for raw in pair.both("COMMAND", "INFO", "client", "config"))
    compared = 0
    for mine, real in zip(ours, theirs, strict=True):
        real_subs = {entry[0]: entry for entry in real[9]}
        for entry in mine[9]:
            if entry[0] in _NEWER_THAN_7_0:
                continue
            assert entry == real_subs[entry[0]]
            compared += 1
    assert compared >= 12


def test_info_is_same_type_and_framing(pair):
    ours, theirs = pair.both("INFO", "server")
    assert ours[:1] == theirs[:1]
    assert b"redis_version:7.0.15\r\n" in ours
    assert ours.endswith(b"\r\n\r\n") and theirs.endswith(b"\r\n\r\n")


def test_client_info_is_same_type(pair):
    ours, theirs = pair.both("CLIENT", "INFO")
    assert ours[:1] == theirs[:1]
    assert ours.endswith(b"\n\r\n") and theirs.endswith(b"\n\r\n")


def _random_command(rng: random.Random) -> tuple:
    keys = ["k1", "k2", "k3"]
    names = ["w", "name-1", "a b", "", "x\ty"]
    choices = [
        lambda: ("PING",),
        lambda: ("PING", rng.choice(["x", "", "hello"])),
        lambda: ("ECHO", rng.choice(["", "x", "y z"])),
        lambda: ("SELECT", str(rng.randint(-2, 17))),
        lambda: ("DBSIZE",),
        lambda: ("SET", rng.choice(keys), str(rng.randint(0, 9))),
        lambda: ("FLUSHDB",) if rng.random() < 0.5 else ("FLUSHDB", rng.choice(["ASYNC", "x"])),
        lambda: ("FLUSHALL",) if rng.random() < 0.2 else ("FLUSHALL", "bad"),
        lambda: ("SWAPDB", str(rng.randint(-1, 16)), str(rng.randint(0, 16))),
        lambda: ("CLIENT", "SETNAME", rng.choice(names)),
        lambda: ("CLIENT", "GETNAME"),
        lambda: ("CONFIG", "GET", rng.choice(["databases", "nosuch", "maxmemory"])),
        lambda: ("COMMAND", "GETKEYS", "get", rng.choice(keys)),
        lambda: ("INFO", "keyspace"),
    ]
    return rng.choice(choices)()


def test_random_commands(pair):
    rng = random.Random(20261127)
    for _ in range(400):
        pair.check(*_random_command(rng))


@pytest.mark.parametrize("args", [
    "XREAD COUNT 2 STREAMS a b 0 0",
    "XREAD BLOCK 0 STREAMS a b c",
    "XREADGROUP GROUP g c NOACK STREAMS a b c > > >",
    "EVAL x 2 a b c",
    "EVAL x 3 a b",
    "LMPOP 2 a b LEFT",
    "ZUNIONSTORE d 2 a b WEIGHTS 1 2",
    "GET k",
    "MSET a 1 b 2",
])
def test_command_getkeys(pair, args):
    # Movable keys come from the key specs: index or keyword begin-search,
    # range (with XREAD's limit) or keynum find-keys, as Redis's search.
    pair.check("COMMAND", "GETKEYS", *args.split())


def _config_map(raw: bytes) -> dict:
    # Redis answers CONFIG GET in its dict's order, seeded at random per process.
    reply = parse_reply(raw)
    if isinstance(reply, dict):
        return reply
    return dict(zip(reply[::2], reply[1::2], strict=True))


def test_config_get_maxmemory_settings(pair):
    ours, theirs = pair.both("CONFIG", "GET", "maxmemory*")
    assert _config_map(ours) == _config_map(theirs)


# Values Redis accepts or refuses for the two settings it validates its own way
# (kept large: a small maxmemory-clients would make Redis evict the test's client).
@pytest.mark.parametrize(("name", "values"), [
    ("maxmemory-clients", ["10%", "100%", "101%", "0%", "-1%", " 5%", "5.5%", "1gb", "1GB",
                           "18446744073709551615", "9223372036854775808", "-5", "abc", "%",
                           "1kb%", "050%", "-0%", "0"]),
    ("maxmemory-eviction-tenacity", ["0", "100", "101", "-1", "abc", "1k", "5.0", " 5", "050",
                                     "+5", "10"]),
])
def test_config_set_maxmemory_settings(pair, name, values):
    try:
        for value in values:
            pair.check("CONFIG", "SET", name, value)
            pair.check("CONFIG", "GET", name)
    finally:
        pair.both("CONFIG", "SET", name, "0" if name == "maxmemory-clients" else "10")
