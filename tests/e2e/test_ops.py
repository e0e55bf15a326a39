"""Operations end to end: a real twistd process with --metrics and --logfile,
MONITOR through redis-py, CLIENT KILL."""

from __future__ import annotations

import os
import socket
import time
import urllib.request

import pytest
import redis

from tests.support import REPO, ServerProcess, free_port, twistd_path

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def ops_process(tmp_path_factory):
    metrics_port = free_port()
    logfile = str(tmp_path_factory.mktemp("ops") / "hush.log")
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # --logfile is twistd's own option: it comes before the plugin name.
    argv = [twistd_path(), "-n", "--pidfile=", "--logfile", logfile, "hush",
            "--port", f"tcp:{port}:interface=127.0.0.1",
            "--metrics", f"tcp:{metrics_port}:interface=127.0.0.1",
            "--enable-debug-command", "local"]
    proc = ServerProcess(argv, port, env=env, cwd=str(REPO))
    proc.metrics_port = metrics_port
    proc.logfile = logfile
    yield proc
    proc.stop()


def _scrape(port: int) -> str:
    for _ in range(50):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
                assert reply.headers["Content-Type"].startswith("text/plain")
                return reply.read().decode()
        except OSError:
            time.sleep(0.1)
    raise AssertionError("metrics endpoint never answered")


def test_metrics_endpoint(ops_process):
    client = redis.Redis(port=ops_process.port)
    client.set("k", "v")
    client.get("k")
    client.get("missing")
    text = _scrape(ops_process.metrics_port)
    types = dict(line.split(" ")[2:4] for line in text.splitlines()
                 if line.startswith("# TYPE "))
    lines = dict(line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))
    # redis_exporter's names, types and labels: its Grafana dashboards read these.
    for name, kind in [
        ("redis_up", "gauge"), ("redis_uptime_in_seconds", "gauge"),
        ("redis_connected_clients", "gauge"), ("redis_blocked_clients", "gauge"),
        ("redis_memory_used_bytes", "gauge"), ("redis_memory_max_bytes", "gauge"),
        ("redis_keyspace_hits_total", "counter"), ("redis_keyspace_misses_total", "counter"),
        ("redis_evicted_keys_total", "counter"), ("redis_expired_keys_total", "counter"),
        ("redis_commands_processed_total", "counter"),
        ("redis_connections_received_total", "counter"),
        ("redis_rejected_connections_total", "counter"),
        ("redis_net_input_bytes_total", "counter"), ("redis_net_output_bytes_total", "counter"),
        ("redis_commands_total", "counter"), ("redis_commands_duration_seconds_total", "counter"),
        ("redis_db_keys", "gauge"), ("redis_db_keys_expiring", "gauge"),
        ("redis_aof_enabled", "gauge"), ("redis_aof_rewrite_in_progress", "gauge"),
        ("redis_rdb_last_save_timestamp_seconds", "gauge"), ("redis_instance_info", "gauge"),
        ("hush_command_duration_seconds", "histogram"),
    ]:
        assert types.get(name) == kind, name
    assert float(lines["redis_up"]) == 1
    assert float(lines["redis_keyspace_hits_total"]) >= 1
    assert float(lines["redis_keyspace_misses_total"]) >= 1
    assert float(lines['redis_db_keys{db="db0"}']) == 1
    assert float(lines['redis_db_keys_expiring{db="db0"}']) == 0
    assert float(lines["redis_connected_clients"]) >= 1
    assert float(lines['redis_commands_total{cmd="set"}']) >= 1
    assert float(lines['redis_commands_duration_seconds_total{cmd="get"}']) > 0
    assert float(lines['hush_command_duration_seconds_count{cmd="get"}']) >= 2
    assert 'hush_command_duration_seconds_bucket{cmd="get",le="0.001"}' in lines
    assert float(lines["redis_memory_used_bytes"]) > 0
    assert float(lines["redis_aof_enabled"]) == 0
    [info] = [key for key in lines if key.startswith("redis_instance_info{")]
    assert f'tcp_port="{ops_process.port}"' in info and 'redis_version="7.0.15"' in info


def test_info_everything_parses_in_redis_py(ops_process):
    client = redis.Redis(port=ops_process.port)
    client.set("k", "v")
    client.config_get("maxkeys")
    info = client.info("everything")
    assert info["cmdstat_set"]["calls"] >= 1
    assert "usec_per_call" in info["cmdstat_config|get"]
    assert info["redis_mode"] == "standalone"
    assert info["role"] == "master"
    assert isinstance(info["instantaneous_input_kbps"], float)


def test_logfile_has_redis_startup_lines(ops_process):
    with open(ops_process.logfile, encoding="utf-8") as log:
        text = log.read()
    assert "Hush is starting" in text
    assert "Redis version=7.0.15" in text
    assert f"Running mode=standalone, port={ops_process.port}." in text
    assert text.index("Running mode") < text.index("Ready to accept connections")


def test_monitor_with_redis_py(ops_process):
    watcher = redis.Redis(port=ops_process.port)
    client = redis.Redis(port=ops_process.port)
    with watcher.monitor() as monitor:
        client.set("monitored", "value")
        for _ in range(20):
            event = monitor.next_command()
            if event["command"].startswith("SET"):
                break
        assert event["command"] == "SET monitored value"
        assert event["db"] == 0
        assert event["client_address"] == "127.0.0.1"


def test_client_kill_and_debug_local(ops_process):
    victim = socket.create_connection(("127.0.0.1", ops_process.port), timeout=5)
    victim.sendall(b"CLIENT ID\r\n")
    victim_id = int(victim.recv(100)[1:].strip())
    admin = redis.Redis(port=ops_process.port)
    assert admin.client_kill_filter(_id=victim_id) == 1
    assert victim.recv(100) == b""  # closed by the server
    victim.close()
    assert admin.execute_command("DEBUG", "SLEEP", "0") == b"OK"
