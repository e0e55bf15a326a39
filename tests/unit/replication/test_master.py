"""The master's side through fake connections: PSYNC, the stream, ACKs, min-replicas."""

from __future__ import annotations

from tests.support import FakeServer, encode_command, error_of, send


def replication(server: FakeServer):
    return server.service.replication


def as_replica(server: FakeServer, port: int = 6380):
    """A fake client that announced itself the way redis-server's replicas do."""
    client = server.client()
    assert client.call("REPLCONF", "listening-port", port) == b"OK"
    assert client.call("REPLCONF", "capa", "eof", "capa", "psync2") == b"OK"
    return client


def test_the_first_replica_starts_a_backlog_under_a_new_id():
    server = FakeServer()
    before = replication(server).history.replid
    replica = as_replica(server)
    send(replica, "PSYNC", "?", "-1")
    # Diskless with repl-diskless-sync-delay 5: nothing is sent before the snapshot.
    assert replica.raw() == b""
    history = replication(server).history
    assert history.replid != before and history.backlog is not None
    info = server.client().call("INFO", "replication").decode()
    assert "connected_slaves:1" in info and "repl_backlog_active:1" in info
    assert "slave0:ip=127.0.0.1,port=6380,state=wait_bgsave,offset=0,lag=0" in info


def test_a_replica_that_knows_the_history_continues_from_the_backlog():
    server = FakeServer()
    send(as_replica(server), "PSYNC", "?", "-1")
    history = replication(server).history
    writer = server.client()
    writer.call("SET", "k", "v")
    assert history.offset == len(encode_command("SELECT", "0") + encode_command("SET", "k", "v"))
    second = as_replica(server, 6381)
    send(second, "PSYNC", history.replid, 1)
    assert second.raw() == (b"+CONTINUE %s\r\n" % history.replid.encode()
                            + encode_command("SELECT", "0") + encode_command("SET", "k", "v"))
    # From now on every write reaches it, once per reactor turn.
    writer.call("SELECT", 2)
    writer.call("RPUSH", "l", "a")
    assert second.raw() == b""
    server.clock.advance(0)
    assert second.raw() == encode_command("SELECT", "2") + encode_command("RPUSH", "l", "a")
    # Its acknowledgements answer nothing.
    send(second, "REPLCONF", "ACK", history.offset)
    assert second.raw() == b""
    info = server.client().call("INFO", "replication").decode()
    assert f"port=6381,state=online,offset={history.offset},lag=0" in info


def test_an_unknown_history_or_a_lost_offset_needs_a_full_sync():
    server = FakeServer()
    send(as_replica(server), "PSYNC", "?", "-1")
    history = replication(server).history
    late = as_replica(server, 6381)
    send(late, "PSYNC", "f" * 40, 1)
    assert late.raw() == b""
    send(as_replica(server, 6382), "PSYNC", history.replid, 100)
    info = server.client().call("INFO", "stats").decode()
    assert "sync_full:3" in info and "sync_partial_err:2" in info


def test_min_replicas_to_write_refuses_writes_without_enough_good_replicas():
    server = FakeServer()
    replication(server).start()
    client = server.client()
    client.call("CONFIG", "SET", "min-replicas-to-write", 1)
    assert error_of(client.call("SET", "k", "v")) == (
        "NOREPLICAS Not enough good replicas to write.")
    assert client.call("GET", "k") is None
    client.call("MULTI")
    assert error_of(client.call("SET", "k", "v")).startswith("NOREPLICAS")
    assert error_of(client.call("EXEC")).startswith("EXECABORT")
    send(as_replica(server), "PSYNC", "?", "-1")
    replica = as_replica(server, 6381)
    send(replica, "PSYNC", replication(server).history.replid, 1)
    assert client.call("SET", "k", "v") == b"OK"
    # Once its last ACK is older than min-replicas-max-lag, it is no good replica.
    server.clock.advance(11)
    assert error_of(client.call("SET", "k", "v")).startswith("NOREPLICAS")
    send(replica, "REPLCONF", "ACK", 0)
    server.clock.advance(1)
    assert client.call("SET", "k", "v") == b"OK"
    assert "min_slaves_good_slaves:1" in client.call("INFO", "replication").decode()
    client.call("CONFIG", "SET", "min-replicas-to-write", 0)
    assert "min_slaves_good_slaves" not in client.call("INFO", "replication").decode()


def test_a_replica_sending_a_command_with_a_reply_is_dropped():
    server = FakeServer()
    replica = as_replica(server)
    send(replica, "PSYNC", "?", "-1")
    send(replica, "GET", "k")
    assert replica.raw() == b""
    assert replica.closed
    replica.protocol.connectionLost(None)
    assert replication(server).master.replicas == []


def test_writes_cost_no_stream_without_a_backlog():
    server = FakeServer()
    client = server.client()
    assert server.service.store.propagator is None
    send(as_replica(server), "PSYNC", "?", "-1")
    assert server.service.store.propagator is not None
    client.call("SET", "k", "v")
    assert replication(server).history.offset > 0


class _Pipe:
    """A diskless transfer that already wrote the whole snapshot to ``connections``."""

    def __init__(self, connections) -> None:
        self.connections = connections
        self.written = 0


def test_a_diskless_replica_that_acknowledged_early_gets_the_stream_at_once():
    """Its ACK may come before the child is seen to end: the stream starts then, not a
    second later at its next ACK."""
    server = FakeServer()
    replica = as_replica(server)
    send(replica, "PSYNC", "?", "-1")
    master = replication(server).master
    link = master.replicas[0]
    # What start_snapshot does for a diskless sync, without the fork.
    master._setup_full(link, 0)
    master.pipe = _Pipe([link.connection])
    master._pipe_done = True
    replica.raw()
    send(replica, "REPLCONF", "ACK", 0)
    server.client().call("SET", "k", "v")
    master._save_ended(True, True)
    assert link.streaming
    server.clock.advance(0)
    assert replica.raw() == encode_command("SELECT", "0") + encode_command("SET", "k", "v")


def test_publish_reaches_replicas_and_not_the_aof(tmp_path):
    server = FakeServer(dir=str(tmp_path), appendonly=True)
    server.service.persistence.start()
    send(as_replica(server), "PSYNC", "?", "-1")
    history = replication(server).history
    second = as_replica(server, 6381)
    send(second, "PSYNC", history.replid, 1)
    second.raw()
    client = server.client()
    client.call("PUBLISH", "news", "hello")
    client.call("SET", "k", "v")
    server.clock.advance(0)
    assert second.raw() == (encode_command("SELECT", "0") + encode_command("PUBLISH", "news", "hello")
                            + encode_command("SET", "k", "v"))
    server.service.persistence.aof.flush()
    assert b"PUBLISH" not in (tmp_path / "appendonly.aof").read_bytes()


def test_newlines_from_a_loading_replica_keep_it_from_timing_out():
    server = FakeServer(repl_timeout=5)
    replication(server).start()
    send(as_replica(server), "PSYNC", "?", "-1")
    history = replication(server).history
    replica = as_replica(server, 6381)
    send(replica, "PSYNC", history.replid, 1)
    for _ in range(4):
        server.clock.advance(2)
        replica.send_raw(b"\n")
    assert replication(server).master.replicas[-1].session is replica.protocol.session
    server.clock.advance(6)
    assert replica.closed


def streaming_replica(server: FakeServer):
    """A replica past its sync: first another one starts the backlog, this one continues."""
    send(as_replica(server), "PSYNC", "?", "-1")
    replica = as_replica(server, 6381)
    send(replica, "PSYNC", replication(server).history.replid, 1)
    replica.raw()
    return replica


def test_wait_blocks_until_enough_replicas_acknowledge():
    server = FakeServer()
    replica = streaming_replica(server)
    client = server.client()
    # Nothing written yet: the replica has acknowledged all there is.
    assert client.call("WAIT", 0, 0) == 1
    client.call("SET", "k", "v")
    history = replication(server).history
    written = history.offset
    send(client, "WAIT", 1, 0)
    assert client.raw() == b""
    # The replicas are asked for an ACK once, at the end of the turn.
    server.clock.advance(0)
    stream = replica.raw()
    assert stream.endswith(encode_command("REPLCONF", "GETACK", "*"))
    send(replica, "REPLCONF", "ACK", written - 1)
    assert client.raw() == b""
    send(replica, "REPLCONF", "ACK", written)
    assert client.replies() == [1]
    # Two replicas asked for, one there: the timeout answers how many did.
    client.call("SET", "k", "w")
    send(client, "WAIT", 2, 500)
    server.clock.advance(0.1)
    send(replica, "REPLCONF", "ACK", history.offset)
    assert client.raw() == b""
    server.clock.advance(0.5)
    assert client.replies() == [1]
    client.call("MULTI")
    client.call("WAIT", 5, 0)
    assert client.call("EXEC") == [1]


def test_role_and_client_list_show_the_replicas():
    server = FakeServer()
    replica = streaming_replica(server)
    history = replication(server).history
    send(replica, "REPLCONF", "ACK", history.offset)
    client = server.client()
    assert client.call("ROLE") == [b"master", history.offset,
                                   [[b"127.0.0.1", b"6381", b"%d" % history.offset]]]
    listing = client.call("CLIENT", "LIST", "TYPE", "replica").decode()
    assert listing.count("flags=S") == 2 and "cmd=replconf" in listing
    assert b"flags=S" not in client.call("CLIENT", "LIST", "TYPE", "normal")
    assert client.call("CLIENT", "KILL", "TYPE", "replica") == 2
    info = client.call("INFO", "clients").decode()
    assert "connected_clients:1\r" in info
