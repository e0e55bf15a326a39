"""MULTI/EXEC/DISCARD/WATCH/UNWATCH through the protocol (StringTransport + Clock)."""

from __future__ import annotations

import hiredis
import pytest


def test_multi_exec_queues_and_runs_in_order(client):
    assert client.call("MULTI") == b"OK"
    assert client.call("SET", "a", "1") == b"QUEUED"
    assert client.call("INCR", "a") == b"QUEUED"
    assert client.call("GET", "a") == b"QUEUED"
    assert client.call("EXEC") == [b"OK", 2, b"2"]
    assert client.call("GET", "a") == b"2"


def test_runtime_errors_do_not_roll_back(client):
    client.call("MULTI")
    client.call("SET", "a", "x")
    client.call("INCR", "a")
    client.call("SET", "b", "y")
    replies = client.call("EXEC")
    assert replies[0] == b"OK"
    assert isinstance(replies[1], hiredis.ReplyError)
    assert str(replies[1]) == "ERR value is not an integer or out of range"
    assert replies[2] == b"OK"
    assert client.call("GET", "b") == b"y"


def test_queue_time_errors_abort_exec(client):
    client.call("MULTI")
    error = client.call("NOSUCHCOMMAND", "x")
    assert str(error).startswith("ERR unknown command 'NOSUCHCOMMAND'")
    assert client.call("SET", "a", "1") == b"QUEUED"
    error = client.call("GET")
    assert str(error) == "ERR wrong number of arguments for 'get' command"
    error = client.call("EXEC")
    assert str(error) == "EXECABORT Transaction discarded because of previous errors."
    assert client.call("GET", "a") is None


def test_exact_wire_replies(client):
    client.send_raw(b"MULTI\r\nMULTI\r\nWATCH a\r\nEXEC\r\nEXEC\r\nDISCARD\r\n")
    assert client.raw() == (
        b"+OK\r\n-ERR MULTI calls can not be nested\r\n"
        b"-ERR WATCH inside MULTI is not allowed\r\n*0\r\n"
        b"-ERR EXEC without MULTI\r\n-ERR DISCARD without MULTI\r\n"
    )


def test_discard_drops_the_queue(client):
    client.call("MULTI")
    client.call("SET", "a", "1")
    assert client.call("DISCARD") == b"OK"
    assert client.call("GET", "a") is None


def test_watch_aborts_when_another_client_writes(server):
    first, second = server.client(1), server.client(2)
    first.call("SET", "k", "v")
    assert first.call("WATCH", "k") == b"OK"
    second.call("SET", "k", "other")
    first.call("MULTI")
    first.call("SET", "k", "mine")
    first.send_raw(b"EXEC\r\n")
    assert first.raw() == b"*-1\r\n"
    assert first.call("GET", "k") == b"other"


def test_watch_null_reply_in_resp3(server):
    first, second = server.client(1), server.client(2)
    first.call("HELLO", "3")
    first.call("WATCH", "k")
    second.call("SET", "k", "v")
    first.call("MULTI")
    first.send_raw(b"EXEC\r\n")
    assert first.raw() == b"_\r\n"


def test_watch_untouched_key_commits(server):
    first, second = server.client(1), server.client(2)
    first.call("WATCH", "k")
    second.call("SET", "other", "v")
    first.call("MULTI")
    first.call("SET", "k", "mine")
    assert first.call("EXEC") == [b"OK"]


def test_watch_own_write_before_multi_aborts(client):
    client.call("WATCH", "k")
    client.call("SET", "k", "v")
    client.call("MULTI")
    client.call("GET", "k")
    assert client.call("EXEC") is None


@pytest.mark.parametrize("spoiler", [("DEL", "k"), ("FLUSHDB",), ("FLUSHALL",), ("SWAPDB", "0", "1")])
def test_watch_sees_deletes_and_flushes(server, spoiler):
    first, second = server.client(1), server.client(2)
    first.call("SET", "k", "v")
    first.call("WATCH", "k")
    second.call(*spoiler)
    first.call("MULTI")
    first.call("PING")
    assert first.call("EXEC") is None


def test_watch_sees_expiry(server, client):
    client.call("SET", "k", "v", "PX", "100")
    client.call("WATCH", "k")
    server.clock.advance(0.2)
    client.call("MULTI")
    client.call("PING")
    assert client.call("EXEC") is None


def test_unwatch_forgets(server):
    first, second = server.client(1), server.client(2)
    first.call("WATCH", "k")
    assert first.call("UNWATCH") == b"OK"
    second.call("SET", "k", "v")
    first.call("MULTI")
    first.call("PING")
    assert first.call("EXEC") == [b"PONG"]
    assert server.service.store.watched_keys == {}


def test_exec_clears_watches(server, client):
    client.call("WATCH", "a", "b")
    client.call("MULTI")
    client.call("EXEC")
    assert server.service.store.watched_keys == {}


def test_disconnect_clears_watches_and_queue(server, client):
    client.call("WATCH", "a")
    client.call("MULTI")
    client.disconnect()
    assert server.service.store.watched_keys == {}


def test_blocking_command_in_multi_does_not_block(client):
    client.call("MULTI")
    client.call("BLPOP", "nolist", "0")
    client.send_raw(b"EXEC\r\n")
    assert client.raw() == b"*1\r\n*-1\r\n"


def test_blocked_clients_served_after_exec(server):
    waiter, writer = server.client(1), server.client(2)
    waiter.send_raw(b"BLPOP q 0\r\n")
    writer.call("MULTI")
    writer.call("RPUSH", "q", "a")
    writer.call("LLEN", "q")
    # Inside EXEC the element is still there: the waiter is served after EXEC.
    assert writer.call("EXEC") == [1, 1]
    assert waiter.replies() == [[b"q", b"a"]]
    assert writer.call("LLEN", "q") == 0


def test_quit_inside_multi(client):
    client.send_raw(b"MULTI\r\nQUIT\r\n")
    assert client.raw() == b"+OK\r\n+OK\r\n"
    assert client.closed
