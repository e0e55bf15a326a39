"""CLIENT PAUSE/UNPAUSE, REPLY, UNBLOCK, KILL, LIST: protocol tests on a FakeServer."""

from __future__ import annotations

import hiredis

from tests.support import FakeServer


def test_pause_all_holds_commands_until_the_deadline():
    server = FakeServer()
    admin, other = server.client(), server.client(40001)
    assert admin.call("CLIENT", "PAUSE", "1000") == b"OK"
    assert other.call("GET", "k") is None and other.replies() == []  # held, no reply yet
    other.send_raw(b"*1\r\n$4\r\nPING\r\n")
    server.clock.advance(0.5)
    assert other.replies() == []
    server.clock.advance(0.6)
    assert other.replies() == [None, b"PONG"]  # in order, after the pause


def test_pause_write_lets_reads_through_and_unpause_releases():
    server = FakeServer()
    admin, other = server.client(), server.client(40001)
    admin.call("SET", "k", "1")
    assert admin.call("CLIENT", "PAUSE", "10000", "WRITE") == b"OK"
    assert other.call("GET", "k") == b"1"
    other.send_raw(b"*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n")
    assert other.replies() == []
    info = admin.call("INFO", "clients").decode()
    assert "blocked_clients:0" in info  # postponed clients are not blocked ones
    assert admin.call("CLIENT", "UNPAUSE") == b"OK"
    assert other.replies() == [2]


def test_pause_write_holds_writing_functions_and_scripts():
    """A function, or a script with a shebang, writes unless it says no-writes (as in Redis)."""
    server = FakeServer()
    admin, other = server.client(), server.client(40001)
    admin.call("FUNCTION", "LOAD", "#!lua name=p\n"
               "redis.register_function('pw', function(keys) return redis.call('set', keys[1], 1) end)\n"
               "redis.register_function{function_name='pr', callback=function(keys) "
               "return redis.call('get', keys[1]) end, flags={'no-writes'}}")
    assert admin.call("CLIENT", "PAUSE", "10000", "WRITE") == b"OK"
    assert other.call("FCALL", "pr", "1", "k") is None
    assert other.call("EVAL", "#!lua flags=no-writes\nreturn 1", "0") == 1
    assert other.call("EVAL", "return 2", "0") == 2
    other.send_raw(b"*4\r\n$5\r\nFCALL\r\n$2\r\npw\r\n$1\r\n1\r\n$1\r\nk\r\n")
    other.send_raw(b"*3\r\n$4\r\nEVAL\r\n$14\r\n#!lua\nreturn 3\r\n$1\r\n0\r\n")
    assert other.replies() == []
    assert admin.call("CLIENT", "UNPAUSE") == b"OK"
    assert other.replies() == [b"OK", 3]


def test_pause_errors():
    client = FakeServer().client()
    assert str(client.call("CLIENT", "PAUSE", "x")) == "ERR timeout is not an integer or out of range"
    assert str(client.call("CLIENT", "PAUSE", "-1")) == "ERR timeout is negative"
    assert str(client.call("CLIENT", "PAUSE", "10", "bogus")) == (
        "ERR CLIENT PAUSE mode must be WRITE or ALL")


def test_reply_off_skip_on():
    client = FakeServer().client()
    client.send_raw(b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n")
    client.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")
    assert client.raw() == b""
    assert client.call("CLIENT", "REPLY", "ON") == b"OK"
    assert client.call("GET", "k") == b"v"
    client.send_raw(b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$4\r\nSKIP\r\n")
    client.send_raw(b"*1\r\n$4\r\nPING\r\n")
    assert client.raw() == b""
    assert client.call("PING") == b"PONG"
    assert str(client.call("CLIENT", "REPLY", "x")) == "ERR syntax error"


def test_unblock_timeout_and_error():
    server = FakeServer()
    admin, waiter = server.client(), server.client(40001)
    waiter_id = waiter.call("CLIENT", "ID")
    assert waiter.call("BLPOP", "q", "0") is None
    assert admin.call("CLIENT", "UNBLOCK", waiter_id) == 1
    assert waiter.replies() == [None]
    waiter.call("BLPOP", "q", "0")
    assert admin.call("CLIENT", "UNBLOCK", waiter_id, "ERROR") == 1
    [error] = waiter.replies()
    assert isinstance(error, hiredis.ReplyError)
    assert str(error) == "UNBLOCKED client unblocked via CLIENT UNBLOCK"
    assert admin.call("CLIENT", "UNBLOCK", waiter_id) == 0
    assert str(admin.call("CLIENT", "UNBLOCK", waiter_id, "x")) == (
        "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    assert "errorstat_UNBLOCKED:count=1" in admin.call("INFO", "errorstats").decode()


def test_kill_filters_and_maxage():
    server = FakeServer()
    admin = server.client()
    old = server.client(40001)
    server.clock.advance(100)
    young = server.client(40002)
    assert admin.call("CLIENT", "KILL", "MAXAGE", "50") == 1
    assert old.closed and not young.closed
    assert admin.call("CLIENT", "KILL", "127.0.0.1:40002") == b"OK"
    assert young.closed
    assert str(admin.call("CLIENT", "KILL", "127.0.0.1:1")) == "ERR No such client"
    assert admin.call("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes") == 0


def test_list_fields_in_redis_order():
    server = FakeServer()
    client = server.client()
    line = client.call("CLIENT", "LIST").decode().strip()
    names = [field.split("=", 1)[0] for field in line.split(" ")]
    assert names == [
        "id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "sub", "psub",
        "ssub", "multi", "qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp", "obl",
        "oll", "omem", "tot-mem", "events", "cmd", "user", "redir", "resp", "lib-name",
        "lib-ver",
    ]
    monitor = server.client(40001)
    monitor.call("MONITOR")
    listed = client.call("CLIENT", "LIST", "ID", monitor.protocol.session.client_id).decode()
    assert "flags=O" in listed
