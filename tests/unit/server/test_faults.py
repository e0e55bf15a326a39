"""Faults: unexpected exceptions and disconnects leave nothing behind (issue 6).

Every fault here must end with the client answered or closed, the other
clients unaffected, and the server's registries (waiters, subscriptions,
watched keys, client table) back to what they were.
"""

from __future__ import annotations

import socket
import time
from typing import Any

import hiredis
import pytest
import redis
from twisted.logger import formatEvent

from hush.commands.table import COMMANDS, Command
from hush.core.faults import FailureLog
from hush.data.blocking import Block
from hush.wire.resp import NULL_ARRAY
from tests.support import FakeServer, encode_command, start_hush
from tests.unit.server.test_limits import SlowTransport


def _failures(events: list[dict[str, Any]]) -> list[str]:
    return [formatEvent(e) for e in events if e.get("log_failure") is not None]


def _register(monkeypatch, name: str, handler, arity: int = -1) -> None:
    """Add a command for this test only; monkeypatch takes it out again."""
    cmd = Command(name=name, handler=handler, arity=arity)
    monkeypatch.setitem(COMMANDS, name.encode(), cmd)
    monkeypatch.setitem(COMMANDS, name.upper().encode(), cmd)


def _boom(ctx, *args):
    raise ZeroDivisionError("deliberate")


def _state(server: FakeServer) -> dict[str, Any]:
    service = server.service
    return {
        "clients": len(service.clients),
        "blocked": service.blocking.blocked_clients,
        "blocking_keys": dict(service.store.blocking_keys),
        "channels": dict(service.pubsub.channels),
        "patterns": dict(service.pubsub.patterns),
        "watched": dict(service.store.watched_keys),
    }


EMPTY = {"clients": 0, "blocked": 0, "blocking_keys": {}, "channels": {}, "patterns": {},
         "watched": {}}


# -- unexpected exceptions ------------------------------------------------------


def test_a_failing_command_answers_err_and_the_connection_keeps_working(monkeypatch, logged):
    _register(monkeypatch, "hushfail", _boom)
    server = FakeServer()
    client, other = server.client(1), server.client(2)
    client.send_raw(encode_command("SET", "k", "v") + encode_command("HUSHFAIL")
                    + encode_command("GET", "k"))
    replies = client.replies()
    assert replies[0] == b"OK" and replies[2] == b"v"
    assert isinstance(replies[1], hiredis.ReplyError)
    assert str(replies[1]) == "ERR internal error while running 'hushfail'"
    assert not client.closed
    assert other.call("GET", "k") == b"v"
    failures = _failures(logged)
    assert len(failures) == 1 and "command 'hushfail'" in failures[0]
    assert "ZeroDivisionError" in str(logged[-1]["log_failure"].getTraceback())


def test_the_traceback_is_logged_once_a_minute_per_command(monkeypatch, logged):
    _register(monkeypatch, "hushfail", _boom)
    _register(monkeypatch, "hushfail2", _boom)
    server = FakeServer()
    client = server.client()
    for _ in range(100):
        client.send_raw(encode_command("HUSHFAIL"))
    client.send_raw(encode_command("HUSHFAIL2"))
    assert len(client.replies()) == 101
    assert len(_failures(logged)) == 2
    server.clock.advance(61)
    client.send_raw(encode_command("HUSHFAIL"))
    failures = _failures(logged)
    assert len(failures) == 3
    assert "99 more not logged" in failures[-1]
    assert server.factory.failures.occurrences["command 'hushfail'"] == 101


def test_failure_log_interval():
    from twisted.internet.task import Clock

    clock = Clock()
    failures = FailureLog(clock, interval=10)
    try:
        raise ValueError("x")
    except ValueError:
        assert failures.report("here")
        assert not failures.report("here")
        assert failures.report("there")
        clock.advance(10)
        assert failures.report("here")


@pytest.mark.parametrize("resp3", [False, True])
def test_an_unencodable_reply_becomes_an_error(monkeypatch, logged, resp3):
    _register(monkeypatch, "hushodd", lambda ctx: [b"a", object(), b"c"])
    client = FakeServer().client()
    if resp3:
        client.call("HELLO", "3")
    client.send_raw(encode_command("HUSHODD") + encode_command("PING"))
    raw = client.raw()
    assert raw == (b"-ERR internal error while encoding the reply of 'hushodd'\r\n"
                   + (b"+PONG\r\n"))
    assert not client.closed
    assert len(_failures(logged)) == 1


def _blocking_command(serve):
    def handler(ctx, key):
        return Block([key], 0, serve, NULL_ARRAY)
    return handler


def test_a_failing_serve_function_answers_and_other_waiters_are_served(monkeypatch, logged):
    _register(monkeypatch, "hushbfail", _blocking_command(lambda key: 1 / 0), arity=2)
    server = FakeServer()
    bad, good, writer = server.client(1), server.client(2), server.client(3)
    bad.send_raw(encode_command("HUSHBFAIL", "q"))
    good.send_raw(encode_command("BLPOP", "q", "0"))
    assert server.service.blocking.blocked_clients == 2
    assert writer.call("RPUSH", "q", "x") == 1
    assert isinstance(bad.replies()[0], hiredis.ReplyError)
    assert good.replies() == [[b"q", b"x"]]
    assert server.service.blocking.blocked_clients == 0
    assert bad.call("PING") == b"PONG"
    assert len(_failures(logged)) == 1


def test_an_unencodable_wake_up_reply_is_an_error(monkeypatch):
    def serve(key):
        return object()
    _register(monkeypatch, "hushbodd", _blocking_command(serve), arity=2)
    server = FakeServer()
    client, writer = server.client(1), server.client(2)
    client.send_raw(encode_command("HUSHBODD", "q") + encode_command("PING"))
    writer.call("RPUSH", "q", "x")
    assert client.raw() == (b"-ERR internal error while encoding the reply of 'hushbodd'\r\n"
                            b"+PONG\r\n")


def test_a_failure_in_pipelined_commands_after_a_wake_up(monkeypatch):
    _register(monkeypatch, "hushfail", _boom)
    server = FakeServer()
    client, writer = server.client(1), server.client(2)
    client.send_raw(encode_command("BLPOP", "q", "0") + encode_command("HUSHFAIL")
                    + encode_command("PING"))
    writer.call("RPUSH", "q", "x")
    replies = client.replies()
    assert replies[0] == [b"q", b"x"]
    assert isinstance(replies[1], hiredis.ReplyError)
    assert replies[2] == b"PONG"


# -- disconnects ------------------------------------------------------------------


def test_disconnect_mid_frame():
    server = FakeServer()
    client = server.client()
    client.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nabc")
    client.disconnect()
    assert _state(server) == EMPTY
    assert server.service.store.dbs[0].get(b"k") is None


def test_disconnect_mid_multi_discards_the_queue():
    server = FakeServer()
    client, other = server.client(1), server.client(2)
    client.call("WATCH", "w")
    client.call("MULTI")
    client.call("SET", "k", "v")
    client.disconnect()
    other.disconnect()
    assert _state(server) == EMPTY
    assert server.service.store.dbs[0].get(b"k") is None
    assert client.protocol.session.multi_queue == []


@pytest.mark.parametrize("command", [
    ("BLPOP", "q", "0"),
    ("BRPOP", "q", "other", "0"),
    ("BLMOVE", "q", "dst", "LEFT", "RIGHT", "0"),
    ("BLMPOP", "0", "1", "q", "LEFT"),
    ("BZPOPMIN", "z", "0"),
    ("BZPOPMAX", "z", "5"),
    ("XREAD", "BLOCK", "0", "STREAMS", "s", "$"),
    ("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"),
])
def test_disconnect_while_blocked_leaves_no_waiter(command):
    server = FakeServer()
    setup = server.client(3)
    setup.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    setup.disconnect()
    client = server.client(1)
    client.send_raw(encode_command(*command) + encode_command("SET", "after", "1"))
    assert server.service.blocking.blocked_clients == 1
    client.disconnect()
    assert _state(server) == EMPTY
    writer = server.client(2)
    writer.call("RPUSH", "q", "x")
    writer.call("ZADD", "z", "1", "m")
    writer.call("XADD", "s", "1-1", "f", "v")
    # Nothing was popped (or delivered) for the vanished client, nor its pipeline run.
    assert writer.call("LRANGE", "q", "0", "-1") == [b"x"]
    assert writer.call("ZCARD", "z") == 1
    assert writer.call("XPENDING", "s", "g")[0] == 0
    assert writer.call("EXISTS", "after", "dst") == 0
    server.clock.advance(10)
    assert writer.call("PING") == b"PONG"


def test_a_waiter_gone_in_the_same_turn_does_not_take_the_element():
    server = FakeServer()
    first, second, writer = server.client(1), server.client(2), server.client(3)
    first.send_raw(encode_command("BLPOP", "q", "0"))
    second.send_raw(encode_command("BLPOP", "q", "0"))
    # The first waiter's close and the push arrive together: the close is
    # handled first, so the element goes to the next live waiter.
    first.disconnect()
    writer.call("RPUSH", "q", "x")
    assert second.replies() == [[b"q", b"x"]]
    assert first.raw() == b""
    assert _state(server)["blocked"] == 0


def test_a_killed_waiter_takes_nothing_before_its_close_is_reported():
    server = FakeServer()
    victim, admin = server.client(1), server.client(2)
    victim.send_raw(encode_command("BLPOP", "q", "0"))
    victim_id = victim.protocol.session.client_id
    assert admin.call("CLIENT", "KILL", "ID", victim_id) == 1
    # The reactor has not reported the close yet; the element must stay.
    admin.call("RPUSH", "q", "x")
    assert admin.call("LLEN", "q") == 1
    assert server.service.blocking.blocked_clients == 0
    victim.protocol.connectionLost(None)
    assert _state(server)["clients"] == 1


def test_a_waiter_cut_off_by_its_output_limit_takes_nothing():
    server = FakeServer(client_output_buffer_limit="normal 0 0 0 pubsub 100 0 0")
    protocol = server.factory.buildProtocol(None)
    transport = SlowTransport()
    protocol.makeConnection(transport)
    writer = server.client(2)
    protocol.dataReceived(encode_command("HELLO", "3"))
    transport.drain()
    protocol.dataReceived(encode_command("SUBSCRIBE", "c"))
    transport.drain()
    protocol.dataReceived(encode_command("BLPOP", "q", "0"))
    assert protocol.blocked and not transport.disconnecting
    writer.call("PUBLISH", "c", "x" * 200)
    assert transport.disconnecting
    writer.call("RPUSH", "q", "x")
    assert writer.call("LLEN", "q") == 1
    protocol.connectionLost(None)
    writer.disconnect()
    assert _state(server) == EMPTY


def test_disconnect_while_subscribed():
    server = FakeServer()
    client, publisher = server.client(1), server.client(2)
    client.call("SUBSCRIBE", "a")
    client.send_raw(encode_command("PSUBSCRIBE", "b*", "c*"))
    client.disconnect()
    assert publisher.call("PUBLISH", "a", "x") == 0
    assert publisher.call("PUBLISH", "bb", "x") == 0
    publisher.disconnect()
    assert _state(server) == EMPTY


def test_disconnect_with_watched_keys():
    server = FakeServer()
    client = server.client()
    client.call("WATCH", "a", "b")
    client.call("SELECT", "3")
    client.call("WATCH", "a")
    assert len(server.service.store.watched_keys) == 3
    client.disconnect()
    assert _state(server) == EMPTY


def test_disconnect_during_a_large_reply():
    server = FakeServer()
    protocol = server.factory.buildProtocol(None)
    transport = SlowTransport()
    protocol.makeConnection(transport)
    protocol.dataReceived(encode_command("SET", "big", "x" * 1_000_000))
    protocol.dataReceived(encode_command("GET", "big") + encode_command("GET", "big"))
    assert protocol.pending_output() > 1_000_000
    transport.loseConnection()
    protocol.connectionLost(None)
    assert _state(server) == EMPTY
    # A late read after the close changes nothing.
    protocol.dataReceived(encode_command("SET", "late", "1"))
    assert server.service.store.dbs[0].get(b"late") is None


# -- end to end: INFO shows everything back at zero -----------------------------


def _info_settles(r: redis.Redis, **wanted: int) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        info = {**r.info("clients"), **r.info("stats")}
        if all(info[name] == value for name, value in wanted.items()):
            return info
        if time.monotonic() > deadline:
            raise AssertionError({name: info[name] for name in wanted})
        time.sleep(0.05)


def test_e2e_disconnects_leave_nothing_behind():
    server = start_hush()
    try:
        r = redis.Redis(port=server.port)
        r.set("big", b"x" * (8 * 1024 * 1024))
        scripts = [
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nabc",       # mid-frame
            b"MULTI\r\nSET k v\r\n",                            # mid-MULTI
            b"WATCH k\r\n",                                     # watching
            b"BLPOP q 0\r\n",                                   # blocked
            b"BLMOVE q d LEFT RIGHT 0\r\n",
            b"BZPOPMIN z 0\r\n",
            b"SUBSCRIBE a\r\n",                                 # subscribed
            b"PSUBSCRIBE p*\r\n",
            b"GET big\r\nGET big\r\n",                          # large reply
        ]
        sockets = []
        for script in scripts:
            sock = socket.create_connection(("127.0.0.1", server.port))
            sock.sendall(script)
            sockets.append(sock)
        info = _info_settles(r, connected_clients=len(scripts) + 1, blocked_clients=3,
                             pubsub_channels=1, pubsub_patterns=1)
        assert info["blocked_clients"] == 3
        for sock in sockets:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            sock.close()
        _info_settles(r, connected_clients=1, blocked_clients=0, pubsub_channels=0,
                      pubsub_patterns=0)
        # Nothing popped for the vanished waiters, nothing run for the transaction.
        r.rpush("q", "x")
        r.zadd("z", {"m": 1})
        assert r.lrange("q", 0, -1) == [b"x"]
        assert r.zcard("z") == 1
        assert r.get("k") is None
        assert r.exists("d") == 0
        assert r.ping()
    finally:
        server.stop()

