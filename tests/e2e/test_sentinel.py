"""Redis Sentinel fails a Hush master over to a Hush replica, unchanged.

One Hush master, two Hush replicas, one redis-sentinel with a quorum of one
and small timeouts. The master is killed with SIGKILL; Sentinel promotes a
replica (REPLICAOF NO ONE, CONFIG REWRITE, CLIENT KILL in a transaction),
points the other at it, and redis-py's Sentinel client finds the new master.
Every write WAIT confirmed on a replica before the kill is there after.
"""

from __future__ import annotations

import re
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


CONTRIB = Path(__file__).resolve().parents[2] / "contrib" / "sentinel"


def from_contrib(name: str, directory: Path, ports: dict[int, int]) -> Path:
    """contrib/sentinel/``name`` for this test: its ports and directory replaced."""
    text = re.sub(r"\b(6380|6381|6382|26379)\b",
                  lambda match: str(ports[int(match.group(1))]), (CONTRIB / name).read_text())
    text = "\n".join(f"dir {directory}" if line.startswith("dir ") else line
                     for line in text.splitlines()) + "\n"
    directory.mkdir()
    path = directory / name
    path.write_text(text)
    return path


def hush_node(directory: Path, name: str, ports: dict[int, int], port: int) -> ServerProcess:
    """A Hush started with one of contrib/sentinel's config files (Sentinel rewrites it)."""
    return start_hush("--config", str(from_contrib(name, directory, ports)), port=port)


def start_sentinel(directory: Path, ports: dict[int, int]) -> ServerProcess:
    """contrib/sentinel/sentinel.conf, with small timeouts and a log file."""
    path = from_contrib("sentinel.conf", directory, ports)
    text = path.read_text().replace("down-after-milliseconds hush 5000",
                                    "down-after-milliseconds hush 1000")
    path.write_text(text + f"logfile {directory / 'sentinel.log'}\n")
    return ServerProcess([SENTINEL, str(path)], ports[26379], cwd=str(directory))


def test_sentinel_promotes_a_hush_replica_and_loses_no_confirmed_write(tmp_path):
    ports = {contrib: free_port() for contrib in (6380, 6381, 6382, 26379)}
    master = hush_node(tmp_path / "master", "master.conf", ports, ports[6380])
    replicas = [hush_node(tmp_path / f"replica{n}", "replica.conf",
                          {**ports, 6381: ports[6380 + n]}, ports[6380 + n]) for n in (1, 2)]
    sentinel = None
    try:
        for replica in replicas:
            client = redis.Redis(port=replica.port)
            wait_for(lambda client=client: client.info("replication")["master_link_status"]
                     == "up", "the replicas' links")
        sentinel = start_sentinel(tmp_path / "sentinel", ports)
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
        assert f"\nreplicaof 127.0.0.1 {promoted.port}\n" in config_of(tmp_path, replicas, other)
        assert "\nreplicaof " not in config_of(tmp_path, replicas, promoted)
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
    return (tmp_path / f"replica{replicas.index(node) + 1}" / "replica.conf").read_text()
