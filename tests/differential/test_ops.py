"""Differential tests: SLOWLOG, CLIENT administration, MONITOR and DEBUG replies,
Hush vs a real redis-server (error texts, help, COMMAND INFO)."""

from __future__ import annotations

import pytest

from tests.differential.harness import parse_reply

SCRIPT = [
    ("SLOWLOG", "GET", "-2"),
    ("SLOWLOG", "GET", "x"),
    ("SLOWLOG", "GET", "0"),
    ("SLOWLOG", "GET", "1", "2"),
    ("SLOWLOG", "LEN", "x"),
    ("SLOWLOG", "RESET", "x"),
    ("SLOWLOG", "bogus"),
    ("SLOWLOG", "HELP"),
    ("SLOWLOG",),
    ("CLIENT", "PAUSE"),
    ("CLIENT", "PAUSE", "x"),
    ("CLIENT", "PAUSE", "-1"),
    ("CLIENT", "PAUSE", "10", "bogus"),
    ("CLIENT", "PAUSE", "10", "WRITE", "x"),
    ("CLIENT", "UNPAUSE"),
    ("CLIENT", "UNPAUSE", "x"),
    ("CLIENT", "UNBLOCK", "x"),
    ("CLIENT", "UNBLOCK", "999999"),
    ("CLIENT", "UNBLOCK", "999999", "ERROR"),
    ("CLIENT", "UNBLOCK", "999999", "bogus"),
    ("CLIENT", "UNBLOCK", "999999", "TIMEOUT", "x"),
    ("CLIENT", "REPLY", "bogus"),
    ("CLIENT", "REPLY", "ON"),
    ("CLIENT", "KILL", "1.2.3.4:5"),
    ("CLIENT", "KILL", "ID", "x"),
    ("CLIENT", "KILL", "ID", "999999"),
    ("CLIENT", "KILL", "ADDR", "1.2.3.4:5", "SKIPME", "maybe"),
    ("CLIENT", "KILL", "TYPE", "bogus"),
    ("CLIENT", "KILL", "ADDR"),
    ("CLIENT", "LIST", "TYPE", "bogus"),
    ("CLIENT", "LIST", "ID", "x"),
    ("DEBUG", "SLEEP", "0"),
    ("DEBUG", "OBJECT", "k"),
    ("MONITOR", "x"),
]


@pytest.mark.differential
def test_script(pair):
    pair.run_script(SCRIPT)


@pytest.mark.differential
@pytest.mark.parametrize("name", ["slowlog", "monitor", "debug"])
def test_command_info(pair, name):
    mine, real = (parse_reply(raw) for raw in pair.both("COMMAND", "INFO", name))
    assert mine[0][:8] == real[0][:8]
    assert sorted(mine[0][9] or []) == sorted(real[0][9] or [])


@pytest.mark.differential
def test_client_reply_skip_and_off(pair):
    pair.send("CLIENT", "REPLY", "SKIP")
    pair.send("PING", "skipped")
    pair.check("PING", "after")
    pair.send("CLIENT", "REPLY", "OFF")
    pair.send("SET", "k", "v")
    pair.check("CLIENT", "REPLY", "ON")
    pair.check("GET", "k")
