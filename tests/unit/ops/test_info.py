"""INFO commandstats/errorstats and the field names of every section against Redis 7.0."""

from __future__ import annotations

import pytest
import redis

from tests.support import FakeServer


def _fields(text: bytes) -> dict[str, str]:
    lines = text.decode().split("\r\n")
    return dict(line.split(":", 1) for line in lines if line and not line.startswith("#"))


def test_commandstats_calls_failures_rejections_and_reset():
    client = FakeServer().client()
    client.call("SET", "k", "v")
    client.call("GET", "k")
    client.call("GET")  # wrong arity: rejected
    client.call("LPUSH", "k", "x")  # WRONGTYPE: failed
    client.call("CONFIG", "GET", "maxkeys")
    client.call("NOSUCHCOMMAND")
    stats = _fields(client.call("INFO", "commandstats"))
    get = stats["cmdstat_get"]
    assert get.startswith("calls=1,usec=") and get.endswith(",rejected_calls=1,failed_calls=0")
    assert stats["cmdstat_lpush"].endswith("rejected_calls=0,failed_calls=1")
    assert "cmdstat_config|get" in stats
    errors = _fields(client.call("INFO", "errorstats"))
    assert errors == {"errorstat_ERR": "count=2", "errorstat_WRONGTYPE": "count=1"}
    assert _fields(client.call("INFO", "stats"))["total_error_replies"] == "3"
    assert client.call("CONFIG", "RESETSTAT") == b"OK"
    after = _fields(client.call("INFO", "commandstats"))
    # RESETSTAT counts itself once it has run; this INFO counts after it replies.
    assert list(after) == ["cmdstat_config|resetstat"]
    assert _fields(client.call("INFO", "errorstats")) == {}


def test_each_server_counts_its_own_commands_from_zero():
    first = FakeServer().client()
    first.call("PING")
    first.call("GET")  # rejected
    second = FakeServer().client()
    second.call("ECHO", "x")
    # A server started later neither sees nor resets the first one's counters.
    stats = _fields(first.call("INFO", "commandstats"))
    assert stats["cmdstat_ping"].startswith("calls=1,")
    assert stats["cmdstat_get"].endswith(",rejected_calls=1,failed_calls=0")
    assert "cmdstat_echo" not in stats
    assert _fields(first.call("INFO", "stats"))["total_error_replies"] == "1"
    other = _fields(second.call("INFO", "commandstats"))
    assert list(other) == ["cmdstat_echo"]
    assert _fields(second.call("INFO", "stats"))["total_error_replies"] == "0"


def test_a_command_registered_after_the_server_started_is_counted(monkeypatch):
    from hush.commands.table import COMMANDS, command

    client = FakeServer().client()
    monkeypatch.setitem(COMMANDS, b"hushtestlate", None)
    monkeypatch.setitem(COMMANDS, b"HUSHTESTLATE", None)
    command("hushtestlate", arity=1, summary="test only")(lambda ctx: b"late")
    assert client.call("HUSHTESTLATE") == b"late"
    assert client.call("HUSHTESTLATE", "extra") is not None
    stats = _fields(client.call("INFO", "commandstats"))
    assert stats["cmdstat_hushtestlate"].startswith("calls=1,")
    assert stats["cmdstat_hushtestlate"].endswith(",rejected_calls=1,failed_calls=0")


def test_usec_per_call_format():
    client = FakeServer().client()
    for _ in range(3):
        client.call("PING")
    calls, usec, per_call = _fields(client.call("INFO", "commandstats"))["cmdstat_ping"].split(",")[:3]
    assert calls == "calls=3"
    assert per_call == "usec_per_call=%.2f" % (int(usec.split("=")[1]) / 3)


def test_several_sections_and_aliases():
    client = FakeServer().client()
    text = client.call("INFO", "server", "CPU", "nosuch")
    headers = [line for line in text.decode().split("\r\n") if line.startswith("#")]
    assert headers == ["# Server", "# CPU"]
    assert "# Commandstats" not in client.call("INFO").decode()
    assert "# Errorstats" in client.call("INFO", "default").decode()


#: Redis fields Hush leaves out, by section, and why (docs/operations.rst).
OMITTED = {
    # Build and allocator details of a C program.
    "server": {"redis_build_id", "monotonic_clock", "atomicvar_api", "gcc_version"},
    # Memory: only what hush/info.py measures (process RSS); no allocator,
    # Lua, fragmentation or per-buffer breakdowns.
    "memory": None,
    # Persistence: owned by the AOF work (RDB fork/COW figures do not apply).
    "persistence": None,
    "stats": {
        "total_net_repl_input_bytes", "total_net_repl_output_bytes",
        "instantaneous_input_repl_kbps", "instantaneous_output_repl_kbps", "sync_full",
        "sync_partial_ok", "sync_partial_err", "expired_stale_perc",
        "expired_time_cap_reached_count", "expire_cycle_cpu_milliseconds",
        "total_eviction_exceeded_time", "current_eviction_exceeded_time",
        "pubsubshard_channels", "latest_fork_usec", "total_forks", "migrate_cached_sockets",
        "slave_expires_tracked_keys", "active_defrag_hits", "active_defrag_misses",
        "active_defrag_key_hits", "active_defrag_key_misses", "total_active_defrag_time",
        "current_active_defrag_time", "tracking_total_keys", "tracking_total_items",
        "tracking_total_prefixes", "unexpected_error_replies", "dump_payload_sanitizations",
        "total_reads_processed", "total_writes_processed", "io_threaded_reads_processed",
        "io_threaded_writes_processed", "reply_buffer_shrinks", "reply_buffer_expands",
    },
}


@pytest.mark.differential
def test_field_names_match_redis(hush_process, redis_process):
    hush = redis.Redis(port=hush_process.port, decode_responses=True)
    real = redis.Redis(port=redis_process.port, decode_responses=True)
    for section in ("server", "clients", "stats", "replication", "cpu", "cluster"):
        ours, theirs = set(hush.info(section)), set(real.info(section))
        omitted = OMITTED.get(section, set())
        assert theirs - ours <= omitted, (section, theirs - ours - omitted)
