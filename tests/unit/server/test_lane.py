"""The connection's lean lane (RedisProtocol._run): which clients take it, and
that a command on it is counted, timed and answered as execute() would."""

from __future__ import annotations

from hush.commands.table import lookup
from tests.support import FakeServer


def test_a_plain_client_takes_the_lane_and_monitor_or_multi_take_it_off():
    server = FakeServer()
    client, other = server.client(), server.client()
    session = client.protocol.session
    assert session.plain
    assert other.call("MONITOR") == b"OK"
    # A watcher sees every client's commands: nobody is plain meanwhile.
    assert not session.plain
    assert client.call("SET", "k", "v") == b"OK"
    assert b'"SET" "k" "v"' in other.raw()
    other.disconnect()
    assert session.plain
    client.call("MULTI")
    assert not session.plain
    client.call("EXEC")
    assert session.plain


def test_the_aof_takes_clients_off_the_lane(tmp_path):
    server = FakeServer(dir=str(tmp_path))
    client = server.client()
    assert client.protocol.session.plain
    server.service.persistence._attach(object())
    assert not client.protocol.session.plain
    server.service.persistence._attach(None)
    assert client.protocol.session.plain


def test_commands_on_the_lane_are_counted_timed_and_their_errors_counted():
    server = FakeServer()
    client = server.client()
    stats = server.service.commandstats
    get = lookup(b"get").number
    client.send_raw(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n" * 3 + b"*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n")
    client.raw()
    client.call("SET", "k", "v")
    assert str(client.call("INCR", "k")).startswith("ERR value is not an integer")
    assert stats.calls[get] == 3 and sum(stats.histograms[get]) == 3
    incr = lookup(b"incr").number
    assert stats.calls[incr] == 2 and stats.failed[incr] == 1
    assert stats.errors == {"ERR": 1}
    assert server.service.store.stats.total_commands_processed == 6
    assert client.call("CLIENT", "INFO").split(b" cmd=")[1].startswith(b"client|info ")


def test_a_slow_command_on_the_lane_reaches_the_slow_log():
    server = FakeServer()
    client = server.client()
    client.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
    client.call("GET", "k")
    entries = client.call("SLOWLOG", "GET")
    assert [b"GET", b"k"] in [entry[3] for entry in entries]
