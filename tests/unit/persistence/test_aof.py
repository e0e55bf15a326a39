"""The append-only file: format, propagation of each command's effect, replay,
damaged files, fsync policies on a task.Clock, rewrites, SAVE/BGSAVE and SHUTDOWN."""

from __future__ import annotations

import os
import random
import time
from collections import deque
from pathlib import Path
from typing import Any

import hiredis
import pytest

from hush.data.types.zset import ZSet
from hush.formats import geohash
from hush.formats.rdb_file import FunctionRecord, KeyRecord, RdbFileReader
from hush.persistence import aof as aof_module
from hush.persistence import rdb as rdb_module
from hush.persistence.aof import AOFError, BadFormat, Truncated, encode, parse
from hush.persistence.loader import load
from tests.support import FakeServer


def _server(**settings: Any) -> FakeServer:
    """A FakeServer whose rewrites write commands only (aof-use-rdb-preamble no).

    Most tests here read the rewritten file's commands; the preamble has its
    own tests (tests/unit/persistence/test_rdb.py).
    """
    return FakeServer(accepted={"aof-use-rdb-preamble": False}, **settings)


def start(tmp_path: Path, **settings: Any) -> FakeServer:
    """A FakeServer with the AOF on in ``tmp_path``, loaded as at start."""
    server = _server(appendonly=True, dir=str(tmp_path), maxkeys=0, **settings)
    server.service.persistence.start()
    return server


def logged(tmp_path: Path) -> list[list[bytes]]:
    """The commands in the AOF, SELECTs included."""
    data = (tmp_path / "appendonly.aof").read_bytes()
    return [argv for argv, _end in parse(data)]


def effects(tmp_path: Path) -> list[list[bytes]]:
    """The logged commands without SELECTs, names upper-cased."""
    return [[argv[0].upper(), *argv[1:]] for argv in logged(tmp_path) if argv[0] != b"SELECT"]


def dataset(server: FakeServer) -> dict[int, dict[bytes, Any]]:
    """Every live key of every database: (type, comparable value, deadline)."""
    now = server.service.store.now_ms()
    out: dict[int, dict[bytes, Any]] = {}
    for db in server.service.store.dbs:
        keys = {}
        for key, value in db.items():
            deadline = db.expires.get(key)
            if deadline is not None and deadline <= now:
                continue
            if isinstance(value, ZSet):
                value = sorted(value.scores.items())
            elif isinstance(value, (set, deque)):
                value = sorted(value) if isinstance(value, set) else list(value)
            elif isinstance(value, dict):
                value = sorted(value.items())
            elif isinstance(value, bytearray):
                # A bitmap the bit commands hold mutable is a string all the same.
                value = bytes(value)
            keys[key] = (type(value).__name__, value, deadline)
        if keys:
            out[db.index] = keys
    return out


def restart(server: FakeServer, tmp_path: Path, **settings: Any) -> FakeServer:
    """Stop ``server`` as at shutdown and start a new one on the same file and time."""
    server.service.persistence.stop()
    again = _server(appendonly=True, dir=str(tmp_path), maxkeys=0, **settings)
    again.clock.advance(server.clock.seconds() - again.clock.seconds())
    again.service.persistence.start()
    return again


# -- format ---------------------------------------------------------------------


def test_encode_is_resp_multibulk():
    assert encode([b"SET", b"k", b"v\r\n"]) == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv\r\n\r\n"


def test_writes_are_logged_with_select_when_the_database_changes(tmp_path):
    server = start(tmp_path)
    client = server.client()
    client.call("SET", "a", "1")
    client.call("SET", "b", "2")
    client.call("SELECT", "3")
    client.call("RPUSH", "l", "x", "y")
    client.call("SELECT", "0")
    client.call("DEL", "a")
    assert logged(tmp_path) == [
        [b"SELECT", b"0"], [b"SET", b"a", b"1"], [b"SET", b"b", b"2"],
        [b"SELECT", b"3"], [b"RPUSH", b"l", b"x", b"y"],
        [b"SELECT", b"0"], [b"DEL", b"a"],
    ]


def test_reads_failures_and_no_op_writes_are_not_logged(tmp_path):
    server = start(tmp_path)
    client = server.client()
    client.call("SET", "a", "1")
    client.call("GET", "a")
    client.call("SET", "a", "2", "NX")
    client.call("DEL", "missing")
    assert isinstance(client.call("LPUSH", "a", "x"), hiredis.ReplyError)
    client.call("EXPIRE", "a", "100", "XX")
    client.call("SRANDMEMBER", "a")
    client.call("MULTI")
    client.call("GET", "a")
    client.call("EXEC")
    assert effects(tmp_path) == [[b"SET", b"a", b"1"]]


def test_the_aof_is_written_before_the_reply(tmp_path):
    server = start(tmp_path)
    client = server.client()
    client.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")
    # No reactor turn has run: the read's own flush wrote the file.
    assert client.raw() == b"+OK\r\n"
    assert effects(tmp_path) == [[b"SET", b"k", b"v"]]


# -- rewrites of non-deterministic commands -------------------------------------


def test_the_rewritten_commands_declare_their_effects():
    from hush.commands import all_commands

    declared = set()
    for cmd in all_commands():
        for each in [cmd, *cmd.subcommands.values()]:
            if each.effects is not None:
                declared.add(each.full_name)
    assert declared == {
        "expire", "pexpire", "expireat", "pexpireat", "set", "setex", "psetex", "getex",
        "incrbyfloat", "hincrbyfloat", "spop", "blpop", "brpop", "blmove", "brpoplpush",
        "blmpop", "bzpopmin", "bzpopmax", "bzmpop", "xadd", "xreadgroup", "xclaim",
        "xautoclaim", "geoadd", "sort"}


def test_spop_is_logged_as_srem(tmp_path):
    server = start(tmp_path)
    client = server.client()
    client.call("SADD", "s", "a", "b", "c", "d")
    one = client.call("SPOP", "s")
    two = client.call("SPOP", "s", "2")
    client.call("SPOP", "s", "0")
    logged_effects = effects(tmp_path)[1:]
    assert logged_effects == [[b"SREM", b"s", one], [b"SREM", b"s", *two]]
    client.call("SPOP", "s", "5")
    assert effects(tmp_path)[-1] == [b"DEL", b"s"]


def test_srandmember_is_not_logged(tmp_path):
    server = start(tmp_path)
    client = server.client()
    client.call("SADD", "s", "a", "b")
    client.call("SRANDMEMBER", "s", "-5")
    assert effects(tmp_path) == [[b"SADD", b"s", b"a", b"b"]]


def test_relative_expiries_are_logged_as_absolute_deadlines(tmp_path):
    server = start(tmp_path)
    client = server.client()
    now = server.service.store.now_ms()
    client.call("SET", "k", "v")
    client.call("EXPIRE", "k", "100")
    client.call("PEXPIRE", "k", "5000")
    client.call("EXPIREAT", "k", str(now // 1000 + 50))
    client.call("SETEX", "s", "10", "x")
    client.call("PSETEX", "p", "1500", "y")
    client.call("SET", "e", "z", "EX", "7", "NX")
    client.call("SET", "kt", "w", "KEEPTTL")
    client.call("GETEX", "kt", "PX", "250")
    client.call("GETEX", "kt", "PERSIST")
    client.call("EXPIRE", "k", "-1")
    assert effects(tmp_path) == [
        [b"SET", b"k", b"v"],
        [b"PEXPIREAT", b"k", b"%d" % (now + 100_000)],
        [b"PEXPIREAT", b"k", b"%d" % (now + 5000)],
        [b"PEXPIREAT", b"k", b"%d" % (now // 1000 * 1000 + 50_000)],
        [b"SET", b"s", b"x", b"PXAT", b"%d" % (now + 10_000)],
        [b"SET", b"p", b"y", b"PXAT", b"%d" % (now + 1500)],
        [b"SET", b"e", b"z", b"PXAT", b"%d" % (now + 7000)],
        [b"SET", b"kt", b"w", b"KEEPTTL"],
        [b"PEXPIREAT", b"kt", b"%d" % (now + 250)],
        [b"PERSIST", b"kt"],
        [b"DEL", b"k"],
    ]


def test_float_increments_are_logged_as_their_results(tmp_path):
    server = start(tmp_path)
    client = server.client()
    client.call("SET", "f", "1", "EX", "100")
    client.call("INCRBYFLOAT", "f", "0.1")
    client.call("HINCRBYFLOAT", "h", "x", "2.5e2")
    assert effects(tmp_path)[1:] == [
        [b"SET", b"f", b"1.1", b"KEEPTTL"],
        [b"HSET", b"h", b"x", b"250"],
    ]


def test_blocking_pops_that_find_data_are_logged_as_plain_pops(tmp_path):
    server = start(tmp_path)
    client = server.client()
    client.call("RPUSH", "l", "a", "b", "c", "d", "e")
    client.call("ZADD", "z", "1", "m1", "2", "m2", "3", "m3")
    client.call("BLPOP", "none", "l", "0")
    client.call("BRPOP", "l", "0")
    client.call("BLMOVE", "l", "dst", "LEFT", "RIGHT", "0")
    client.call("BRPOPLPUSH", "l", "dst", "0")
    client.call("BLMPOP", "0", "2", "none", "l", "LEFT", "COUNT", "5")
    client.call("BZPOPMIN", "z", "0")
    client.call("BZPOPMAX", "z", "0")
    client.call("BZMPOP", "0", "1", "z", "MIN", "COUNT", "3")
    assert effects(tmp_path)[2:] == [
        [b"LPOP", b"l"],
        [b"RPOP", b"l"],
        [b"LMOVE", b"l", b"dst", b"LEFT", b"RIGHT"],
        [b"RPOPLPUSH", b"l", b"dst"],
        [b"LPOP", b"l", b"1"],
        [b"ZPOPMIN", b"z"],
        [b"ZPOPMAX", b"z"],
        [b"ZPOPMIN", b"z", b"1"],
    ]


def test_served_waiters_are_logged_after_the_write_that_served_them(tmp_path):
    server = start(tmp_path)
    writer = server.client()
    waiters = [server.client(40001 + i) for i in range(4)]
    for waiter in waiters:
        waiter.call("SELECT", "1")
    waiters[0].send_raw(encode([b"BLPOP", b"l", b"0"]))
    waiters[1].send_raw(encode([b"BLMOVE", b"l", b"d", b"RIGHT", b"LEFT", b"0"]))
    waiters[2].send_raw(encode([b"BZPOPMIN", b"z", b"0"]))
    waiters[3].send_raw(encode([b"BLMPOP", b"0", b"1", b"l", b"RIGHT", b"COUNT", b"9"]))
    writer.call("SELECT", "1")
    writer.call("RPUSH", "l", "a", "b", "c", "d")
    writer.call("ZADD", "z", "5", "m")
    assert waiters[0].replies() == [[b"l", b"a"]]
    assert waiters[3].replies() == [[b"l", [b"c", b"b"]]]
    assert logged(tmp_path) == [
        [b"SELECT", b"1"],
        [b"RPUSH", b"l", b"a", b"b", b"c", b"d"],
        [b"LPOP", b"l"],
        [b"LMOVE", b"l", b"d", b"RIGHT", b"LEFT"],
        [b"RPOP", b"l", b"2"],
        [b"ZADD", b"z", b"5", b"m"],
        [b"ZPOPMIN", b"z"],
    ]


def test_expired_and_evicted_keys_are_logged_as_del(tmp_path):
    server = start(tmp_path)
    server.service.store.maxkeys = 0
    client = server.client()
    client.call("SET", "lazy", "1", "PX", "100")
    client.call("SET", "active", "1", "PX", "200")
    server.clock.advance(0.15)
    assert client.call("GET", "lazy") is None
    server.clock.advance(0.1)  # the active expiry timer
    server.service.store.maxkeys = 1
    client.call("SET", "a", "1")
    client.call("SET", "b", "2")  # evicts a
    logged_effects = effects(tmp_path)[2:]
    assert logged_effects == [
        [b"DEL", b"lazy"], [b"DEL", b"active"],
        [b"SET", b"a", b"1"], [b"MULTI"], [b"DEL", b"a"], [b"SET", b"b", b"2"], [b"EXEC"],
    ]


def test_keys_evicted_by_config_set_maxkeys_or_maxmemory_are_logged_as_del(tmp_path):
    server = start(tmp_path, maxmemory_policy="allkeys-lru")
    client = server.client()
    client.call("MSET", "a", "1", "b", "2", "c", "3")
    assert client.call("CONFIG", "SET", "maxkeys", "1") == b"OK"
    assert effects(tmp_path)[1:] == [[b"MULTI"], [b"DEL", b"a"], [b"DEL", b"b"], [b"EXEC"]]
    client.call("CONFIG", "SET", "maxkeys", "0")
    client.call("SET", "d", "4")
    client.call("CONFIG", "SET", "maxmemory", "1")
    assert effects(tmp_path)[5:] == [
        [b"SET", b"d", b"4"], [b"MULTI"], [b"DEL", b"c"], [b"DEL", b"d"], [b"EXEC"]]
    client.call("CONFIG", "SET", "maxmemory", "10mb")
    client.call("SET", "e", "5")
    client.call("CONFIG", "SET", "maxmemory", str(server.service.memory.used_memory()))
    client.call("SET", "f", "6")  # admitted at the limit, and over it after
    # Evicted by the dispatcher before the next command: a DEL on its own.
    assert client.call("GET", "f") == b"6"
    assert effects(tmp_path)[10:] == [[b"SET", b"e", b"5"], [b"SET", b"f", b"6"], [b"DEL", b"e"]]
    client.call("CONFIG", "SET", "maxmemory", "0")
    again = restart(server, tmp_path)
    assert dataset(again) == {0: {b"f": ("bytes", b"6", None)}}


def test_transactions_are_logged_between_multi_and_exec(tmp_path):
    server = start(tmp_path)
    client = server.client()
    for command in (["MULTI"], ["SET", "a", "1"], ["GET", "a"], ["SELECT", "2"],
                    ["SPOP", "none"], ["INCR", "n"], ["EXEC"]):
        client.call(*command)
    client.call("MULTI")
    client.call("SET", "only", "1")
    client.call("GET", "only")
    client.call("EXEC")
    client.call("MULTI")
    client.call("GET", "only")
    client.call("EXEC")
    assert logged(tmp_path) == [
        [b"SELECT", b"0"], [b"MULTI"], [b"SET", b"a", b"1"],
        [b"SELECT", b"2"], [b"INCR", b"n"], [b"EXEC"],
        [b"SET", b"only", b"1"],
    ]


def test_flushes_are_logged_as_is(tmp_path):
    server = start(tmp_path)
    client = server.client()
    client.call("FLUSHALL")
    client.call("FLUSHDB", "ASYNC")
    assert effects(tmp_path) == [[b"FLUSHALL"], [b"FLUSHDB", b"ASYNC"]]


def test_handler_api_propagates_what_it_is_given(tmp_path, monkeypatch):
    from hush.commands import lookup

    server = start(tmp_path)
    client = server.client()
    cmd = lookup(b"append")
    original = cmd.handler

    def append(ctx, key, value):
        ctx.propagate([b"SET", b"before", b"1"])
        ctx.propagate_instead([b"SET", key, value], [b"PERSIST", key])
        return original(ctx, key, value)

    monkeypatch.setattr(cmd, "handler", append)
    client.call("APPEND", "k", "v")
    # Outside any command (a timer, say), it is written at the end of the turn.
    client.protocol.session.propagate([b"DEL", b"x"])
    server.clock.advance(0)
    assert effects(tmp_path) == [
        [b"MULTI"], [b"SET", b"before", b"1"], [b"SET", b"k", b"v"], [b"PERSIST", b"k"],
        [b"EXEC"], [b"DEL", b"x"],
    ]


# -- replay -----------------------------------------------------------------------


MULTI_RATE = 0.05


def _random_workload(client, rng: random.Random, steps: int) -> None:
    keys = [f"k{i}" for i in range(8)]
    commands = [
        lambda k: ["SET", k, str(rng.randrange(100))],
        lambda k: ["SET", k, "v", "EX", str(rng.randrange(1, 50))],
        lambda k: ["APPEND", k, "xy"],
        lambda k: ["INCRBY", k, "3"],
        lambda k: ["INCRBYFLOAT", k, "1.25"],
        lambda k: ["SETRANGE", k, "2", "zz"],
        lambda k: ["GETDEL", k],
        lambda k: ["GETEX", k, "PX", "3000"],
        lambda k: ["MSET", k, "1", "other", "2"],
        lambda k: ["RPUSH", k, "a", "b", "c"],
        lambda k: ["LPUSH", k, "d"],
        lambda k: ["LPOP", k],
        lambda k: ["RPOP", k, "2"],
        lambda k: ["LSET", k, "0", "set"],
        lambda k: ["LREM", k, "0", "a"],
        lambda k: ["LTRIM", k, "0", "1"],
        lambda k: ["LINSERT", k, "BEFORE", "b", "i"],
        lambda k: ["LMOVE", k, rng.choice(keys), "LEFT", "RIGHT"],
        lambda k: ["HSET", k, "f1", "1", "f2", "2"],
        lambda k: ["HDEL", k, "f1"],
        lambda k: ["HINCRBY", k, "f2", "5"],
        lambda k: ["HINCRBYFLOAT", k, "f3", "0.5"],
        lambda k: ["HSETNX", k, "f4", "x"],
        lambda k: ["SADD", k, "a", "b", "c", str(rng.randrange(5))],
        lambda k: ["SREM", k, "a"],
        lambda k: ["SPOP", k],
        lambda k: ["SPOP", k, "2"],
        lambda k: ["SMOVE", k, rng.choice(keys), "b"],
        lambda k: ["SINTERSTORE", k, rng.choice(keys), rng.choice(keys)],
        lambda k: ["SUNIONSTORE", k, rng.choice(keys), rng.choice(keys)],
        lambda k: ["ZADD", k, str(rng.random()), "m1", "2", "m2"],
        lambda k: ["ZINCRBY", k, "1.5", "m1"],
        lambda k: ["ZREM", k, "m2"],
        lambda k: ["ZPOPMIN", k],
        lambda k: ["ZREMRANGEBYRANK", k, "0", "0"],
        lambda k: ["ZUNIONSTORE", k, "2", rng.choice(keys), rng.choice(keys)],
        lambda k: ["ZRANGESTORE", k, rng.choice(keys), "0", "-1"],
        lambda k: ["EXPIRE", k, str(rng.randrange(1, 30))],
        lambda k: ["PEXPIRE", k, str(rng.randrange(-10, 3000))],
        lambda k: ["PERSIST", k],
        lambda k: ["DEL", k],
        lambda k: ["UNLINK", k, rng.choice(keys)],
        lambda k: ["RENAME", k, rng.choice(keys)],
        lambda k: ["RENAMENX", k, rng.choice(keys)],
        lambda k: ["COPY", k, rng.choice(keys), "REPLACE"],
        lambda k: ["MOVE", k, "1"],
        lambda k: ["SELECT", str(rng.randrange(3))],
        lambda k: ["SWAPDB", "0", "2"],
        lambda k: ["BLPOP", k, "0.01"],
        lambda k: ["BZPOPMIN", k, "0.01"],
    ]
    in_multi = False
    for _ in range(steps):
        if rng.random() < MULTI_RATE:
            client.call("EXEC" if in_multi else "MULTI")
            in_multi = not in_multi
        command = rng.choice(commands)(rng.choice(keys))
        if command[0] in ("BLPOP", "BZPOPMIN") and not in_multi:
            client.send_raw(encode([part.encode() for part in command]))
            client.clock.advance(0.02)
            client.replies()
        else:
            client.call(*command)
        if rng.random() < 0.1:
            client.clock.advance(rng.random() * 2)
    if in_multi:
        client.call("EXEC")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_replaying_the_file_rebuilds_the_dataset(tmp_path, seed):
    server = start(tmp_path)
    client = server.client()
    client.clock = server.clock
    _random_workload(client, random.Random(seed), 600)
    expected = dataset(server)
    assert expected, "the workload should leave data behind"
    again = restart(server, tmp_path)
    assert dataset(again) == expected


def test_loading_does_not_log_the_replayed_commands_again(tmp_path):
    server = start(tmp_path)
    server.client().call("SET", "a", "1", "EX", "100")
    before = (tmp_path / "appendonly.aof").read_bytes()
    again = restart(server, tmp_path)
    assert (tmp_path / "appendonly.aof").read_bytes() == before
    assert again.client().call("GET", "a") == b"1"


def test_keys_past_their_deadline_at_load_are_gone(tmp_path):
    server = start(tmp_path)
    server.client().call("SET", "a", "1", "EX", "10")
    server.service.persistence.stop()
    again = _server(appendonly=True, dir=str(tmp_path))
    again.clock.advance(server.clock.seconds() - again.clock.seconds() + 11)
    again.service.persistence.start()
    assert again.client().call("EXISTS", "a") == 0


# -- damaged files --------------------------------------------------------------------


def _write(tmp_path: Path, data: bytes) -> None:
    (tmp_path / "appendonly.aof").write_bytes(data)


GOOD = encode([b"SET", b"a", b"1"]) + encode([b"RPUSH", b"l", b"x"])


@pytest.mark.parametrize("cut", [1, 5, 12, len(encode([b"SET", b"b", b"2"])) - 1])
def test_a_truncated_last_command_is_dropped_and_cut_off(tmp_path, cut):
    _write(tmp_path, GOOD + encode([b"SET", b"b", b"2"])[:cut])
    server = start(tmp_path)
    client = server.client()
    assert client.call("GET", "a") == b"1"
    assert client.call("EXISTS", "b") == 0
    client.call("SET", "c", "3")
    # The file was cut back to its last good command before appending.
    assert logged(tmp_path) == [
        [b"SET", b"a", b"1"], [b"RPUSH", b"l", b"x"], [b"SELECT", b"0"], [b"SET", b"c", b"3"]
    ]


def test_an_unfinished_transaction_is_reverted(tmp_path):
    tail = encode([b"MULTI"]) + encode([b"SET", b"b", b"2"])
    _write(tmp_path, GOOD + tail)
    server = start(tmp_path)
    assert server.client().call("EXISTS", "b") == 0
    assert (tmp_path / "appendonly.aof").read_bytes() == GOOD


def test_truncated_files_refuse_to_load_without_aof_load_truncated(tmp_path):
    _write(tmp_path, GOOD + b"*3\r\n$3\r\nSET\r\n$1\r\nb")
    server = _server(appendonly=True, dir=str(tmp_path), aof_load_truncated=False)
    with pytest.raises(AOFError, match=f"Unexpected end of file .* at offset {len(GOOD)}"):
        load(server.service, str(tmp_path / "appendonly.aof"), truncated_ok=False)
    with pytest.raises(SystemExit):
        server.service.persistence.start()
    assert server.service.persistence.aof is None


@pytest.mark.parametrize(("damage", "offset"), [
    (b"garbage\r\n", 0),
    (b"*2\r\n$3\r\nGET\r\n+1\r\n", 13),
    (b"*1\r\n$4\r\nPINGxx", 12),
    (b"*x\r\n", 0),
])
def test_corrupt_files_refuse_to_load_naming_the_offset(tmp_path, damage, offset):
    _write(tmp_path, GOOD + damage + GOOD)
    server = _server(appendonly=True, dir=str(tmp_path))
    expected = f"Bad file format reading the append only file at offset {len(GOOD) + offset}"
    with pytest.raises(AOFError, match=expected):
        load(server.service, str(tmp_path / "appendonly.aof"))
    with pytest.raises(SystemExit):
        server.service.persistence.start()
    # Nothing was cut off a file that is corrupt rather than truncated.
    assert (tmp_path / "appendonly.aof").read_bytes() == GOOD + damage + GOOD


def test_unknown_commands_refuse_to_load(tmp_path):
    _write(tmp_path, GOOD + encode([b"NOSUCHCOMMAND", b"x"]))
    server = _server(appendonly=True, dir=str(tmp_path))
    with pytest.raises(AOFError, match="Unknown command 'NOSUCHCOMMAND'"):
        load(server.service, str(tmp_path / "appendonly.aof"))


def test_parse_reports_truncation_and_format_errors():
    with pytest.raises(Truncated) as truncated:
        list(parse(GOOD + b"*3\r\n$3\r\nSE"))
    assert truncated.value.offset == len(GOOD)
    with pytest.raises(BadFormat):
        list(parse(b"*0\r\n"))


# -- fsync policies ------------------------------------------------------------------------


@pytest.fixture
def fsyncs(monkeypatch):
    calls: list[int] = []
    real = os.fsync

    def counting(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(aof_module.os, "fsync", counting)
    return calls


def test_appendfsync_always_fsyncs_before_replying(tmp_path, fsyncs):
    server = start(tmp_path, appendfsync="always")
    client = server.client()
    for value in range(3):
        fsyncs.clear()
        client.send_raw(encode([b"SET", b"k", b"%d" % value]))
        assert fsyncs, "the write must be on disk before its reply"
        assert client.raw() == b"+OK\r\n"
    fsyncs.clear()
    client.call("GET", "k")
    assert fsyncs == []


def test_appendfsync_everysec_fsyncs_once_a_second(tmp_path, fsyncs):
    server = start(tmp_path, appendfsync="everysec")
    client = server.client()
    client.call("SET", "a", "1")
    client.call("SET", "b", "2")
    assert fsyncs == []
    assert len(effects(tmp_path)) == 2  # written (to the OS) already
    server.clock.advance(1)
    assert len(fsyncs) == 1
    server.clock.advance(1)
    assert len(fsyncs) == 1, "nothing new to fsync"
    client.call("SET", "c", "3")
    server.clock.advance(1)
    assert len(fsyncs) == 2


def test_appendfsync_no_leaves_it_to_the_os(tmp_path, fsyncs):
    server = start(tmp_path, appendfsync="no")
    client = server.client()
    client.call("SET", "a", "1")
    server.clock.advance(5)
    assert fsyncs == []
    server.service.persistence.stop()
    assert len(fsyncs) == 1, "shutdown fsyncs whatever the policy"


def test_writes_outside_a_read_are_flushed_at_the_end_of_the_turn(tmp_path):
    server = start(tmp_path)
    server.client().call("SET", "a", "1", "PX", "10")
    server.clock.advance(0.02)  # active expiry, then the end-of-turn flush
    server.clock.advance(0)
    assert effects(tmp_path)[-1] == [b"DEL", b"a"]


# -- rewrites -------------------------------------------------------------------------------


def wait_for_rewrite(server: FakeServer) -> None:
    deadline = time.monotonic() + 10
    while server.service.persistence.rewriting:
        assert time.monotonic() < deadline, "the rewrite child did not finish"
        time.sleep(0.01)
        server.clock.advance(0.05)


def _info(client) -> dict[str, str]:
    text = client.call("INFO", "persistence").decode()
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def test_bgrewriteaof_compacts_while_serving(tmp_path):
    server = start(tmp_path)
    client = server.client()
    for index in range(200):
        client.call("INCR", "counter")
        client.call("RPUSH", "list", str(index))
    client.call("HSET", "h", "f", "v")
    client.call("SADD", "s", *[str(i) for i in range(150)])
    client.call("ZADD", "z", "1.5", "a", "-inf", "b", "0.1", "c")
    client.call("SET", "ttl", "v", "EX", "100")
    client.call("SELECT", "5")
    client.call("SET", "five", "5")
    size_before = (tmp_path / "appendonly.aof").stat().st_size
    assert client.call("BGREWRITEAOF") == b"Background append only file rewriting started"
    error = client.call("BGREWRITEAOF")
    assert str(error) == "ERR Background append only file rewriting already in progress"
    assert _info(client)["aof_rewrite_in_progress"] == "1"
    # Written while the child works: kept in the rewrite buffer.
    client.call("SET", "during", "1")
    client.call("SELECT", "0")
    client.call("INCR", "counter")
    expected = None
    wait_for_rewrite(server)
    client.call("SET", "after", "1")
    expected = dataset(server)
    info = _info(client)
    assert info["aof_rewrites"] == "1"
    assert info["aof_last_bgrewrite_status"] == "ok"
    assert int(info["aof_current_size"]) == (tmp_path / "appendonly.aof").stat().st_size
    assert (tmp_path / "appendonly.aof").stat().st_size < size_before
    commands = effects(tmp_path)
    assert [b"RPUSH", b"list", *[b"%d" % i for i in range(64)]] in commands
    assert [b"SET", b"after", b"1"] == commands[-1]
    assert not [name for name in os.listdir(tmp_path) if name.startswith("temp-")]
    assert dataset(restart(server, tmp_path)) == expected


def test_automatic_rewrite_on_growth(tmp_path):
    server = start(tmp_path, auto_aof_rewrite_min_size=2000, auto_aof_rewrite_percentage=100)
    client = server.client()
    while not server.service.persistence.rewriting:
        client.call("SET", "k", "x" * 100)
    wait_for_rewrite(server)
    assert effects(tmp_path) == [[b"SET", b"k", b"x" * 100]]
    assert _info(client)["aof_base_size"] == _info(client)["aof_current_size"]


def saved(tmp_path: Path) -> dict[bytes, Any]:
    """The keys of dump.rdb: key -> neutral value."""
    with open(tmp_path / "dump.rdb", "rb") as handle:
        return {record.key: record.value for record in RdbFileReader(handle)
                if isinstance(record, KeyRecord)}


def test_save_and_bgsave_write_the_dump_file(tmp_path):
    server = start(tmp_path)
    client = server.client()
    client.call("SET", "a", "1")
    client.call("SET", "a", "2")
    server.clock.advance(10)
    assert client.call("SAVE") == b"OK"
    assert client.call("LASTSAVE") == int(server.clock.seconds())
    assert saved(tmp_path) == {b"a": b"2"}
    assert effects(tmp_path) == [[b"SET", b"a", b"1"], [b"SET", b"a", b"2"]], "AOF untouched"
    assert _info(client)["rdb_changes_since_last_save"] == "0"
    client.call("SET", "a", "3")
    assert client.call("BGSAVE") == b"Background saving started"
    assert str(client.call("BGSAVE")) == "ERR Background save already in progress"
    assert str(client.call("BGSAVE", "SCHEDULE")) == "ERR Background save already in progress"
    assert str(client.call("SAVE")) == "ERR Background save already in progress"
    wait_for_rewrite(server)
    assert saved(tmp_path) == {b"a": b"3"}
    assert str(client.call("BGSAVE", "NOW")) == "ERR syntax error"


def test_save_with_the_aof_off_writes_a_file_a_restart_loads(tmp_path):
    server = _server(dir=str(tmp_path))
    client = server.client()
    client.call("RPUSH", "l", "a", "b")
    assert client.call("SAVE") == b"OK"
    assert os.listdir(tmp_path) == ["dump.rdb"]
    again = _server(dir=str(tmp_path))
    again.service.persistence.start()
    assert again.client().call("LRANGE", "l", "0", "-1") == [b"a", b"b"]


@pytest.fixture
def gate(tmp_path, monkeypatch):
    """Rewrite children wait until the returned function opens the gate.

    The forked children inherit the patched write_snapshot (rewrites) and
    write_dataset (saves), so a test can look at the server while a child is
    certainly still running.
    """
    gate_file = tmp_path.parent / (tmp_path.name + ".gate")
    real_snapshot = aof_module.write_snapshot
    real_dataset = rdb_module.write_dataset
    parent = os.getpid()

    def wait():
        deadline = time.monotonic() + 30
        while os.getpid() != parent and not gate_file.exists() and time.monotonic() < deadline:
            time.sleep(0.005)

    def held_snapshot(*args, **kwargs):
        wait()
        return real_snapshot(*args, **kwargs)

    def held_dataset(*args, **kwargs):
        wait()
        return real_dataset(*args, **kwargs)

    monkeypatch.setattr(aof_module, "write_snapshot", held_snapshot)
    monkeypatch.setattr(rdb_module, "write_dataset", held_dataset)
    yield lambda: gate_file.write_bytes(b"")
    gate_file.unlink(missing_ok=True)


@pytest.mark.parametrize("appendonly", [True, False], ids=["aof-on", "aof-off"])
def test_bgrewriteaof_during_bgsave_is_scheduled_and_runs_after_it(tmp_path, gate, appendonly):
    server = start(tmp_path) if appendonly else _server(dir=str(tmp_path), maxkeys=0)
    client = server.client()
    client.call("SET", "a", "1")
    assert client.call("BGSAVE") == b"Background saving started"
    assert client.call("BGREWRITEAOF") == b"Background append only file rewriting scheduled"
    info = _info(client)
    assert (info["rdb_bgsave_in_progress"], info["aof_rewrite_in_progress"]) == ("1", "0")
    assert (info["aof_rewrite_scheduled"], info["aof_rewrites"], info["rdb_saves"]) == (
        "1", "0", "1")
    assert info["rdb_current_bgsave_time_sec"] == "0"
    assert info["aof_current_rewrite_time_sec"] == "-1"
    client.call("SET", "b", "2")
    gate()
    deadline = time.monotonic() + 20
    while _info(client)["aof_rewrites"] != "1":  # the save ended, the rewrite started
        assert time.monotonic() < deadline, "the scheduled rewrite never started"
        time.sleep(0.01)
        server.clock.advance(0.05)
    info = _info(client)
    assert (info["aof_rewrite_in_progress"], info["aof_rewrite_scheduled"]) == ("1", "0")
    assert str(client.call("BGREWRITEAOF")) == (
        "ERR Background append only file rewriting already in progress")
    assert client.call("BGSAVE", "SCHEDULE") == b"Background saving scheduled"
    wait_for_rewrite(server)
    wait_for_rewrite(server)  # the scheduled BGSAVE
    info = _info(client)
    assert (info["rdb_saves"], info["aof_rewrites"]) == ("2", "1")
    assert info["rdb_last_bgsave_status"] == info["aof_last_bgrewrite_status"] == "ok"
    assert sorted(effects(tmp_path)) == [[b"SET", b"a", b"1"], [b"SET", b"b", b"2"]]
    assert not [name for name in os.listdir(tmp_path) if name.startswith("temp-")]


def test_bgsave_counts_only_the_writes_it_missed_as_unsaved(tmp_path, gate):
    server = start(tmp_path)
    client = server.client()
    client.call("SET", "a", "1")
    assert client.call("BGSAVE") == b"Background saving started"
    client.call("SET", "b", "1")
    client.call("SET", "c", "1")
    gate()
    wait_for_rewrite(server)
    assert _info(client)["rdb_changes_since_last_save"] == "2"


def test_background_work_asked_for_inside_exec_starts_after_it(tmp_path):
    server = start(tmp_path)
    client = server.client()
    client.call("SET", "a", "1")
    client.call("MULTI")
    client.call("BGREWRITEAOF")
    client.call("BGSAVE")
    assert client.call("EXEC") == [b"Background append only file rewriting scheduled",
                                   b"Background saving scheduled"]
    assert not server.service.persistence.rewriting
    server.clock.advance(0)
    assert server.service.persistence.rewriting
    wait_for_rewrite(server)
    wait_for_rewrite(server)
    info = _info(client)
    assert (info["aof_rewrites"], info["rdb_saves"]) == ("1", "1")


@pytest.mark.parametrize("appendonly", [True, False], ids=["aof-on", "aof-off"])
def test_save_during_bgrewriteaof_saves(tmp_path, gate, appendonly):
    server = start(tmp_path) if appendonly else _server(dir=str(tmp_path), maxkeys=0)
    client = server.client()
    client.call("SET", "a", "1")
    assert client.call("BGREWRITEAOF") == b"Background append only file rewriting started"
    client.call("SET", "a", "2")
    assert client.call("SAVE") == b"OK"
    assert saved(tmp_path) == {b"a": b"2"}
    client.call("SET", "b", "3")
    gate()
    wait_for_rewrite(server)
    # The rewrite's snapshot plus, with the AOF on, what was written since its fork.
    loaded = start(tmp_path).service.store.dbs[0]
    assert (loaded.peek(b"a"), loaded.peek(b"b")) == (
        (b"2", b"3") if appendonly else (b"1", None))
    info = _info(client)
    assert (info["aof_rewrites"], info["rdb_saves"]) == ("1", "1")
    assert not [name for name in os.listdir(tmp_path) if name.startswith("temp-")]


def test_rdb_saves_and_aof_rewrites_count_what_redis_counts(tmp_path):
    server = _server(dir=str(tmp_path), maxkeys=0)
    client = server.client()
    client.call("SET", "a", "1")
    assert client.call("SAVE") == b"OK"
    assert client.call("SAVE") == b"OK"
    assert (_info(client)["rdb_saves"], _info(client)["aof_rewrites"]) == ("2", "0")
    assert client.call("CONFIG", "SET", "appendonly", "yes") == b"OK"
    assert _info(client)["aof_rewrites"] == "1"
    assert client.call("CONFIG", "RESETSTAT") == b"OK"
    assert (_info(client)["rdb_saves"], _info(client)["aof_rewrites"]) == ("0", "0")
    client.send_raw(encode([b"SHUTDOWN", b"SAVE"]))
    assert client.closed
    assert _info(server.client())["rdb_saves"] == "0", "SHUTDOWN SAVE is not counted"


def test_a_child_whose_parent_died_stops_and_removes_its_file(tmp_path):
    server = _server(maxkeys=0)
    client = server.client()
    for index in range(3 * aof_module.PARENT_CHECK_EVERY):
        client.call("SET", f"k{index}", "v")
    store = server.service.store
    calls = []

    def alive():
        calls.append(1)
        return len(calls) < 3

    with pytest.raises(aof_module.Orphaned):
        aof_module.write_snapshot(store, str(tmp_path / "f.aof"), store.now_ms(), alive)
    assert len(calls) == 3
    # The whole child: a parent pid that is not its parent's.
    settings = server.service.settings
    settings.dir = str(tmp_path)
    assert aof_module.rewrite_child(store, settings, store.now_ms(), parent=-1) == 1
    assert os.listdir(tmp_path) == ["f.aof"]
    assert aof_module.rewrite_child(store, settings, store.now_ms(), os.getppid()) == 0
    assert sorted(os.listdir(tmp_path)) == ["f.aof", f"temp-rewriteaof-bg-{os.getpid()}.aof"]


# -- shutdown ------------------------------------------------------------------------------


class StoppableClock:
    def __init__(self, clock):
        self.clock = clock
        self.stopped = False

    def __getattr__(self, name):
        return getattr(self.clock, name)

    def stop(self):
        self.stopped = True


def test_shutdown_fsyncs_closes_clients_and_stops(tmp_path, fsyncs):
    server = start(tmp_path, appendfsync="no")
    clock = StoppableClock(server.clock)
    server.service.clock = clock
    client, other = server.client(), server.client(40001)
    client.call("SET", "a", "1")
    assert str(client.call("SHUTDOWN", "ABORT")) == "ERR No shutdown in progress."
    assert str(client.call("SHUTDOWN", "BOGUS")) == "ERR syntax error"
    client.send_raw(encode([b"PING"]) + encode([b"SHUTDOWN", b"NOSAVE", b"NOW"]))
    assert client.raw() == b"+PONG\r\n"
    assert client.closed and other.closed
    assert fsyncs
    server.clock.advance(0)
    assert clock.stopped
    assert server.service.persistence.aof is None
    assert restart(server, tmp_path).client().call("GET", "a") == b"1"


def test_shutdown_save_writes_the_dump_file(tmp_path):
    server = start(tmp_path)
    client = server.client()
    client.call("SET", "a", "1")
    client.call("SET", "a", "2")
    client.send_raw(encode([b"SHUTDOWN", b"SAVE"]))
    assert client.closed
    assert saved(tmp_path) == {b"a": b"2"}
    assert effects(tmp_path) == [[b"SET", b"a", b"1"], [b"SET", b"a", b"2"]]


def test_stop_service_closes_the_aof(tmp_path):
    server = start(tmp_path)
    server.client().call("SET", "a", "1")
    server.service.startService()
    server.service.stopService()
    assert server.service.persistence.aof is None
    assert effects(tmp_path) == [[b"SET", b"a", b"1"]]


# -- twistd options -------------------------------------------------------------------------


def test_twistd_options_set_the_aof_settings(tmp_path):
    from hush.tap import Options

    options = Options()
    options.parseOptions(["--appendonly", "--dir", str(tmp_path), "--appendfilename", "x.aof",
                          "--appendfsync", "always"])
    settings = options.settings()
    assert (settings.appendonly, settings.dir, settings.appendfilename, settings.appendfsync) == (
        True, str(tmp_path), "x.aof", "always")
    defaults = Options()
    defaults.parseOptions([])
    assert defaults.settings().appendonly is False
    assert defaults.settings().appendfsync == "everysec"
    with pytest.raises(SystemExit, match="^Invalid --appendfsync 'sometimes'"):
        Options().parseOptions(["--appendfsync", "sometimes"])


def test_privileged_start_loads_before_the_listeners_start(tmp_path):
    from hush.server.service import make_service

    (tmp_path / "appendonly.aof").write_bytes(GOOD)
    settings_server = _server(appendonly=True, dir=str(tmp_path), listen=["tcp:0"])
    top = make_service(settings_server.settings, settings_server.clock)
    store_service = top.getServiceNamed("hush-store")
    top.privilegedStartService()
    try:
        assert store_service.store.dbs[0].peek(b"a") == b"1"
        assert store_service.persistence.aof is not None
    finally:
        top.startService()
        top.stopService()
    assert store_service.persistence.aof is None


def test_the_aof_can_be_switched_at_run_time(tmp_path):
    server = _server(dir=str(tmp_path), maxkeys=0)
    client = server.client()
    client.call("SET", "before", "1")
    client.call("SELECT", "2")
    server.service.persistence.set_appendonly(True)
    client.call("SET", "after", "2")
    assert _info(client)["aof_enabled"] == "1"
    assert logged(tmp_path) == [
        [b"SELECT", b"0"], [b"SET", b"before", b"1"], [b"SELECT", b"2"], [b"SET", b"after", b"2"]
    ]
    server.service.persistence.set_appendonly(False)
    client.call("SET", "later", "3")
    assert effects(tmp_path)[-1] == [b"SET", b"after", b"2"]
    assert _info(client)["aof_enabled"] == "0"


def test_annotations_are_skipped_and_bad_rdb_preambles_named(tmp_path):
    _write(tmp_path, b"#TS:1700000000\r\n" + GOOD)
    assert start(tmp_path).client().call("GET", "a") == b"1"
    _write(tmp_path, b"REDIS0009\xfa\x09redis-ver")
    server = _server(appendonly=True, dir=str(tmp_path))
    with pytest.raises(AOFError, match="Error reading the RDB preamble of the AOF file .*"
                                       "AOF loading aborted: Internal error in RDB reading "
                                       "offset 20 -> Unexpected EOF reading RDB file"):
        load(server.service, str(tmp_path / "appendonly.aof"))


def test_a_failed_rewrite_keeps_the_old_file(tmp_path, monkeypatch):
    server = start(tmp_path)
    client = server.client()
    client.call("SET", "a", "1")

    def failing(*args, **kwargs):
        raise OSError("disk full")

    # The forked child inherits the patched function and exits with 1.
    monkeypatch.setattr(aof_module, "write_snapshot", failing)
    assert client.call("BGREWRITEAOF") == b"Background append only file rewriting started"
    wait_for_rewrite(server)
    info = _info(client)
    assert info["aof_last_bgrewrite_status"] == "err"
    assert info["aof_rewrites"] == "1", "counted when the child starts, as in Redis"
    assert info["aof_rewrites_consecutive_failures"] == "1"
    client.call("SET", "b", "2")
    assert effects(tmp_path) == [[b"SET", b"a", b"1"], [b"SET", b"b", b"2"]]
    assert not [name for name in os.listdir(tmp_path) if name.startswith("temp-")]


def test_write_errors_refuse_writes_until_the_disk_works_again(tmp_path, monkeypatch):
    server = start(tmp_path)
    client = server.client()
    client.call("SET", "a", "1")
    real_write = os.write
    broken = [True]

    def write(fd, data):
        if broken[0]:
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(aof_module.os, "write", write)
    assert client.call("SET", "b", "2") == b"OK"  # applied; its AOF write failed
    error = "MISCONF Errors writing to the AOF file: No space left on device"
    assert str(client.call("SET", "c", "3")) == error
    assert str(client.call("PING")) == error
    assert client.call("GET", "a") == b"1"
    assert _info(client)["aof_last_write_status"] == "err"
    broken[0] = False
    assert client.call("SET", "c", "3") == b"OK"
    assert _info(client)["aof_last_write_status"] == "ok"
    assert effects(tmp_path) == [[b"SET", b"a", b"1"], [b"SET", b"b", b"2"], [b"SET", b"c", b"3"]]


def test_write_errors_refuse_writes_in_transactions_as_redis_does(tmp_path, monkeypatch):
    server = start(tmp_path)
    client, other = server.client(), server.client(40001)
    real_write = os.write
    broken = [False]

    def write(fd, data):
        if broken[0]:
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(aof_module.os, "write", write)
    client.call("MULTI")
    assert client.call("SET", "b", "2") == b"QUEUED"
    broken[0] = True
    assert other.call("SET", "c", "3") == b"OK"  # applied; its AOF write failed
    misconf = "MISCONF Errors writing to the AOF file: No space left on device"
    assert str(client.call("EXEC")) == f"EXECABORT Transaction discarded because of: {misconf}"
    assert client.call("GET", "b") is None
    client.call("MULTI")
    assert client.call("GET", "c") == b"QUEUED"
    assert str(client.call("SET", "b", "2")) == misconf
    assert str(client.call("PING")) == misconf
    assert str(client.call("EXEC")) == "EXECABORT Transaction discarded because of previous errors."
    client.call("MULTI")
    client.call("GET", "c")
    assert client.call("EXEC") == [b"3"], "a transaction that only reads runs"
    broken[0] = False
    client.call("MULTI")
    assert client.call("SET", "b", "2") == b"QUEUED"
    assert client.call("EXEC") == [b"OK"]


# -- streams ------------------------------------------------------------------------------


def _stream_state(client) -> Any:
    # XINFO STREAM FULL holds entries, IDs, counters, groups, consumers and PELs;
    # consumers' seen-times are not persisted by Redis either: drop them.
    info = client.call("XINFO", "STREAM", "s", "FULL")
    groups = info[info.index(b"groups") + 1]
    for group in groups:
        consumers = group[group.index(b"consumers") + 1]
        for consumer in consumers:
            del consumer[consumer.index(b"seen-time"):consumer.index(b"seen-time") + 2]
    return info


def _stream_workload(client, server) -> None:
    client.call("XADD", "s", "*", "a", "1")
    server.clock.advance(0.005)
    client.call("XADD", "s", "MAXLEN", "=", "5", "*", "b", "2")
    client.call("XADD", "s", "NOMKSTREAM", "MINID", "~", "0", "LIMIT", "10", "*", "c", "3")
    client.call("XADD", "s", "99999999999-*", "d", "4")
    client.call("XGROUP", "CREATE", "s", "g", "0")
    client.call("XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">")
    client.call("XGROUP", "CREATECONSUMER", "s", "g", "bob")
    client.call("XDEL", "s", client.call("XRANGE", "s", "-", "+")[-1][0])


def test_xadd_auto_ids_are_logged_as_the_ids_they_became(tmp_path):
    server = start(tmp_path)
    client = server.client()
    server.clock.advance(1000)
    first = client.call("XADD", "s", "NOMKSTREAM", "MAXLEN", "~", "10", "*", "f", "v")
    assert first is None
    sid = client.call("XADD", "s", "MAXLEN", "~", "10", "LIMIT", "5", "*", "f", "v")
    partial = client.call("XADD", "s", "99999999999999-*", "f", "w")
    assert effects(tmp_path) == [
        [b"XADD", b"s", b"MAXLEN", b"~", b"10", b"LIMIT", b"5", sid, b"f", b"v"],
        [b"XADD", b"s", partial, b"f", b"w"],
    ]


def test_streams_with_groups_survive_replay_and_rewrite(tmp_path):
    server = start(tmp_path)
    client = server.client()
    server.clock.advance(1000)
    _stream_workload(client, server)
    expected = _stream_state(client)
    # Replay of the logged commands.
    again = restart(server, tmp_path)
    assert _stream_state(again.client()) == expected
    # A rewrite writes the stream as commands of its own (XADD, XSETID,
    # XGROUP CREATE, XCLAIM ... FORCE, XGROUP CREATECONSUMER).
    client = again.client()
    assert client.call("BGREWRITEAOF") == b"Background append only file rewriting started"
    wait_for_rewrite(again)
    written = [argv[0].upper() for argv in effects(tmp_path)]
    assert {b"XSETID", b"XGROUP", b"XCLAIM"} <= set(written)
    third = restart(again, tmp_path)
    assert _stream_state(third.client()) == expected


def test_an_empty_stream_keeps_its_last_id_through_a_rewrite(tmp_path):
    server = start(tmp_path)
    client = server.client()
    client.call("XADD", "s", "5-1", "f", "v")
    client.call("XDEL", "s", "5-1")
    client.call("XGROUP", "CREATE", "s", "g", "$")
    expected = _stream_state(client)
    assert client.call("BGREWRITEAOF") == b"Background append only file rewriting started"
    wait_for_rewrite(server)
    again = restart(server, tmp_path)
    assert _stream_state(again.client()) == expected


def test_config_set_appendonly_switches_the_aof_at_run_time(tmp_path):
    server = _server(dir=str(tmp_path), maxkeys=0)
    server.service.persistence.start()
    client = server.client()
    client.call("SET", "before", "1")
    assert not (tmp_path / "appendonly.aof").exists()
    assert client.call("CONFIG", "SET", "appendonly", "yes") == b"OK"
    client.call("RPUSH", "after", "x")
    assert _info(client)["aof_enabled"] == "1"
    again = restart(server, tmp_path)
    assert again.client().call("GET", "before") == b"1"
    assert again.client().call("LRANGE", "after", "0", "-1") == [b"x"]
    client = again.client()
    assert client.call("CONFIG", "SET", "appendonly", "no") == b"OK"
    client.call("SET", "unlogged", "1")
    assert [b"SET", b"unlogged", b"1"] not in effects(tmp_path)


def test_a_scripts_writes_are_logged_as_its_effects(tmp_path):
    server = start(tmp_path)
    client = server.client()
    script = "redis.call('set', KEYS[1], 'v'); redis.call('incr', 'n'); return redis.call('get', 'n')"
    assert client.call("EVAL", script, "1", "k") == b"1"
    assert client.call("EVAL", "return redis.call('spop', KEYS[1])", "1", "nothing") is None
    client.call("SADD", "s", "only")
    assert client.call("EVAL", "return redis.call('spop', KEYS[1])", "1", "s") == b"only"
    assert client.call("EVAL", "return redis.call('get', 'k')", "0") == b"v"
    # Redis 7 replicates a script's effects, not the script: several writes
    # inside MULTI/EXEC, one alone, rewritten (SPOP -> SREM) like any command.
    assert effects(tmp_path) == [
        [b"MULTI"], [b"SET", b"k", b"v"], [b"INCR", b"n"], [b"EXEC"],
        [b"SADD", b"s", b"only"],
        [b"SREM", b"s", b"only"],
    ]
    again = restart(server, tmp_path)
    assert dataset(again) == dataset(server)


def test_consumer_group_deliveries_replay_with_their_times(tmp_path):
    # XREADGROUP, XCLAIM and XAUTOCLAIM depend on the clock (delivery times,
    # min-idle-time): replaying them as sent, later, would rebuild other PELs.
    server = start(tmp_path)
    client, blocked = server.client(), server.client(port=40001)
    server.clock.advance(1000)
    for index in range(6):
        client.call("XADD", "s", f"{index + 1}-0", "n", str(index))
    client.call("XGROUP", "CREATE", "s", "g", "0")
    client.call("XREADGROUP", "GROUP", "g", "alice", "COUNT", "3", "STREAMS", "s", ">")
    server.clock.advance(30)
    client.call("XREADGROUP", "GROUP", "g", "bob", "NOACK", "COUNT", "1", "STREAMS", "s", ">")
    server.clock.advance(30)
    # History read: delivery count and time of alice's entries move.
    client.call("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0")
    server.clock.advance(100)
    assert client.call("XCLAIM", "s", "g", "carol", "50", "1-0") != []
    client.call("XDEL", "s", "3-0")
    server.clock.advance(100)
    reply = client.call("XAUTOCLAIM", "s", "g", "dave", "50", "0", "JUSTID")
    assert reply[2] == [b"3-0"]
    # A blocked reader served by a later XADD.
    blocked.send_raw(encode(b"XREADGROUP GROUP g erin BLOCK 0 STREAMS s >".split()))
    server.clock.advance(5)
    client.call("XADD", "s", "9-0", "n", "late")
    assert blocked.replies()[0] is not None
    server.clock.advance(500)
    expected = _stream_state(client)
    again = restart(server, tmp_path)
    assert _stream_state(again.client()) == expected


def test_redis_set_repl_keeps_a_scripts_writes_out_of_the_aof(tmp_path):
    server = start(tmp_path)
    client = server.client()
    script = ("redis.set_repl(redis.REPL_NONE); redis.call('set', 'hidden', '1'); "
              "redis.set_repl(redis.REPL_ALL); redis.call('set', 'shown', '2')")
    client.call("EVAL", script, "0")
    assert effects(tmp_path) == [[b"SET", b"shown", b"2"]]


# -- bitmaps, HyperLogLog, geo, SORT ------------------------------------------------


def test_geoadd_is_logged_as_the_zadd_redis_runs(tmp_path):
    server = start(tmp_path)
    client = server.client()
    client.call("GEOADD", "g", "CH", "13.361389", "38.115556", "Palermo", "15", "37", "x")
    client.call("GEOADD", "g", "NX", "15", "37", "x")
    client.call("GEOADD", "g", "xx", "ch", "1", "2", "x")
    def score(lon: float, lat: float) -> bytes:
        return b"%d" % geohash.encode_score(lon, lat)

    assert logged(tmp_path)[1:] == [
        [b"zadd", b"g", b"CH", score(13.361389, 38.115556), b"Palermo", score(15, 37), b"x"],
        [b"zadd", b"g", b"xx", b"ch", score(1, 2), b"x"],
    ]


def test_sort_store_is_logged_as_the_list_it_stored(tmp_path):
    server = start(tmp_path)
    client = server.client()
    client.call("SADD", "s", *[str(i) for i in range(70)])
    client.call("SORT", "s", "DESC", "STORE", "d")
    client.call("SORT", "s", "LIMIT", "0", "2", "STORE", "d")
    client.call("SORT", "missing", "STORE", "d")
    client.call("SORT", "missing", "STORE", "d")
    client.call("SORT", "s", "LIMIT", "0", "1")
    descending = [str(i).encode() for i in range(69, -1, -1)]
    assert effects(tmp_path)[1:] == [
        [b"MULTI"], [b"DEL", b"d"], [b"RPUSH", b"d", *descending[:64]],
        [b"RPUSH", b"d", *descending[64:]], [b"EXEC"],
        [b"MULTI"], [b"DEL", b"d"], [b"RPUSH", b"d", b"0", b"1"], [b"EXEC"],
        [b"DEL", b"d"],
    ]


def test_bit_and_hll_commands_are_logged_when_they_write(tmp_path):
    server = start(tmp_path)
    client = server.client()
    client.call("SETBIT", "b", "7", "1")
    client.call("SETBIT", "b", "7", "1")
    client.call("BITFIELD", "b", "GET", "u8", "0")
    client.call("BITFIELD", "b", "INCRBY", "u8", "0", "1")
    client.call("PFADD", "h", "a")
    client.call("PFADD", "h", "a")
    client.call("PFCOUNT", "h")
    client.call("PFCOUNT", "h")
    assert effects(tmp_path) == [
        [b"SETBIT", b"b", b"7", b"1"], [b"BITFIELD", b"b", b"INCRBY", b"u8", b"0", b"1"],
        [b"PFADD", b"h", b"a"], [b"PFCOUNT", b"h"],
    ]


def _data_commands_workload(client, rng: random.Random, steps: int) -> None:
    keys = [f"d{i}" for i in range(5)]
    commands = [
        lambda k: ["SETBIT", k, str(rng.randrange(200)), str(rng.randrange(2))],
        lambda k: ["BITFIELD", k, "OVERFLOW", "SAT", "INCRBY", "i12", str(rng.randrange(90)),
                   str(rng.randrange(-3000, 3000))],
        lambda k: ["BITOP", rng.choice(["AND", "OR", "XOR"]), k, *rng.sample(keys, 2)],
        lambda k: ["BITOP", "NOT", k, rng.choice(keys)],
        lambda k: ["PFADD", k, *(str(rng.randrange(5000)) for _ in range(rng.randrange(1, 40)))],
        lambda k: ["PFCOUNT", k],
        lambda k: ["PFMERGE", k, rng.choice(keys)],
        lambda k: ["GEOADD", k, repr(rng.uniform(-180, 180)), repr(rng.uniform(-85, 85)),
                   str(rng.randrange(30))],
        lambda k: ["GEOSEARCHSTORE", k, rng.choice(keys), "FROMLONLAT", "0", "0", "BYRADIUS",
                   "9000", "km", rng.choice(["ASC", "STOREDIST"])],
        lambda k: ["GEORADIUS", rng.choice(keys), "10", "10", "5000", "km", "STORE", k],
        lambda k: ["RPUSH", k, *(str(rng.randrange(100)) for _ in range(3))],
        lambda k: ["SADD", k, *(str(rng.randrange(100)) for _ in range(3))],
        lambda k: ["SORT", rng.choice(keys), rng.choice(["ASC", "DESC"]), "STORE", k],
        lambda k: ["SORT", rng.choice(keys), "BY", "nosort", "STORE", k],
        lambda k: ["DEL", k],
    ]
    for _ in range(steps):
        command = rng.choice(commands)(rng.choice(keys))
        client.call(*command)


@pytest.mark.parametrize("seed", [1, 2])
def test_data_commands_survive_replay_and_rewrite(tmp_path, seed):
    server = start(tmp_path)
    client = server.client()
    _data_commands_workload(client, random.Random(seed), 400)
    client.call("SETBIT", "bits", "9", "1")
    expected = dataset(server)
    assert any(isinstance(value, bytearray) for value in server.service.store.dbs[0].data.values())
    again = restart(server, tmp_path)
    assert dataset(again) == expected
    client = again.client()
    assert client.call("BGREWRITEAOF") == b"Background append only file rewriting started"
    wait_for_rewrite(again)
    third = restart(again, tmp_path)
    assert dataset(third) == expected


# -- function libraries ------------------------------------------------------------

LIBRARY = (b"#!lua name=counter\n"
           b"redis.register_function('bump', function(keys) return redis.call('incr', keys[1]) end)")


def test_function_commands_are_logged_as_sent(tmp_path):
    server = start(tmp_path)
    client = server.client()
    assert client.call("FUNCTION", "LOAD", LIBRARY) == b"counter"
    assert str(client.call("FUNCTION", "LOAD", LIBRARY)) == "ERR Library 'counter' already exists"
    assert client.call("FCALL", "bump", 1, "n") == 1
    payload = client.call("FUNCTION", "DUMP")
    assert client.call("FUNCTION", "DELETE", "counter") == b"OK"
    assert client.call("FUNCTION", "RESTORE", payload) == b"OK"
    assert client.call("FUNCTION", "FLUSH") == b"OK"
    assert effects(tmp_path) == [
        [b"FUNCTION", b"LOAD", LIBRARY],
        # A function's writes, as a script's: the commands it ran.
        [b"INCR", b"n"],
        [b"FUNCTION", b"DELETE", b"counter"],
        [b"FUNCTION", b"RESTORE", payload],
        [b"FUNCTION", b"FLUSH"],
    ]


def test_functions_survive_a_restart_and_a_rewrite(tmp_path):
    server = start(tmp_path)
    client = server.client()
    client.call("FUNCTION", "LOAD", LIBRARY)
    client.call("FCALL", "bump", 1, "n")
    again = restart(server, tmp_path)
    assert again.client().call("FCALL", "bump", 1, "n") == 2
    assert again.client().call("BGREWRITEAOF") == b"Background append only file rewriting started"
    wait_for_rewrite(again)
    # Redis 7.0's rewrite writes each library as a FUNCTION LOAD, before the data.
    assert effects(tmp_path) == [[b"FUNCTION", b"LOAD", LIBRARY], [b"SET", b"n", b"2"]]
    assert restart(again, tmp_path).client().call("FCALL", "bump", 1, "n") == 3


def test_save_writes_the_libraries_to_the_dump_file(tmp_path):
    server = FakeServer(dir=str(tmp_path))
    client = server.client()
    client.call("FUNCTION", "LOAD", LIBRARY)
    assert client.call("SAVE") == b"OK"
    assert not (tmp_path / "appendonly.aof").exists()
    with open(tmp_path / "dump.rdb", "rb") as handle:
        codes = [record.code for record in RdbFileReader(handle)
                 if isinstance(record, FunctionRecord)]
    assert codes == [LIBRARY]
    again = FakeServer(dir=str(tmp_path), maxkeys=0)
    again.service.persistence.start()
    assert again.client().call("FCALL", "bump", 1, "n") == 1


def test_a_library_slower_than_the_load_limit_loads_from_the_aof(tmp_path):
    """The AOF is replayed without FUNCTION LOAD's time limit, as Redis loads it."""
    (tmp_path / "appendonly.aof").write_bytes(aof_module.encode(
        [b"FUNCTION", b"LOAD", b"#!lua name=slow\nfor i = 1, 300000 do end\n"
                               b"redis.register_function('f', function() return 1 end)"]))
    server = FakeServer(appendonly=True, dir=str(tmp_path), maxkeys=0)
    ticks = iter(range(10**6))
    server.service.scripts.load_clock = lambda: next(ticks) * 10.0
    server.service.persistence.start()
    assert server.client().call("FCALL", "f", 0) == 1
