"""SLOWLOG and DEBUG: protocol tests on a FakeServer."""

from __future__ import annotations

import hiredis
import pytest
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.testing import StringTransport

from hush.ops.slowlog import entry_argv, redacted_argv
from tests.support import FakeServer


@pytest.fixture
def logged():
    """A server that logs every command (slowlog-log-slower-than 0)."""
    return FakeServer(slowlog_log_slower_than=0, slowlog_max_len=3)


def test_every_command_logged_newest_first(logged):
    client = logged.client(port=40123)
    client.call("CLIENT", "SETNAME", "worker")
    client.call("SET", "k", "v")
    entries = client.call("SLOWLOG", "GET")
    first = entries[0]
    assert first[3] == [b"SET", b"k", b"v"]
    assert first[1] == 1_700_000_000
    assert first[2] >= 0
    assert first[4] == b"127.0.0.1:40123"
    assert first[5] == b"worker"
    assert entries[1][3] == [b"CLIENT", b"SETNAME", b"worker"]
    assert first[0] == entries[1][0] + 1


def test_max_len_get_count_len_and_reset(logged):
    client = logged.client()
    for index in range(5):
        client.call("SET", "k", index)
    assert client.call("SLOWLOG", "LEN") == 3
    assert len(client.call("SLOWLOG", "GET", 1)) == 1
    assert len(client.call("SLOWLOG", "GET", -1)) == 3
    assert client.call("SLOWLOG", "GET", 0) == []
    assert client.call("SLOWLOG", "RESET") == b"OK"
    assert client.call("SLOWLOG", "LEN") == 1  # the RESET itself
    error = client.call("SLOWLOG", "GET", -2)
    assert isinstance(error, hiredis.ReplyError)
    assert str(error) == "ERR count should be greater than or equal to -1"


def test_threshold_and_disabled_log():
    server = FakeServer()  # default 10000 us: a PING is far below
    client = server.client()
    client.call("PING")
    assert client.call("SLOWLOG", "LEN") == 0
    server.settings.slowlog_log_slower_than = -1
    client.call("PING")
    assert client.call("SLOWLOG", "LEN") == 0


def test_exec_is_not_logged_but_its_commands_are(logged):
    client = logged.client()
    client.call("MULTI")
    client.call("SET", "a", "1")
    client.call("EXEC")
    names = [entry[3][0] for entry in client.call("SLOWLOG", "GET", -1)]
    assert b"EXEC" not in names
    assert b"SET" in names


def test_argument_truncation_and_redaction():
    argv = [b"RPUSH", b"k"] + [b"x"] * 40
    kept = entry_argv(argv)
    assert len(kept) == 32
    assert kept[-1] == b"... (11 more arguments)"
    long = entry_argv([b"SET", b"k", b"v" * 200])
    assert long[2] == b"v" * 128 + b"... (72 more bytes)"
    assert redacted_argv([b"AUTH", b"u", b"p"]) == [b"AUTH", b"(redacted)", b"(redacted)"]
    assert redacted_argv([b"HELLO", b"3", b"AUTH", b"u", b"p", b"SETNAME", b"n"]) == [
        b"HELLO", b"3", b"AUTH", b"(redacted)", b"(redacted)", b"SETNAME", b"n"]


def test_debug_refused_by_default():
    client = FakeServer().client()
    error = client.call("DEBUG", "SLEEP", "0")
    assert str(error).startswith("ERR DEBUG command not allowed.")


def test_debug_local_and_subcommands():
    server = FakeServer(enable_debug_command="local")
    client = server.client()
    assert client.call("DEBUG", "SLEEP", "0") == b"OK"
    client.call("SET", "k", "12345")
    line = client.call("DEBUG", "OBJECT", "k")
    assert line.startswith(b"Value at:0x")
    assert b" refcount:1 encoding:int serializedlength:3 lru:" in line
    assert line.endswith(b"lru_seconds_idle:0")
    assert str(client.call("DEBUG", "OBJECT", "nokey")) == "ERR no such key"
    assert str(client.call("DEBUG", "NOPE")) == (
        "ERR unknown subcommand or wrong number of arguments for 'NOPE'. Try DEBUG HELP.")


@pytest.mark.parametrize(("host", "allowed"), [
    ("127.0.0.2", True), ("::1", True), ("::ffff:127.0.0.1", True),
    ("192.0.2.7", False), ("::ffff:192.0.2.7", False),
])
def test_debug_local_means_loopback_as_for_protected_mode(host, allowed):
    server = FakeServer(enable_debug_command="local", protected_mode=False)
    transport = StringTransport(peerAddress=(IPv6Address if ":" in host else IPv4Address)(
        "TCP", host, 50000))
    protocol = server.factory.buildProtocol(None)
    protocol.makeConnection(transport)
    protocol.dataReceived(b"DEBUG SLEEP 0\r\n")
    reply = transport.value()
    assert (reply == b"+OK\r\n") is allowed, reply
    if not allowed:
        assert reply.startswith(b"-ERR DEBUG command not allowed.")


def test_debug_set_active_expire():
    server = FakeServer(enable_debug_command="yes")
    client = server.client()
    assert client.call("DEBUG", "SET-ACTIVE-EXPIRE", "0") == b"OK"
    client.call("SET", "k", "v", "PX", "100")
    server.clock.advance(1)
    assert client.call("DBSIZE") == 1  # nobody reaped it
    assert client.call("GET", "k") is None  # lazily expired on lookup
    client.call("SET", "j", "v", "PX", "100")
    assert client.call("DEBUG", "SET-ACTIVE-EXPIRE", "1") == b"OK"
    server.clock.advance(1)
    assert client.call("DBSIZE") == 0
