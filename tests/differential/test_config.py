"""CONFIG GET and SET of every directive, Hush against a real redis-server 7.0.

Both servers are started fresh for this module with their defaults (only the
port given, in the same directory), so ``CONFIG GET *`` compares every
directive's name and default value.
"""

from __future__ import annotations

import pytest
import redis

from hush.config.table import BY_NAME
from tests.differential.harness import Pair
from tests.support import (
    REDIS_SERVER,
    ServerProcess,
    checkout_env,
    free_port,
    hush_argv,
)

#: Names only Hush has: its own settings.
HUSH_ONLY = {"maxkeys", "maxkeys-policy", "enable-time-control"}

#: Directives whose value differs on purpose, and why.
EXCEPTIONS = {
    "port": "each server listens on its own free port",
    "save": "Hush's default is \"\" (no automatic snapshots: a server started anywhere "
            "writes no dump.rdb there unless asked) where Redis's is "
            "\"3600 1 300 100 60 10000\"",
}


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    where = tmp_path_factory.mktemp("config-defaults")
    redis_port, hush_port = free_port(), free_port()
    # --bind keeps the test's redis-server off the network; Hush's default bind
    # is 127.0.0.1 anyway, so the two show the same bind.
    theirs = ServerProcess([REDIS_SERVER, "--port", str(redis_port), "--bind", "127.0.0.1"],
                           redis_port, cwd=str(where))
    try:
        ours = ServerProcess(hush_argv("--port", f"tcp:{hush_port}:interface=127.0.0.1"),
                             hush_port, env=checkout_env(), cwd=str(where))
    except Exception:
        theirs.stop()
        raise
    yield ours, theirs
    ours.stop()
    theirs.stop()


@pytest.fixture
def pair(servers):
    ours, theirs = servers
    p = Pair(ours.port, theirs.port)
    yield p
    p.close()


def config_get(port: int, pattern: str) -> dict[str, str]:
    conn = redis.Redis(port=port, decode_responses=True)
    try:
        return conn.config_get(pattern)
    finally:
        conn.close()


def test_config_get_star_names_and_defaults_are_redis_s(servers):
    ours, theirs = servers
    hush, real = config_get(ours.port, "*"), config_get(theirs.port, "*")
    assert set(real) == set(hush) - HUSH_ONLY
    differing = {name for name in real if hush[name] != real[name]}
    assert differing == set(EXCEPTIONS), {name: (hush[name], real[name]) for name in differing}


def test_hidden_directives_answer_only_to_their_exact_names(pair, servers):
    hidden = sorted(name for name, setting in BY_NAME.items() if setting.hidden)
    assert hidden == ["key-load-delay", "loading-process-events-interval-bytes",
                      "rdb-key-save-delay", "use-exit-on-panic", "watchdog-period"]
    for name in hidden:
        pair.check("CONFIG", "GET", name)
    pair.check("CONFIG", "GET", "watchdog*")
    # Several matches come in Redis's hash order: compare them as maps.
    ours, theirs = servers
    assert config_get(ours.port, "*delay") == config_get(theirs.port, "*delay")


# Each script sets values, reads them back, and ends at the default again (the
# servers are shared by the module).
SCRIPTS = {
    "notify-keyspace-events": [
        ("CONFIG", "SET", "notify-keyspace-events", "KEA"),
        ("CONFIG", "GET", "notify-keyspace-events"),
        ("CONFIG", "SET", "notify-keyspace-events", "Kgx$"),
        ("CONFIG", "GET", "notify-keyspace-events"),
        ("CONFIG", "SET", "notify-keyspace-events", "ExmA"),
        ("CONFIG", "GET", "notify-keyspace-events"),
        ("CONFIG", "SET", "notify-keyspace-events", "Q"),
        ("CONFIG", "SET", "notify-keyspace-events", ""),
        ("CONFIG", "GET", "notify-keyspace-events"),
    ],
    "maxmemory-clients": [
        ("CONFIG", "SET", "maxmemory-clients", "10%"),
        ("CONFIG", "GET", "maxmemory-clients"),
        ("CONFIG", "SET", "maxmemory-clients", "101%"),
        ("CONFIG", "SET", "maxmemory-clients", "1mb"),
        ("CONFIG", "GET", "maxmemory-clients"),
        ("CONFIG", "SET", "maxmemory-clients", "x"),
        ("CONFIG", "SET", "maxmemory-clients", "0"),
    ],
    "oom-score-adj": [
        ("CONFIG", "SET", "oom-score-adj-values", "0 200"),
        ("CONFIG", "SET", "oom-score-adj-values", "0 200 3000"),
        ("CONFIG", "SET", "oom-score-adj-values", "0 200 800"),
        ("CONFIG", "GET", "oom-score-adj-values"),
        ("CONFIG", "SET", "oom-score-adj", "sometimes"),
        ("CONFIG", "SET", "oom-score-adj", "no"),
        ("CONFIG", "GET", "oom-score-adj"),
        ("CONFIG", "GET", "oom-score-adj-values"),
    ],
    "latency-tracking-info-percentiles": [
        ("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99.9 100"),
        ("CONFIG", "GET", "latency-tracking-info-percentiles"),
        ("CONFIG", "SET", "latency-tracking-info-percentiles", "abc"),
        ("CONFIG", "SET", "latency-tracking-info-percentiles", "101"),
        ("CONFIG", "SET", "latency-tracking-info-percentiles", ""),
        ("CONFIG", "GET", "latency-tracking-info-percentiles"),
        ("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 99.9"),
    ],
    "shutdown-on-sigint": [
        ("CONFIG", "SET", "shutdown-on-sigint", "now save force"),
        ("CONFIG", "GET", "shutdown-on-sigint"),
        ("CONFIG", "SET", "shutdown-on-sigint", "save nosave"),
        ("CONFIG", "SET", "shutdown-on-sigint", "bogus"),
        ("CONFIG", "SET", "shutdown-on-sigint", "default"),
        ("CONFIG", "GET", "shutdown-on-sigint"),
    ],
    "hz": [
        ("CONFIG", "SET", "hz", "0"),
        ("CONFIG", "GET", "hz"),
        ("CONFIG", "SET", "hz", "1000"),
        ("CONFIG", "GET", "hz"),
        ("CONFIG", "SET", "hz", "-1"),
        ("CONFIG", "SET", "hz", "10"),
    ],
    "aliases-and-sizes": [
        ("CONFIG", "SET", "slave-read-only", "no", "hash-max-ziplist-value", "1kb"),
        ("CONFIG", "GET", "replica-read-only"),
        ("CONFIG", "GET", "slave-read-only"),
        ("CONFIG", "GET", "hash-max-listpack-value"),
        ("CONFIG", "SET", "replica-read-only", "yes", "hash-max-listpack-value", "64"),
        ("CONFIG", "SET", "tcp-keepalive", "60", "list-max-ziplist-size", "-3"),
        ("CONFIG", "GET", "tcp-keepalive"),
        ("CONFIG", "GET", "list-max-listpack-size"),
        ("CONFIG", "SET", "tcp-keepalive", "300", "list-max-listpack-size", "-2"),
        ("CONFIG", "SET", "repl-backlog-size", "0"),
        ("CONFIG", "SET", "active-defrag-cycle-max", "100"),
    ],
    "refused": [
        ("CONFIG", "SET", "replicaof", "no one"),
        ("CONFIG", "SET", "slaveof", "no one"),
        ("CONFIG", "SET", "daemonize", "yes"),
        ("CONFIG", "SET", "dbfilename", "x.rdb"),
        ("CONFIG", "SET", "activedefrag", "yes"),
        ("CONFIG", "SET", "activedefrag", "maybe"),
        ("CONFIG", "SET", "proc-title-template", "{bogus}"),
        ("CONFIG", "SET", "proc-title-template", "{title}"),
        ("CONFIG", "SET", "cluster-announce-hostname", "a_b"),
        ("CONFIG", "SET", "tcp-backlog", "10"),
        ("CONFIG", "SET", "io-threads", "2"),
        ("CONFIG", "SET", "appenddirname", "x"),
        ("CONFIG", "SET", "syslog-facility", "local1"),
        ("CONFIG", "SET", "pidfile", "x.pid"),
        ("CONFIG", "SET", "tls-auth-clients", "maybe"),
        ("CONFIG", "SET", "unixsocketperm", "777"),
        ("CONFIG", "SET", "enable-protected-configs", "yes"),
        ("CONFIG", "SET", "maxmemory-eviction-tenacity", "101"),
    ],
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_config_set_and_get_as_redis(pair, name):
    pair.run_script(SCRIPTS[name])


def test_every_directive_read_alone_is_redis_s(pair, servers):
    _ours, theirs = servers
    for name in sorted(config_get(theirs.port, "*")):
        if name not in EXCEPTIONS:
            pair.check("CONFIG", "GET", name)

