"""LATENCY: the monitor's events, its reports, and the per-command histograms."""

from __future__ import annotations

from hush.commands.table import lookup
from hush.ops.latency import LatencyMonitor, bucket_of, histogram_reply


def test_events_need_the_threshold(server, client):
    client.call("DEBUG", "SLEEP", "0")  # refused: DEBUG is off; still a command
    assert client.call("LATENCY", "LATEST") == []
    monitor = server.service.latency
    session = client.protocol.session
    server.service.settings.set("latency-monitor-threshold", "1")
    session.after_command(lookup(b"get"), [b"GET", b"k"], 0.005)
    session.after_command(lookup(b"keys"), [b"KEYS", b"*"], 0.250)
    now = int(server.clock.seconds())
    assert client.call("LATENCY", "LATEST") == [[b"fast-command", now, 5, 5],
                                                 [b"command", now, 250, 250]]
    assert client.call("LATENCY", "HISTORY", "command") == [[now, 250]]
    assert client.call("LATENCY", "HISTORY", "nosuch") == []
    assert b"command - high 250 ms, low 250 ms (all time high 250 ms)" in client.call(
        "LATENCY", "GRAPH", "command")
    assert str(client.call("LATENCY", "GRAPH", "nosuch")) == (
        "ERR No samples available for event 'nosuch'")
    doctor = client.call("LATENCY", "DOCTOR")
    assert doctor.startswith(b"Dave, I have observed latency spikes in this Redis instance.")
    assert b"1. fast-command: 1 latency spikes (average 5ms, mean deviation 0ms" in doctor
    assert client.call("LATENCY", "RESET", "COMMAND", "nosuch") == 1
    assert client.call("LATENCY", "RESET") == 1
    assert monitor.events == {}


def test_one_sample_per_second_the_worst(server):
    monitor = LatencyMonitor()
    monitor.add(b"command", 5, 100)
    monitor.add(b"command", 9, 100)
    monitor.add(b"command", 3, 100)
    monitor.add(b"command", 4, 101)
    assert monitor.history(b"command") == [[100, 9], [101, 4]]
    for second in range(200):
        monitor.add(b"command", 1, 1000 + second)
    assert len(monitor.history(b"command")) == 160


def test_doctor_when_disabled(client):
    assert client.call("LATENCY", "DOCTOR").startswith(
        b"I'm sorry, Dave, I can't do that. Latency monitoring is disabled")


def test_histograms_follow_latency_tracking(server, client):
    client.call("SET", "k", "v")
    client.call("GET", "k")
    reply = client.call("LATENCY", "HISTOGRAM", "get", "nosuch", "config")
    assert reply[0] == b"get" and reply[1][:2] == [b"calls", 1]
    client.call("CONFIG", "SET", "latency-tracking", "no")
    assert server.service.commandstats.histograms is None
    client.call("GET", "k")
    assert client.call("LATENCY", "HISTOGRAM") == []
    client.call("CONFIG", "SET", "latency-tracking", "yes")
    client.call("GET", "k")
    assert client.call("LATENCY", "HISTOGRAM", "GET")[1][:2] == [b"calls", 1]


def test_buckets_are_redis_hdr_log_buckets():
    assert bucket_of(0.0) == 0 and bucket_of(1e-6) == 0
    assert bucket_of(3e-6) == 2 and bucket_of(2.0) == 20
    assert histogram_reply([0, 2, 0, 1] + [0] * 17) == {
        b"calls": 3, b"histogram_usec": {2: 2, 8: 3}}
