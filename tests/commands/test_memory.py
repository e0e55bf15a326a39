"""MEMORY: USAGE as Redis 7.0 sizes values, STATS and DOCTOR in Redis's shape."""

from __future__ import annotations

import pytest

from hush.data.types import alloc


@pytest.mark.parametrize("size,expected", [
    (1, 8), (8, 8), (9, 16), (21, 32), (128, 128), (129, 160), (204, 224), (506, 512),
    (536, 640), (1006, 1024), (4096, 4096), (5006, 5120), (20006, 20480), (40006, 40960),
])
def test_jemalloc_size_classes(size, expected):
    assert alloc.jemalloc_size(size) == expected


@pytest.mark.parametrize("args,expected", [
    # Redis 7.0.15's own figures (the differential tests compare more).
    (("SET", "k", "v"), 64),
    (("SET", "k", "x" * 100), 160),
    (("SET", "k", "12345"), 48),
    (("SET", "k", "y" * 5000), 5168),
    (("RPUSH", "k", "a", "b", "c"), 144),
    (("SADD", "k", "a", "b", "c"), 232),
    (("SADD", "k", "1", "2", "3"), 64),
    (("HSET", "k", "f", "v"), 64),
    (("ZADD", "k", "1", "a", "2", "b"), 80),
    (("XADD", "k", "1-1", "f", "v"), 4728),
])
def test_usage_of_each_encoding(client, args, expected):
    client.call(*args)
    assert client.call("MEMORY", "USAGE", "k") == expected
    assert client.call("MEMORY", "USAGE", "k", "SAMPLES", "0") == expected


def test_usage_errors_and_missing_keys(client):
    assert client.call("MEMORY", "USAGE", "nosuch") is None
    client.call("SET", "k", "v")
    assert str(client.call("MEMORY", "USAGE", "k", "SAMPLES", "-1")) == "ERR syntax error"
    assert str(client.call("MEMORY", "USAGE", "k", "SAMPLES")) == "ERR syntax error"
    assert str(client.call("MEMORY", "USAGE", "k", "SAMPLES", "x")) == (
        "ERR value is not an integer or out of range")


def test_usage_follows_the_list_node_size(client):
    client.call("RPUSH", "k", *["x" * 10] * 20)
    default = client.call("MEMORY", "USAGE", "k")
    client.call("CONFIG", "SET", "list-max-listpack-size", "2")
    # Ten nodes of two instead of one.
    assert client.call("MEMORY", "USAGE", "k") > default


def test_stats_has_redis_fields_in_order(client):
    client.call("SET", "k", "v")
    client.call("SELECT", "3")
    client.call("SET", "k", "v", "EX", "100")
    stats = client.call("MEMORY", "STATS")
    names = stats[::2]
    assert names[:10] == [b"peak.allocated", b"total.allocated", b"startup.allocated",
                          b"replication.backlog", b"clients.slaves", b"clients.normal",
                          b"cluster.links", b"aof.buffer", b"lua.caches", b"functions.caches"]
    assert names[10:12] == [b"db.0", b"db.3"]
    assert stats[stats.index(b"db.3") + 1] == [
        b"overhead.hashtable.main", 24 + 32 + 16, b"overhead.hashtable.expires", 24 + 32,
        b"overhead.hashtable.slot-to-keys", 0]
    assert names[-1] == b"fragmentation.bytes" and len(names) == 27 + 2
    assert stats[stats.index(b"keys.count") + 1] == 2


def test_doctor_malloc_stats_purge_help(client):
    assert client.call("MEMORY", "DOCTOR").startswith(b"Hi Sam, this instance is empty")
    assert client.call("MEMORY", "MALLOC-STATS") == b"Stats not supported for the current allocator"
    assert client.call("MEMORY", "PURGE") == b"OK"
    assert client.call("MEMORY", "HELP")[1] == b"DOCTOR"
