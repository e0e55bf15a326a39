"""Modules: commands written in Python, loaded with MODULE LOAD and run by the dispatcher."""

from __future__ import annotations

import pytest

from hush.commands import modules
from hush.commands.modules import HAS_BLOCKED, LOAD_FAILED, MODULE_REFUSED, NO_SUCH_MODULE
from tests.support import REPO, FakeClient, FakeServer, encode_command, error_of, send, waiting

HERE = REPO / "tests" / "commands" / "modules"
RATELIMIT = str(REPO / "contrib" / "modules" / "ratelimit.py")
LEADERBOARD = str(REPO / "contrib" / "modules" / "leaderboard.py")
BLOCKBOX = str(HERE / "blockbox.py")


@pytest.fixture(autouse=True)
def unload_all():
    """The command table is the process's: each test leaves it as it found it."""
    before = dict(modules.COMMANDS)
    yield
    for loaded in list(modules.LOADED.values()):
        modules._unregister(loaded)
    assert modules.COMMANDS == before


@pytest.fixture
def server() -> FakeServer:
    return FakeServer(maxkeys=0, enable_module_command="yes", enable_time_control=True)


def load(client, path, *args):
    assert client.call("MODULE", "LOAD", path, *args) == b"OK"


def test_module_load_is_refused_unless_enabled():
    plain = FakeServer(maxkeys=0).client()
    assert error_of(plain.call("MODULE", "LOAD", RATELIMIT)) == MODULE_REFUSED
    assert error_of(plain.call("MODULE", "UNLOAD", "ratelimit")) == MODULE_REFUSED
    assert plain.call("MODULE", "LIST") == []
    assert plain.call("RATELIMIT.TAKE", "k", "1", "1") is not None  # unknown command error
    assert "unknown command" in error_of(plain.call("RATELIMIT.TAKE", "k", "1", "1"))


def test_local_setting_allows_loopback_clients():
    local = FakeServer(maxkeys=0, enable_module_command="local", protected_mode=False)
    assert local.client().call("MODULE", "LOAD", RATELIMIT) == b"OK"
    remote = FakeClient(local.factory, ("192.0.2.7", 5000))
    assert error_of(remote.call("MODULE", "UNLOAD", "ratelimit")) == MODULE_REFUSED


def test_load_list_unload(client):
    load(client, LEADERBOARD, "10")
    load(client, BLOCKBOX)
    assert client.call("MODULE", "LIST") == [
        [b"name", b"leaderboard", b"ver", 1, b"path", LEADERBOARD.encode(), b"args", [b"10"]],
        [b"name", b"blockbox", b"ver", 3, b"path", BLOCKBOX.encode(), b"args", []],
    ]
    assert client.call("INFO", "modules").split(b"\r\n")[1:3] == [
        b"module:name=leaderboard,ver=1,api=1,filters=0,usedby=[],using=[],options=[]",
        b"module:name=blockbox,ver=3,api=1,filters=0,usedby=[],using=[],options=[]",
    ]
    assert client.call("MODULE", "UNLOAD", "leaderboard") == b"OK"
    assert "unknown command 'LEADERBOARD.ADD'" in error_of(
        client.call("LEADERBOARD.ADD", "k", "3", "m", "1"))
    assert error_of(client.call("MODULE", "UNLOAD", "leaderboard")) == NO_SUCH_MODULE
    assert client.call("MODULE", "LIST")[0][1] == b"blockbox"


def test_an_import_path_loads_too(client, monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))
    load(client, "blockbox")
    assert client.call("BOX.PUT", "k", "hi") == b"OK"
    assert client.call("BOX.TAKE", "k", "0") == b"hi"


def test_commands_carry_their_declared_metadata(client):
    load(client, RATELIMIT)
    (info,) = client.call("COMMAND", "INFO", "ratelimit.take")
    assert info[:6] == [b"ratelimit.take", -4, [b"write", b"denyoom", b"module", b"fast"],
                        1, 1, 1]
    assert info[6] == [b"@write", b"@hash", b"@fast"]
    assert info[8][0][1] == [b"RW", b"update"]
    docs = client.call("COMMAND", "DOCS", "ratelimit.take")
    assert docs == [b"ratelimit.take", [
        b"summary", b"Take tokens from a token bucket, refilled at a steady rate",
        b"since", b"1.0.0", b"group", b"module", b"module", b"ratelimit"]]
    assert client.call("COMMAND", "LIST", "FILTERBY", "MODULE", "ratelimit") == [
        b"ratelimit.take"]
    assert b"ratelimit.take" in client.call("ACL", "CAT", "hash")
    assert client.call("COMMAND", "GETKEYS", "RATELIMIT.TAKE", "bucket", "1", "1") == [
        b"bucket"]
    assert "wrong number of arguments for 'ratelimit.take'" in error_of(
        client.call("RATELIMIT.TAKE", "k", "1"))
    client.call("RATELIMIT.TAKE", "k", "1", "1")
    stats = client.call("INFO", "commandstats")
    assert b"cmdstat_ratelimit.take:calls=1," in stats


def test_docs_show_only_what_a_module_declared(client, tmp_path):
    """As Redis documents a module's command: a summary and a version only where
    declared (RedisModule_SetCommandInfo), then the group and the module."""
    load(client, BLOCKBOX)
    assert client.call("COMMAND", "DOCS", "box.put") == [b"box.put", [
        b"summary", b"Leave a message", b"group", b"module", b"module", b"blockbox"]]
    bare = tmp_path / "bare.py"
    bare.write_text("from hush.module import OK, Module\n"
                    "module = Module('bare', version=1)\n"
                    "@module.command('bare.ok', arity=1)\n"
                    "def ok(ctx):\n"
                    "    return OK\n")
    load(client, str(bare))
    assert client.call("COMMAND", "DOCS", "bare.ok") == [b"bare.ok", [
        b"group", b"module", b"module", b"bare"]]


def test_clashes_and_import_failures_are_clear_and_register_nothing(client, tmp_path):
    reply = error_of(client.call("MODULE", "LOAD", str(HERE / "clash.py")))
    assert reply == f"{LOAD_FAILED} command 'get' is already defined (by Hush)"
    # The half that did not clash is not there either.
    reply = error_of(client.call("MODULE", "LOAD", str(HERE / "half.py")))
    assert reply.endswith("command 'ping' is already defined (by Hush)")
    assert "unknown command" in error_of(client.call("HALF.OK"))
    broken = tmp_path / "broken.py"
    broken.write_text("from hush.module import Module\nmodule = Module('x')\ndef oops(:\n")
    assert error_of(client.call("MODULE", "LOAD", str(broken))).startswith(
        f"{LOAD_FAILED} {broken} failed to import: SyntaxError:")
    none = tmp_path / "none.py"
    none.write_text("x = 1\n")
    assert error_of(client.call("MODULE", "LOAD", str(none))) == (
        f"{LOAD_FAILED} {none} must define exactly one hush.module.Module (it defines 0)")
    assert error_of(client.call("MODULE", "LOAD", str(tmp_path / "missing.py"))) == (
        f"{LOAD_FAILED} {tmp_path / 'missing.py'}: no such file")
    assert error_of(client.call("MODULE", "LOAD", "no_such_package.mod")).startswith(
        f"{LOAD_FAILED} no_such_package.mod failed to import: ModuleNotFoundError:")
    load(client, BLOCKBOX)
    assert error_of(client.call("MODULE", "LOAD", BLOCKBOX)) == (
        f"{LOAD_FAILED} a module named 'blockbox' is already loaded")
    # Another module's command is a clash too, named with its owner.
    other = tmp_path / "other.py"
    other.write_text("from hush.module import Module\nmodule = Module('other')\n"
                     "@module.command('box.put', arity=3)\ndef put(ctx, k, v):\n    return 1\n")
    assert error_of(client.call("MODULE", "LOAD", str(other))).endswith(
        "command 'box.put' is already defined (by blockbox)")


def test_on_load_arguments_and_failures(client):
    assert error_of(client.call("MODULE", "LOAD", LEADERBOARD, "1", "2")) == (
        f"{LOAD_FAILED} module 'leaderboard' failed in on_load: "
        "ValueError: one optional argument: the default size")
    assert "unknown command" in error_of(client.call("LEADERBOARD.TOP", "k", "1"))
    assert client.call("MODULE", "LOADEX", LEADERBOARD, "ARGS", "2") == b"OK"
    for member, score in (("a", 5), ("b", 7), ("c", 6)):
        client.call("LEADERBOARD.ADD", "board", "-", member, score)
    assert client.call("LEADERBOARD.TOP", "board", "10") == [b"b", b"7", b"c", b"6"]
    assert error_of(client.call("MODULE", "LOADEX", BLOCKBOX, "CONFIG", "a", "b")) == (
        f"{LOAD_FAILED} Hush modules take no CONFIG parameters")


def test_leaderboard_keeps_the_best(client):
    load(client, LEADERBOARD)
    assert client.call("LEADERBOARD.ADD", "board", "2", "ann", "10") == 0
    assert client.call("LEADERBOARD.ADD", "board", "2", "bob", "20") == 0
    assert client.call("LEADERBOARD.ADD", "board", "2", "cyd", "5") is None
    assert client.call("LEADERBOARD.ADD", "board", "2", "ann", "30") == 0
    # A lower score does not replace a better one.
    assert client.call("LEADERBOARD.ADD", "board", "2", "ann", "1") == 0
    assert client.call("ZRANGE", "board", "0", "-1", "WITHSCORES") == [
        b"bob", b"20", b"ann", b"30"]
    assert error_of(client.call("LEADERBOARD.ADD", "board", "0", "x", "1")) == (
        "ERR size must be a positive integer")
    client.call("SET", "str", "v")
    assert error_of(client.call("LEADERBOARD.ADD", "str", "2", "x", "1")).startswith("WRONGTYPE")


def test_rate_limiter_refills_with_the_server_clock(client):
    load(client, RATELIMIT)
    take = ("RATELIMIT.TAKE", "api:alice", "3", "0.5")
    assert [client.call(*take) for _ in range(3)] == [[1, 2, 0], [1, 1, 0], [1, 0, 0]]
    assert client.call(*take) == [0, 0, 2000]
    assert client.call("PTTL", "api:alice") == 6000
    client.call("HUSH.CLOCK", "ADVANCE", "2")
    assert client.call(*take) == [1, 0, 0]
    assert client.call(*take, "2") == [0, 0, 4000]
    client.call("HUSH.CLOCK", "ADVANCE", "6")
    # Full again: the key expired.
    assert client.call("EXISTS", "api:alice") == 0
    assert client.call(*take, "3") == [1, 0, 0]
    assert error_of(client.call("RATELIMIT.TAKE", "k", "0", "1")) == (
        "ERR capacity, refill rate and tokens must be positive numbers")


def test_module_commands_in_multi_and_scripts(client):
    load(client, LEADERBOARD)
    client.call("MULTI")
    assert client.call("LEADERBOARD.ADD", "b", "5", "x", "1") == b"QUEUED"
    assert client.call("LEADERBOARD.TOP", "b", "5") == b"QUEUED"
    assert client.call("EXEC") == [0, [b"x", b"1"]]
    reply = client.call("EVAL", "return redis.call('leaderboard.add', KEYS[1], 5, 'y', 2)",
                        "1", "b")
    assert reply == 0
    assert client.call("ZCARD", "b") == 2


def test_blocking_module_commands(server, client, a, b):
    load(client, BLOCKBOX)
    send(a, "BOX.TAKE", "inbox", "0")
    send(b, "BOX.TAKE", "other", "5")
    assert waiting(server) == 2
    assert error_of(client.call("MODULE", "UNLOAD", "blockbox")) == HAS_BLOCKED
    assert client.call("BOX.PUT", "inbox", "hello") == b"OK"
    assert a.replies() == [b"hello"]
    client.call("HUSH.CLOCK", "ADVANCE", "5")
    assert b.replies() == [None]
    # In MULTI nothing waits: the timeout reply at once.
    client.call("MULTI")
    client.call("BOX.TAKE", "inbox", "0")
    assert client.call("EXEC") == [None]
    assert client.call("MODULE", "UNLOAD", "blockbox") == b"OK"


def test_pipelined_after_a_blocked_module_command(server, client, a):
    load(client, BLOCKBOX)
    a.send_raw(encode_command("BOX.TAKE", "k", "0") + encode_command("PING"))
    client.call("BOX.PUT", "k", "v")
    assert a.replies() == [b"v", b"PONG"]


def test_module_commands_route_by_their_keys_in_cluster_mode(tmp_path):
    """A module command's keys, declared with it, route as a built-in command's."""
    (tmp_path / "nodes.conf").write_bytes(
        b"%s 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-8191\n"
        b"%s 127.0.0.1:7001@17001 master - 0 0 2 connected 8192-16383\n"
        b"vars currentEpoch 2 lastVoteEpoch 0\n" % (b"a" * 40, b"b" * 40))
    node = FakeServer(cluster_enabled=True, dir=str(tmp_path), port=7000, maxkeys=0,
                      enable_module_command="yes")
    try:
        client = node.client()
        load(client, RATELIMIT)
        # {b} hashes to slot 3300 (this node's), {a} to 15495 (the other's).
        assert client.call("RATELIMIT.TAKE", "{b}bucket", "10", "1") == [1, 9, 0]
        assert error_of(client.call("RATELIMIT.TAKE", "{a}bucket", "10", "1")) == (
            "MOVED 15495 127.0.0.1:7001")
    finally:
        node.service.cluster.close()
