# -*- test-case-name: tests.unit.ops.test_metrics -*-
"""Prometheus metrics: ``--metrics tcp:9121:interface=127.0.0.1`` serves ``GET /metrics``.

The metrics are those redis_exporter (oliver006/redis_exporter, the usual
way to watch Redis with Prometheus) would export for this server, with its
names, types and label names, so that its Grafana dashboards and alerts work
unchanged. They are made the way it makes them: from the fields of ``INFO
everything`` (through its maps of field names to metric names), from
``CONFIG GET`` (``redis_config_maxclients`` ...) and from the slow log, plus
``redis_up`` and ``redis_instance_info``. Its own ``redis_exporter_*``
metrics, about its scrapes, are left out.

Hush's own metrics are prefixed ``hush_``: ``hush_build_info`` and the
per-command latency histogram ``hush_command_duration_seconds{cmd}``, the one
figure that costs something per command (a watcher on the dispatcher,
``Server.watchers``, only with ``--metrics``). Everything else is read
when Prometheus scrapes, on the reactor thread. The web listener that serves
the page is :mod:`hush.server.metrics_site`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.utils import floatToGoString

from hush import __version__
from hush.core.interfaces import Server
from hush.ops import info

#: The text exposition format both parts of the page are in.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

PREFIX = "redis_"

#: Latency buckets in seconds: Redis commands live between microseconds and
#: milliseconds; the top buckets catch the pathological ones.
LATENCY_BUCKETS = (
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
    0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
)

# redis_exporter's maps of INFO fields to metric names (Redis's own fields;
# those of Tile38, KeyDB, modules and Valkey left out). A field in neither map
# is not exported, except cluster_* and db* fields, exported under their own
# names as gauges.
INFO_GAUGES = {
    # Server
    "uptime_in_seconds": "uptime_in_seconds",
    "process_id": "process_id",
    "io_threads_active": "io_threads_active",
    # Clients
    "connected_clients": "connected_clients",
    "blocked_clients": "blocked_clients",
    "maxclients": "max_clients",
    "tracking_clients": "tracking_clients",
    "clients_in_timeout_table": "clients_in_timeout_table",
    "pubsub_clients": "pubsub_clients",
    "watching_clients": "watching_clients",
    "total_watched_keys": "total_watched_keys",
    "total_blocking_keys": "total_blocking_keys",
    "total_blocking_keys_on_nokey": "total_blocking_keys_on_nokey",
    "client_longest_output_list": "client_longest_output_list",
    "client_biggest_input_buf": "client_biggest_input_buf",
    "client_recent_max_output_buffer": "client_recent_max_output_buffer_bytes",
    "client_recent_max_input_buffer": "client_recent_max_input_buffer_bytes",
    # Memory
    "allocator_active": "allocator_active_bytes",
    "allocator_allocated": "allocator_allocated_bytes",
    "allocator_resident": "allocator_resident_bytes",
    "allocator_frag_ratio": "allocator_frag_ratio",
    "allocator_frag_bytes": "allocator_frag_bytes",
    "allocator_muzzy": "allocator_muzzy_bytes",
    "allocator_rss_ratio": "allocator_rss_ratio",
    "allocator_rss_bytes": "allocator_rss_bytes",
    "used_memory": "memory_used_bytes",
    "used_memory_rss": "memory_used_rss_bytes",
    "used_memory_peak": "memory_used_peak_bytes",
    "used_memory_lua": "memory_used_lua_bytes",
    "used_memory_vm_eval": "memory_used_vm_eval_bytes",
    "used_memory_scripts_eval": "memory_used_scripts_eval_bytes",
    "used_memory_overhead": "memory_used_overhead_bytes",
    "used_memory_startup": "memory_used_startup_bytes",
    "used_memory_dataset": "memory_used_dataset_bytes",
    "number_of_cached_scripts": "number_of_cached_scripts",
    "number_of_functions": "number_of_functions",
    "number_of_libraries": "number_of_libraries",
    "used_memory_vm_functions": "memory_used_vm_functions_bytes",
    "used_memory_scripts": "memory_used_scripts_bytes",
    "used_memory_functions": "memory_used_functions_bytes",
    "used_memory_vm_total": "memory_used_vm_total",
    "maxmemory": "memory_max_bytes",
    "maxmemory_reservation": "memory_max_reservation_bytes",
    "maxmemory_desired_reservation": "memory_max_reservation_desired_bytes",
    "maxfragmentationmemory_reservation": "memory_max_fragmentation_reservation_bytes",
    "maxfragmentationmemory_desired_reservation":
        "memory_max_fragmentation_reservation_desired_bytes",
    "mem_fragmentation_ratio": "mem_fragmentation_ratio",
    "mem_fragmentation_bytes": "mem_fragmentation_bytes",
    "mem_clients_slaves": "mem_clients_slaves",
    "mem_clients_normal": "mem_clients_normal",
    "mem_cluster_links": "mem_cluster_links_bytes",
    "mem_aof_buffer": "mem_aof_buffer_bytes",
    "mem_replication_backlog": "mem_replication_backlog_bytes",
    "expired_stale_perc": "expired_stale_percentage",
    "mem_not_counted_for_evict": "mem_not_counted_for_eviction_bytes",
    "mem_total_replication_buffers": "mem_total_replication_buffers_bytes",
    "mem_overhead_db_hashtable_rehashing": "mem_overhead_db_hashtable_rehashing_bytes",
    "lazyfree_pending_objects": "lazyfree_pending_objects",
    "lazyfreed_objects": "lazyfreed_objects",
    "active_defrag_running": "active_defrag_running",
    "migrate_cached_sockets": "migrate_cached_sockets_total",
    "active_defrag_hits": "defrag_hits",
    "active_defrag_misses": "defrag_misses",
    "active_defrag_key_hits": "defrag_key_hits",
    "active_defrag_key_misses": "defrag_key_misses",
    # Persistence
    "loading": "loading_dump_file",
    "async_loading": "async_loading",
    "rdb_changes_since_last_save": "rdb_changes_since_last_save",
    "rdb_bgsave_in_progress": "rdb_bgsave_in_progress",
    "rdb_last_save_time": "rdb_last_save_timestamp_seconds",
    "rdb_last_bgsave_status": "rdb_last_bgsave_status",
    "rdb_last_bgsave_time_sec": "rdb_last_bgsave_duration_sec",
    "rdb_current_bgsave_time_sec": "rdb_current_bgsave_duration_sec",
    "rdb_saves": "rdb_saves_total",
    "rdb_last_cow_size": "rdb_last_cow_size_bytes",
    "rdb_last_load_keys_expired": "rdb_last_load_expired_keys",
    "rdb_last_load_keys_loaded": "rdb_last_load_loaded_keys",
    "aof_enabled": "aof_enabled",
    "aof_rewrite_in_progress": "aof_rewrite_in_progress",
    "aof_rewrite_scheduled": "aof_rewrite_scheduled",
    "aof_last_rewrite_time_sec": "aof_last_rewrite_duration_sec",
    "aof_current_rewrite_time_sec": "aof_current_rewrite_duration_sec",
    "aof_last_cow_size": "aof_last_cow_size_bytes",
    "aof_current_size": "aof_current_size_bytes",
    "aof_base_size": "aof_base_size_bytes",
    "aof_pending_rewrite": "aof_pending_rewrite",
    "aof_buffer_length": "aof_buffer_length",
    "aof_rewrite_buffer_length": "aof_rewrite_buffer_length",
    "aof_pending_bio_fsync": "aof_pending_bio_fsync",
    "aof_delayed_fsync": "aof_delayed_fsync",
    "aof_last_bgrewrite_status": "aof_last_bgrewrite_status",
    "aof_last_write_status": "aof_last_write_status",
    "module_fork_in_progress": "module_fork_in_progress",
    "module_fork_last_cow_size": "module_fork_last_cow_size",
    # Stats
    "current_eviction_exceeded_time": "current_eviction_exceeded_time_ms",
    "pubsub_channels": "pubsub_channels",
    "pubsub_patterns": "pubsub_patterns",
    "pubsubshard_channels": "pubsubshard_channels",
    "latest_fork_usec": "latest_fork_usec",
    "tracking_total_keys": "tracking_total_keys",
    "tracking_total_items": "tracking_total_items",
    "tracking_total_prefixes": "tracking_total_prefixes",
    "instantaneous_eventloop_cycles_per_sec": "instantaneous_eventloop_cycles_per_sec",
    "instantaneous_eventloop_duration_usec": "instantaneous_eventloop_duration_usec",
    # Replication
    "connected_slaves": "connected_slaves",
    "repl_backlog_size": "replication_backlog_bytes",
    "repl_backlog_active": "repl_backlog_is_active",
    "repl_backlog_first_byte_offset": "repl_backlog_first_byte_offset",
    "repl_backlog_histlen": "repl_backlog_history_bytes",
    "master_repl_offset": "master_repl_offset",
    "second_repl_offset": "second_repl_offset",
    "slave_expires_tracked_keys": "slave_expires_tracked_keys",
    "slave_priority": "slave_priority",
    "sync_full": "replica_resyncs_full",
    "sync_partial_ok": "replica_partial_resync_accepted",
    "sync_partial_err": "replica_partial_resync_denied",
    # Cluster
    "cluster_stats_messages_sent": "cluster_messages_sent_total",
    "cluster_stats_messages_received": "cluster_messages_received_total",
}

INFO_COUNTERS = {
    "total_connections_received": "connections_received_total",
    "total_commands_processed": "commands_processed_total",
    "rejected_connections": "rejected_connections_total",
    "total_net_input_bytes": "net_input_bytes_total",
    "total_net_output_bytes": "net_output_bytes_total",
    "total_net_repl_input_bytes": "net_repl_input_bytes_total",
    "total_net_repl_output_bytes": "net_repl_output_bytes_total",
    "expired_subkeys": "expired_subkeys_total",
    "expired_keys": "expired_keys_total",
    "expired_time_cap_reached_count": "expired_time_cap_reached_total",
    "expire_cycle_cpu_milliseconds": "expire_cycle_cpu_time_ms_total",
    "evicted_keys": "evicted_keys_total",
    "evicted_clients": "evicted_clients_total",
    "evicted_scripts": "evicted_scripts_total",
    "total_eviction_exceeded_time": "eviction_exceeded_time_ms_total",
    "keyspace_hits": "keyspace_hits_total",
    "keyspace_misses": "keyspace_misses_total",
    "eventloop_cycles": "eventloop_cycles_total",
    "eventloop_duration_sum": "eventloop_duration_sum_usec_total",
    "eventloop_duration_cmd_sum": "eventloop_duration_cmd_sum_usec_total",
    "used_cpu_sys": "cpu_sys_seconds_total",
    "used_cpu_user": "cpu_user_seconds_total",
    "used_cpu_sys_children": "cpu_sys_children_seconds_total",
    "used_cpu_user_children": "cpu_user_children_seconds_total",
    "used_cpu_sys_main_thread": "cpu_sys_main_thread_seconds_total",
    "used_cpu_user_main_thread": "cpu_user_main_thread_seconds_total",
    "unexpected_error_replies": "unexpected_error_replies",
    "total_error_replies": "total_error_replies",
    "dump_payload_sanitizations": "dump_payload_sanitizations",
    "total_reads_processed": "total_reads_processed",
    "total_writes_processed": "total_writes_processed",
    "io_threaded_reads_processed": "io_threaded_reads_processed",
    "io_threaded_writes_processed": "io_threaded_writes_processed",
    "client_query_buffer_limit_disconnections": "client_query_buffer_limit_disconnections_total",
    "client_output_buffer_limit_disconnections":
        "client_output_buffer_limit_disconnections_total",
    "reply_buffer_shrinks": "reply_buffer_shrinks_total",
    "reply_buffer_expands": "reply_buffer_expands_total",
    "acl_access_denied_auth": "acl_access_denied_auth_total",
    "acl_access_denied_cmd": "acl_access_denied_cmd_total",
    "acl_access_denied_key": "acl_access_denied_key_total",
    "acl_access_denied_channel": "acl_access_denied_channel_total",
}

#: CONFIG settings redis_exporter exports as redis_config_<name>.
CONFIG_GAUGES = ("io-threads", "maxclients", "maxmemory", "repl-backlog-size")

#: redis_instance_info's labels, each an INFO field of the same name.
INSTANCE_INFO_LABELS = ("role", "redis_version", "redis_build_id", "redis_mode", "os",
                        "maxmemory_policy", "tcp_port", "run_id", "process_id", "master_replid")

#: Help texts of the metrics redis_exporter describes; the others' help is
#: "<name> metric", as its own.
HELP = {
    "commands_duration_seconds_total": "Total amount of time in seconds spent per command",
    "commands_failed_calls_total": "Total number of errors prior command execution per command",
    "commands_rejected_calls_total":
        "Total number of errors within command execution per command",
    "commands_total": "Total number of calls per command",
    "config_client_output_buffer_limit_bytes": "The configured buffer limits per class",
    "config_client_output_buffer_limit_overcome_seconds":
        "How long for buffer limits per class to be exceeded before replicas are dropped",
    "db_avg_ttl_seconds": "Avg TTL in seconds",
    "db_keys": "Total number of keys by DB",
    "db_keys_expiring": "Total number of expiring keys by DB",
    "errors_total": "Total number of errors per error type",
    "last_slow_execution_duration_seconds":
        "The amount of time needed for last slow execution, in seconds",
    "slowlog_last_id": "Last id of slowlog",
    "slowlog_length": "Total slowlog",
    "start_time_seconds": "Start time of the Redis instance since unix epoch in seconds.",
    "up": "Information about the Redis instance",
}


@dataclass
class Family:
    """One metric: its full name, type, help, label names and samples."""

    name: str
    type: str
    help: str
    labels: tuple[str, ...] = ()
    samples: list[tuple[tuple[str, ...], float]] = field(default_factory=list)


class Families:
    """The metrics of one scrape, by name, in the order they were first added."""

    def __init__(self, prefix: str = PREFIX) -> None:
        self.prefix = prefix
        self.by_name: dict[str, Family] = {}

    def add(self, name: str, value: float, kind: str = "gauge",
            labels: Iterable[tuple[str, str]] = ()) -> None:
        """One sample of metric ``prefix + name``; ``labels`` are (name, value) pairs."""
        pairs = tuple(labels)
        full = self.prefix + name
        family = self.by_name.get(full)
        if family is None:
            family = self.by_name[full] = Family(
                full, kind, HELP.get(name, f"{name} metric"), tuple(n for n, _ in pairs))
        family.samples.append((tuple(v for _, v in pairs), value))

    def render(self) -> bytes:
        """The text exposition format, families sorted by name as Go's client sorts them."""
        lines = []
        for name in sorted(self.by_name):
            family = self.by_name[name]
            lines.append(f"# HELP {name} {_escape_help(family.help)}")
            lines.append(f"# TYPE {name} {family.type}")
            for values, value in sorted(family.samples):
                # Go's client writes a sample's labels sorted by name.
                labels = ",".join(f'{label}="{_escape_label(v)}"'
                                  for label, v in sorted(zip(family.labels, values, strict=True)))
                lines.append(f"{name}{{{labels}}} {floatToGoString(value)}" if labels
                             else f"{name} {floatToGoString(value)}")
        return ("\n".join(lines) + "\n").encode() if lines else b""


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_label(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(text: str) -> float | None:
    # redis_exporter's parse of a field: statuses as 1/0, else a float.
    if text in ("ok", "true"):
        return 1.0
    if text in ("err", "fail", "false"):
        return 0.0
    try:
        return float(text)
    except ValueError:
        return None


def _pairs(text: str) -> dict[str, str]:
    """``calls=3,usec=10`` as a dict."""
    return dict(part.split("=", 1) for part in text.split(",") if "=" in part)


def add_info(families: Families, sections: Iterable[tuple[str, list[tuple[str, Any]]]],
             now: float) -> dict[str, str]:
    """The metrics redis_exporter makes of INFO's ``(header, fields)`` sections.

    Returns every field as text (redis_instance_info takes its labels from them).
    """
    fields: dict[str, str] = {}
    for header, section in sections:
        for key, raw in section:
            value = str(raw)
            fields[key] = value
            if header == "Server" and key == "uptime_in_seconds":
                families.add("start_time_seconds", float(int(now) - int(value)))
            elif header == "Server" and key in ("hz", "configured_hz"):
                families.add(key, float(value))
            if header == "Commandstats" and key.startswith("cmdstat_"):
                _add_commandstat(families, key[len("cmdstat_"):], _pairs(value))
                continue
            if header == "Errorstats" and key.startswith("errorstat_"):
                families.add("errors_total", float(_pairs(value)["count"]), "counter",
                             [("err", key[len("errorstat_"):])])
                continue
            if header == "Keyspace" and key.startswith("db"):
                _add_keyspace(families, key, _pairs(value))
                continue
            _add_field(families, key, value)
    return fields


def _add_commandstat(families: Families, cmd: str, stats: dict[str, str]) -> None:
    label = [("cmd", cmd)]
    families.add("commands_total", float(stats["calls"]), "counter", label)
    families.add("commands_duration_seconds_total", float(stats["usec"]) / 1e6, "counter",
                 label)
    if "rejected_calls" in stats and "failed_calls" in stats:
        families.add("commands_rejected_calls_total", float(stats["rejected_calls"]),
                     "counter", label)
        families.add("commands_failed_calls_total", float(stats["failed_calls"]), "counter",
                     label)


def _add_keyspace(families: Families, db: str, stats: dict[str, str]) -> None:
    label = [("db", db)]
    families.add("db_keys", float(stats["keys"]), labels=label)
    families.add("db_keys_expiring", float(stats["expires"]), labels=label)
    if "avg_ttl" in stats:
        families.add("db_avg_ttl_seconds", float(stats["avg_ttl"]) / 1000, labels=label)


def _add_field(families: Families, key: str, value: str) -> None:
    if key in INFO_COUNTERS:
        name, kind = INFO_COUNTERS[key], "counter"
    elif key in INFO_GAUGES:
        name, kind = INFO_GAUGES[key], "gauge"
    elif key.startswith(("cluster_", "db")):
        name, kind = "".join(c if c.isalnum() or c == "_" else "_" for c in key), "gauge"
    else:
        return
    number = _number(value)
    if number is None:
        return
    if name == "latest_fork_usec":
        name, number = "latest_fork_seconds", number / 1e6
    families.add(name, number, kind)


def add_config(families: Families, config: dict[str, str]) -> None:
    """redis_exporter's metrics from ``CONFIG GET *``."""
    for key in CONFIG_GAUGES:
        number = _number(config.get(key, ""))
        if number is not None:
            families.add("config_" + key.replace("-", "_"), number)
    words = config.get("client-output-buffer-limit", "").split()
    for index in range(0, len(words) - 3, 4):
        klass, hard, soft, seconds = words[index:index + 4]
        for limit, raw, name in (("hard", hard, "bytes"), ("soft", soft, "bytes"),
                                 ("soft", seconds, "overcome_seconds")):
            number = _number(raw)
            if number is not None:
                families.add(f"config_client_output_buffer_limit_{name}", number,
                             labels=[("class", klass), ("limit", limit)])


def add_instance_info(families: Families, fields: dict[str, str]) -> None:
    """redis_up and redis_instance_info: answering, and who."""
    families.add("up", 1.0)
    families.add("instance_info", 1.0,
                 labels=[(label, fields.get(label, "")) for label in INSTANCE_INFO_LABELS])


def add_slowlog(families: Families, entries: list[list[Any]]) -> None:
    """The slow log's length, and its newest entry's id and duration."""
    families.add("slowlog_length", float(len(entries)))
    newest = entries[0] if entries else None
    families.add("slowlog_last_id", float(newest[0]) if newest else 0.0)
    families.add("last_slow_execution_duration_seconds",
                 newest[2] / 1e6 if newest else 0.0)


def scrape(service: Server) -> bytes:
    """Every metric about ``service`` but the latency histogram, as exposition text."""
    families = Families()
    sections = []
    for name in info.ALL_SECTIONS:
        header, build = info.SECTIONS[name]
        fields = build(service, service.settings.port) if name == "server" else build(service)
        sections.append((header, fields))
    now = service.clock.seconds()
    fields = add_info(families, sections, now)
    config = {name.decode(): value.decode("utf-8", "replace")
              for name, value in service.settings.get(b"*").items()}
    add_config(families, config)
    add_slowlog(families, list(service.slowlog.entries))
    add_instance_info(families, fields)
    hush = Families(prefix="hush_")
    hush.add("build_info", 1.0, labels=[("version", __version__)])
    return families.render() + hush.render()


class LatencyWatcher:
    """Feeds the per-command latency histogram from the dispatcher's timing."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.histogram = Histogram(
            "hush_command_duration_seconds", "Handler time per command",
            ["cmd"], registry=registry, buckets=LATENCY_BUCKETS)
        self._children: dict[Any, Any] = {}

    def __call__(self, client: Any, cmd: Any, argv: list[bytes], seconds: float) -> None:
        child = self._children.get(cmd)
        if child is None:
            child = self._children[cmd] = self.histogram.labels(cmd.full_name)
        child.observe(seconds)
