"""A real Redis Cluster of redis-server processes, for tests that compare with it.

:class:`RedisCluster` starts N masters (and R replicas each) in cluster mode
in a directory of its own, on ports whose bus port (port + 10000) is free
too, joins them with ``redis-cli --cluster create``, waits until every node
sees the same healthy cluster, and stops every process by its PID.
"""

from __future__ import annotations

import random
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import hiredis

from tests.differential.harness import RawConnection
from tests.support import REDIS_CLI, REDIS_SERVER, ServerProcess

BUS_PORT_INCR = 10000
#: Never touch a shared Redis (6379) or its bus port.
RESERVED_PORTS = {6379, 16379}


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_cluster_port(taken: set[int] | frozenset[int] = frozenset()) -> int:
    """A loopback port that is free, and whose cluster bus port (port + 10000) is free too."""
    for _ in range(500):
        # Below the kernel's ephemeral range, so port + 10000 stays a valid port.
        port = random.randrange(20000, 30000)
        candidates = {port, port + BUS_PORT_INCR}
        if candidates & (RESERVED_PORTS | set(taken)):
            continue
        if all(_bindable(candidate) for candidate in candidates):
            return port
    raise RuntimeError("no free port pair for a cluster node")


def call(port: int, *args: bytes | str | int) -> bytes:
    """One command on a fresh connection; the raw reply bytes."""
    conn = RawConnection(port)
    try:
        return conn.call(*args)
    finally:
        conn.close()


def value(raw: bytes):
    """A raw RESP reply parsed (hiredis; errors come back as ReplyError)."""
    reader = hiredis.Reader()
    reader.feed(raw)
    return reader.gets()


class RedisCluster:
    """``masters`` x (1 + ``replicas``) redis-server processes joined in one cluster.

    ``hostnames`` maps a node's index (in ``ports``) to its
    ``cluster-announce-hostname``. ``stop()`` ends every process it started.
    """

    def __init__(self, directory: Path, masters: int = 3, replicas: int = 0,
                 hostnames: dict[int, str] | None = None) -> None:
        self.directory = directory
        self.masters = masters
        self.replicas = replicas
        self.hostnames = hostnames or {}
        self.ports: list[int] = []
        self.processes: list[ServerProcess] = []

    def start(self) -> None:
        """Start the nodes and create the cluster; waits until it is settled."""
        try:
            for index in range(self.masters * (1 + self.replicas)):
                port = free_cluster_port(set(self.ports))
                self.ports.append(port)
                self.processes.append(ServerProcess(self._argv(index, port), port))
            subprocess.run(
                [REDIS_CLI, "--cluster", "create",
                 *(f"127.0.0.1:{port}" for port in self.ports),
                 "--cluster-replicas", str(self.replicas), "--cluster-yes"],
                check=True, capture_output=True, timeout=120)
            self.wait_until(self._settled, "the cluster to settle")
        except BaseException:
            self.stop()
            raise

    def _argv(self, index: int, port: int) -> list[str]:
        argv = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1",
                "--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{port}.conf",
                "--dir", str(self.directory), "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--protected-mode", "no",
                # Replicas sync at once instead of after the default 5 s wait, and
                # their offset (0 reads as "loading") moves within a second, not ten.
                "--repl-diskless-sync-delay", "0", "--repl-ping-replica-period", "1"]
        if index in self.hostnames:
            argv += ["--cluster-announce-hostname", self.hostnames[index]]
        return argv

    def stop(self) -> None:
        """Stop every node (by PID)."""
        for process in self.processes:
            process.stop()

    def nodes_conf(self, port: int) -> bytes:
        """The node's nodes.conf as it is on disk now."""
        return (self.directory / f"nodes-{port}.conf").read_bytes()

    def _settled(self) -> bool:
        """Every node knows every node, links up, roles, hostnames and replica offsets gossiped."""
        total = len(self.ports)
        for port in self.ports:
            info = value(call(port, "CLUSTER", "INFO"))
            if b"cluster_state:ok" not in info or b"cluster_known_nodes:%d" % total not in info:
                return False
            lines = value(call(port, "CLUSTER", "NODES")).splitlines()
            if len(lines) != total or any(
                    b" connected" not in line or b"fail" in line or b"handshake" in line
                    for line in lines):
                return False
            fields = [line.split() for line in lines]
            if sum(b"," in address for _, address, *_ in fields) != len(self.hostnames):
                return False
            # Every node must have heard which nodes became replicas.
            if sum(b"slave" in flags for _, _, flags, *_ in fields) != self.masters * self.replicas:
                return False
            shards = value(call(port, "CLUSTER", "SHARDS"))
            for shard in shards:
                for node in shard[3]:
                    details = dict(zip(node[::2], node[1::2], strict=True))
                    if details[b"health"] != b"online":
                        return False
        return True

    def wait_until(self, condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
        """Poll ``condition`` until it holds; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}")
