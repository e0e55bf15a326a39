"""Redis Sentinel fails a Hush master over to a Hush replica, unchanged.

One Hush master, two Hush replicas, one redis-sentinel with a quorum of one
and small timeouts. The master is killed with SIGKILL; Sentinel promotes a
replica (REPLICAOF NO ONE, CONFIG REWRITE, CLIENT KILL in a transaction),
points the other at it, and redis-py's Sentinel client finds the new master.
Every write WAIT confirmed on a replica before the kill is there after.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import redis
from redis.sentinel import Sentinel

from tests.e2e.test_replication import DEADLINE, wait_for
from tests.support import ServerProcess, free_port, start_hush

SENTINEL = shutil.which("redis-sentinel")

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(SENTINEL is None, reason="redis-sentinel is not installed")]


def hush_node(directory: Path, master_port: int | None = None) -> ServerProcess:
    """A Hush with a config file (CONFIG REWRITE keeps the role Sentinel gives it)."""
    directory.mkdir()
    port = free_port()
    lines = [f"port {port}", "bind 127.0.0.1", f"dir {directory}", "maxkeys 0",
             "repl-diskless-sync-delay 0", "repl-ping-replica-period 1"]
    if master_port is not None:
        lines.append(f"replicaof 127.0.0.1 {master_port}")
    path = directory / "hush.conf"
    path.write_text("\n".join(lines) + "\n")
    return start_hush("--config", str(path), port=port)


def start_sentinel(directory: Path, master_port: int) -> ServerProcess:
    directory.mkdir()
    port = free_port()
    path = directory / "sentinel.conf"
    path.write_text(f"port {port}\nbind 127.0.0.1\ndir {directory}\n"
                    f"logfile {directory / 'sentinel.log'}\n"
                    f"sentinel monitor hush 127.0.0.1 {master_port} 1\n"
                    "sentinel down-after-milliseconds hush 1000\n"
                    "sentinel failover-timeout hush 10000\n")
    return ServerProcess([SENTINEL, str(path)], port, cwd=str(directory))


def test_sentinel_promotes_a_hush_replica_and_loses_no_confirmed_write(tmp_path):
    master = hush_node(tmp_path / "master")
    replicas = [hush_node(tmp_path / f"replica{n}", master.port) for n in (1, 2)]
    sentinel = None
    try:
        for replica in replicas:
            client = redis.Redis(port=replica.port)
            wait_for(lambda client=client: client.info("replication")["master_link_status"]
                     == "up", "the replicas' links")
        sentinel = start_sentinel(tmp_path / "sentinel", master.port)
        watcher = redis.Redis(port=sentinel.port, decode_responses=True)
        wait_for(lambda: len(watcher.sentinel_slaves("hush")) == 2, "Sentinel finding replicas")
        client = Sentinel([("127.0.0.1", sentinel.port)], socket_timeout=2).master_for(
            "hush", socket_timeout=2)
        confirmed = []
        for n in range(30):
            client.set(f"key:{n}", n)
            if client.wait(1, 2000) >= 1:
                confirmed.append(n)
        assert len(confirmed) == 30
        master.proc.kill()
        master.proc.wait(10)

        def write_after_failover() -> bool:
            try:
                return bool(client.set("after", "failover"))
            except (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError):
                return False

        wait_for(write_after_failover, "a write to the new master", timeout=2 * DEADLINE)
        host, port = watcher.sentinel_get_master_addr_by_name("hush")
        promoted = next(r for r in replicas if r.port == int(port))
        other = next(r for r in replicas if r is not promoted)
        new = redis.Redis(port=promoted.port)
        assert new.info("replication")["role"] == "master"
        assert new.mget([f"key:{n}" for n in confirmed]) == [str(n).encode() for n in confirmed]
        assert new.get("after") == b"failover"
        # The other replica follows the new master, and CONFIG REWRITE kept the roles.
        follower = redis.Redis(port=other.port)
        wait_for(lambda: follower.get("after") == b"failover", "the other replica following")
        assert f"replicaof 127.0.0.1 {promoted.port}" in config_of(tmp_path, replicas, other)
        assert "replicaof" not in config_of(tmp_path, replicas, promoted)
        log = (tmp_path / "sentinel" / "sentinel.log").read_text()
        assert "+switch-master hush" in log and "+failover-end" in log
        for problem in ("-failover-abort", "-odown", "+sdown slave"):
            assert problem not in log.split("+switch-master")[0], log
    finally:
        if sentinel is not None:
            sentinel.stop()
        for replica in replicas:
            replica.stop()
        master.stop()


def config_of(tmp_path: Path, replicas: list[ServerProcess], node: ServerProcess) -> str:
    """The config file of one of the replicas, as CONFIG REWRITE left it."""
    return (tmp_path / f"replica{replicas.index(node) + 1}" / "hush.conf").read_text()
