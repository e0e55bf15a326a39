"""Moving data between Hush and redis-server: dump files both ways, the RDB-preamble AOF,
MIGRATE in every direction, and redis-check-rdb on Hush's files."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import redis

from tests.support import REDIS_SERVER, ServerProcess, free_port, start_hush

pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")


def redis_in(directory: Path, *extra: str) -> ServerProcess:
    """A redis-server persisting into ``directory``."""
    port = free_port()
    return ServerProcess([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1",
                          "--save", "", "--dir", str(directory), "--daemonize", "no", *extra],
                         port, cwd=str(directory))


def hush_in(directory: Path, *extra: str) -> ServerProcess:
    """A Hush persisting into ``directory`` (no key limit)."""
    return start_hush("--maxkeys", "0", "--dir", str(directory), *extra)


def fill(client: redis.Redis) -> None:
    """Keys of every type and encoding, some with a TTL, in two databases."""
    client.set("int", 12345)
    client.set("str", "v" * 100, ex=1000)
    client.rpush("list", *[f"e{i}" for i in range(1000)])
    client.sadd("intset", 1, 2, 3)
    client.sadd("set", "a", "b")
    client.hset("hash", mapping={"f": "v", "g": "w"})
    client.hset("bighash", mapping={f"f{i}": i for i in range(600)})
    client.zadd("zset", {"a": 1, "b": 2.5})
    client.zadd("bigzset", {f"m{i}": i for i in range(200)})
    client.xadd("stream", {"f": "v"}, id="1-1")
    client.xadd("stream", {"f": "w"}, id="2-1")
    client.xgroup_create("stream", "g", id="0")
    client.xreadgroup("g", "alice", {"stream": ">"}, count=1)
    client.execute_command("SELECT", 5)
    client.set("five", 5)
    client.execute_command("SELECT", 0)


def contents(client: redis.Redis) -> dict:
    """Every key of databases 0 and 5: type, encoding, value as read, TTL set or not."""
    out = {}
    for db in (0, 5):
        client.execute_command("SELECT", db)
        for key in client.keys("*"):
            kind = client.type(key)
            reader = {b"string": client.get, b"list": lambda k: client.lrange(k, 0, -1),
                      b"set": lambda k: sorted(client.smembers(k)),
                      b"hash": lambda k: sorted(client.hgetall(k).items()),
                      b"zset": lambda k: client.zrange(k, 0, -1, withscores=True),
                      b"stream": lambda k: (client.xrange(k), client.xinfo_groups(k),
                                            client.xpending(k, "g"))}[kind]
            out[(db, key)] = (kind, client.object("encoding", key), reader(key),
                              client.ttl(key) > 0)
    client.execute_command("SELECT", 0)
    return out


def test_dump_files_move_both_ways(tmp_path):
    for name in ("hush", "redis", "back"):
        (tmp_path / name).mkdir()
    hush = hush_in(tmp_path / "hush")
    try:
        client = redis.Redis(port=hush.port)
        fill(client)
        expected = contents(client)
        assert client.save()
    finally:
        hush.stop()
    check = subprocess.run(["redis-check-rdb", str(tmp_path / "hush" / "dump.rdb")],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0 and "RDB looks OK" in check.stdout, check.stdout
    shutil.copy(tmp_path / "hush" / "dump.rdb", tmp_path / "redis" / "dump.rdb")
    real = redis_in(tmp_path / "redis")
    try:
        client = redis.Redis(port=real.port)
        assert contents(client) == expected
        client.set("added-by-redis", "1")
        expected = contents(client)
        assert client.save()
    finally:
        real.stop()
    shutil.copy(tmp_path / "redis" / "dump.rdb", tmp_path / "back" / "dump.rdb")
    hush = hush_in(tmp_path / "back")
    try:
        assert contents(redis.Redis(port=hush.port)) == expected
    finally:
        hush.stop()


def test_bgsave_and_lastsave(tmp_path):
    hush = hush_in(tmp_path)
    try:
        client = redis.Redis(port=hush.port)
        client.set("k", "v")
        before = client.lastsave()
        assert client.bgsave()
        deadline = 200
        while client.info("persistence")["rdb_bgsave_in_progress"] and deadline:
            deadline -= 1
            subprocess.run(["sleep", "0.05"])
        assert client.info("persistence")["rdb_last_bgsave_status"] == "ok"
        assert client.lastsave() >= before
    finally:
        hush.stop()
    assert (tmp_path / "dump.rdb").exists()


def test_an_rdb_preamble_aof_loads_in_redis_and_in_hush(tmp_path):
    for name in ("hush", "redis"):
        (tmp_path / name).mkdir()
    hush = hush_in(tmp_path / "hush", "--appendonly")
    try:
        client = redis.Redis(port=hush.port)
        fill(client)
        client.bgrewriteaof()
        for _ in range(400):
            if not client.info("persistence")["aof_rewrite_in_progress"]:
                break
            subprocess.run(["sleep", "0.05"])
        client.set("after-rewrite", "1")
        expected = contents(client)
    finally:
        hush.stop()
    aof = tmp_path / "hush" / "appendonly.aof"
    assert aof.read_bytes().startswith(b"REDIS0010")
    hush = hush_in(tmp_path / "hush", "--appendonly")
    try:
        assert contents(redis.Redis(port=hush.port)) == expected
    finally:
        hush.stop()
    # Redis 7 loads a single old-style AOF from dir (and upgrades it).
    shutil.copy(aof, tmp_path / "redis" / "appendonly.aof")
    real = redis_in(tmp_path / "redis", "--appendonly", "yes")
    try:
        assert contents(redis.Redis(port=real.port)) == expected
    finally:
        real.stop()


@pytest.fixture
def three(tmp_path):
    """Two Hush servers and a redis-server."""
    servers = [hush_in(tmp_path, "--requirepass", "secret"), hush_in(tmp_path)]
    (tmp_path / "r").mkdir()
    servers.append(redis_in(tmp_path / "r"))
    yield [redis.Redis(port=server.port, password=password)
           for server, password in zip(servers, ("secret", None, None), strict=True)]
    for server in servers:
        server.stop()


def test_migrate_in_every_direction(three):
    guarded, hush, real = three
    fill(hush)
    expected = contents(hush)
    # Hush -> redis-server, key by key and with KEYS, then back to Hush.
    keys = list(hush.keys("*"))
    assert hush.execute_command("MIGRATE", "127.0.0.1", real.connection_pool.connection_kwargs[
        "port"], "", 0, 5000, "KEYS", *keys) == b"OK"
    assert hush.keys("*") == []
    hush.execute_command("SELECT", 5)
    real_port = real.connection_pool.connection_kwargs["port"]
    assert hush.execute_command("MIGRATE", "127.0.0.1", real_port, "five", 5, 5000) == b"OK"
    hush.execute_command("SELECT", 0)
    assert contents(real) == expected
    hush_port = hush.connection_pool.connection_kwargs["port"]
    for key in real.keys("*"):
        assert real.execute_command("MIGRATE", "127.0.0.1", hush_port, key, 0, 5000,
                                    "COPY") == b"OK"
    real.execute_command("SELECT", 5)
    real.execute_command("MIGRATE", "127.0.0.1", hush_port, "five", 5, 5000)
    real.execute_command("SELECT", 0)
    assert contents(hush) == expected
    # Hush -> Hush, with AUTH, REPLACE and the errors Redis gives.
    guarded_port = guarded.connection_pool.connection_kwargs["port"]
    with pytest.raises(redis.ResponseError, match="^Target instance replied with error: NOAUTH"):
        hush.execute_command("MIGRATE", "127.0.0.1", guarded_port, "int", 0, 5000)
    assert hush.execute_command("MIGRATE", "127.0.0.1", guarded_port, "int", 0, 5000,
                                "AUTH", "secret") == b"OK"
    hush.set("int", "new")
    with pytest.raises(redis.ResponseError, match="BUSYKEY Target key name already exists"):
        hush.execute_command("MIGRATE", "127.0.0.1", guarded_port, "int", 0, 5000,
                             "AUTH2", "default", "secret")
    assert hush.execute_command("MIGRATE", "127.0.0.1", guarded_port, "int", 0, 5000,
                                "REPLACE", "AUTH", "secret") == b"OK"
    assert guarded.get("int") == b"new" and hush.get("int") is None
    assert hush.execute_command("MIGRATE", "127.0.0.1", guarded_port, "nokey", 0, 5000,
                                "AUTH", "secret") == b"NOKEY"
    with pytest.raises(redis.ResponseError, match="^IOERR error or timeout connecting"):
        hush.execute_command("MIGRATE", "127.0.0.1", free_port(), "str", 0, 1000)
    assert hush.exists("str")


def test_redis_cli_cluster_import_moves_hushs_keys_into_a_redis_cluster(tmp_path):
    """``redis-cli --cluster import`` SCANs the source and MIGRATEs each key to its node."""
    from tests.differential.redis_cluster import RedisCluster
    from tests.support import REDIS_CLI

    cluster = RedisCluster(tmp_path / "cluster", masters=3)
    (tmp_path / "cluster").mkdir()
    cluster.start()
    hush = hush_in(tmp_path)
    try:
        source = redis.Redis(port=hush.port)
        for index in range(100):
            source.set(f"k{index}", index)
        source.rpush("list", "a", "b")
        source.hset("hash", "f", "v")
        done = subprocess.run([REDIS_CLI, "--cluster", "import", f"127.0.0.1:{cluster.ports[0]}",
                               "--cluster-from", f"127.0.0.1:{hush.port}"],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout[-2000:]
        assert source.dbsize() == 0, "moved, not copied"
        nodes = [redis.Redis(port=port) for port in cluster.ports]
        assert sum(node.dbsize() for node in nodes) == 102
        # KEYS is not redirected: it finds the node holding the key's slot.
        holder = next(node for node in nodes if node.keys("list"))
        assert holder.lrange("list", 0, -1) == [b"a", b"b"]
    finally:
        hush.stop()
        cluster.stop()
