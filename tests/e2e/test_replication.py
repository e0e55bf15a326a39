"""Replication with real processes: redis-server replicas of Hush, Hush replicas of
redis-server, partial resyncs through a proxy that drops the link."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.support import REDIS_CLI, REDIS_SERVER, ServerProcess, free_port, start_hush

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


# -- Hush replicas of redis-server ----------------------------------------------------------


def redis_master(directory: Path, *extra: str) -> ServerProcess:
    """A redis-server in ``directory`` whose diskless syncs start at once."""
    port = free_port()
    return ServerProcess([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1",
                          "--save", "", "--dir", str(directory), "--daemonize", "no",
                          "--repl-diskless-sync-delay", "0", *extra],
                         port, cwd=str(directory))


def hush_with_config(directory: Path, text: str) -> ServerProcess:
    """A Hush started with ``--config`` holding ``text`` (and no key limit)."""
    path = directory / "hush.conf"
    path.write_text(f"maxkeys 0\ndir {directory}\n{text}")
    return start_hush("--config", str(path))


def test_hush_replica_of_redis(tmp_path):
    """replicaof in the config file: the snapshot, every kind of write, the master's DELs."""
    master_dir, replica_dir = tmp_path / "master", tmp_path / "replica"
    master_dir.mkdir()
    replica_dir.mkdir()
    source = redis_master(master_dir, "--enable-debug-command", "yes")
    hush = None
    try:
        m = redis.Redis(port=source.port)
        fill(m)
        hush = hush_with_config(replica_dir, f"replicaof 127.0.0.1 {source.port}\n")
        r = redis.Redis(port=hush.port)
        wait_for(lambda: link_up(r), "the replica's link")
        # The master expires nothing by itself from now on: only its reads do.
        m.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        more_writes(m)
        m.set("stale", "x", px=100)
        wait_for(lambda: in_step(m, r), "the replica catching up")
        assert m.dbsize() == r.dbsize()
        assert contents(m) == contents(r)
        # Past its deadline a key is gone for the replica's readers, but only the
        # master's DEL removes it.
        wait_for(lambda: r.get("stale") is None, "the key's deadline")
        assert r.exists("stale") == 0 and b"stale" not in r.keys("*")
        count = r.dbsize()
        assert m.get("stale") is None
        wait_for(lambda: r.dbsize() == count - 1, "the master's DEL")
        with pytest.raises(redis.ResponseError, match="^You can't write against a read only"):
            r.set("k", "v")
        # The replica acknowledges what it applied, every second.
        offset = m.info("replication")["master_repl_offset"]
        wait_for(lambda: m.info("replication")["slave0"]["offset"] == offset, "an ACK")
        assert m.info("replication")["slave0"]["state"] == "online"
    finally:
        if hush is not None:
            hush.stop()
        source.stop()


def test_moving_a_live_redis_to_hush(tmp_path):
    """Writes keep flowing to redis-server while Hush catches up; then REPLICAOF NO ONE."""
    import threading

    master_dir, replica_dir = tmp_path / "master", tmp_path / "replica"
    master_dir.mkdir()
    replica_dir.mkdir()
    source = redis_master(master_dir)
    hush = start_hush("--maxkeys", "0", "--dir", str(replica_dir))
    stop = threading.Event()
    written = []

    def writer() -> None:
        client = redis.Redis(port=source.port)
        n = 0
        while not stop.is_set():
            n += 1
            client.pipeline(transaction=False).incr("counter").rpush("log", n).set(
                f"key:{n}", n).execute()
            written.append(n)
        client.close()

    try:
        m = redis.Redis(port=source.port)
        m.mset({f"old:{i}": i for i in range(2000)})
        thread = threading.Thread(target=writer)
        thread.start()
        wait_for(lambda: len(written) > 50, "writes before the move")
        r = redis.Redis(port=hush.port)
        assert r.replicaof("127.0.0.1", source.port)
        wait_for(lambda: link_up(r), "the replica's link")
        wait_for(lambda: len(written) > 300, "writes during the move")
        stop.set()
        thread.join()
        wait_for(lambda: in_step(m, r), "the replica catching up")
        assert r.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
        assert r.info("replication")["role"] == "master"
        assert int(r.get("counter")) == len(written)
        assert r.llen("log") == len(written)
        assert r.dbsize() == m.dbsize()
        assert r.mget([f"old:{i}" for i in range(0, 2000, 100)]) == [
            str(i).encode() for i in range(0, 2000, 100)]
        # A master again: it takes writes, and its old master's are no longer applied.
        assert r.set("after", "move")
        m.set("late", "write")
        time.sleep(0.3)
        assert r.get("late") is None
    finally:
        stop.set()
        hush.stop()
        source.stop()


def test_a_replica_without_its_master_and_stale_data_off(tmp_path):
    """replica-serve-stale-data no: MASTERDOWN for data commands; CONFIG REWRITE keeps
    replicaof."""
    port = free_port()
    hush = hush_with_config(tmp_path, f"replicaof 127.0.0.1 {port}\n"
                                      "replica-serve-stale-data no\n")
    try:
        r = redis.Redis(port=hush.port)
        with pytest.raises(redis.ResponseError, match="^Link with MASTER is down"):
            r.get("k")
        info = r.info("replication")
        assert info["role"] == "slave" and info["master_link_status"] == "down"
        assert info["master_port"] == port
        assert r.execute_command("ROLE")[:3] == [b"slave", b"127.0.0.1", port]
        r.config_rewrite()
        assert f"replicaof 127.0.0.1 {port}" in (tmp_path / "hush.conf").read_text()
        assert r.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
        assert r.get("k") is None
        r.config_rewrite()
        assert "replicaof" not in (tmp_path / "hush.conf").read_text()
    finally:
        hush.stop()


# -- partial resynchronization ------------------------------------------------------------


class Proxy:
    """A TCP proxy to ``target`` whose links the test drops, and that may turn callers away."""

    def __init__(self, target: int) -> None:
        import socket
        import threading

        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = True
        self.sockets: list[Any] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket
        import threading

        while True:
            try:
                client, _address = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            try:
                server = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: Any, sink: Any) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            try:
                end.close()
            except OSError:
                pass

    def drop(self) -> None:
        """Cut every link now (both ends see their connection close)."""
        import socket

        with self.lock:
            ends, self.sockets = self.sockets, []
        for end in ends:
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            end.close()

    def close(self) -> None:
        self.drop()
        self.listener.close()


def stats(client: redis.Redis) -> dict:
    return client.info("stats")


def test_a_redis_replica_continues_after_a_short_drop_and_syncs_again_after_a_long_one(
        tmp_path):
    master_dir, replica_dir = tmp_path / "master", tmp_path / "replica"
    master_dir.mkdir()
    replica_dir.mkdir()
    hush = hush_master(master_dir, ("repl-backlog-size", "16384"))
    proxy = Proxy(hush.port)
    replica = None
    try:
        m = redis.Redis(port=hush.port)
        m.set("before", "1")
        replica = redis_replica(replica_dir, proxy.port)
        r = redis.Redis(port=replica.port)
        wait_for(lambda: link_up(r), "the replica's link")
        # Short: a few writes while the link is down stay in the backlog.
        proxy.open = False
        proxy.drop()
        wait_for(lambda: not link_up(r), "the replica noticing the drop")
        m.set("during", "short")
        proxy.open = True
        wait_for(lambda: in_step(m, r), "the replica catching up")
        assert r.get("during") == b"short"
        assert stats(m)["sync_partial_ok"] == 1 and stats(m)["sync_full"] == 1
        # Long: more than the backlog holds is written while it is away.
        proxy.open = False
        proxy.drop()
        wait_for(lambda: not link_up(r), "the replica noticing the drop")
        for i in range(40):
            m.set(f"long:{i}", "x" * 1000)
        proxy.open = True
        wait_for(lambda: in_step(m, r), "the replica catching up")
        assert stats(m)["sync_full"] == 2 and stats(m)["sync_partial_err"] == 1
        assert r.dbsize() == m.dbsize() == 42
        log = replica.output()
        assert "Successful partial resynchronization with master." in log
    finally:
        proxy.close()
        if replica is not None:
            replica.stop()
        hush.stop()


def test_a_hush_replica_continues_with_its_redis_master_after_a_drop(tmp_path):
    source = redis_master(tmp_path)
    proxy = Proxy(source.port)
    hush = None
    try:
        m = redis.Redis(port=source.port)
        m.rpush("queue", "a")
        hush = hush_with_config(tmp_path, f"replicaof 127.0.0.1 {proxy.port}\n")
        r = redis.Redis(port=hush.port)
        wait_for(lambda: link_up(r), "the replica's link")
        proxy.open = False
        proxy.drop()
        wait_for(lambda: not link_up(r), "the replica noticing the drop")
        m.rpush("queue", "b")
        proxy.open = True
        wait_for(lambda: in_step(m, r), "the replica catching up")
        assert r.lrange("queue", 0, -1) == [b"a", b"b"]
        assert stats(m)["sync_partial_ok"] == 1 and stats(m)["sync_full"] == 1
    finally:
        proxy.close()
        if hush is not None:
            hush.stop()
        source.stop()


def test_after_a_promotion_the_other_replicas_continue_with_the_new_master(tmp_path):
    """PSYNC2: the promoted replica accepts its old master's id up to the switch."""
    source = redis_master(tmp_path)
    promoted = other = redis_other = None
    try:
        m = redis.Redis(port=source.port)
        m.set("k", "1")
        for name in "abc":
            (tmp_path / name).mkdir()
        promoted = hush_with_config(tmp_path / "a", f"replicaof 127.0.0.1 {source.port}\n")
        other = hush_with_config(tmp_path / "b", f"replicaof 127.0.0.1 {source.port}\n")
        redis_other = redis_replica(tmp_path / "c", source.port)
        replicas = [redis.Redis(port=p.port) for p in (promoted, other, redis_other)]
        m.set("k", "2")
        for replica in replicas:
            wait_for(lambda replica=replica: in_step(m, replica), "the replicas catching up")
        source.stop()
        a, b, c = replicas
        assert a.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
        assert b.replicaof("127.0.0.1", promoted.port)
        assert c.replicaof("127.0.0.1", promoted.port)
        a.set("k", "3")
        for replica in (b, c):
            wait_for(lambda replica=replica: in_step(a, replica), "the new master's replicas")
            assert replica.get("k") == b"3"
        info = stats(a)
        assert info["sync_partial_ok"] == 2 and info["sync_full"] == 0
    finally:
        for server in (redis_other, other, promoted):
            if server is not None:
                server.stop()
        source.stop()


# -- backups with redis-cli --rdb ------------------------------------------------------------


@pytest.mark.skipif(shutil.which("redis-check-rdb") is None or REDIS_CLI is None,
                    reason="redis-tools are not installed")
def test_redis_cli_rdb_takes_a_backup_redis_check_rdb_accepts(tmp_path):
    hush = hush_master(tmp_path)
    try:
        m = redis.Redis(port=hush.port)
        fill(m)
        backup = tmp_path / "backup.rdb"
        done = subprocess.run([REDIS_CLI, "-p", str(hush.port), "--rdb", str(backup)],
                              capture_output=True, text=True, timeout=DEADLINE, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Transfer finished with success" in done.stdout + done.stderr
        check = subprocess.run(["redis-check-rdb", str(backup)], capture_output=True,
                               text=True, timeout=DEADLINE, check=False)
        assert check.returncode == 0, check.stdout
        assert f"{m.dbsize() + 1} keys read" in check.stdout
        # An RDB-only client is no replica once it has its file.
        wait_for(lambda: m.info("replication")["connected_slaves"] == 0, "the client leaving")
    finally:
        hush.stop()


def test_a_hush_replica_passes_its_masters_stream_on_to_its_own_replica(tmp_path):
    """Chained: redis-server -> Hush -> redis-server, one history and one offset."""
    for name in ("top", "middle", "bottom"):
        (tmp_path / name).mkdir()
    top = redis_master(tmp_path / "top")
    middle = bottom = None
    try:
        t = redis.Redis(port=top.port)
        t.set("a", "1")
        middle = hush_with_config(tmp_path / "middle", f"replicaof 127.0.0.1 {top.port}\n"
                                                        "repl-diskless-sync-delay 0\n")
        m = redis.Redis(port=middle.port)
        wait_for(lambda: link_up(m), "the middle link")
        bottom = redis_replica(tmp_path / "bottom", middle.port)
        b = redis.Redis(port=bottom.port)
        wait_for(lambda: link_up(b), "the bottom link")
        t.rpush("l", "x", "y")
        t.incr("a")
        wait_for(lambda: in_step(t, b), "the bottom replica catching up")
        assert b.lrange("l", 0, -1) == [b"x", b"y"] and b.get("a") == b"2"
        assert (b.info("replication")["master_replid"] == m.info("replication")["master_replid"]
                == t.info("replication")["master_replid"])
    finally:
        for server in (bottom, middle):
            if server is not None:
                server.stop()
        top.stop()


def test_replicas_authenticate_with_masterauth_both_ways(tmp_path):
    for name in ("hush-master", "redis-replica", "redis-master", "hush-replica"):
        (tmp_path / name).mkdir()
    hush = hush_with_config(tmp_path / "hush-master", "requirepass secret\n"
                                                       "repl-diskless-sync-delay 0\n")
    source = redis_master(tmp_path / "redis-master", "--requirepass", "secret")
    replica = follower = None
    try:
        redis.Redis(port=hush.port, password="secret").set("from", "hush")
        redis.Redis(port=source.port, password="secret").set("from", "redis")
        replica = redis_replica(tmp_path / "redis-replica", hush.port, "--masterauth", "secret")
        follower = hush_with_config(tmp_path / "hush-replica",
                                    f"replicaof 127.0.0.1 {source.port}\nmasterauth secret\n")
        for port, expected in ((replica.port, b"hush"), (follower.port, b"redis")):
            client = redis.Redis(port=port)
            wait_for(lambda client=client: link_up(client), "a replica's link")
            assert client.get("from") == expected
    finally:
        for server in (follower, replica):
            if server is not None:
                server.stop()
        source.stop()
        hush.stop()
