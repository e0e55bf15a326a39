"""Prometheus metrics (hush.ops.metrics) on a FakeServer: redis_exporter's names,
types and labels, made from INFO, CONFIG and the slow log as it makes them."""

from __future__ import annotations

import re

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from hush.commands import lookup
from hush.ops.metrics import Families, LatencyWatcher, add_config, add_info, scrape
from tests.support import FakeServer

SAMPLE = re.compile(r'^(?P<name>[a-z_]+)(?:\{(?P<labels>.*)\})? (?P<value>\S+)$')


def parse(text: str) -> tuple[dict[str, str], dict[str, dict[tuple, float]]]:
    """(metric name -> type, metric name -> {sorted label pairs: value})."""
    types: dict[str, str] = {}
    samples: dict[str, dict[tuple, float]] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert name not in types, f"{name} declared twice"
            types[name] = kind
        elif not line.startswith("#"):
            match = SAMPLE.match(line)
            assert match, line
            labels = tuple(sorted(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"',
                                             match["labels"] or "")))
            samples.setdefault(match["name"], {})[labels] = float(match["value"])
    return types, samples


def metrics_of(server: FakeServer) -> tuple[dict[str, str], dict[str, dict[tuple, float]]]:
    return parse(scrape(server.service).decode())


#: What the stock redis_exporter Grafana dashboards and alerts read, with the
#: type and label names redis_exporter gives them.
DASHBOARD_METRICS = {
    "redis_up": ("gauge", ()),
    "redis_uptime_in_seconds": ("gauge", ()),
    "redis_connected_clients": ("gauge", ()),
    "redis_blocked_clients": ("gauge", ()),
    "redis_memory_used_bytes": ("gauge", ()),
    "redis_memory_max_bytes": ("gauge", ()),
    "redis_memory_used_rss_bytes": ("gauge", ()),
    "redis_keyspace_hits_total": ("counter", ()),
    "redis_keyspace_misses_total": ("counter", ()),
    "redis_evicted_keys_total": ("counter", ()),
    "redis_expired_keys_total": ("counter", ()),
    "redis_commands_processed_total": ("counter", ()),
    "redis_connections_received_total": ("counter", ()),
    "redis_rejected_connections_total": ("counter", ()),
    "redis_net_input_bytes_total": ("counter", ()),
    "redis_net_output_bytes_total": ("counter", ()),
    "redis_aof_enabled": ("gauge", ()),
    "redis_aof_rewrite_in_progress": ("gauge", ()),
    "redis_rdb_last_save_timestamp_seconds": ("gauge", ()),
    "redis_config_maxclients": ("gauge", ()),
    "redis_connected_slaves": ("gauge", ()),
    "redis_commands_total": ("counter", ("cmd",)),
    "redis_commands_duration_seconds_total": ("counter", ("cmd",)),
    "redis_commands_failed_calls_total": ("counter", ("cmd",)),
    "redis_commands_rejected_calls_total": ("counter", ("cmd",)),
    "redis_db_keys": ("gauge", ("db",)),
    "redis_db_keys_expiring": ("gauge", ("db",)),
    "redis_errors_total": ("counter", ("err",)),
    "redis_instance_info": ("gauge", ("master_replid", "maxmemory_policy", "os", "process_id",
                                      "redis_build_id", "redis_mode", "redis_version", "role",
                                      "run_id", "tcp_port")),
}


@pytest.fixture
def busy() -> FakeServer:
    server = FakeServer(maxmemory=1 << 30)
    client = server.client()
    client.call("SET", "k", "v")
    client.call("SET", "t", "v", "EX", "100")
    client.call("GET", "k")
    client.call("GET", "missing")
    client.call("INCR", "k")  # an error reply: not an integer
    client.call("CONFIG", "GET", "maxkeys")
    client.call("SELECT", "3")
    client.call("SET", "x", "y")
    return server


def test_the_dashboards_metrics_with_their_types_and_labels(busy):
    types, samples = metrics_of(busy)
    for name, (kind, labels) in DASHBOARD_METRICS.items():
        assert types.get(name) == kind, name
        assert samples[name], name
        for pairs in samples[name]:
            assert tuple(label for label, _ in pairs) == labels, name


def test_values_follow_info(busy):
    _types, samples = metrics_of(busy)

    def value(name, **labels):
        return samples[name][tuple(sorted(labels.items()))]

    assert value("redis_up") == 1
    assert value("redis_keyspace_hits_total") == 1  # GET k (writes do not count, as in Redis)
    assert value("redis_keyspace_misses_total") == 1
    assert value("redis_commands_total", cmd="set") == 3
    assert value("redis_commands_total", cmd="config|get") == 1
    assert value("redis_commands_failed_calls_total", cmd="incr") == 1
    assert value("redis_commands_duration_seconds_total", cmd="set") >= 0
    assert value("redis_errors_total", err="ERR") == 1
    assert value("redis_total_error_replies") == 1
    assert value("redis_db_keys", db="db0") == 2
    assert value("redis_db_keys_expiring", db="db0") == 1
    assert value("redis_db_keys", db="db3") == 1
    assert value("redis_db_avg_ttl_seconds", db="db0") == 100
    assert ("db", "db1") not in {pair for pairs in samples["redis_db_keys"] for pair in pairs}
    assert value("redis_memory_max_bytes") == 1 << 30
    assert value("redis_config_maxmemory") == 1 << 30
    assert value("redis_connected_clients") == 1
    assert value("redis_max_clients") == 10000
    assert value("redis_aof_enabled") == 0
    assert value("redis_aof_last_write_status") == 1  # "ok"
    assert value("redis_cluster_enabled") == 0
    assert value("redis_start_time_seconds") == 1_700_000_000
    assert value("redis_config_client_output_buffer_limit_bytes",
                 **{"class": "pubsub", "limit": "hard"}) == 32 * 1024 * 1024
    assert value("redis_config_client_output_buffer_limit_overcome_seconds",
                 **{"class": "pubsub", "limit": "soft"}) == 60
    [info] = samples["redis_instance_info"]
    assert dict(info)["redis_version"] == "7.0.15"
    assert dict(info)["role"] == "master"
    assert dict(info)["tcp_port"] == "6379"
    assert value("hush_build_info", version=__import__("hush").__version__) == 1


def test_hush_only_metrics_keep_their_prefix(busy):
    types, _samples = metrics_of(busy)
    assert all(name.startswith(("redis_", "hush_")) for name in types)
    assert {name for name in types if name.startswith("hush_")} == {"hush_build_info"}
    # The old names are gone.
    assert not any(name.startswith("hush_db_keys") or name == "hush_keyspace_hits_total"
                   for name in types)


def test_slowlog_metrics():
    server = FakeServer(slowlog_log_slower_than=0)
    client = server.client()
    client.call("SET", "k", "v")
    client.call("GET", "k")
    _types, samples = metrics_of(server)
    assert samples["redis_slowlog_length"][()] == 2
    assert samples["redis_slowlog_last_id"][()] == 1
    assert samples["redis_last_slow_execution_duration_seconds"][()] >= 0


def test_info_fields_as_redis_exporter_reads_them():
    families = Families()
    add_info(families, [
        ("Server", [("uptime_in_seconds", 100), ("hz", 10), ("redis_version", "7.0.15")]),
        ("Memory", [("used_memory", 1000), ("used_memory_human", "1000B")]),
        ("Persistence", [("aof_last_bgrewrite_status", "err"), ("rdb_last_bgsave_status", "ok"),
                         ("aof_rewrites", 3)]),
        ("Stats", [("latest_fork_usec", 2500), ("instantaneous_ops_per_sec", 7),
                   ("total_error_replies", 4)]),
        ("Cluster", [("cluster_enabled", 0)]),
        ("Commandstats", [("cmdstat_config|get", "calls=2,usec=30,usec_per_call=15.00")]),
    ], now=1000.5)
    types, samples = parse(families.render().decode())
    assert samples["redis_start_time_seconds"][()] == 900
    assert samples["redis_hz"][()] == 10
    assert samples["redis_memory_used_bytes"][()] == 1000
    assert samples["redis_aof_last_bgrewrite_status"][()] == 0
    assert samples["redis_rdb_last_bgsave_status"][()] == 1
    assert samples["redis_latest_fork_seconds"][()] == 0.0025
    assert samples["redis_cluster_enabled"][()] == 0
    # A counter redis_exporter names without _total keeps its name.
    assert types["redis_total_error_replies"] == "counter"
    # Fields redis_exporter does not map are not exported.
    assert "redis_aof_rewrites" not in types
    assert "redis_instantaneous_ops_per_sec" not in types
    assert "redis_used_memory_human" not in types
    # Before Redis 6.2 there were no rejected/failed counts: no such metrics.
    assert samples["redis_commands_total"] == {(("cmd", "config|get"),): 2}
    assert samples["redis_commands_duration_seconds_total"] == {(("cmd", "config|get"),): 3e-05}
    assert "redis_commands_failed_calls_total" not in types


def test_config_metrics():
    families = Families()
    add_config(families, {"maxclients": "10000", "maxmemory": "0", "io-threads": "1",
                          "client-output-buffer-limit": "normal 0 0 0 replica 10 5 60",
                          "requirepass": "secret"})
    types, samples = parse(families.render().decode())
    assert samples["redis_config_maxclients"][()] == 10000
    assert samples["redis_config_io_threads"][()] == 1
    assert samples["redis_config_client_output_buffer_limit_bytes"][
        (("class", "replica"), ("limit", "soft"))] == 5
    assert not any("requirepass" in name for name in types)


def test_label_values_are_escaped():
    families = Families()
    families.add("instance_info", 1, labels=[("os", 'a "b"\\c\nd')])
    assert families.render().decode().splitlines()[-1] == (
        'redis_instance_info{os="a \\"b\\"\\\\c\\nd"} 1.0')


def test_latency_histogram_is_labelled_by_cmd():
    registry = CollectorRegistry()
    watcher = LatencyWatcher(registry)
    watcher(None, lookup(b"get"), [b"GET", b"k"], 0.0002)
    text = generate_latest(registry).decode()
    assert 'hush_command_duration_seconds_bucket{cmd="get",le="0.00025"} 1.0' in text
    assert 'hush_command_duration_seconds_count{cmd="get"} 1.0' in text
