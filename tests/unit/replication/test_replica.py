"""The replica's side against a scripted master: handshake, full sync, stream, ACKs."""

from __future__ import annotations

import io

from twisted.internet.testing import StringTransport

from hush.persistence import rdb
from hush.replication.replica import MasterLink
from tests.support import FakeServer, encode_command, error_of

REPLID = "a" * 40


class FakeMaster:
    """The master's end of the link: what the replica wrote, and a way to answer."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.links: list[MasterLink] = []
        replication = server.service.replication
        replication.connect = self.connect

    def connect(self, host, port, factory, timeout):
        link = factory.buildProtocol(None)
        transport = StringTransport()
        link.makeConnection(transport)
        self.links.append(link)
        return None

    @property
    def link(self) -> MasterLink:
        return self.links[-1]

    def written(self) -> bytes:
        data = self.link.transport.value()
        self.link.transport.clear()
        return data

    def send(self, data: bytes) -> None:
        self.link.dataReceived(data)

    def drop(self) -> None:
        self.link.connectionLost(None)


def snapshot(**keys: bytes) -> bytes:
    """An RDB file holding ``keys`` in database 0."""
    source = FakeServer()
    client = source.client()
    for key, value in keys.items():
        client.call("SET", key, value)
    out = io.BytesIO()
    rdb.write_dataset(source.service.store, source.service.settings, out, now_s=0)
    return out.getvalue()


def replica_of_fake_master(tmp_path, **settings):
    server = FakeServer(dir=str(tmp_path), **settings)
    master = FakeMaster(server)
    client = server.client()
    assert client.call("REPLICAOF", "10.0.0.1", 6379) == b"OK"
    return server, master, client


def synced(tmp_path, **settings):
    """A replica past its full sync of a snapshot holding k=v, at offset 100."""
    server, master, client = replica_of_fake_master(tmp_path, **settings)
    master.send(b"+PONG\r\n")
    master.send(b"+OK\r\n+OK\r\n")
    master.written()
    master.send(b"+FULLRESYNC %s 100\r\n" % REPLID.encode())
    data = snapshot(k=b"v")
    master.send(b"\n$%d\r\n" % len(data) + data)
    return server, master, client


def test_the_handshake_is_redis_replicas(tmp_path):
    server, master, client = replica_of_fake_master(
        tmp_path, masterauth="secret", masteruser="repl", replica_announce_ip="10.1.1.1")
    assert master.written() == encode_command("PING")
    master.send(b"-NOAUTH Authentication required.\r\n")
    port = server.service.settings.port
    assert master.written() == (encode_command("AUTH", "repl", "secret")
                                + encode_command("REPLCONF", "listening-port", port)
                                + encode_command("REPLCONF", "ip-address", "10.1.1.1")
                                + encode_command("REPLCONF", "capa", "eof", "capa", "psync2"))
    master.send(b"+OK\r\n+OK\r\n+OK\r\n")
    assert master.written() == b""
    master.send(b"+OK\r\n")
    # A master turned replica offers its own history: the new master may know it.
    history = server.service.replication.history
    assert master.written() == encode_command("PSYNC", history.replid, history.offset + 1)
    assert "master_link_status:down" in client.call("INFO", "replication").decode()


def test_a_full_sync_loads_the_snapshot_then_applies_the_stream(tmp_path):
    server, master, client = synced(tmp_path)
    assert client.call("GET", "k") == b"v"
    assert (tmp_path / "dump.rdb").exists()
    stream = encode_command("SELECT", "0") + encode_command("SET", "n", "1")
    master.send(stream[:-4])
    assert client.call("GET", "n") is None
    master.send(stream[-4:])
    assert client.call("GET", "n") == b"1"
    info = client.call("INFO", "replication").decode()
    assert "master_link_status:up" in info
    assert f"slave_repl_offset:{100 + len(stream)}" in info
    assert f"master_replid:{REPLID}" in info
    # GETACK is answered with the offset applied before it.
    master.send(encode_command("REPLCONF", "GETACK", "*"))
    assert master.written() == encode_command("REPLCONF", "ACK", 100 + len(stream))
    assert error_of(client.call("SET", "x", "y")) == (
        "READONLY You can't write against a read only replica.")
    assert client.call("CLIENT", "LIST").count(b"cmd=replconf") == 1


def test_a_transaction_counts_once_its_exec_ran(tmp_path):
    server, master, client = synced(tmp_path)
    begin = encode_command("MULTI") + encode_command("SET", "t", "1")
    master.send(begin)
    assert client.call("GET", "t") is None
    assert "slave_repl_offset:100\r" in client.call("INFO", "replication").decode()
    master.send(encode_command("EXEC"))
    assert client.call("GET", "t") == b"1"
    total = 100 + len(begin) + len(encode_command("EXEC"))
    assert f"slave_repl_offset:{total}\r" in client.call("INFO", "replication").decode()


def test_keys_expire_on_a_replica_by_the_masters_del(tmp_path):
    server, master, client = synced(tmp_path)
    deadline = int(server.clock.seconds() * 1000) + 1000
    master.send(encode_command("SET", "e", "v", "PXAT", deadline))
    assert client.call("GET", "e") == b"v"
    server.clock.advance(2)
    assert client.call("GET", "e") is None
    assert client.call("EXISTS", "e") == 0
    assert client.call("KEYS", "*") == [b"k"]
    assert client.call("DBSIZE") == 2
    # The master's own commands still see it.
    master.send(encode_command("APPEND", "e", "w"))
    assert server.service.store.dbs[0].data[b"e"] == b"vw"
    master.send(encode_command("DEL", "e"))
    assert client.call("DBSIZE") == 1


def test_a_dropped_link_continues_where_it_stopped(tmp_path):
    server, master, client = synced(tmp_path)
    master.send(encode_command("SET", "a", "1"))
    offset = 100 + len(encode_command("SET", "a", "1"))
    master.drop()
    info = client.call("INFO", "replication").decode()
    assert "master_link_status:down" in info and f"slave_repl_offset:{offset}" in info
    # It reconnects at once and asks to continue from the next byte.
    master.send(b"+PONG\r\n+OK\r\n+OK\r\n")
    assert master.written().endswith(encode_command("PSYNC", REPLID, offset + 1))
    master.send(b"+CONTINUE %s\r\n" % REPLID.encode() + encode_command("SET", "b", "2"))
    assert client.call("MGET", "a", "b") == [b"1", b"2"]
    assert "master_link_status:up" in client.call("INFO", "replication").decode()


def test_replica_serve_stale_data_no_refuses_data_commands_while_the_link_is_down(tmp_path):
    server, master, client = replica_of_fake_master(
        tmp_path, replica_serve_stale_data=False)
    assert error_of(client.call("GET", "k")) == (
        "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.")
    assert client.call("PING") is not None
    assert b"role:slave" in client.call("INFO", "replication")


def test_replicaof_no_one_makes_a_master_that_continues_the_history(tmp_path):
    server, master, client = synced(tmp_path)
    master.send(encode_command("SET", "a", "1"))
    offset = 100 + len(encode_command("SET", "a", "1"))
    assert client.call("REPLICAOF", "NO", "ONE") == b"OK"
    history = server.service.replication.history
    assert history.replid2 == REPLID and history.second_offset == offset + 1
    assert client.call("SET", "x", "y") == b"OK"
    info = client.call("INFO", "replication").decode()
    assert "role:master" in info and f"master_replid2:{REPLID}" in info
    assert client.call("REPLICAOF", "NO", "ONE") == b"OK"
    assert error_of(client.call("REPLICAOF", "h", "70000")) == "ERR Invalid master port"


def test_hello_tells_a_replica_from_a_master(tmp_path):
    server, master, client = replica_of_fake_master(tmp_path)

    def role() -> bytes:
        reply = client.call("HELLO", 2)
        return reply[reply.index(b"role") + 1]

    assert role() == b"replica"
    client.call("REPLICAOF", "NO", "ONE")
    assert role() == b"master"


def test_role_and_client_list_show_the_link_to_the_master(tmp_path):
    server, master, client = replica_of_fake_master(tmp_path)
    assert client.call("ROLE") == [b"slave", b"10.0.0.1", 6379, b"handshake", -1]
    master.send(b"+PONG\r\n+OK\r\n+OK\r\n+FULLRESYNC %s 100\r\n" % REPLID.encode())
    assert client.call("ROLE")[3] == b"sync"
    data = snapshot(k=b"v")
    master.send(b"$%d\r\n" % len(data) + data)
    assert client.call("ROLE") == [b"slave", b"10.0.0.1", 6379, b"connected", 100]
    listing = client.call("CLIENT", "LIST", "TYPE", "master").decode()
    assert "flags=M" in listing and listing.count("\n") == 1
    assert error_of(client.call("WAIT", 1, 0)).startswith(
        "ERR WAIT cannot be used with replica instances.")
    assert client.call("CLIENT", "KILL", "TYPE", "master") == 1
    # The link drops (and reconnects at once): the master's state is kept to continue.
    master.link.connectionLost(None)
    assert client.call("ROLE")[3] == b"handshake"


def test_a_replica_with_the_aof_rewrites_it_after_the_sync_and_logs_the_stream(tmp_path):
    server, master, client = synced(tmp_path, appendonly=True)
    master.send(encode_command("SELECT", "0") + encode_command("RPUSH", "l", "a"))
    persistence = server.service.persistence
    assert persistence.aof is not None
    persistence.aof.flush()
    logged = (tmp_path / "appendonly.aof").read_bytes()
    # The snapshot's key (in the rewrite), then the master's command.
    assert b"k" in logged and logged.endswith(encode_command("RPUSH", "l", "a"))
