"""The twistd plugin's options and service, and the README session on fake clients."""

from __future__ import annotations

import pytest
from twisted.application.internet import StreamServerEndpointService
from twisted.internet.endpoints import TCP4ServerEndpoint, UNIXServerEndpoint
from twisted.python import usage

from hush.server.service import StoreService
from hush.tap import DEFAULT_PORT, Options, makeService
from tests.support import FakeServer


def parse(*argv: str) -> Options:
    options = Options()
    options.parseOptions(list(argv))
    return options


# -- options ------------------------------------------------------------------


def test_defaults():
    options = parse()
    assert options["ports"] == [DEFAULT_PORT] == ["tcp:6379:interface=127.0.0.1:backlog=511"]
    assert options["maxkeys"] == 1000
    assert options["databases"] == 16
    settings = options.settings()
    assert settings.listen == [DEFAULT_PORT]
    assert settings.maxkeys == 1000
    assert settings.databases == 16


def test_repeated_port():
    options = parse("--port", "tcp:7000", "-p", "unix:/tmp/hush-test.sock", "--port=tcp:7001")
    assert options["ports"] == ["tcp:7000", "unix:/tmp/hush-test.sock", "tcp:7001"]
    assert options.settings().listen == options["ports"]


def test_options_are_not_shared_between_instances():
    parse("--port", "tcp:7000")
    assert parse()["ports"] == [DEFAULT_PORT]


@pytest.mark.parametrize(
    ("argv", "key", "value"),
    [
        (["--maxkeys", "3"], "maxkeys", 3),
        (["--maxkeys=0"], "maxkeys", 0),
        (["--databases", "1"], "databases", 1),
        (["--databases=64"], "databases", 64),
    ],
)
def test_numbers(argv, key, value):
    assert parse(*argv)[key] == value


@pytest.mark.parametrize(
    "argv",
    [
        ["--no-such-option"],
        ["extra-argument"],
    ],
)
def test_bad_options_are_refused(argv):
    with pytest.raises(usage.UsageError):
        parse(*argv)


def test_maxkeys_policy_option_overrides_the_config_file(tmp_path):
    path = tmp_path / "hush.conf"
    path.write_text("maxkeys-policy volatile-ttl\n")
    assert parse("-c", str(path)).settings().maxkeys_policy == "volatile-ttl"
    options = parse("-c", str(path), "--maxkeys-policy", "NoEviction")
    assert options.settings().maxkeys_policy == "noeviction"
    assert parse().settings().maxkeys_policy == "allkeys-lru"


@pytest.mark.parametrize(("argv", "line"), [
    (["--maxkeys", "-1"], "Invalid --maxkeys '-1': argument must be between 0 and 2147483647 "
                          "inclusive"),
    (["--maxkeys", "many"], "Invalid --maxkeys 'many': argument couldn't be parsed into an "
                            "integer"),
    (["--maxkeys", "1.5"], "Invalid --maxkeys '1.5': argument couldn't be parsed into an "
                           "integer"),
    (["--databases", "0"], "Invalid --databases '0': argument must be between 1 and "
                           "2147483647 inclusive"),
    (["--databases", "x"], "Invalid --databases 'x': argument couldn't be parsed into an "
                           "integer"),
    (["--protected-mode", "off"], "Invalid --protected-mode 'off': argument must be 'yes' or "
                                  "'no'"),
    (["--appendfsync", "sometimes"], "Invalid --appendfsync 'sometimes': argument(s) must be "
                                     "one of the following: everysec, always, no"),
    (["--port", "tcp:abc"], "Invalid --port 'tcp:abc': 'abc' is not a number"),
    (["--port", "foo:bar"], "Invalid --port 'foo:bar': Unknown endpoint type: 'foo'"),
    (["--port", "tcp:7000:bogus=1"], "Invalid --port 'tcp:7000:bogus=1': unknown parameter "
                                     "'bogus'"),
    (["--metrics", "tcp:x"], "Invalid --metrics 'tcp:x': 'x' is not a number"),
    (["--maxkeys-policy", "allkeys-lfu"], "Invalid --maxkeys-policy 'allkeys-lfu': argument(s) "
                                          "must be one of the following: volatile-lru, "
                                          "volatile-random, volatile-ttl, allkeys-lru, "
                                          "allkeys-random, noeviction"),
])
def test_bad_values_end_with_one_line_naming_the_option(argv, line):
    # A SystemExit with a text: Python prints it alone on stderr and exits with 1
    # (twistd would print its whole usage text for a UsageError). Endpoints are
    # checked as the service is made (systemd's sockets exist only under systemd).
    with pytest.raises(SystemExit) as exit_info:
        makeService(parse(*argv))
    assert exit_info.value.code == line


def test_missing_tls_files_and_dir(tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        makeService(parse("--port",
                          f"ssl:7000:privateKey={tmp_path}/key.pem:certKey={tmp_path}/cert.pem"))
    assert exit_info.value.code == (
        f"Invalid --port 'ssl:7000:privateKey={tmp_path}/key.pem:certKey={tmp_path}/cert.pem':"
        f" No such file or directory: '{tmp_path}/cert.pem'")
    with pytest.raises(SystemExit) as exit_info:
        parse("--dir", str(tmp_path / "none"))
    assert exit_info.value.code == f"Invalid --dir '{tmp_path}/none': No such file or directory"
    (tmp_path / "file").write_text("")
    with pytest.raises(SystemExit) as exit_info:
        parse("--dir", str(tmp_path / "file" / "sub"))
    assert exit_info.value.code == f"Invalid --dir '{tmp_path}/file/sub': Not a directory"
    assert not (tmp_path / "none").exists()


def test_help_lists_every_option():
    text = str(Options())
    for option in ("--port", "--maxkeys", "--databases", "--version", "--help"):
        assert option in text


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse("--version")
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("hush ")


# -- the service ---------------------------------------------------------------


def children(top):
    return list(top)


def test_make_service_one_listener_per_port():
    top = makeService(parse("--port", "tcp:7000", "--port", "unix:/tmp/hush-test.sock",
                            "--maxkeys", "5", "--databases", "4"))
    services = children(top)
    stores = [s for s in services if isinstance(s, StoreService)]
    listeners = [s for s in services if isinstance(s, StreamServerEndpointService)]
    # Plus the startup log (hush.server.startup), last so it logs once listeners are up.
    assert len(stores) == 1 and len(listeners) == 2 and len(services) == 4
    # hush.server.listeners wraps each endpoint to learn the port it gets.
    endpoints = [listener.endpoint.wrapped for listener in listeners]
    assert isinstance(endpoints[0], TCP4ServerEndpoint)
    assert endpoints[0]._port == 7000
    assert isinstance(endpoints[1], UNIXServerEndpoint)
    store = stores[0].store
    assert len(store.dbs) == 4
    assert store.maxkeys == 5
    # Every listener serves the same store.
    assert {id(listener.factory.service) for listener in listeners} == {id(stores[0])}


def test_every_listener_gets_tcp_backlog_unless_it_names_its_own():
    top = makeService(parse("--port", "tcp:7000", "--port", "unix:/tmp/hush-test.sock",
                            "--port", "tcp:7001:backlog=20"))
    listeners = [s for s in children(top) if isinstance(s, StreamServerEndpointService)]
    # Redis's tcp-backlog (511); Twisted's own default would be 50.
    assert [listener.endpoint.wrapped._backlog for listener in listeners] == [511, 511, 20]


def test_make_service_default_port():
    listeners = [s for s in children(makeService(parse()))
                 if isinstance(s, StreamServerEndpointService)]
    assert len(listeners) == 1
    endpoint = listeners[0].endpoint.wrapped
    assert endpoint._port == 6379
    assert endpoint._interface == "127.0.0.1"


def test_plugin_points_at_the_tap():
    from twisted.plugins import hush_plugin

    assert hush_plugin.hush.tapname == "hush"
    assert hush_plugin.hush.module == "hush.tap"
    assert hush_plugin.hush.options is Options


# -- the original README session, on fake clients --------------------------------


def test_readme_cache_with_ttl():
    server = FakeServer(maxkeys=1000)
    cli = server.client()
    assert cli.call("SET", "greeting", "hello", "EX", "10") == b"OK"
    assert cli.call("GET", "greeting") == b"hello"
    assert cli.call("TTL", "greeting") == 10
    server.clock.advance(9)
    assert cli.call("GET", "greeting") == b"hello"
    server.clock.advance(1)
    assert cli.call("GET", "greeting") is None
    assert cli.call("TTL", "greeting") == -2


def test_readme_queue_with_blocking_pop():
    server = FakeServer()
    worker, producer = server.client(1), server.client(2)
    worker.send_raw(b"*3\r\n$5\r\nBLPOP\r\n$4\r\njobs\r\n$1\r\n0\r\n")
    assert worker.replies() == []
    assert producer.call("LPUSH", "jobs", "job-1") == 1
    assert worker.replies() == [[b"jobs", b"job-1"]]
    assert producer.call("LLEN", "jobs") == 0
    # With a timeout and nothing pushed, BLPOP answers a null array.
    worker.send_raw(b"*3\r\n$5\r\nBLPOP\r\n$4\r\njobs\r\n$1\r\n5\r\n")
    server.clock.advance(5)
    assert worker.raw() == b"*-1\r\n"


def test_readme_lru_eviction():
    server = FakeServer(maxkeys=3)
    cli = server.client()
    for key in ("a", "b", "c"):
        cli.call("SET", key, key)
    assert cli.call("GET", "a") == b"a"  # a is now the most recently used
    cli.call("SET", "d", "d")
    assert cli.call("EXISTS", "b") == 0
    assert sorted(cli.call("KEYS", "*")) == [b"a", b"c", b"d"]
    assert cli.call("DBSIZE") == 3


@pytest.mark.parametrize(("lines", "number", "reason"), [
    ("user bob on badrule\n", 2, "Error in user declaration 'bob': Syntax error"),
    ("user bob on #abc\n", 2, "Error in user declaration 'bob': The password hash must be "
                              "exactly 64 characters and contain only lowercase hexadecimal "
                              "characters"),
    ("user bob on\nuser bob off\n", 3, "Error in user declaration 'bob': Duplicate user found. "
                                       "A user can only be defined once in config files"),
])
def test_bad_user_lines_stop_the_start_naming_the_line(tmp_path, capsys, lines, number, reason):
    path = tmp_path / "hush.conf"
    path.write_text("port 7000\n" + lines)
    with pytest.raises(SystemExit) as exit_info:
        parse("-c", str(path))
    assert exit_info.value.code == 1
    line = lines.splitlines()[number - 2]
    assert capsys.readouterr().err == (
        "\n*** FATAL CONFIG FILE ERROR (Hush, Redis 7.0 compatible) ***\n"
        f"Reading the configuration file {path}, at line {number}\n>>> '{line}'\n{reason}\n")


def test_user_lines_are_kept_for_the_server(tmp_path):
    path = tmp_path / "hush.conf"
    path.write_text('user worker on ">a b" ~jobs:* +@list\n')
    settings = parse("-c", str(path)).settings()
    assert settings.user_lines == [(str(path), 1, 'user worker on ">a b" ~jobs:* +@list',
                                    [b"user", b"worker", b"on", b">a b", b"~jobs:*", b"+@list"])]
