"""MONITOR: Redis's line format, redaction, admin commands hidden."""

from __future__ import annotations

from hush.ops.monitor import quote
from tests.support import FakeServer


def test_quote_is_sdscatrepr():
    assert quote(b'a"b\\c\n\x01\xff \xc3\xa9') == b'"a\\"b\\\\c\\n\\x01\\xff \\xc3\\xa9"'


def test_monitor_stream():
    server = FakeServer()
    monitor, client = server.client(), server.client(50000)
    assert monitor.call("MONITOR") == b"OK"
    assert server.service.watchers  # the feed is on the dispatcher's path only now
    client.call("SET", "k", "v")
    client.call("HELLO", "2", "AUTH", "default", "secret")
    client.call("CONFIG", "GET", "x")  # admin: not shown
    client.call("GET")  # refused before running: not shown
    client.call("SELECT", "1")
    client.call("INCR", "k")  # fails while running: shown
    lines = monitor.replies()
    assert lines == [
        b'1700000000.000000 [0 127.0.0.1:50000] "SET" "k" "v"',
        b'1700000000.000000 [0 127.0.0.1:50000] "HELLO" "2" "AUTH" "(redacted)" "(redacted)"',
        b'1700000000.000000 [1 127.0.0.1:50000] "SELECT" "1"',
        b'1700000000.000000 [1 127.0.0.1:50000] "INCR" "k"',
    ]


def test_monitor_in_exec_order_and_disconnect():
    server = FakeServer()
    monitor, client = server.client(), server.client(50000)
    monitor.call("MONITOR")
    server.clock.advance(0.25)
    client.call("MULTI")
    client.call("SET", "a", "1")
    client.call("EXEC")
    assert [line.split(b"] ", 1)[1] for line in monitor.replies()] == [
        b'"MULTI"', b'"SET" "a" "1"', b'"EXEC"']
    monitor.disconnect()
    assert server.service.watchers == [] and server.service.monitors == []


def test_monitor_shows_a_script_then_its_commands_from_lua():
    server = FakeServer()
    monitor, client = server.client(), server.client(50000)
    assert monitor.call("MONITOR") == b"OK"
    client.call("EVAL", "redis.call('set', KEYS[1], 'v'); return redis.call('get', KEYS[1])",
                "1", "k")
    # As redis-server 7.0.15 shows it: the EVAL first, then its commands.
    assert monitor.replies() == [
        b'1700000000.000000 [0 127.0.0.1:50000] "EVAL" "redis.call(\'set\', KEYS[1], \'v\'); '
        b'return redis.call(\'get\', KEYS[1])" "1" "k"',
        b'1700000000.000000 [0 lua] "set" "k" "v"',
        b'1700000000.000000 [0 lua] "get" "k"',
    ]
