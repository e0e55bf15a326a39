"""Cluster mode through fake connections: routing, the client flags, the map's changes.

The replies themselves are compared with a real Redis node in
tests/differential/test_cluster.py; these tests pin what a differential test
cannot see or time: what outside cluster mode costs, the file written
before the reply, clients blocked on a slot that leaves at once, the AOF
loader never redirected, the startup lines and failures.
"""

from __future__ import annotations

import hiredis
import pytest

from hush.commands import routing
from hush.commands.table import COMMANDS
from hush.formats import nodes_conf
from hush.formats.keyslot import key_slot
from hush.persistence import loader
from hush.server.startup import StartupFailure, StartupLog
from hush.tap import Options, makeService
from tests.support import FakeServer, error_of, send

A, B, C = b"a" * 40, b"b" * 40, b"c" * 40

THREE = b"""\
%(A)s 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460
%(B)s 127.0.0.1:7001@17001 master - 0 0 2 connected 5461-10922
%(C)s 127.0.0.1:7002@17002 master - 0 0 3 connected 10923-16383
vars currentEpoch 3 lastVoteEpoch 0
""" % {b"A": A, b"B": B, b"C": C}


def key_in(first: int, last: int, prefix: str = "k") -> str:
    return next(f"{prefix}{n}" for n in range(10 ** 5)
                if first <= key_slot(f"{prefix}{n}".encode()) <= last)


MINE, THEIRS = key_in(0, 5460), key_in(5461, 10922)
MINE_SLOT, THEIRS_SLOT = key_slot(MINE.encode()), key_slot(THEIRS.encode())


@pytest.fixture
def node(tmp_path):
    """A FakeServer in cluster mode: node A of THREE, serving 0-5460."""
    (tmp_path / "nodes.conf").write_bytes(THREE)
    server = FakeServer(cluster_enabled=True, dir=str(tmp_path), port=7000, maxkeys=0)
    yield server
    server.service.cluster.close()


@pytest.fixture
def conn(node):
    return node.client()


def saved(node) -> nodes_conf.ClusterConfig:
    return nodes_conf.parse(open(node.service.cluster.path, "rb").read())


# -- what it costs ---------------------------------------------------------------------------


def test_outside_cluster_mode_commands_take_the_fast_path(client):
    session = client.protocol.session
    assert session.cluster is None and not session._gated
    assert client.call("SET", "k", "v") == b"OK"
    assert not session._gated


def test_in_cluster_mode_every_client_passes_the_gate(node, conn):
    assert conn.protocol.session._gated
    assert conn.protocol.session.cluster is node.service.cluster


def test_the_short_way_is_taken_only_when_routing_is_the_only_gate(tmp_path):
    (tmp_path / "nodes.conf").write_bytes(THREE)
    node = FakeServer(cluster_enabled=True, dir=str(tmp_path), port=7000, requirepass="pw")
    try:
        conn = node.client()
        session = conn.protocol.session
        assert not session._routed_only
        assert error_of(conn.call("GET", MINE)).startswith("NOAUTH")
        assert conn.call("AUTH", "pw") == b"OK" and session._routed_only
        assert conn.call("GET", MINE) is None
        conn.call("MULTI")
        assert not session._routed_only
        assert error_of(conn.call("GET", THEIRS)).startswith("MOVED")
        assert error_of(conn.call("EXEC")).startswith("EXECABORT")
        assert session._routed_only
        conn.call("RESET")
        assert not session._routed_only
    finally:
        node.service.cluster.close()


def test_the_short_way_leaves_moving_slots_and_a_down_cluster_to_route(node, conn):
    cluster = node.service.cluster
    conn.call("SET", MINE, "1")
    cluster.migrating[MINE_SLOT] = B
    assert conn.call("GET", MINE) == b"1"
    assert error_of(conn.call("GET", "{" + MINE + "}gone")).startswith("ASK")
    cluster.migrating.clear()
    conn.call("CLUSTER", "DELSLOTS", 16383)
    assert error_of(conn.call("GET", MINE)) == "CLUSTERDOWN The cluster is down"
    conn.call("CLUSTER", "ADDSLOTS", 16383)
    assert conn.call("ASKING") == b"OK"
    assert conn.call("GET", MINE) == b"1" and conn.protocol.session.asking
    assert conn.call("GET", MINE) == b"1" and not conn.protocol.session.asking


# -- routing --------------------------------------------------------------------------------


def test_routing(conn):
    assert conn.call("SET", MINE, "1") == b"OK"
    assert error_of(conn.call("GET", THEIRS)) == f"MOVED {THEIRS_SLOT} 127.0.0.1:7001"
    assert error_of(conn.call("MGET", MINE, THEIRS)).startswith("CROSSSLOT")
    assert conn.call("MGET", MINE, MINE) == [b"1", b"1"]
    assert conn.call("PING") == b"PONG"
    stats = conn.call("INFO", "commandstats")
    assert b"cmdstat_get:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1," in stats
    assert b"cmdstat_mget:calls=1," in stats and b"rejected_calls=1" in stats


def test_asking_lasts_one_command_or_one_transaction(node, conn):
    cluster = node.service.cluster
    cluster.importing[THEIRS_SLOT] = C
    session = conn.protocol.session
    assert conn.call("ASKING") == b"OK" and session.asking
    assert conn.call("GET", THEIRS) is None
    assert conn.call("PING") == b"PONG" and not session.asking
    assert error_of(conn.call("GET", THEIRS)).startswith("MOVED")
    conn.call("ASKING")
    conn.call("MULTI")
    assert conn.call("SET", THEIRS, "1") == b"QUEUED"
    assert session.asking
    assert conn.call("EXEC") == [b"OK"]
    assert not session.asking
    conn.call("ASKING")
    conn.call("RESET")
    assert not session.asking


def test_readonly_shows_in_client_list_and_reset_clears_it(conn):
    assert conn.call("READONLY") == b"OK"
    assert b" flags=r " in conn.call("CLIENT", "INFO")
    assert conn.call("READWRITE") == b"OK"
    assert b" flags=N " in conn.call("CLIENT", "INFO")
    conn.call("READONLY")
    conn.call("RESET")
    assert b" flags=N " in conn.call("CLIENT", "INFO")


def test_the_aof_loader_is_never_redirected(tmp_path, node):
    aof = tmp_path / "appendonly.aof"
    aof.write_bytes(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n" % (len(THEIRS), THEIRS.encode()))
    service = node.service
    assert loader.load(service, str(aof)) == 1
    assert service.store.dbs[0].data[THEIRS.encode()] == b"v"
    service.check_cluster_data()
    # The key's slot is another node's: it becomes importing, so ASKING reaches it.
    assert service.cluster.importing == {THEIRS_SLOT: B}
    assert saved(node).importing == {THEIRS_SLOT: B}


def test_the_slot_index_is_rebuilt_after_loading(node):
    service = node.service
    db = service.store.dbs[0]
    # What a bulk loader might do: fill the keyspace without Database.set.
    db.data[MINE.encode()] = b"v"
    service.check_cluster_data()
    assert service.cluster.index.count(MINE_SLOT) == 1
    assert db.slots is service.cluster.index


def test_debug_reload_keeps_the_slot_index(tmp_path):
    (tmp_path / "nodes.conf").write_bytes(THREE)
    node = FakeServer(cluster_enabled=True, dir=str(tmp_path), port=7000, maxkeys=0,
                      enable_debug_command="yes")
    try:
        conn = node.client()
        tagged = ["{%s}%d" % (MINE, n) for n in range(3)]
        for key in tagged:
            conn.call("SET", key, "v")
        assert conn.call("DEBUG", "RELOAD") == b"OK"
        assert conn.call("CLUSTER", "COUNTKEYSINSLOT", MINE_SLOT) == 3
        assert sorted(conn.call("CLUSTER", "GETKEYSINSLOT", MINE_SLOT, 10)) == [
            key.encode() for key in tagged]
    finally:
        node.service.cluster.close()


def test_keys_outside_db_zero_stop_the_start(node, logged):
    node.service.store.dbs[3].set(b"k", b"v")
    with pytest.raises(StartupFailure):
        node.service.check_cluster_data()
    assert any("You can't have keys in a DB different than DB 0" in event.get("message", "")
               for event in logged)


# -- changes of the map -------------------------------------------------------------------------


def test_each_change_is_saved_before_the_reply(node, conn):
    assert conn.call("CLUSTER", "SETSLOT", MINE_SLOT, "MIGRATING", B) == b"OK"
    assert saved(node).migrating == {MINE_SLOT: B}
    assert conn.call("CLUSTER", "SETSLOT", MINE_SLOT, "NODE", B) == b"OK"
    config = saved(node)
    assert config.slots[MINE_SLOT] == B and config.migrating == {}
    assert conn.call("CLUSTER", "DELSLOTS", 16383) == b"OK"
    assert saved(node).slots[16383] is None
    assert error_of(conn.call("GET", MINE)) == "CLUSTERDOWN The cluster is down"


def test_a_change_that_cannot_be_saved_is_an_error(node, conn):
    node.service.cluster.path = "/nonexistent/nodes.conf"
    assert error_of(conn.call("CLUSTER", "SETSLOT", MINE_SLOT, "STABLE")) == (
        "ERR error saving the cluster node config: No such file or directory")
    assert error_of(conn.call("CLUSTER", "SAVECONFIG")) == (
        "ERR error saving the cluster node config: No such file or directory")


def test_importing_a_slot_to_the_end_bumps_the_epoch(node, conn, logged):
    assert conn.call("CLUSTER", "SETSLOT", THEIRS_SLOT, "IMPORTING", B) == b"OK"
    assert conn.call("CLUSTER", "SETSLOT", THEIRS_SLOT, "NODE", A) == b"OK"
    config = saved(node)
    assert config.slots[THEIRS_SLOT] == A and config.importing == {}
    assert config.nodes[A].config_epoch == 4 and config.current_epoch == 4
    assert any("configEpoch updated after importing slot" in event.get("log_format", "")
               for event in logged)
    assert conn.call("CLUSTER", "BUMPEPOCH") == b"STILL 4"


def test_blocked_clients_are_redirected_when_their_slot_leaves(node, conn):
    waiter = node.client(41010)
    send(waiter, "BLPOP", MINE, "0")
    assert waiter.replies() == []
    assert conn.call("CLUSTER", "SETSLOT", MINE_SLOT, "NODE", B) == b"OK"
    assert [str(reply) for reply in waiter.replies()] == [f"MOVED {MINE_SLOT} 127.0.0.1:7001"]
    other = node.client(41011)
    other_key = key_in(0, 5460, "z")
    send(other, "BLPOP", other_key, "0")
    assert conn.call("CLUSTER", "DELSLOTS", 16383) == b"OK"
    assert [str(reply) for reply in other.replies()] == ["CLUSTERDOWN The cluster is down"]
    assert node.service.blocking.blocked_clients == 0


def test_blocked_clients_of_an_importing_slot_stay(node, conn):
    waiter = node.client(41010)
    node.service.cluster.importing[THEIRS_SLOT] = B
    waiter.call("ASKING")
    send(waiter, "BLPOP", THEIRS, "0")
    conn.call("CLUSTER", "SETSLOT", MINE_SLOT, "NODE", C)
    assert waiter.replies() == [] and node.service.blocking.blocked_clients == 1


def test_forget_drops_the_node_and_its_slots(node, conn):
    node.service.cluster.migrating[MINE_SLOT] = C
    assert conn.call("CLUSTER", "FORGET", C) == b"OK"
    config = saved(node)
    assert C not in config.nodes and config.slots[16383] is None and config.migrating == {}
    assert b"cluster_known_nodes:2" in conn.call("CLUSTER", "INFO")


def test_reset_hard_gives_a_new_id(node, conn):
    assert conn.call("CLUSTER", "RESET", "HARD") == b"OK"
    new_id = conn.call("CLUSTER", "MYID")
    assert new_id != A and saved(node).myself == new_id
    assert conn.call("CLUSTER", "NODES").count(b"\n") == 1
    assert conn.call("CLUSTER", "SET-CONFIG-EPOCH", 7) == b"OK"
    assert saved(node).nodes[new_id].config_epoch == 7


def test_help_lists_what_hush_has(conn):
    lines = [line.decode() for line in conn.call("CLUSTER", "HELP")]
    names = {line.split()[0].lower() for line in lines[1:] if not line.startswith(" ")}
    # Redis's text does not list SLAVES, REPLICAS' old name, either.
    assert names == {name.decode() for name in COMMANDS[b"cluster"].subcommands
                     if name.islower()} - {"slaves"}


def test_links_and_failure_reports_without_a_bus(conn):
    assert conn.call("CLUSTER", "LINKS") == []
    assert conn.call("CLUSTER", "COUNT-FAILURE-REPORTS", B) == 0


# -- server surfaces --------------------------------------------------------------------------


def test_info_and_maxclients_say_cluster(node, conn):
    assert b"redis_mode:cluster" in conn.call("INFO", "server")
    assert conn.call("INFO", "cluster") == b"# Cluster\r\ncluster_enabled:1\r\n"
    node.settings.maxclients = 1
    late = node.client(41020)
    assert late.transport.value() == b"-ERR max number of clients + cluster connections reached\r\n"


def test_startup_lines(node, logged):
    startup = StartupLog(node.settings)
    startup.store = node.service
    startup.startService()
    loaded = [event for event in logged if event.get("what") == "Node configuration loaded"]
    assert loaded and loaded[0]["node_id"] == A.decode()
    assert any(event.get("mode") == "cluster" for event in logged)


def test_tap_ends_with_redis_s_line_for_a_bad_nodes_conf(tmp_path):
    (tmp_path / "nodes.conf").write_bytes(b"garbage\n")
    (tmp_path / "hush.conf").write_text(f"cluster-enabled yes\ndir {tmp_path}\n")
    options = Options()
    options.parseOptions(["--config", str(tmp_path / "hush.conf"), "--port", "tcp:7000"])
    with pytest.raises(SystemExit) as exit_info:
        makeService(options)
    assert exit_info.value.code == "Unrecoverable error: corrupted cluster config file."


def test_scripts_run_as_the_caller_asked(node, conn):
    cluster = node.service.cluster
    cluster.importing[THEIRS_SLOT] = B
    script = "return redis.call('set', KEYS[1], 'x')"
    assert error_of(conn.call("EVAL", script, "1", THEIRS)).startswith("MOVED")
    conn.call("ASKING")
    assert conn.call("EVAL", script, "1", THEIRS) == b"OK"
    conn.call("ASKING")
    reply = conn.call("EVAL", f"return redis.call('get', '{THEIRS}')", "0")
    assert reply == b"x"
    assert isinstance(conn.call("EVAL", f"return redis.call('get', '{THEIRS}')", "0"),
                      hiredis.ReplyError)


@pytest.mark.parametrize("key", [b"plain", b"{tag}a", b"a{tag}", b"{}x", b"x{", b"}{", b"a}{b}",
                                 b"{{x}}", b"", b"\xff{\x00}"])
def test_the_short_way_hashes_keys_as_key_slot(node, key):
    cluster = node.service.cluster
    get = COMMANDS[b"get"]
    slot = key_slot(key)
    cluster.slots[slot] = A
    assert routing.serves_here(cluster, get, [b"GET", key])
    cluster.slots[slot] = B
    assert not routing.serves_here(cluster, get, [b"GET", key])
