"""Settings: the table's types and errors, config files, CONFIG GET/SET/REWRITE/RESETSTAT."""

from __future__ import annotations

import pytest

from hush.config.endpoints import listen_endpoints
from hush.config.files import ConfigFileError, load_file, rewrite_file, split_args
from hush.config.kinds import ConfigError, parse_memory
from hush.config.settings import DEFAULTS, Settings
from hush.config.table import BY_NAME, TABLE
from tests.support import REPO, FakeServer

# -- value types ---------------------------------------------------------------


@pytest.mark.parametrize("text, value", [
    ("0", 0), ("100", 100), ("1k", 1000), ("1kb", 1024), ("1K", 1000), ("1KB", 1024),
    ("2m", 2_000_000), ("2mb", 2 * 1024**2), ("3g", 3 * 10**9), ("3Gb", 3 * 1024**3),
    ("10b", 10), ("mb", 0),
])
def test_memory_units(text, value):
    assert parse_memory(text) == value


@pytest.mark.parametrize("text", ["-1", "1.5mb", "1x", "1 mb", "one", "1tb", "0x10"])
def test_bad_memory_values(text):
    with pytest.raises(ConfigError) as error:
        parse_memory(text)
    assert error.value.reason == "argument must be a memory value"


@pytest.mark.parametrize("name, text, reason", [
    ("maxmemory", "foo", "argument must be a memory value"),
    ("maxmemory-policy", "foo", "argument(s) must be one of the following: volatile-lru, "
     "volatile-random, volatile-ttl, allkeys-lru, allkeys-random, noeviction"),
    ("appendonly", "maybe", "argument must be 'yes' or 'no'"),
    ("timeout", "x", "argument couldn't be parsed into an integer"),
    ("timeout", "-1", "argument must be between 0 and 2147483647 inclusive"),
    ("timeout", "99999999999", "argument must be between 0 and 2147483647 inclusive"),
    ("maxclients", "0", "argument must be between 1 and 4294967295 inclusive"),
    ("maxmemory-samples", "0", "argument must be between 1 and 2147483647 inclusive"),
    ("appendfsync", "sometimes",
     "argument(s) must be one of the following: everysec, always, no"),
    ("slowlog-log-slower-than", "-5",
     "argument must be between -1 and 9223372036854775807 inclusive"),
    ("proto-max-bulk-len", "10",
     "argument must be between 1048576 and 9223372036854775807 inclusive"),
    ("loglevel", "loud",
     "argument(s) must be one of the following: debug, verbose, notice, warning"),
    ("save", "abc", "Invalid save parameters"),
    ("save", "1", "Invalid save parameters"),
    ("client-output-buffer-limit", "foo",
     "Wrong number of arguments in buffer limit configuration."),
    ("client-output-buffer-limit", "master 1 2 3",
     "Invalid client class specified in buffer limit configuration."),
    ("client-output-buffer-limit", "normal x 2 3",
     "Error in hard, soft or soft_seconds setting in buffer limit configuration."),
])
def test_kind_errors_are_redis_texts(name, text, reason):
    settings = Settings()
    with pytest.raises(ConfigError) as error:
        settings.set(name, text)
    assert error.value.reason == reason
    assert error.value.command_error() == (
        f"ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}")
    assert settings == Settings()


def test_values_are_python_values_rendered_as_redis_does():
    settings = Settings()
    settings.set_many([("appendonly", "YES"), ("maxmemory", "10KB"),
                       ("maxmemory-policy", "AllKeys-LRU"), ("lua-time-limit", "3000"),
                       ("protected-mode", "no")])
    assert settings.appendonly is True and settings.protected_mode is False
    assert settings.maxmemory == 10240
    assert settings.maxmemory_policy == "allkeys-lru"
    assert settings.busy_reply_threshold == 3000
    assert settings.render("appendonly") == "yes"
    assert settings.render("protected-mode") == "no"
    assert settings.render("lua-time-limit") == settings.render("busy-reply-threshold") == "3000"
    assert Settings(unixsocketperm=0o770).render("unixsocketperm") == "770"


def test_output_limits_change_only_the_named_classes():
    settings = Settings()
    settings.set("client-output-buffer-limit", "pubsub 1mb 2k 3 replica 0 0 0")
    assert settings.client_output_buffer_limit == (
        "normal 0 0 0 slave 0 0 0 pubsub 1048576 2000 3")
    assert settings.pubsub_output_limit == (1048576, 2000, 3)


def test_every_agreed_attribute_exists_with_its_default():
    settings = Settings()
    for setting in TABLE:
        assert hasattr(settings, setting.attr)
        assert DEFAULTS[setting.attr] == getattr(settings, setting.attr)
    assert settings.appendonly is False and settings.protected_mode is True
    assert settings.auto_aof_rewrite_min_size == 64 * 1024 * 1024
    assert BY_NAME["lua-time-limit"] is BY_NAME["busy-reply-threshold"]


# -- CONFIG SET through the Settings API ------------------------------------------


def test_alias_and_name_in_one_call_the_later_wins():
    settings = Settings()
    settings.set_many([("lua-time-limit", "1"), ("busy-reply-threshold", "2")])
    assert settings.busy_reply_threshold == 2


def test_set_many_is_all_or_nothing():
    settings = Settings()
    with pytest.raises(ConfigError) as error:
        settings.set_many([("timeout", "5"), ("maxmemory", "bad")])
    assert error.value.name == "maxmemory"
    assert settings.timeout == 0


def test_on_change_callbacks_and_refusal_roll_back():
    settings = Settings()
    seen = []
    settings.on_change("timeout", seen.append)
    settings.on_change("lua-time-limit", seen.append)

    def refuse(value):
        if value == 7:
            raise ConfigError("argument is unlucky")
    settings.on_change("maxclients", refuse)
    settings.set_many([("timeout", "3"), ("busy-reply-threshold", "10")])
    assert seen == [3, 10]
    settings.set("timeout", "3")  # unchanged: nobody is told
    assert seen == [3, 10]
    with pytest.raises(ConfigError) as error:
        settings.set_many([("timeout", "4"), ("maxclients", "7")])
    assert error.value.command_error() == (
        "ERR CONFIG SET failed (possibly related to argument 'maxclients') - "
        "argument is unlucky")
    assert settings.timeout == 3 and settings.maxclients == 10000
    assert seen == [3, 10, 4, 3]


# -- config file parsing ---------------------------------------------------------


@pytest.mark.parametrize("line, args", [
    ("port 7000", ["port", "7000"]),
    ('requirepass "a b\\"c"', ["requirepass", 'a b"c']),
    ("requirepass 'it\\'s'", ["requirepass", "it's"]),
    ('dir "tab\\there\\x41"', ["dir", "tab\there" + "A"]),
    ('save ""', ["save", ""]),
    ("  bind  127.0.0.1   ::1 ", ["bind", "127.0.0.1", "::1"]),
])
def test_split_args(line, args):
    assert split_args(line) == args


@pytest.mark.parametrize("line", ['dir "open', "dir 'open", 'dir "a"b'])
def test_split_args_unbalanced(line):
    with pytest.raises(ValueError):
        split_args(line)


def write(tmp_path, text, name="hush.conf"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_load_file(tmp_path):
    extra = write(tmp_path, "maxmemory-samples 9\n", "extra.conf")
    path = write(tmp_path, f"""# a comment
PORT 7001
bind 127.0.0.1 ::1 -::2
   maxmemory 2mb
maxmemory-policy volatile-ttl
requirepass "secret word"
appendonly yes
save 900 1
save 300 10
client-output-buffer-limit pubsub 1mb 1mb 0
include {extra}
lua-time-limit 100
""")
    settings = Settings()
    load_file(path, settings)
    assert settings.port == 7001 and settings.bind == "127.0.0.1 ::1 -::2"
    assert settings.maxmemory == 2 * 1024 * 1024
    assert settings.maxmemory_policy == "volatile-ttl"
    assert settings.requirepass == "secret word"
    assert settings.appendonly is True
    assert settings.save == "900 1 300 10"
    assert settings.pubsub_output_limit == (1048576, 1048576, 0)
    assert settings.maxmemory_samples == 9
    assert settings.busy_reply_threshold == 100
    assert settings.config_file == path
    assert listen_endpoints(settings) == ["tcp:7001:interface=127.0.0.1:backlog=511",
                                          "tcp6:7001:interface=\\:\\:1:backlog=511"]


def test_endpoints_from_port_bind_and_unixsocket():
    settings = Settings(port=0, unixsocket="/run/a:b.sock", unixsocketperm=0o660)
    assert listen_endpoints(settings) == ["unix:/run/a\\:b.sock:mode=660"]
    assert listen_endpoints(Settings(bind="* ::*")) == [
        "tcp:6379:backlog=511", "tcp6:6379:interface=\\:\\::backlog=511"]


@pytest.mark.parametrize("text, number, shown, reason", [
    ("port 7000\n# c\nfoo bar\n", 3, "foo bar", "Bad directive or wrong number of arguments"),
    ("maxmemory 1.5x\n", 1, "maxmemory 1.5x", "argument must be a memory value"),
    ("port\n", 1, "port", "wrong number of arguments"),
    ("maxmemory 1 2\n", 1, "maxmemory 1 2", "wrong number of arguments"),
    ("\n\ntimeout \"unterminated\n", 3, 'timeout "unterminated',
     "Unbalanced quotes in configuration line"),
    ("appendonly maybe\n", 1, "appendonly maybe", "argument must be 'yes' or 'no'"),
    ("databases 0\n", 1, "databases 0", "argument must be between 1 and 2147483647 inclusive"),
])
def test_file_errors_name_file_and_line(tmp_path, text, number, shown, reason):
    path = write(tmp_path, text)
    with pytest.raises(ConfigFileError) as error:
        load_file(path, Settings())
    assert str(error.value) == (
        "\n*** FATAL CONFIG FILE ERROR (Hush, Redis 7.0 compatible) ***\n"
        f"Reading the configuration file {path}, at line {number}\n"
        f">>> '{shown}'\n{reason}")


def test_missing_file_and_include(tmp_path):
    with pytest.raises(ConfigFileError, match="can't open config file"):
        load_file(str(tmp_path / "nope.conf"), Settings())
    path = write(tmp_path, f"include {tmp_path / 'gone.conf'}\n")
    with pytest.raises(ConfigFileError, match="gone.conf"):
        load_file(path, Settings())


def test_keep_leaves_command_line_settings_alone(tmp_path):
    settings = Settings(maxkeys=5)
    load_file(write(tmp_path, "maxkeys 9\ndatabases 3\n"), settings, keep={"maxkeys"})
    assert settings.maxkeys == 5 and settings.databases == 3


def test_example_config_loads_and_documents_every_directive():
    path = REPO / "contrib" / "hush.conf"
    settings = Settings()
    load_file(str(path), settings)
    text = path.read_text()
    for setting in TABLE:
        assert f"\n# {setting.name} " in text or f"\n{setting.name} " in text, setting.name


# -- CONFIG REWRITE of a file -------------------------------------------------------


def test_rewrite_keeps_comments_and_order(tmp_path):
    path = write(tmp_path, """# top comment
port 16998
save ""
maxmemory 0
timeout 5
timeout 6

# mid comment
bind 127.0.0.1
""")
    settings = Settings()
    load_file(path, settings)
    settings.set_many([("timeout", "0"), ("maxmemory", "1mb"),
                       ("maxmemory-policy", "allkeys-lru"), ("lua-time-limit", "3000"),
                       ("client-output-buffer-limit", "normal 1mb 2mb 3"),
                       ("save", "100 10"), ("requirepass", 'a "b"')])
    rewrite_file(settings)
    assert open(path).read() == """# top comment
port 16998
save 100 10
maxmemory 1mb
timeout 0

# mid comment
bind 127.0.0.1

# Generated by CONFIG REWRITE
requirepass "a \\"b\\""
client-output-buffer-limit normal 1mb 2mb 3
busy-reply-threshold 3000
maxmemory-policy allkeys-lru
"""
    # Back to the defaults: lines stay (with the default), nothing is appended twice.
    settings.set_many([("maxmemory", "0"), ("save", "")])
    rewrite_file(settings)
    text = open(path).read()
    assert "maxmemory 0\n" in text and 'save ""\n' in text
    assert text.count("# Generated by CONFIG REWRITE") == 1
    reread = Settings()
    load_file(path, reread)
    assert reread.requirepass == 'a "b"' and reread.busy_reply_threshold == 3000


# -- the commands ---------------------------------------------------------------------


def test_config_get_patterns(client):
    assert client.call("CONFIG", "GET", "databases") == [b"databases", b"16"]
    reply = client.call("CONFIG", "GET", "MAXMEMORY*", "maxclients", "maxmemory")
    pairs = dict(zip(reply[::2], reply[1::2], strict=True))
    assert pairs == {b"maxmemory": b"0", b"maxmemory-policy": b"noeviction",
                     b"maxmemory-samples": b"5", b"maxmemory-clients": b"0",
                     b"maxmemory-eviction-tenacity": b"10", b"maxclients": b"10000"}
    assert client.call("CONFIG", "GET", "nomatch") == []
    reply = client.call("CONFIG", "GET", "*time-limit*", "appendonly")
    assert reply == [b"lua-time-limit", b"5000", b"appendonly", b"no"]


def test_config_get_everything(client):
    reply = client.call("CONFIG", "GET", "*")
    names = set(reply[::2])
    assert names == {name.encode() for name, setting in BY_NAME.items() if not setting.hidden}
    # Hidden settings answer to their exact name only, as in Redis.
    assert client.call("CONFIG", "GET", "watchdog-period") == [b"watchdog-period", b"0"]
    assert client.call("CONFIG", "GET", "watchdog*") == []


def test_config_get_exact_name_keeps_callers_spelling(client):
    assert client.call("CONFIG", "GET", "DataBases") == [b"DataBases", b"16"]
    assert client.call("CONFIG", "GET", "DATABASES", "databases") == [b"DATABASES", b"16"]
    assert client.call("CONFIG", "GET", "DATA*") == [b"databases", b"16"]


def test_config_get_is_a_map_in_resp3(client):
    client.call("HELLO", "3")
    client.send_raw(b"*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$9\r\ndatabases\r\n")
    assert client.raw() == b"%1\r\n$9\r\ndatabases\r\n$2\r\n16\r\n"


def test_config_set_maxkeys_applies_to_the_store(server, client):
    assert client.call("CONFIG", "SET", "maxkeys", "2") == b"OK"
    assert server.service.store.maxkeys == 2
    assert client.call("CONFIG", "GET", "maxkeys") == [b"maxkeys", b"2"]
    for key in ("a", "b", "c"):
        client.call("SET", key, "1")
    assert client.call("DBSIZE") == 2


def test_config_set_proto_max_bulk_len_applies_to_connected_clients(server, client):
    assert client.call("CONFIG", "SET", "proto-max-bulk-len", "1mb") == b"OK"
    client.send_raw(b"*2\r\n$3\r\nGET\r\n$2000000\r\n")
    assert str(client.replies()[0]) == "ERR Protocol error: invalid bulk length"
    assert client.closed


def test_config_set_several(server, client, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # appendonly yes opens ./appendonly.aof
    assert client.call("CONFIG", "SET", "timeout", "30", "maxmemory-policy", "allkeys-lru",
                       "appendonly", "yes") == b"OK"
    settings = server.settings
    assert (settings.timeout, settings.maxmemory_policy, settings.appendonly) == (
        30, "allkeys-lru", True)


@pytest.mark.parametrize("args, error", [
    (("foo", "1"), "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"),
    (("maxkeys", "1", "Nope", "2"),
     "ERR Unknown option or number of arguments for CONFIG SET - 'Nope'"),
    (("databases", "3"),
     "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"),
    (("dir", "/tmp"),
     "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"),
    (("maxkeys", "1", "maxkeys", "2"),
     "ERR CONFIG SET failed (possibly related to argument 'maxkeys') - duplicate parameter"),
    (("maxkeys", "1", "lua-time-limit", "1", "LUA-time-limit", "2"),
     "ERR CONFIG SET failed (possibly related to argument 'lua-time-limit') - "
     "duplicate parameter"),
    (("maxkeys", "x", "nope", "2"),
     "ERR Unknown option or number of arguments for CONFIG SET - 'nope'"),
    (("maxkeys", "x", "databases", "2"),
     "ERR CONFIG SET failed (possibly related to argument 'databases') - "
     "can't set immutable config"),
    (("maxkeys", "x"), "ERR CONFIG SET failed (possibly related to argument 'maxkeys') - "
                       "argument couldn't be parsed into an integer"),
    (("maxkeys", "1", "maxmemory", "1.5mb"),
     "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - "
     "argument must be a memory value"),
    (("maxkeys", "1", "x"), "ERR syntax error"),
])
def test_config_set_errors_change_nothing(server, client, args, error):
    reply = client.call("CONFIG", "SET", *args)
    assert str(reply) == error
    assert server.service.store.maxkeys == 0
    assert server.settings.maxkeys == 0


def test_config_rewrite_without_file(client):
    assert str(client.call("CONFIG", "REWRITE")) == (
        "ERR The server is running without a config file")


def test_config_rewrite_with_file(tmp_path):
    path = write(tmp_path, "# mine\nmaxkeys 0\n")
    server = FakeServer(maxkeys=0, config_file=path)
    client = server.client()
    assert client.call("CONFIG", "SET", "maxkeys", "7", "timeout", "9") == b"OK"
    assert client.call("CONFIG", "REWRITE") == b"OK"
    # Every ACL user is written too, the default one included, as Redis does.
    assert open(path).read() == (
        "# mine\nmaxkeys 7\n\n# Generated by CONFIG REWRITE\ntimeout 9\n"
        "user default on nopass ~* &* +@all\n")
    server.settings.config_file = str(tmp_path / "gone" / "hush.conf")
    assert str(client.call("CONFIG", "REWRITE")) == (
        "ERR Rewriting config file: No such file or directory")


def test_config_resetstat_and_help(client):
    client.call("SET", "a", "1")
    client.call("GET", "a")
    assert client.call("CONFIG", "RESETSTAT") == b"OK"
    info = client.call("INFO", "stats").decode()
    assert "keyspace_hits:0\r\n" in info and "total_commands_processed:1\r\n" in info
    help_lines = client.call("CONFIG", "HELP")
    assert help_lines[0].startswith(b"CONFIG <subcommand>")
    assert b"REWRITE" in help_lines


def test_config_help_and_unknown_subcommand(client):
    assert str(client.call("CONFIG", "FOO")) == "ERR unknown subcommand 'FOO'. Try CONFIG HELP."
    assert str(client.call("CONFIG")) == "ERR wrong number of arguments for 'config' command"
    assert str(client.call("CONFIG", "GET")) == (
        "ERR wrong number of arguments for 'config|get' command")
    assert str(client.call("CONFIG", "REWRITE", "x")) == (
        "ERR wrong number of arguments for 'config|rewrite' command")


def test_info_names_the_config_file(tmp_path):
    path = write(tmp_path, "timeout 1\n")
    settings_server = FakeServer(config_file=path)
    info = settings_server.client().call("INFO", "server").decode()
    assert f"config_file:{path}\r\n" in info


# -- differential: Redis's texts -----------------------------------------------------------


@pytest.mark.parametrize("args", [
    ("CONFIG", "SET", "maxmemory", "foo"),
    ("CONFIG", "SET", "maxmemory", "-1"),
    ("CONFIG", "SET", "maxmemory", "1.5mb"),
    ("CONFIG", "SET", "appendonly", "maybe"),
    ("CONFIG", "SET", "timeout", "x"),
    ("CONFIG", "SET", "timeout", "-1"),
    ("CONFIG", "SET", "maxclients", "0"),
    ("CONFIG", "SET", "databases", "3"),
    ("CONFIG", "SET", "nope", "1"),
    ("CONFIG", "SET", "timeout", "1", "nope", "2"),
    ("CONFIG", "SET", "timeout", "1", "b"),
    ("CONFIG", "SET", "maxmemory-samples", "0"),
    ("CONFIG", "SET", "appendfsync", "sometimes"),
    ("CONFIG", "SET", "unixsocketperm", "777"),
    ("CONFIG", "SET", "dir", "/"),
    ("CONFIG", "SET", "slowlog-log-slower-than", "-5"),
    ("CONFIG", "SET", "loglevel", "foo"),
    ("CONFIG", "SET", "save", "1"),
    ("CONFIG", "SET", "client-output-buffer-limit", "foo"),
    ("CONFIG", "SET", "proto-max-bulk-len", "10"),
    ("CONFIG", "SET", "timeout", "1", "timeout", "2"),
    ("CONFIG", "SET", "logfile", "x"),
    ("CONFIG", "SET", "appendfilename", "x"),
    ("CONFIG", "SET", "timeout", "x", "databases", "1"),
    ("CONFIG", "SET", "timeout", "x", "timeout", "1"),
    ("CONFIG", "SET", "timeout", "x", "nope", "1"),
    ("CONFIG", "SET", "dir", "/tmp", "databases", "1"),
    ("COMMAND", "INFO", "config|rewrite", "config|resetstat", "config|set", "config|get"),
    ("CONFIG", "GET", "timeout"),
    ("CONFIG", "GET", "maxmemory-samples"),
    ("CONFIG", "GET", "maxmemory-policy"),
    ("CONFIG", "GET", "lua-time-limit"),
    ("CONFIG", "GET", "BUSY-reply-threshold"),
    ("CONFIG", "GET", "appendfsync"),
    ("CONFIG", "GET", "requirepass"),
    ("CONFIG", "GET", "slowlog-max-len"),
    ("CONFIG", "GET", "slowlog-log-slower-than"),
    ("CONFIG", "GET", "aof-load-truncated"),
    ("CONFIG", "GET", "auto-aof-rewrite-min-size"),
    ("CONFIG", "GET", "client-output-buffer-limit"),
    ("CONFIG", "REWRITE"),
    ("CONFIG", "REWRITE", "x"),
    ("CONFIG", "RESETSTAT", "x"),
    ("CONFIG", "HELP"),
])
def test_differential_config(pair, args):
    pair.check(*args)


# -- twistd options ---------------------------------------------------------------------


def options(*argv: str):
    from hush.tap import Options

    parsed = Options()
    parsed.parseOptions(list(argv))
    return parsed


def test_tap_config_file_and_overrides(tmp_path):
    path = write(tmp_path, "port 7005\nbind 127.0.0.1 ::1\nmaxkeys 9\ndatabases 3\n")
    settings = options("--config", path).settings()
    assert settings.listen == ["tcp:7005:interface=127.0.0.1:backlog=511",
                               "tcp6:7005:interface=\\:\\:1:backlog=511"]
    assert (settings.port, settings.maxkeys, settings.databases) == (7005, 9, 3)
    assert settings.config_file == path
    settings = options("-c", path, "--port", "tcp:7100", "--maxkeys", "0").settings()
    assert settings.listen == ["tcp:7100"]
    assert (settings.port, settings.maxkeys, settings.databases) == (7100, 0, 3)
    # Without --config nothing changes.
    settings = options("--maxkeys", "4").settings()
    assert settings.maxkeys == 4 and settings.config_file == ""


def test_tap_bad_config_exits_with_the_report(tmp_path, capsys):
    path = write(tmp_path, "maxkeys -1\n")
    with pytest.raises(SystemExit) as exit_info:
        options("--config", path)
    assert exit_info.value.code == 1
    assert "at line 1\n>>> 'maxkeys -1'\nargument must be between 0 and 2147483647 inclusive" in (
        capsys.readouterr().err)
