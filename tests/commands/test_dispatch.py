"""The dispatcher apart from any connection: resolution, sessions, their gates."""

from __future__ import annotations

import pytest

from hush.commands.dispatch import (
    DETACHED,
    UNKNOWN_COMMAND,
    UNKNOWN_SUBCOMMAND,
    WRONG_ARITY,
    Session,
    Unresolved,
    resolve,
)
from hush.commands.table import COMMANDS
from hush.core.errors import CommandError
from hush.wire.resp import OK, QUEUED

# -- resolve ---------------------------------------------------------------------


@pytest.mark.parametrize("name", [b"get", b"GET", b"gEt"])
def test_resolve_finds_a_command_in_any_letter_case(name):
    assert resolve([name, b"k"]) is COMMANDS[b"get"]


def test_resolve_finds_a_subcommand_in_any_letter_case():
    client = COMMANDS[b"client"]
    assert resolve([b"CLIENT", b"id"]) is client.subcommands[b"id"]
    assert resolve([b"client", b"Id"]) is client.subcommands[b"id"]


def test_a_container_alone_is_the_command_itself():
    assert resolve([b"COMMAND"]) is COMMANDS[b"command"]


@pytest.mark.parametrize(
    ("argv", "kind", "about"),
    [
        ([b"nosuch", b"x"], UNKNOWN_COMMAND, None),
        ([b"GET"], WRONG_ARITY, "get"),
        ([b"GET", b"a", b"b"], WRONG_ARITY, "get"),
        ([b"MSET", b"a"], WRONG_ARITY, "mset"),
        ([b"CLIENT"], WRONG_ARITY, "client"),
        ([b"CLIENT", b"nosuch"], UNKNOWN_SUBCOMMAND, "client"),
        ([b"CLIENT", b"ID", b"extra"], WRONG_ARITY, "client|id"),
    ],
)
def test_resolve_says_why_nothing_runs(argv, kind, about):
    found = resolve(argv)
    assert isinstance(found, Unresolved)
    assert found.kind is kind
    assert (found.cmd.full_name if found.cmd is not None else None) == about


def test_connections_and_resolve_agree_on_refusals(client):
    # The texts a connection answers for what resolve() refuses, as Redis words them.
    assert str(client.call("nosuch", "x")) == (
        "ERR unknown command 'nosuch', with args beginning with: 'x' ")
    assert str(client.call("GET")) == "ERR wrong number of arguments for 'get' command"
    assert str(client.call("CLIENT", "nosuch")) == (
        "ERR unknown subcommand 'nosuch'. Try CLIENT HELP.")
    assert str(client.call("CLIENT", "ID", "x")) == (
        "ERR wrong number of arguments for 'client|id' command")


# -- sessions without a connection -----------------------------------------------


def test_a_session_without_a_connection_runs_commands(server, client):
    session = Session(server.service)
    assert session.connection is DETACHED and session.transport is None
    assert session.execute([b"SET", b"k", b"v"]) is OK
    assert client.call("GET", "k") == b"v"
    assert session.execute([b"SELECT", b"3"]) is OK
    assert session.db.index == 3
    # It is nobody's connection: not listed, and nothing to close.
    assert session.client_id == 0 and session.client_id not in server.service.clients
    assert session.execute([b"QUIT"]) is OK


def test_a_session_answers_errors_as_values(server):
    session = Session(server.service)
    reply = session.execute([b"nosuch"])
    assert isinstance(reply, CommandError) and reply.message.startswith("ERR unknown command")
    session.execute([b"SET", b"s", b"x"])
    reply = session.execute([b"LPUSH", b"s", b"x"])
    assert isinstance(reply, CommandError) and reply.message.startswith("WRONGTYPE")


def test_a_session_in_multi_queues_and_runs_at_exec(server):
    session = Session(server.service)
    assert session.execute([b"MULTI"]) is OK
    assert session.execute([b"INCR", b"n"]) is QUEUED
    assert session.execute([b"incrby", b"n", b"2"]) is QUEUED
    assert [(cmd.full_name, argv) for cmd, argv in session.queued()] == [
        ("incr", [b"INCR", b"n"]), ("incrby", [b"incrby", b"n", b"2"])]
    assert session.execute([b"EXEC"]) == [1, 3]
    assert not session.in_multi and list(session.queued()) == []


def test_sessions_count_into_their_own_servers_statistics(server):
    session = Session(server.service)
    stats = server.service.store.stats
    before = stats.total_commands_processed
    session.execute([b"PING"])
    assert stats.total_commands_processed == before + 1
    assert session.last_command == "ping"
