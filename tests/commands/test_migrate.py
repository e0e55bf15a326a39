"""MIGRATE against a scripted target: what is sent, what is deleted and propagated,
retries of broken connections, timeouts and Redis's error replies."""

from __future__ import annotations

import hiredis
import pytest

from hush.formats.keyslot import key_slot
from hush.wire import sync_client
from hush.wire.sync_client import ConnectionCache, Timeout
from tests.support import FakeServer


class Target:
    """A fake SyncConnection: records what is sent, answers scripted lines or errors."""

    def __init__(self, replies: list, fail_send: Exception | None = None) -> None:
        self.replies = list(replies)
        self.fail_send = fail_send
        self.sent: list[list[bytes]] = []
        self.last_db = -1
        self.timeout = 0.0
        self.last_use = 0.0
        self.sent_all = True
        self.closed = False

    def send(self, data: bytes) -> None:
        self.sent_all = False
        if self.fail_send is not None:
            raise self.fail_send
        reader = hiredis.Reader()
        reader.feed(data)
        while (argv := reader.gets()) is not False:
            self.sent.append(argv)
        self.sent_all = True

    def read_line(self) -> bytes:
        if not self.replies:
            raise ConnectionError("closed")
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def world():
    """A server whose MIGRATE connects to the Targets queued in ``targets``."""
    return scripted_targets(FakeServer(maxkeys=0))


def scripted_targets(server: FakeServer) -> tuple[FakeServer, list[Target], list[tuple]]:
    """Make ``server``'s MIGRATE connect to the Targets queued in the list returned."""
    targets: list[Target] = []
    connects: list[tuple] = []

    def connect(host: str, port: int, timeout: float) -> Target:
        connects.append((host, port, timeout))
        if not targets:
            raise ConnectionRefusedError()
        return targets.pop(0)

    server.service.migrate_connections = ConnectionCache(server.clock, connect)
    return server, targets, connects


def test_moves_keys_with_their_ttl_and_propagates_a_del(world):
    server, targets, connects = world
    client = server.client()
    client.call("SET", "a", "1", "PX", "5000")
    client.call("SET", "b", "2")
    target = Target([b"+OK", b"+OK", b"+OK"])
    targets.append(target)
    assert client.call("MIGRATE", "h", "7000", "", "3", "0", "KEYS", "a", "b", "c") == b"OK"
    assert connects == [("h", 7000, 1.0)], "timeout 0 means 1000 ms"
    assert [argv[:3] for argv in target.sent] == [
        [b"SELECT", b"3"], [b"RESTORE", b"a", b"5000"], [b"RESTORE", b"b", b"0"]]
    assert client.call("EXISTS", "a", "b") == 0
    # The connection is reused and the database remembered: no SELECT the second time.
    client.call("SET", "c", "3")
    target.replies = [b"+OK"]
    assert client.call("MIGRATE", "h", "7000", "c", "3", "100", "COPY", "REPLACE") == b"OK"
    assert target.sent[-1][0] == b"RESTORE" and target.sent[-1][-1] == b"REPLACE"
    assert len(connects) == 1
    assert client.call("GET", "c") == b"3", "COPY keeps the key"


def test_nothing_to_move_is_nokey(world):
    server, _targets, connects = world
    assert server.client().call("MIGRATE", "h", "1", "missing", "0", "10") == b"NOKEY"
    assert connects == []


def test_argument_errors(world):
    server, _targets, _connects = world
    client = server.client()
    client.call("SET", "k", "v")
    for args, error in [
        (("k", "0", "10", "KEYS", "k"),
         "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"),
        (("k", "0", "10", "AUTH"), "ERR syntax error"),
        (("k", "0", "10", "AUTH2", "u"), "ERR syntax error"),
        (("k", "0", "10", "BOGUS"), "ERR syntax error"),
        (("k", "x", "10"), "ERR value is not an integer or out of range"),
        (("k", "0", "x"), "ERR value is not an integer or out of range"),
    ]:
        assert str(client.call("MIGRATE", "h", "1", *args)) == error


def test_a_target_error_keeps_the_key_and_is_reported(world):
    server, targets, _connects = world
    client = server.client()
    client.call("SET", "a", "1")
    client.call("SET", "b", "1")
    # The SELECT's reply, then a's, then b's.
    target = Target([b"+OK", b"+OK", b"-BUSYKEY Target key name already exists."])
    targets.append(target)
    reply = client.call("MIGRATE", "h", "1", "", "0", "10", "KEYS", "a", "b")
    assert str(reply) == ("ERR Target instance replied with error: BUSYKEY Target key name "
                          "already exists.")
    assert client.call("EXISTS", "a") == 0, "the key the target took is gone"
    assert client.call("EXISTS", "b") == 1
    assert target.last_db == -1, "SELECT again next time"


def test_an_auth_error_is_the_one_reported(world):
    server, targets, _connects = world
    client = server.client()
    client.call("SET", "a", "1")
    targets.append(Target([b"-WRONGPASS invalid", b"+OK", b"-NOAUTH Authentication required."]))
    reply = client.call("MIGRATE", "h", "1", "a", "0", "10", "AUTH", "pw")
    assert str(reply) == "ERR Target instance replied with error: WRONGPASS invalid"
    assert client.call("EXISTS", "a") == 1


def test_a_broken_cached_connection_is_retried_once(world):
    server, targets, connects = world
    client = server.client()
    client.call("SET", "a", "1")
    broken = Target([], fail_send=BrokenPipeError())
    targets += [broken, Target([b"+OK", b"+OK"])]
    assert client.call("MIGRATE", "h", "1", "a", "0", "10") == b"OK"
    assert len(connects) == 2 and broken.closed


def test_timeouts_are_not_retried(world):
    server, targets, connects = world
    client = server.client()
    client.call("SET", "a", "1")
    targets += [Target([b"+OK", Timeout("read")]), Target([b"+OK", b"+OK"])]
    reply = client.call("MIGRATE", "h", "1", "a", "0", "10")
    assert str(reply) == "IOERR error or timeout reading to target instance"
    assert len(connects) == 1
    assert client.call("EXISTS", "a") == 1
    targets.clear()
    targets.append(Target([], fail_send=Timeout("write")))
    reply = client.call("MIGRATE", "h", "1", "a", "0", "10")
    assert str(reply) == "IOERR error or timeout writing to target instance"


def test_no_connection_is_an_ioerr(world):
    server, _targets, _connects = world
    client = server.client()
    client.call("SET", "a", "1")
    assert str(client.call("MIGRATE", "h", "1", "a", "0", "10")) == (
        "IOERR error or timeout connecting to the client")


def test_idle_connections_are_closed_after_ten_seconds(world):
    server, targets, _connects = world
    client = server.client()
    client.call("SET", "a", "1")
    target = Target([b"+OK", b"+OK"])
    targets.append(target)
    client.call("MIGRATE", "h", "1", "a", "0", "10")
    server.clock.advance(sync_client.CACHE_TTL)
    assert not target.closed
    server.clock.advance(2)
    assert target.closed
    assert server.service.migrate_connections.connections == {}


def test_command_getkeys_finds_migrates_keys(world):
    server, _targets, _connects = world
    client = server.client()
    assert client.call("COMMAND", "GETKEYS", "MIGRATE", "h", "1", "k", "0", "5") == [b"k"]
    assert client.call("COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "5", "COPY", "KEYS",
                       "a", "b") == [b"a", b"b"]


# -- cluster mode ----------------------------------------------------------------------------

A, B = b"a" * 40, b"b" * 40


@pytest.fixture
def cluster_world(tmp_path):
    """Node A of a two-node cluster (A: slots 0-8191, B: the rest), MIGRATE scripted."""
    (tmp_path / "nodes.conf").write_bytes(
        b"%s 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-8191\n"
        b"%s 127.0.0.1:7001@17001 master - 0 0 2 connected 8192-16383\n"
        b"vars currentEpoch 2 lastVoteEpoch 0\n" % (A, B))
    server = FakeServer(cluster_enabled=True, dir=str(tmp_path), port=7000, maxkeys=0)
    yield scripted_targets(server)
    server.service.cluster.close()


def test_a_cluster_node_migrates_an_open_slot_with_restore_asking(cluster_world):
    """As redis-cli --cluster reshard drives it: the source's MIGRATE runs there even
    for keys already gone (others would get -ASK or -TRYAGAIN), and sends
    RESTORE-ASKING, which the importing target takes without an ASKING."""
    server, targets, _connects = cluster_world
    client = server.client()
    slot = key_slot(b"{b}")
    assert slot <= 8191
    client.call("SET", "{b}a", "1")
    assert client.call("CLUSTER", "SETSLOT", slot, "MIGRATING", B) == b"OK"
    assert str(client.call("MGET", "{b}a", "{b}gone")).startswith("TRYAGAIN ")
    assert str(client.call("GET", "{b}gone")) == f"ASK {slot} 127.0.0.1:7001"
    target = Target([b"+OK", b"+OK"])
    targets.append(target)
    assert client.call("MIGRATE", "127.0.0.1", "7001", "", "0", "10", "KEYS",
                       "{b}a", "{b}gone") == b"OK"
    assert [argv[:2] for argv in target.sent] == [[b"SELECT", b"0"],
                                                  [b"RESTORE-ASKING", b"{b}a"]]
    assert client.call("MIGRATE", "127.0.0.1", "7001", "{b}gone", "0", "10") == b"NOKEY"
    assert client.call("CLUSTER", "COUNTKEYSINSLOT", slot) == 0
    assert str(client.call("GET", "{b}a")) == f"ASK {slot} 127.0.0.1:7001"


def test_a_cluster_node_routes_migrate_by_its_keys(cluster_world):
    server, _targets, connects = cluster_world
    client = server.client()
    theirs = next(key for key in (b"k%d" % n for n in range(1000)) if key_slot(key) > 8191)
    assert str(client.call("MIGRATE", "h", "1", theirs, "0", "10")) == (
        f"MOVED {key_slot(theirs)} 127.0.0.1:7001")
    assert str(client.call("MIGRATE", "h", "1", "", "0", "10", "KEYS", "{b}a", "{c}a")) == (
        "CROSSSLOT Keys in request don't hash to the same slot")
    assert connects == []
