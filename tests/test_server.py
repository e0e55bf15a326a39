"""Protocol tests of the server commands, on a fake server and clock."""

from __future__ import annotations

import hiredis
import pytest


def test_dbsize_counts_selected_database(client):
    assert client.call("DBSIZE") == 0
    client.call("SET", "a", "1")
    client.call("SET", "b", "2")
    assert client.call("DBSIZE") == 2
    client.call("SELECT", "1")
    assert client.call("DBSIZE") == 0


def test_flushdb_empties_only_selected_database(client):
    client.call("SET", "a", "1")
    client.call("SELECT", "1")
    client.call("SET", "b", "1")
    assert client.call("FLUSHDB") == b"OK"
    assert client.call("DBSIZE") == 0
    client.call("SELECT", "0")
    assert client.call("DBSIZE") == 1


@pytest.mark.parametrize("mode", [(), ("ASYNC",), ("sync",)])
def test_flushall_empties_every_database(client, mode):
    client.call("SET", "a", "1")
    client.call("SELECT", "3")
    client.call("SET", "b", "1")
    assert client.call("FLUSHALL", *mode) == b"OK"
    assert client.call("DBSIZE") == 0
    client.call("SELECT", "0")
    assert client.call("DBSIZE") == 0


@pytest.mark.parametrize("args", [("x",), ("sync", "async"), ("ASYNC", "ASYNC")])
@pytest.mark.parametrize("name", ["FLUSHALL", "FLUSHDB"])
def test_flush_syntax_errors_keep_data(client, name, args):
    client.call("SET", "a", "1")
    reply = client.call(name, *args)
    assert isinstance(reply, hiredis.ReplyError)
    assert str(reply) == "ERR syntax error"
    assert client.call("DBSIZE") == 1


def _set_with_ttl(server, key: bytes, ms: int) -> None:
    # Through the store, so these tests do not depend on SET's options.
    db = server.service.store.dbs[0]
    db.set(key, b"1")
    db.set_expire(key, server.service.store.now_ms() + ms)


def test_flushall_forgets_ttls(server, client):
    _set_with_ttl(server, b"a", 10_000)
    client.call("FLUSHALL")
    client.call("SET", "a", "2")
    server.clock.advance(20)
    assert client.call("GET", "a") == b"2"


def test_swapdb_exchanges_contents(server, client):
    other = server.client(40001)
    client.call("SET", "a", "zero")
    other.call("SELECT", "1")
    other.call("SET", "b", "one")
    assert client.call("SWAPDB", "0", "1") == b"OK"
    assert client.call("GET", "a") is None
    assert client.call("GET", "b") == b"one"
    assert other.call("GET", "a") == b"zero"


def test_swapdb_moves_ttls(server, client):
    _set_with_ttl(server, b"a", 1000)
    client.call("SWAPDB", "0", "5")
    client.call("SELECT", "5")
    assert server.service.store.dbs[5].get_expire(b"a") == server.service.store.now_ms() + 1000
    server.clock.advance(2)
    assert client.call("GET", "a") is None


@pytest.mark.parametrize("args, error", [
    (("a", "1"), "ERR invalid first DB index"),
    (("0", "b"), "ERR invalid second DB index"),
    (("0", "16"), "ERR DB index is out of range"),
    (("-1", "0"), "ERR DB index is out of range"),
])
def test_swapdb_errors(client, args, error):
    reply = client.call("SWAPDB", *args)
    assert isinstance(reply, hiredis.ReplyError)
    assert str(reply) == error


def test_swapdb_same_index_is_ok(client):
    client.call("SET", "a", "1")
    assert client.call("SWAPDB", "2", "2") == b"OK"
