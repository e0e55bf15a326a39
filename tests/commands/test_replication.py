"""Replication commands through a fake connection: REPLCONF, SYNC, PSYNC."""

from __future__ import annotations

from tests.support import FakeServer, error_of, send


def test_replconf_answers_and_errors_as_redis():
    server = FakeServer()
    client = server.client()
    assert error_of(client.call("REPLCONF", "listening-port")) == "ERR syntax error"
    assert error_of(client.call("REPLCONF", "listening-port", "x")) == (
        "ERR value is not an integer or out of range")
    assert error_of(client.call("REPLCONF", "nope", "1")) == (
        "ERR Unrecognized REPLCONF option: nope")
    assert client.call("REPLCONF", "capa", "whatever") == b"OK"
    assert client.call("REPLCONF") == b"OK"
    # ACK from a client that is no replica, and GETACK on a master: no reply at all.
    send(client, "REPLCONF", "ACK", "10")
    send(client, "REPLCONF", "GETACK", "*")
    assert client.raw() == b""
    assert error_of(client.call("REPLCONF", "rdb-only", "2")) == (
        "ERR value is out of range, value must between 0 and 1")


def test_sync_and_psync_are_refused_in_a_transaction_and_psync_wants_an_offset():
    client = FakeServer().client()
    assert error_of(client.call("PSYNC", "?", "x")) == (
        "ERR value is not an integer or out of range")
    client.call("MULTI")
    assert error_of(client.call("SYNC")) == "ERR Command not allowed inside a transaction"
    assert error_of(client.call("PSYNC", "?", "-1")) == (
        "ERR Command not allowed inside a transaction")


def test_replicaof_is_refused_in_cluster_mode(tmp_path):
    client = FakeServer(cluster_enabled=True, dir=str(tmp_path), port=7000).client()
    assert error_of(client.call("REPLICAOF", "127.0.0.1", 7001)) == (
        "ERR REPLICAOF not allowed in cluster mode.")
