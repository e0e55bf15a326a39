"""The command table's helpers: every container's HELP subcommand made one way."""

from __future__ import annotations

import pytest

from hush.commands import COMMANDS, all_commands, table
from hush.wire.resp import SimpleString
from tests.support import FakeServer, raw_reply

#: Every container with a HELP subcommand registered by help_command (DEBUG's
#: HELP is an argument of DEBUG, not a subcommand, as in Redis).
CONTAINERS = ["acl", "client", "cluster", "command", "config", "function", "hush.clock",
              "latency", "memory", "module", "object", "pubsub", "script", "slowlog",
              "xgroup", "xinfo"]


def test_help_command_registers_redis_help_subcommand(monkeypatch):
    monkeypatch.setattr(table, "COMMANDS", {})
    table.container("hushtest", group="server", summary="A test container")
    table.help_command("hushtest", ["HUSHTEST <subcommand>", "HELP"], group="server",
                       since="6.2.0", acl=("keyspace", "slow"))
    help_ = table.COMMANDS[b"hushtest"].subcommands[b"help"]
    assert table.COMMANDS[b"HUSHTEST"].subcommands[b"HELP"] is help_
    assert (help_.full_name, help_.arity, help_.flags, help_.group, help_.since,
            help_.acl_categories, help_.summary) == (
        "hushtest|help", 2, ("loading", "stale"), "server", "6.2.0", ("keyspace", "slow"),
        "Show helpful text about the different subcommands")
    assert help_.handler.__name__ == "hushtest_help"
    reply = help_.handler(None)
    assert reply == [b"HUSHTEST <subcommand>", b"HELP"]
    assert all(type(line) is SimpleString for line in reply)
    # Each call answers a list of its own: a caller that changes one (a
    # script converting it, say) leaves the next answer whole.
    reply.clear()
    assert help_.handler(None) == [b"HUSHTEST <subcommand>", b"HELP"]


def test_help_command_takes_other_flags(monkeypatch):
    monkeypatch.setattr(table, "COMMANDS", {})
    table.container("hushtest", group="server", summary="A test container")
    table.help_command("hushtest", [], group="server", since="5.0.0", acl=("slow",),
                       flags=("loading", "stale", "sentinel"))
    assert table.COMMANDS[b"hushtest"].subcommands[b"help"].flags == (
        "loading", "stale", "sentinel")


def test_every_help_subcommand_comes_from_help_command():
    found = sorted(cmd.name for cmd in all_commands() if b"help" in cmd.subcommands)
    assert found == CONTAINERS
    for name in CONTAINERS:
        handler = COMMANDS[name.encode()].subcommands[b"help"].handler
        assert (handler.__module__, handler.__name__) == ("hush.commands.table", f"{name}_help")


@pytest.mark.parametrize("name", CONTAINERS)
def test_help_answers_status_lines(client, name, tmp_path, request):
    if name == "cluster":
        # CLUSTER HELP answers in cluster mode only (a new node: no nodes.conf yet).
        node = FakeServer(cluster_enabled=True, dir=str(tmp_path))
        request.addfinalizer(node.service.cluster.close)
        client = node.client()
    raw = raw_reply(client, name.upper(), "HELP")
    lines = raw.split(b"\r\n")
    assert lines[0].startswith(b"*")
    assert lines[1] == b"+%s <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" % (
        name.upper().encode())
    assert lines[-3:] == [b"+HELP", b"+    Prints this help.", b""]
    assert len(lines) == int(lines[0][1:]) + 2
