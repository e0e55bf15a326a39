"""Replication with real processes: redis-server replicas of Hush, Hush replicas of
redis-server, partial resyncs through a proxy that drops the link."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.support import REDIS_SERVER, ServerProcess, free_port, start_hush

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")]

#: Generous: a loaded CI machine may take seconds to fork and load a snapshot.
DEADLINE = 30.0

LIBRARY = (b"#!lua name=replib\n"
           b"redis.register_function('bump', function(keys, args) "
           b"return redis.call('INCRBY', keys[1], args[1]) end)")


def wait_for(check: Callable[[], Any], what: str, timeout: float = DEADLINE) -> Any:
    """Poll ``check`` until it returns something true; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout}s")
        time.sleep(0.05)


def redis_replica(directory: Path, master_port: int, *extra: str) -> ServerProcess:
    """A redis-server in ``directory`` replicating the server on ``master_port``."""
    port = free_port()
    return ServerProcess([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1",
                          "--save", "", "--dir", str(directory), "--daemonize", "no",
                          "--replicaof", "127.0.0.1", str(master_port), *extra],
                         port, cwd=str(directory))


def hush_master(directory: Path, *settings: tuple[str, str]) -> ServerProcess:
    """A Hush without key limit in ``directory``, its replication settings fast for tests."""
    server = start_hush("--maxkeys", "0", "--dir", str(directory))
    client = redis.Redis(port=server.port)
    client.config_set("repl-diskless-sync-delay", 0)
    for name, value in settings:
        client.config_set(name, value)
    client.close()
    return server


def link_up(client: redis.Redis) -> bool:
    return client.info("replication").get("master_link_status") == "up"


def in_step(master: redis.Redis, replica: redis.Redis) -> bool:
    """The replica applied everything the master sent."""
    offset = master.info("replication")["master_repl_offset"]
    return replica.info("replication").get("slave_repl_offset") == offset


def fill(client: redis.Redis) -> None:
    """Keys of every type, some with a TTL, in two databases."""
    client.set("str", "v" * 100, ex=1000)
    client.set("int", 12345)
    client.rpush("list", *[f"e{i}" for i in range(300)])
    client.sadd("intset", 1, 2, 3)
    client.sadd("set", "a", "b")
    client.hset("hash", mapping={"f": "v", "g": "w"})
    client.hset("bighash", mapping={f"f{i}": i for i in range(600)})
    client.zadd("zset", {"a": 1, "b": 2.5})
    client.xadd("stream", {"f": "v"}, id="1-1")
    client.xgroup_create("stream", "g", id="0")
    client.xreadgroup("g", "alice", {"stream": ">"}, count=1)
    client.pfadd("hll", "a", "b", "c")
    client.setbit("bits", 100, 1)
    client.geoadd("geo", (13.361389, 38.115556, "Palermo"))
    client.execute_command("SELECT", 5)
    client.set("five", 5)
    client.execute_command("SELECT", 0)


def more_writes(client: redis.Redis) -> None:
    """Writes after the snapshot: every type, expiries, a script, a transaction, a function."""
    client.set("later", "x")
    client.incrbyfloat("float", 1.5)
    client.lpush("list", "head")
    client.blpop(["list"], timeout=1)
    client.spop("set")
    client.hincrbyfloat("hash", "n", 2.5)
    client.zincrby("zset", 3, "c")
    client.xadd("stream", {"f": "w"}, id="2-1")
    client.xack("stream", "g", "1-1")
    client.pfadd("hll", "d")
    client.setbit("bits", 7, 1)
    client.expire("int", 500)
    client.set("short", "gone soon", px=50)
    client.set("lazy", "read after its deadline", px=50)
    client.eval("redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCR', KEYS[2])",
                2, "scripted", "counter", "value")
    with client.pipeline(transaction=True) as pipe:
        pipe.set("tx1", "a").rpush("tx2", "b").execute()
    client.function_load(LIBRARY.decode())
    client.fcall("bump", 1, "fn", 5)
    client.execute_command("SELECT", 5)
    client.set("five", "changed")
    client.execute_command("SELECT", 0)
    time.sleep(0.2)
    # The lazy key goes when read on the master: its DEL reaches the replica.
    assert client.get("lazy") is None


def contents(client: redis.Redis) -> dict:
    """Every key of databases 0 and 5: its type, value as read, and whether it has a TTL."""
    out = {}
    readers = {
        b"string": lambda k: client.get(k),
        b"list": lambda k: client.lrange(k, 0, -1),
        b"set": lambda k: sorted(client.smembers(k)),
        b"hash": lambda k: sorted(client.hgetall(k).items()),
        b"zset": lambda k: client.zrange(k, 0, -1, withscores=True),
        b"stream": lambda k: (client.xrange(k), client.xinfo_groups(k)),
    }
    for db in (0, 5):
        client.execute_command("SELECT", db)
        for key in client.keys("*"):
            kind = client.type(key)
            out[(db, key)] = (kind, readers[kind](key), client.ttl(key) > 0)
    client.execute_command("SELECT", 0)
    return out


def test_redis_replica_of_hush_diskless(tmp_path):
    """A redis-server replica gets the snapshot streamed (EOF mark), then every write."""
    master_dir, replica_dir = tmp_path / "master", tmp_path / "replica"
    master_dir.mkdir()
    replica_dir.mkdir()
    hush = hush_master(master_dir)
    replica = None
    try:
        m = redis.Redis(port=hush.port)
        fill(m)
        replica = redis_replica(replica_dir, hush.port)
        r = redis.Redis(port=replica.port)
        wait_for(lambda: link_up(r), "the replica's link")
        more_writes(m)
        wait_for(lambda: in_step(m, r), "the replica catching up")
        assert m.dbsize() == r.dbsize()
        assert contents(m) == contents(r)
        for key in ("short", "lazy"):
            assert r.exists(key) == 0
        assert b"replib" in r.function_list()[0]
        info = m.info("replication")
        assert info["connected_slaves"] == 1
        assert info["slave0"]["state"] == "online"
        assert info["slave0"]["port"] == replica.port
        log = replica.output()
        assert "receiving streamed RDB from master with EOF" in log
    finally:
        if replica is not None:
            replica.stop()
        hush.stop()


def test_redis_replica_of_hush_from_disk(tmp_path):
    """With repl-diskless-sync no the dump file is written and sent as a bulk."""
    master_dir, replica_dir = tmp_path / "master", tmp_path / "replica"
    master_dir.mkdir()
    replica_dir.mkdir()
    hush = hush_master(master_dir, ("repl-diskless-sync", "no"))
    replica = None
    try:
        m = redis.Redis(port=hush.port)
        fill(m)
        replica = redis_replica(replica_dir, hush.port)
        r = redis.Redis(port=replica.port)
        wait_for(lambda: link_up(r), "the replica's link")
        m.set("after", "the snapshot")
        wait_for(lambda: in_step(m, r), "the replica catching up")
        assert contents(m) == contents(r)
        assert (master_dir / "dump.rdb").exists()
        assert "bytes from master to disk" in replica.output()
    finally:
        if replica is not None:
            replica.stop()
        hush.stop()
