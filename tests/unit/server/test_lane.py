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


def test_a_pipeline_of_one_command_is_counted_and_timed_once_each():
    server = FakeServer()
    client = server.client()
    stats = server.service.commandstats
    client.call("SET", "k", "v")
    get = lookup(b"get").number
    client.send_raw(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n" * 5)
    assert client.raw() == b"$1\r\nv\r\n" * 5
    assert stats.calls[get] == 5 and sum(stats.histograms[get]) == 5 and stats.seconds[get] > 0
    assert server.service.store.stats.total_commands_processed == 6
    client.send_raw(b"*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n" * 2)
    assert client.raw() == b"-ERR value is not an integer or out of range\r\n" * 2
    incr = lookup(b"incr").number
    assert stats.calls[incr] == 2 and stats.failed[incr] == 2 and stats.errors == {"ERR": 2}
    client.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
    client.send_raw(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n" * 2)
    client.raw()
    assert [entry[3] for entry in client.call("SLOWLOG", "GET")][:2] == [[b"GET", b"k"]] * 2


def test_a_blocked_client_served_in_a_pipeline_sees_the_commands_before_it_counted():
    server = FakeServer()
    pusher, waiter = server.client(), server.client()
    waiter.send_raw(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n"
                    b"*2\r\n$4\r\nINFO\r\n$12\r\ncommandstats\r\n")
    pusher.send_raw(b"*3\r\n$5\r\nRPUSH\r\n$1\r\nq\r\n$1\r\na\r\n" * 3)
    assert pusher.raw() == b":1\r\n:1\r\n:2\r\n"
    served = waiter.raw()
    assert served.startswith(b"*2\r\n$1\r\nq\r\n$1\r\na\r\n")
    assert b"cmdstat_rpush:calls=1," in served
    assert b"cmdstat_rpush:calls=3," in pusher.call("INFO", "commandstats")


def test_a_pipeline_stops_on_the_lane_where_a_command_blocks():
    server = FakeServer()
    client, other = server.client(), server.client()
    client.send_raw(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n" * 2)
    assert client.raw() == b""
    other.call("RPUSH", "q", "a", "b")
    assert client.raw() == b"*2\r\n$1\r\nq\r\n$1\r\na\r\n*2\r\n$1\r\nq\r\n$1\r\nb\r\n"
    assert server.service.commandstats.calls[lookup(b"blpop").number] == 2
