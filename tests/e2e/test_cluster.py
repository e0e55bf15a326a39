"""Three Hush processes serving one Redis Cluster, driven by real cluster clients.

Each node runs the command line of contrib/systemd/hush@.service (with this
environment's ``hush``, a free port and a temporary state directory) on
contrib/cluster/cluster.conf, from contrib/cluster/nodes-700X.conf with the
ports made free ones: what docs/scaling-out.rst's "Cluster mode" section shows.
``redis-cli --cluster check`` must find the cluster whole; redis-py's
``RedisCluster`` spreads thousands of keys over the nodes, keeps hash-tagged
keys together, runs pipelines and a script on one slot, and meets CROSSSLOT;
``redis-cli --cluster reshard`` moves a slot range from one node to another
(CLUSTER SETSLOT, MIGRATE ... KEYS sent on as RESTORE-ASKING, SETSLOT NODE on
every node) while client threads keep writing and reading through the
redirections, and nothing is lost; a restarted node comes back with the new
map and its data.
"""

from __future__ import annotations

import random
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
from redis.cluster import RedisCluster
from redis.exceptions import ClusterCrossSlotError, MovedError

from hush.formats import nodes_conf
from hush.formats.keyslot import key_slot
from tests.differential.redis_cluster import free_cluster_port
from tests.support import REDIS_CLI, REPO, ServerProcess, checkout_env

pytestmark = pytest.mark.e2e

CONTRIB = REPO / "contrib"
TEMPLATE_PORTS = (7000, 7001, 7002)
KEYS = 3000
#: The slots moved from the first node to the second while clients work.
MOVED = range(0, 400)


def unit_exec_start() -> list[str]:
    """The ExecStart= command line of the template unit."""
    lines = [line for line in (CONTRIB / "systemd" / "hush@.service").read_text().splitlines()
             if line.startswith("ExecStart=")]
    assert len(lines) == 1
    return shlex.split(lines[0].split("=", 1)[1])


def hush_command() -> list[str]:
    script = Path(sys.executable).with_name("hush")
    return [str(script)] if script.exists() else [sys.executable, "-m", "hush"]


class HushCluster:
    """Three nodes on free ports, each in a directory of its own."""

    def __init__(self, root: Path) -> None:
        self.root = root
        taken: set[int] = set()
        self.ports: list[int] = []
        for _ in TEMPLATE_PORTS:
            port = free_cluster_port(taken)
            taken.add(port)
            self.ports.append(port)
        self.ids = [f"{port:040d}".encode() for port in TEMPLATE_PORTS]
        self.dirs = [root / str(port) for port in self.ports]
        self.processes: list[ServerProcess | None] = [None] * len(self.ports)
        for index, directory in enumerate(self.dirs):
            directory.mkdir()
            text = (CONTRIB / "cluster" / f"nodes-{TEMPLATE_PORTS[index]}.conf").read_text()
            for template, port in zip(TEMPLATE_PORTS, self.ports, strict=True):
                text = text.replace(f":{template}@{template + 10000}", f":{port}@{port + 10000}")
            (directory / "nodes.conf").write_text(text)

    def argv(self, index: int) -> list[str]:
        port = str(self.ports[index])
        argv = [arg.replace("%i", port) for arg in unit_exec_start()]
        argv[argv.index("--dir") + 1] = str(self.dirs[index])
        argv[argv.index("--config") + 1] = str(CONTRIB / "cluster" / "cluster.conf")
        return [*hush_command(), *argv[1:]]

    def start(self, index: int) -> None:
        self.processes[index] = ServerProcess(self.argv(index), self.ports[index],
                                              env=checkout_env(), cwd=str(self.dirs[index]))

    def stop(self, index: int) -> None:
        process = self.processes[index]
        if process is not None:
            process.stop()
            self.processes[index] = None

    def node(self, index: int) -> redis.Redis:
        return redis.Redis(port=self.ports[index], socket_timeout=30)

    def client(self) -> RedisCluster:
        return RedisCluster(host="127.0.0.1", port=self.ports[0], socket_timeout=30)

    def index_of_owner(self, key: bytes) -> int:
        """The node serving ``key``'s slot, by the first node's map."""
        config = nodes_conf.parse(self.node(0).execute_command("CLUSTER", "NODES"))
        return self.ids.index(config.slots[key_slot(key)])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    nodes = HushCluster(tmp_path_factory.mktemp("hush-cluster"))
    try:
        for index in range(len(nodes.ports)):
            nodes.start(index)
        yield nodes
    finally:
        for index in range(len(nodes.ports)):
            nodes.stop(index)


def cluster_check(nodes: HushCluster) -> str:
    if REDIS_CLI is None:
        pytest.skip("redis-cli is not installed (apt-get install redis-tools)")
    result = subprocess.run([REDIS_CLI, "--cluster", "check", f"127.0.0.1:{nodes.ports[1]}"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_redis_cli_finds_the_cluster_whole(cluster):
    report = cluster_check(cluster)
    assert "[OK] All nodes agree about slots configuration." in report
    assert "[OK] All 16384 slots covered." in report
    for node_id, port in zip(cluster.ids, cluster.ports, strict=True):
        assert f"M: {node_id.decode()} 127.0.0.1:{port}" in report
    assert "5461 slots" in report and "5462 slots" in report


def test_thousands_of_keys_spread_over_the_nodes(cluster):
    rc = cluster.client()
    for number in range(KEYS):
        rc.set(f"key:{number}", number)
    assert all(rc.get(f"key:{number}") == str(number).encode() for number in range(KEYS))
    sizes = [cluster.node(index).dbsize() for index in range(3)]
    assert sum(sizes) == KEYS and min(sizes) > KEYS // 4, sizes
    for index in range(3):
        counts = cluster.node(index).execute_command("CLUSTER", "COUNTKEYSINSLOT", 0)
        assert counts == (sum(1 for n in range(KEYS) if key_slot(b"key:%d" % n) == 0)
                          if index == 0 else 0)
    rc.close()


def test_hash_tags_pipelines_a_script_and_crossslot(cluster):
    rc = cluster.client()
    tagged = [f"{{user:42}}:{field}" for field in ("name", "mail", "visits")]
    for key in tagged:
        rc.set(key, "x")
    owner = cluster.index_of_owner(b"user:42")
    node = cluster.node(owner)
    assert node.mget(tagged) == [b"x"] * 3
    pipe = rc.pipeline()
    for number in range(200):
        pipe.set(f"piped:{number}", number)
        pipe.incr(f"piped-counter:{number % 7}")
    pipe.get("piped:199")
    results = pipe.execute()
    assert results[-1] == b"199" and len(results) == 401
    assert rc.get("piped-counter:0") == b"29"
    script = rc.register_script(
        "local n = redis.call('incr', KEYS[1]) redis.call('set', KEYS[2], n) return n")
    assert script(keys=["{user:42}:visits-n", "{user:42}:last"]) == 1
    assert node.get("{user:42}:last") == b"1"
    # Keys of two slots in one command: the node refuses, whichever it is.
    # (redis-py turns -CROSSSLOT and -MOVED into exceptions of their own.)
    with pytest.raises(ClusterCrossSlotError, match="^Keys in request don't hash to the same"):
        node.mset({"{user:42}:a": 1, "{user:43}:a": 1})
    with pytest.raises(ClusterCrossSlotError):
        node.eval("return 1", 2, "{user:42}:a", "{user:43}:a")
    other = cluster.node((owner + 1) % 3)
    with pytest.raises(MovedError, match=r"^\d+ 127\.0\.0\.1:%d$" % cluster.ports[owner]):
        other.get(tagged[0])
    rc.close()


# -- moving slots while clients work ----------------------------------------------------------


def reshard(nodes: HushCluster, source: int, target: int, count: int) -> str:
    """``redis-cli --cluster reshard``: ``count`` slots from one node to another.

    For each slot redis-cli sends CLUSTER SETSLOT IMPORTING to the target and
    MIGRATING to the source, then CLUSTER GETKEYSINSLOT and MIGRATE ... KEYS
    (which the source sends on as RESTORE-ASKING) until the slot is empty,
    then SETSLOT NODE to the target, the source and every other master.
    """
    if REDIS_CLI is None:
        pytest.skip("redis-cli is not installed (apt-get install redis-tools)")
    result = subprocess.run(
        [REDIS_CLI, "--cluster", "reshard", f"127.0.0.1:{nodes.ports[source]}",
         "--cluster-from", nodes.ids[source].decode(), "--cluster-to", nodes.ids[target].decode(),
         "--cluster-slots", str(count), "--cluster-yes"],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    return result.stdout


class Worker(threading.Thread):
    """A client writing its own keys and counters through the cluster, then reading others'."""

    def __init__(self, nodes: HushCluster, number: int, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.nodes, self.number, self.stop = nodes, number, stop
        self.last: dict[str, bytes] = {}
        self.increments: dict[str, int] = {}
        self.misses: list[str] = []
        self.errors: list[BaseException] = []

    def run(self) -> None:
        rng = random.Random(self.number)
        rc = self.nodes.client()
        try:
            step = 0
            while not self.stop.is_set():
                step += 1
                # Every fourth key of the test's own, so workers never race.
                key = f"key:{rng.randrange(self.number, KEYS, 4)}"
                value = f"{self.number}:{step}".encode()
                rc.set(key, value)
                self.last[key] = value
                counter = f"counter:{self.number}:{step % 30}"
                rc.incr(counter)
                self.increments[counter] = self.increments.get(counter, 0) + 1
                read = f"key:{rng.randrange(KEYS)}"
                if rc.get(read) is None:
                    self.misses.append(read)
        except BaseException as error:  # noqa: BLE001 -- reported by the test
            self.errors.append(error)
        finally:
            rc.close()


def test_a_slot_range_moves_while_clients_read_and_write(cluster):
    rc = cluster.client()
    for number in range(KEYS):
        rc.set(f"key:{number}", number)
    expected = {f"key:{number}": str(number).encode() for number in range(KEYS)}
    moving = [key for key in expected if key_slot(key.encode()) in MOVED]
    assert len(moving) > 30
    stop = threading.Event()
    workers = [Worker(cluster, number, stop) for number in range(4)]
    for worker in workers:
        worker.start()
    try:
        time.sleep(0.2)
        report = reshard(cluster, 0, 1, len(MOVED))
        time.sleep(0.2)
    finally:
        stop.set()
        for worker in workers:
            worker.join(60)
    # redis-cli takes the source's lowest slots, in order.
    assert f"Moving slot {MOVED[0]} from 127.0.0.1:{cluster.ports[0]}" in report
    assert f"Moving slot {MOVED[-1]} from" in report and f"Moving slot {MOVED[-1] + 1} " not in report
    for worker in workers:
        assert not worker.errors, worker.errors
        assert worker.increments, "the worker wrote nothing"
        assert not worker.misses, worker.misses[:10]
        expected.update(worker.last)
    # Nothing lost: every key holds its last write, every counter every increment.
    fresh = cluster.client()
    assert [fresh.get(key) for key in expected] == list(expected.values())
    for worker in workers:
        for counter, count in worker.increments.items():
            assert fresh.get(counter) == str(count).encode(), counter
    # The moved keys live on the second node now, and every node knows it.
    first, second = cluster.node(0), cluster.node(1)
    for slot in MOVED:
        assert first.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 0
    assert all(second.exists(key) for key in moving)
    report = cluster_check(cluster)
    assert "[OK] All nodes agree about slots configuration." in report
    assert "[OK] All 16384 slots covered." in report
    for index in range(3):
        config = nodes_conf.parse((cluster.dirs[index] / "nodes.conf").read_bytes())
        assert {config.slots[slot] for slot in MOVED} == {cluster.ids[1]}
        assert not config.migrating and not config.importing
    rc.close()
    fresh.close()


def test_a_restarted_node_keeps_the_map_and_its_data(cluster):
    rc = cluster.client()
    rc.set("survivor", "yes")
    owner = cluster.index_of_owner(b"survivor")
    before = cluster.node(owner).execute_command("CLUSTER", "NODES")
    cluster.stop(owner)
    cluster.start(owner)
    node = cluster.node(owner)
    assert node.get("survivor") == b"yes"
    after = node.execute_command("CLUSTER", "NODES")
    assert nodes_conf.parse(after).slots == nodes_conf.parse(before).slots
    assert b"cluster_state:ok" in node.execute_command("CLUSTER", "INFO")
    cluster_check(cluster)
    rc.close()
