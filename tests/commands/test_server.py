"""Protocol tests of the server commands, on a fake server and clock."""

from __future__ import annotations

import hiredis
import pytest


def test_dbsize_counts_selected_database(client):
    assert client.call("DBSIZE") == 0
    client.call("SET", "a", "1")
    client.call("SET", "b", "2")
    assert client.call("DBSIZE") == 2
    client.call("SELECT", "1")
    assert client.call("DBSIZE") == 0


def test_flushdb_empties_only_selected_database(client):
    client.call("SET", "a", "1")
    client.call("SELECT", "1")
    client.call("SET", "b", "1")
    assert client.call("FLUSHDB") == b"OK"
    assert client.call("DBSIZE") == 0
    client.call("SELECT", "0")
    assert client.call("DBSIZE") == 1


@pytest.mark.parametrize("mode", [(), ("ASYNC",), ("sync",)])
def test_flushall_empties_every_database(client, mode):
    client.call("SET", "a", "1")
    client.call("SELECT", "3")
    client.call("SET", "b", "1")
    assert client.call("FLUSHALL", *mode) == b"OK"
    assert client.call("DBSIZE") == 0
    client.call("SELECT", "0")
    assert client.call("DBSIZE") == 0


@pytest.mark.parametrize("args", [("x",), ("sync", "async"), ("ASYNC", "ASYNC")])
@pytest.mark.parametrize("name", ["FLUSHALL", "FLUSHDB"])
def test_flush_syntax_errors_keep_data(client, name, args):
    client.call("SET", "a", "1")
    reply = client.call(name, *args)
    assert isinstance(reply, hiredis.ReplyError)
    assert str(reply) == "ERR syntax error"
    assert client.call("DBSIZE") == 1


def _set_with_ttl(server, key: bytes, ms: int) -> None:
    # Through the store, so these tests do not depend on SET's options.
    db = server.service.store.dbs[0]
    db.set(key, b"1")
    db.set_expire(key, server.service.store.now_ms() + ms)


def test_flushall_forgets_ttls(server, client):
    _set_with_ttl(server, b"a", 10_000)
    client.call("FLUSHALL")
    client.call("SET", "a", "2")
    server.clock.advance(20)
    assert client.call("GET", "a") == b"2"


def test_swapdb_exchanges_contents(server, client):
    other = server.client(40001)
    client.call("SET", "a", "zero")
    other.call("SELECT", "1")
    other.call("SET", "b", "one")
    assert client.call("SWAPDB", "0", "1") == b"OK"
    assert client.call("GET", "a") is None
    assert client.call("GET", "b") == b"one"
    assert other.call("GET", "a") == b"zero"


def test_swapdb_moves_ttls(server, client):
    _set_with_ttl(server, b"a", 1000)
    client.call("SWAPDB", "0", "5")
    client.call("SELECT", "5")
    assert server.service.store.dbs[5].get_expire(b"a") == server.service.store.now_ms() + 1000
    server.clock.advance(2)
    assert client.call("GET", "a") is None


@pytest.mark.parametrize("args, error", [
    (("a", "1"), "ERR invalid first DB index"),
    (("0", "b"), "ERR invalid second DB index"),
    (("0", "16"), "ERR DB index is out of range"),
    (("-1", "0"), "ERR DB index is out of range"),
])
def test_swapdb_errors(client, args, error):
    reply = client.call("SWAPDB", *args)
    assert isinstance(reply, hiredis.ReplyError)
    assert str(reply) == error


def test_swapdb_same_index_is_ok(client):
    client.call("SET", "a", "1")
    assert client.call("SWAPDB", "2", "2") == b"OK"


def test_time_comes_from_the_clock(server, client):
    server.clock.advance(1.25)
    assert client.call("TIME") == [b"1700000001", b"250000"]


def test_time_arity(client):
    reply = client.call("TIME", "x")
    assert str(reply) == "ERR wrong number of arguments for 'time' command"


# -- INFO -------------------------------------------------------------------

def _info_fields(text: bytes) -> dict[str, str]:
    fields = {}
    for line in text.decode().split("\r\n"):
        if line and not line.startswith("#"):
            key, _, value = line.partition(":")
            fields[key] = value
    return fields


def _headers(text: bytes) -> list[str]:
    return [line for line in text.decode().split("\r\n") if line.startswith("# ")]


def test_info_default_sections_in_redis_order(client):
    text = client.call("INFO")
    assert _headers(text) == [
        "# Server", "# Clients", "# Memory", "# Persistence", "# Stats",
        "# Replication", "# CPU", "# Modules", "# Errorstats", "# Cluster", "# Keyspace",
    ]
    assert text.endswith(b"\r\n")
    assert b"\r\n\r\n# Clients\r\n" in text


@pytest.mark.parametrize("name", ["all", "everything", "EVERYTHING"])
def test_info_aliases_give_every_section(client, name):
    assert "# Commandstats" in _headers(client.call("INFO", name))
    assert len(_headers(client.call("INFO", name))) == 12


def test_info_server_fields(server, client):
    import hush

    server.clock.advance(90_000)
    fields = _info_fields(client.call("INFO", "server"))
    assert fields["redis_version"] == hush.REDIS_VERSION
    assert fields["hush_version"] == hush.__version__
    assert fields["redis_mode"] == "standalone"
    assert fields["arch_bits"] in ("32", "64")
    assert int(fields["process_id"]) > 0
    assert len(fields["run_id"]) == 40
    assert fields["uptime_in_seconds"] == "90000"
    assert fields["uptime_in_days"] == "1"
    assert fields["tcp_port"] == "12345"
    assert fields["hz"] == "10"


def test_info_sections_are_case_insensitive_and_ordered(client):
    text = client.call("INFO", "KEYSPACE", "server")
    assert _headers(text) == ["# Server", "# Keyspace"]


def test_info_unknown_section_is_empty(client):
    assert client.call("INFO", "nosuch") == b""


def test_info_keyspace_lines(server, client):
    assert client.call("INFO", "keyspace") == b"# Keyspace\r\n"
    client.call("SET", "a", "1")
    client.call("SET", "b", "1")
    db = server.service.store.dbs[0]
    db.set_expire(b"b", server.service.store.now_ms() + 10_000)
    client.call("SELECT", "3")
    client.call("SET", "c", "1")
    assert client.call("INFO", "keyspace") == (
        b"# Keyspace\r\n"
        b"db0:keys=2,expires=1,avg_ttl=10000\r\n"
        b"db3:keys=1,expires=0,avg_ttl=0\r\n"
    )


def test_info_clients_and_stats(server, client):
    other = server.client(40001)
    other.call("PING")
    fields = _info_fields(client.call("INFO", "clients", "stats", "replication"))
    assert fields["connected_clients"] == "2"
    assert fields["blocked_clients"] == "0"
    assert fields["total_connections_received"] == "2"
    assert int(fields["total_commands_processed"]) == 2
    assert fields["role"] == "master"
    assert fields["connected_slaves"] == "0"
    other.disconnect()
    assert _info_fields(client.call("INFO", "clients"))["connected_clients"] == "1"


def test_info_memory_is_the_process_size(client):
    fields = _info_fields(client.call("INFO", "memory"))
    used = int(fields["used_memory"])
    assert used > 1_000_000
    assert fields["used_memory_human"].endswith(("K", "M", "G"))
    assert fields["maxmemory"] == "0"


def test_info_ops_per_sec_from_samples(server, client):
    client.call("INFO", "stats")
    # 16 samples of 100 ms, as Redis's cron takes them: 4 commands each.
    for _ in range(16):
        for _ in range(4):
            client.call("PING")
        server.clock.advance(0.1)
    fields = _info_fields(client.call("INFO", "stats"))
    assert fields["instantaneous_ops_per_sec"] == "40"
    assert float(fields["instantaneous_input_kbps"]) > 0


def test_config_resetstat_zeroes_counters(client):
    client.call("PING")
    assert client.call("CONFIG", "RESETSTAT") == b"OK"
    fields = _info_fields(client.call("INFO", "stats"))
    assert fields["total_commands_processed"] == "1"
    assert fields["total_connections_received"] == "0"


def test_info_is_verbatim_in_resp3(client):
    client.call("HELLO", "3")
    client.send_raw(b"*2\r\n$4\r\nINFO\r\n$8\r\nkeyspace\r\n")
    assert client.raw() == b"=16\r\ntxt:# Keyspace\r\n\r\n"


def test_bytes_to_human():
    from hush.ops.info import bytes_to_human

    assert bytes_to_human(0) == "0B"
    assert bytes_to_human(1023) == "1023B"
    assert bytes_to_human(1509040) == "1.44M"
    assert bytes_to_human(25276510208) == "23.54G"


# -- COMMAND ------------------------------------------------------------------

def test_command_count_matches_the_table(client):
    from hush.commands import all_commands

    assert client.call("COMMAND", "COUNT") == len(all_commands())
    assert len(client.call("COMMAND")) == len(all_commands())


def test_command_info_shape(client):
    [entry] = client.call("COMMAND", "INFO", "get")
    assert entry == [
        b"get", 2, [b"readonly", b"fast"], 1, 1, 1, [b"@read", b"@string", b"@fast"], [],
        [[b"flags", [b"RO", b"access"],
          b"begin_search", [b"type", b"index", b"spec", [b"index", 1]],
          b"find_keys", [b"type", b"range", b"spec",
                         [b"lastkey", 0, b"keystep", 1, b"limit", 0]]]],
        [],
    ]


def test_command_info_unknown_is_null_and_subcommands_resolve(client):
    reply = client.call("COMMAND", "INFO", "nosuch", "CLIENT|ID")
    assert reply[0] is None
    assert reply[1][:2] == [b"client|id", 2]


def test_command_info_container_lists_subcommands(client):
    [entry] = client.call("COMMAND", "INFO", "config")
    assert entry[:7] == [b"config", -2, [], 0, 0, 0, [b"@slow"]]
    names = {sub[0] for sub in entry[9]}
    assert {b"config|get", b"config|set", b"config|resetstat", b"config|help"} <= names


def test_command_info_resp3_uses_sets(client):
    client.call("HELLO", "3")
    client.send_raw(b"*3\r\n$7\r\nCOMMAND\r\n$4\r\nINFO\r\n$4\r\ntime\r\n")
    assert client.raw() == (
        b"*1\r\n*10\r\n$4\r\ntime\r\n:1\r\n~3\r\n+loading\r\n+stale\r\n+fast\r\n"
        b":0\r\n:0\r\n:0\r\n~1\r\n+@fast\r\n~1\r\n$23\r\nnondeterministic_output\r\n"
        b"~0\r\n~0\r\n"
    )


def test_command_docs(client):
    reply = client.call("COMMAND", "DOCS", "dbsize", "nosuch")
    assert reply == [b"dbsize", [b"summary", b"Return the number of keys in the selected database",
                                 b"since", b"1.0.0", b"group", b"server", b"complexity", b"O(1)"]]
    assert client.call("COMMAND", "DOCS", "nosuch") == []


def test_command_list_and_filters(client):
    names = client.call("COMMAND", "LIST")
    assert b"get" in names and b"client|id" in names
    assert client.call("COMMAND", "LIST", "FILTERBY", "PATTERN", "conf*") == [
        n for n in names if n.startswith(b"conf")]
    assert b"time" in client.call("COMMAND", "LIST", "FILTERBY", "ACLCAT", "fast")
    assert b"info" not in client.call("COMMAND", "LIST", "FILTERBY", "ACLCAT", "fast")
    assert client.call("COMMAND", "LIST", "FILTERBY", "MODULE", "x") == []
    assert str(client.call("COMMAND", "LIST", "FILTERBY", "FOO", "x")) == "ERR syntax error"


@pytest.mark.parametrize("argv, reply", [
    (("GET", "a"), [b"a"]),
    (("MSET", "a", "1", "b", "2"), [b"a", b"b"]),
    (("MGET", "a", "b", "c"), [b"a", b"b", b"c"]),
])
def test_command_getkeys(client, argv, reply):
    assert client.call("COMMAND", "GETKEYS", *argv) == reply


@pytest.mark.parametrize("argv, error", [
    (("nosuch", "a", "b"), "ERR Invalid command specified"),
    (("get", "a", "b"), "ERR Invalid number of arguments specified for command"),
    (("ping", "a", "b"), "ERR The command has no key arguments"),
])
def test_command_getkeys_errors(client, argv, error):
    assert str(client.call("COMMAND", "GETKEYS", *argv)) == error


def test_acl_categories_derived_in_redis_order():
    from hush.commands import introspect
    from hush.commands.table import Command

    cmd = Command("xadd", handler=lambda ctx: None, arity=-5,
                  flags=("write", "denyoom", "fast", "blocking"), group="stream")
    assert introspect.acl_categories(cmd) == ["write", "stream", "fast", "blocking"]
    assert introspect.flags(cmd) == ["write", "denyoom", "blocking", "fast"]


@pytest.mark.parametrize("listen, port", [
    ([], 6379),
    (["tcp:7000"], 7000),
    (["unix:/run/hush.sock", "tcp:port=7001:interface=127.0.0.1"], 7001),
    (["tcp6:7002:interface=\\:\\:1"], 7002),
    (["ssl:6390:privateKey=key.pem"], 6379),
])
def test_settings_port_follows_the_tcp_endpoint(listen, port):
    from hush.config.settings import Settings

    assert Settings(listen=listen).port == port


def test_info_counts_watching_clients_and_watched_keys(client, a, b):
    a.call("WATCH", "x", "y")
    b.call("WATCH", "y", "z")
    info = client.call("INFO", "clients")
    assert b"watching_clients:2\r\n" in info and b"total_watched_keys:3\r\n" in info
    # Redis 7.4's order: watching_clients after tracking_clients, the keys after the timeouts.
    assert info.index(b"tracking_clients") < info.index(b"watching_clients") < info.index(
        b"clients_in_timeout_table") < info.index(b"total_watched_keys")
    a.call("UNWATCH")
    info = client.call("INFO", "clients")
    assert b"watching_clients:1\r\n" in info and b"total_watched_keys:2\r\n" in info
