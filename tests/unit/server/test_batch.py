"""Batches (hush.commands.table.batch): a read repeating one command runs in one
call, and leaves the replies, the data, its LRU order and the counters exactly
as the commands run one by one would."""

from __future__ import annotations

import random

import pytest

from hush.commands.table import COMMANDS, lookup
from tests.support import FakeServer, encode_command

BATCHED = [b"get", b"set", b"incr", b"decr", b"lpush", b"rpush", b"lpop", b"rpop"]


def test_the_benchmark_commands_have_batches():
    assert all(COMMANDS[name].batch is not None for name in BATCHED)


def _pipelines(rng: random.Random) -> list[list[list[bytes]]]:
    """Reads of one command repeated, with the cases a batch must hand back:
    repeated keys, missing keys, TTLs, other types, non-integers, overflows,
    lists that empty or do not exist yet."""
    keys = [b"k%d" % i for i in range(12)]
    reads = []
    for _ in range(160):
        size = rng.choice([2, 3, 8, 16, 16])
        kind = rng.choice(["get", "set", "incr", "decr", "lpush", "rpush", "lpop", "rpop",
                           "mset", "other"])
        if kind == "get":
            reads.append([[b"GET", rng.choice(keys)] for _ in range(size)])
        elif kind == "set":
            reads.append([[b"set", rng.choice(keys), b"v%d" % rng.randrange(99)]
                          for _ in range(size)])
        elif kind in ("incr", "decr"):
            picked = rng.sample(keys, size) if size <= len(keys) else keys
            reads.append([[kind.upper().encode(), key] for key in picked])
        elif kind in ("lpush", "rpush"):
            key = rng.choice([b"list", b"list2", rng.choice(keys)])
            reads.append([[kind.encode(), key, b"e%d" % i] for i in range(size)])
        elif kind in ("lpop", "rpop"):
            key = rng.choice([b"list", b"list2", rng.choice(keys)])
            reads.append([[kind.encode(), key] for _ in range(size)])
        elif kind == "mset":
            reads.append([[b"MSET"] + [part for key in rng.sample(keys, 3)
                                       for part in (key, b"m")]] * 2)
        else:
            key = rng.choice(keys)
            reads.append(rng.choice([
                [[b"EXPIRE", key, b"100"]],
                [[b"SETBIT", key, b"3", b"1"]],
                [[b"SADD", key, b"member"]],
                [[b"SET", key, b"9223372036854775807"]],
                [[b"SET", key, b"12"]],
                [[b"DEL", key]],
            ]))
    return reads


def _state(server: FakeServer) -> tuple:
    store = server.service.store
    db = store.dbs[0]
    stats = server.service.commandstats
    numbers = [lookup(name).number for name in BATCHED + [b"mset"]]
    return (
        # The dict's order is the LRU order (without the ticks between the
        # keys, whose names are the store's); the values of every type compare.
        [(key, value) for key, value in db.data.items() if key.__class__ is not int],
        dict(db.expires),
        store.dirty,
        store.stats.keyspace_hits,
        store.stats.keyspace_misses,
        store.stats.total_commands_processed,
        [(stats.calls[n], stats.failed[n], sum(stats.histograms[n])) for n in numbers],
        dict(stats.errors),
    )


@pytest.mark.parametrize("seed", range(6))
def test_batches_leave_what_one_by_one_leaves(seed):
    batched, plain = FakeServer(), FakeServer()
    fast, slow = batched.client(), plain.client()
    for read in _pipelines(random.Random(seed)):
        data = b"".join(encode_command(*argv) for argv in read)
        fast.send_raw(data)
        with pytest.MonkeyPatch.context() as patch:
            for name in BATCHED:
                patch.setattr(COMMANDS[name], "batch", None)
            slow.send_raw(data)
        assert fast.raw() == slow.raw(), read
        assert _state(batched) == _state(plain), read


def test_a_batch_of_gets_answers_nulls_in_resp3():
    server = FakeServer()
    client = server.client()
    client.call("HELLO", "3")
    client.call("SET", "a", "1")
    client.send_raw(b"".join(encode_command("GET", key) for key in "abcdefghij"))
    assert client.raw() == b"$1\r\n1\r\n" + b"_\r\n" * 9


def test_a_batch_is_counted_once_per_command_with_an_even_share_of_its_time():
    server = FakeServer()
    client = server.client()
    client.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
    client.send_raw(b"".join(encode_command("SET", "k%d" % i, "v") for i in range(16)))
    assert client.raw() == b"+OK\r\n" * 16
    number = lookup(b"set").number
    stats = server.service.commandstats
    assert stats.calls[number] == 16 and sum(stats.histograms[number]) == 16
    # Every command of the run reached the slow log (threshold 0).
    entries = client.call("SLOWLOG", "GET", "100")
    assert [entry[3] for entry in entries if entry[3][0] == b"SET"] == [
        [b"SET", b"k%d" % i, b"v"] for i in reversed(range(16))]


def test_a_batch_that_fails_answers_every_command_with_the_error(monkeypatch):
    server = FakeServer()
    client = server.client()

    def broken(ctx, argvs, out):
        raise RuntimeError("a bug")

    monkeypatch.setattr(COMMANDS[b"get"], "batch", broken)
    client.send_raw(encode_command("GET", "a") * 3)
    reply = client.raw()
    assert reply.count(b"-ERR") == 3 and reply.endswith(b"\r\n")
    # The connection stays usable.
    assert client.call("PING") == b"PONG"


def test_a_client_blocked_on_a_list_turns_pushes_one_by_one():
    server = FakeServer()
    waiter, pusher = server.client(), server.client()
    waiter.send_raw(encode_command("BLPOP", "q", "0"))
    pusher.send_raw(b"".join(encode_command("RPUSH", "q", "x%d" % i) for i in range(4)))
    # The first push served the waiter before the second ran, as in Redis.
    assert pusher.raw() == b":1\r\n:1\r\n:2\r\n:3\r\n"
    assert waiter.raw() == b"*2\r\n$1\r\nq\r\n$2\r\nx0\r\n"
