"""MEMORY, LATENCY, ROLE, LOLWUT and WAIT compared with redis-server.

Figures that measure the process (memory, timings) cannot agree: those
replies are compared by their shape (names, types, order) through masks;
everything else byte for byte.
"""

from __future__ import annotations

import random

import pytest

from tests.differential.harness import Pair, parse_reply
from tests.support import start_hush, start_redis

pytestmark = pytest.mark.differential

#: Values whose MEMORY USAGE Redis computes without randomness or timing
#: (listpacks, intsets, strings, single-node lists and streams, hashtables
#: made at a conversion).
EXACT_VALUES = [
    ("SET", "s1", "v"), ("SET", "s2", "x" * 44), ("SET", "s3", "x" * 45), ("SET", "s4", "7"),
    ("SET", "s5", "y" * 3000), ("SET", "s6", "-12345678901"), ("SET", "k" * 40, "z"),
    ("RPUSH", "l1", "a", "b", "c"), ("RPUSH", "l2", *[str(n) * 30 for n in range(400)]),
    ("SADD", "i1", "1", "2", "3"), ("SADD", "i2", "70000", "-3"), ("SADD", "i3", "5000000000"),
    ("HSET", "h1", "f", "v", "g", "12"), ("ZADD", "z1", "1", "a", "2.5", "b", "-3", "c"),
    ("XADD", "x1", "1-1", "field", "value"),
    ("HSET", "h2", *[part for n in range(600) for part in (f"f{n}", f"v{n}")]),
]


def _usage_script() -> list[tuple]:
    script = []
    for args in EXACT_VALUES:
        script.append(args)
        key = args[1]
        script += [("MEMORY", "USAGE", key), ("MEMORY", "USAGE", key, "SAMPLES", "0"),
                   ("MEMORY", "USAGE", key, "SAMPLES", "1")]
    return script + [
        ("MEMORY", "USAGE", "nosuch"), ("MEMORY", "USAGE", "s1", "SAMPLES"),
        ("MEMORY", "USAGE", "s1", "SAMPLES", "-1"), ("MEMORY", "USAGE", "s1", "SAMPLES", "x"),
        ("MEMORY", "USAGE", "s1", "FOO", "1"), ("MEMORY", "USAGE"), ("MEMORY", "STATS", "x"),
        ("MEMORY", "DOCTOR", "x"), ("MEMORY", "PURGE"), ("MEMORY", "NOPE"), ("MEMORY",),
        ("MEMORY", "HELP"),
    ]


def test_memory_usage(pair: Pair):
    pair.run_script(_usage_script())


def test_memory_usage_with_other_thresholds(pair: Pair):
    try:
        pair.check("CONFIG", "SET", "list-max-listpack-size", "3")
        pair.check("RPUSH", "l", *[str(n) for n in range(20)])
        pair.check("MEMORY", "USAGE", "l", "SAMPLES", "0")
        pair.check("CONFIG", "SET", "hash-max-listpack-entries", "2")
        pair.check("HSET", "h", "a", "1", "b", "2", "c", "3")
        pair.check("MEMORY", "USAGE", "h", "SAMPLES", "0")
    finally:
        pair.both("CONFIG", "SET", "list-max-listpack-size", "-2")
        pair.both("CONFIG", "SET", "hash-max-listpack-entries", "512")


def _shape(value) -> object:
    """A reply with every number replaced by its type."""
    if isinstance(value, list):
        return [_shape(item) for item in value]
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, (int, float)):
        return type(value).__name__
    return value


def _stats_shape(_args: tuple, raw: bytes) -> bytes:
    reply = parse_reply(raw)
    if isinstance(reply, list):
        names = reply[::2]
        values = [_shape(value) if isinstance(value, list) else (
            "number" if isinstance(value, int) or value.replace(b".", b"").replace(
                b"-", b"").replace(b"e", b"").isdigit() else value) for value in reply[1::2]]
        return repr(list(zip(names, values, strict=True))).encode()
    return repr(_shape(reply)).encode()


def test_memory_stats(pair: Pair):
    pair.check("SET", "a", "1")
    pair.check("SELECT", "2")
    pair.check("SET", "b", "1", "EX", "100")
    pair.check("MEMORY", "STATS", mask=_stats_shape)


def test_memory_doctor_of_a_nearly_empty_server():
    """The doctor's verdict on a nearly empty server, word for word. The
    session's servers hold what earlier tests left (Redis counts megabytes
    of them), so this compares fresh ones."""
    ours, theirs = start_hush(), start_redis()
    try:
        fresh = Pair(ours.port, theirs.port)
        fresh.check("SET", "a", "1")
        fresh.check("MEMORY", "DOCTOR")
        fresh.both("HELLO", "3")
        fresh.check("MEMORY", "DOCTOR")
        fresh.close()
    finally:
        ours.stop()
        theirs.stop()


def _latest_shape(_args: tuple, raw: bytes) -> bytes:
    # On a loaded machine any command may pass the threshold (and be a
    # "fast-command" event): only the slow script's event is certain.
    return repr([entry[:1] for entry in parse_reply(raw) if entry[0] == b"command"]).encode()


def test_latency(pair: Pair):
    pair.both("LATENCY", "RESET")
    script = [
        ("LATENCY", "LATEST"), ("LATENCY", "HISTORY", "command"), ("LATENCY", "RESET"),
        ("LATENCY", "RESET", "command", "nope"), ("LATENCY", "GRAPH", "command"),
        ("LATENCY", "DOCTOR"), ("LATENCY", "HELP"), ("LATENCY", "NOPE"), ("LATENCY",),
        ("LATENCY", "HISTORY"), ("LATENCY", "GRAPH"), ("LATENCY", "LATEST", "x"),
        ("LATENCY", "HISTOGRAM", "nosuchcommand"),
    ]
    pair.run_script(script)


def test_latency_monitor_records_slow_commands(pair: Pair):
    slow = ("EVAL", "local t = redis.call('time'); local start = t[1] * 1000000 + t[2]; "
            "while true do t = redis.call('time'); "
            "if t[1] * 1000000 + t[2] - start > 30000 then break end end return 1", "0")
    pair.both("LATENCY", "RESET")
    try:
        pair.check("CONFIG", "SET", "latency-monitor-threshold", "10")
        pair.check(*slow)
        pair.check("LATENCY", "LATEST", mask=_latest_shape)
        ours, theirs = (parse_reply(raw) for raw in pair.both("LATENCY", "HISTORY", "command"))
        # One sample per second with a slow command: more if the machine is slow.
        assert len(ours) >= 1 and len(theirs) >= 1
        ours, theirs = pair.both("LATENCY", "DOCTOR")
        head = b"Dave, I have observed latency spikes in this Redis instance."
        assert ours.split(b"\r\n", 1)[1].startswith(head) or parse_reply(ours).startswith(head)
        assert parse_reply(theirs).startswith(head)
        assert parse_reply(ours).endswith(parse_reply(theirs)[-200:])
        ours, theirs = (parse_reply(raw) for raw in pair.both("LATENCY", "GRAPH", "command"))
        assert ours.splitlines()[0].startswith(b"command - high ")
        assert len(ours.splitlines()) == len(theirs.splitlines())
    finally:
        pair.both("CONFIG", "SET", "latency-monitor-threshold", "0")
        pair.both("LATENCY", "RESET")


def test_latency_histogram_shape(pair: Pair):
    pair.both("CONFIG", "RESETSTAT")
    for _ in range(3):
        pair.check("SET", "k", "v")
    pair.check("GET", "k")
    ours, theirs = (parse_reply(raw) for raw in pair.both("LATENCY", "HISTOGRAM", "set", "get",
                                                            "nosuch"))
    for reply in (ours, theirs):
        entries = dict(zip(reply[::2], reply[1::2], strict=True)) if isinstance(
            reply, list) else reply
        assert sorted(entries) == [b"get", b"set"]
        calls = {name: (dict(zip(e[::2], e[1::2], strict=True)) if isinstance(e, list) else e)
                 for name, e in entries.items()}
        assert calls[b"set"][b"calls"] == 3 and calls[b"get"][b"calls"] == 1


def test_role_wait_lolwut(pair: Pair):
    pair.run_script([
        ("ROLE",), ("ROLE", "x"), ("WAIT", "0", "0"), ("WAIT", "1", "10"), ("WAIT", "x", "0"),
        ("WAIT", "0", "x"), ("WAIT", "0", "-1"), ("WAIT", "1"), ("WAIT", "-5", "0"),
        ("MULTI",), ("WAIT", "3", "0"), ("EXEC",),
        ("EVAL", "return redis.call('wait', 1, 0)", "0"),
        ("LOLWUT",), ("LOLWUT", "VERSION"), ("LOLWUT", "VERSION", "7"), ("LOLWUT", "x"),
        ("LOLWUT", "VERSION", "x"), ("LOLWUT", "VERSION", "5", "x"),
        ("LOLWUT", "VERSION", "6", "1", "x"), ("LOLWUT", "VERSION", "55"),
        ("LOLWUT", "VERSION", "-1"), ("LOLWUT", "version", "4"),
    ])


@pytest.mark.parametrize("args", [("5",), ("5", "20", "4", "3"), ("5", "0", "0", "0"),
                                  ("6",), ("6", "30", "10"), ("6", "5000", "1")])
def test_lolwut_art_has_redis_shape(pair: Pair, args):
    """The drawings are random in both: their size and their last line are not."""
    ours, theirs = (parse_reply(raw) for raw in pair.both("LOLWUT", "VERSION", *args))
    assert ours.splitlines()[-1] == theirs.splitlines()[-1]
    assert len(ours.splitlines()) == len(theirs.splitlines())
    assert len(ours.splitlines()[0]) == len(theirs.splitlines()[0])


def test_random_memory_usage_of_small_values(pair: Pair):
    """Seeded random small strings, hashes, sets and sorted sets: exact MEMORY USAGE."""
    rng = random.Random(11)
    for index in range(120):
        key = f"r{index}"
        kind = rng.choice(["string", "hash", "intset", "zset", "list"])
        size = rng.randint(1, 12)
        words = ["".join(rng.choice("abcxyz") for _ in range(rng.randint(1, 70)))
                 for _ in range(size)]
        numbers = [str(rng.randint(-10**rng.randint(1, 12), 10**rng.randint(1, 12)))
                   for _ in range(size)]
        if kind == "string":
            pair.check("SET", key, rng.choice(words + numbers))
        elif kind == "hash":
            pair.check("HSET", key, *[part for w, n in zip(words, numbers, strict=True)
                                      for part in (w[:20], n)])
        elif kind == "intset":
            pair.check("SADD", key, *numbers)
        elif kind == "zset":
            pair.check("ZADD", key, *[part for w, n in zip(words, numbers, strict=True)
                                      for part in (n[:6], w[:30])])
        else:
            pair.check("RPUSH", key, *words)
        pair.check("MEMORY", "USAGE", key)
