# -*- test-case-name: tests.commands.test_server -*-
"""INFO: the report's sections, with Redis's section and field names.

Each builder returns the ``field:value`` pairs of one section; :func:`render`
joins the requested sections the way Redis 7.0 does (``# Name`` headers,
CRLF line ends, one blank line between sections). Figures come from the
store's counters, the client registry and the process itself (RSS, CPU time);
fields Hush has no counterpart for are left out rather than invented.
"""

from __future__ import annotations

import os
import platform
import resource
import struct
import sys
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from itertools import islice
from weakref import WeakKeyDictionary

from twisted.internet.task import LoopingCall

import twisted
from hush import REDIS_VERSION, __version__
from hush.core.interfaces import Server

Fields = list[tuple[str, object]]

#: How many keys with a TTL the keyspace section looks at for avg_ttl; Redis
#: also only estimates it (from its expiry cycle's samples).
AVG_TTL_SAMPLE = 1000

#: Redis's STATS_METRIC_SAMPLES and its cron period: the instantaneous_*
#: figures are the mean rate over the last 16 samples taken every 100 ms.
METRIC_SAMPLES = 16
SAMPLE_PERIOD = 0.1


def bytes_to_human(count: int) -> str:
    """Redis's ``bytesToHuman``: 512B, 1.44M, 23.54G."""
    if count < 1024:
        return f"{count}B"
    value = float(count)
    for unit in "KMGTPE":
        value /= 1024
        if value < 1024 or unit == "E":
            return f"{value:.2f}{unit}"
    raise AssertionError("unreachable")


class _Sampler:
    """Per-server state INFO keeps: the instantaneous metrics' samples, replid.

    Like Redis's serverCron, a timer on the server's clock samples the
    commands, input and output byte counters every 100 ms; it starts the
    first time INFO is asked, so a server nobody monitors pays nothing.
    """

    METRICS = ("total_commands_processed", "total_net_input_bytes", "total_net_output_bytes")

    def __init__(self, server: Server) -> None:
        # Weak: the sampler lives in a WeakKeyDictionary keyed by the server.
        self.server = weakref.ref(server)
        self.rates: dict[str, deque[float]] = {
            name: deque(maxlen=METRIC_SAMPLES) for name in self.METRICS}
        self.last = self._read(server)
        self.timer = LoopingCall(self.sample)
        self.timer.clock = server.clock
        self.timer.start(SAMPLE_PERIOD, now=False)

    def _read(self, server: Server) -> tuple[float, tuple[int, ...]]:
        stats = server.store.stats
        return server.clock.seconds(), tuple(getattr(stats, name) for name in self.METRICS)

    def sample(self) -> None:
        """Take one sample of each counter's rate since the previous one."""
        server = self.server()
        if server is None or not server.running and server.parent is not None:
            self.timer.stop()
            return
        then, before = self.last
        now, after = self.last = self._read(server)
        elapsed = now - then
        if elapsed <= 0:
            return
        for name, old, new in zip(self.METRICS, before, after, strict=True):
            # CONFIG RESETSTAT may lower a counter: count that period as 0.
            self.rates[name].append(max(0, new - old) / elapsed)

    def rate(self, name: str) -> float:
        """The mean per-second rate of counter ``name`` over the kept samples."""
        samples = self.rates[name]
        return sum(samples) / len(samples) if samples else 0.0


_samplers: WeakKeyDictionary[Server, _Sampler] = WeakKeyDictionary()


def _sampler(server: Server) -> _Sampler:
    sampler = _samplers.get(server)
    if sampler is None:
        sampler = _samplers[server] = _Sampler(server)
    return sampler


def rss_bytes() -> int:
    """The process's resident size in bytes (its peak where /proc is missing)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return peak_rss_bytes()


def peak_rss_bytes() -> int:
    """The most the process has held resident, in bytes."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return peak if sys.platform == "darwin" else peak * 1024


def _system_memory() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _executable() -> str:
    path = sys.argv[0] if sys.argv else ""
    return os.path.abspath(path) if path and os.path.exists(path) else ""


def server_section(server: Server, port: int) -> Fields:
    """# Server: versions, process, uptime."""
    now = server.clock.seconds()
    uptime = int(now - server.started_at)
    uname = platform.uname()
    return [
        ("redis_version", REDIS_VERSION),
        ("hush_version", __version__),
        ("redis_git_sha1", "00000000"),
        ("redis_git_dirty", 0),
        ("redis_mode", "standalone" if server.cluster is None else "cluster"),
        ("os", f"{uname.system} {uname.release} {uname.machine}"),
        ("arch_bits", struct.calcsize("P") * 8),
        ("python_version", platform.python_version()),
        ("twisted_version", twisted.__version__),
        ("process_id", os.getpid()),
        ("process_supervised", "no"),
        ("multiplexing_api", _multiplexing_api()),
        ("run_id", server.run_id),
        ("tcp_port", port),
        ("server_time_usec", int(now * 1_000_000)),
        ("uptime_in_seconds", uptime),
        ("uptime_in_days", uptime // 86400),
        # The hz setting (1..500, default 10): Hush has no periodic cron
        # (expiry runs on its own timer), but tools divide by this.
        ("hz", server.settings.hz),
        ("configured_hz", server.settings.hz),
        ("lru_clock", int(now) & ((1 << 24) - 1)),
        ("executable", _executable()),
        ("config_file", server.settings.config_file),
        ("io_threads_active", 0),
    ]


def clients_section(server: Server) -> Fields:
    """# Clients: connection counts, the largest buffers now, blocked clients."""
    clients = list(server.clients.values())
    max_input = max((c.connection.buffered_input for c in clients), default=0)
    max_output = max((c.connection.pending_output() for c in clients if c.transport), default=0)
    postponed = server.pause.postponed_clients
    timed = sum(
        1 for c in clients
        if (waiter := c.connection.waiter) is not None and waiter.timer is not None
        and waiter.block.keys
    )
    return [
        # Replicas are not counted (their master client is), as in Redis.
        ("connected_clients", len(server.clients) - server.replication.replica_count),
        ("cluster_connections", 0),
        ("maxclients", server.settings.maxclients),
        ("client_recent_max_input_buffer", max_input),
        ("client_recent_max_output_buffer", max_output),
        # Clients held by CLIENT PAUSE are not counted, as in Redis.
        ("blocked_clients", server.blocking.blocked_clients - postponed),
        ("tracking_clients", server.store.tracking.tracking_clients),
        # Redis 7.4's WATCH figures: clients watching keys, and the keys watched.
        ("watching_clients", sum(1 for c in clients if c.watched)),
        ("clients_in_timeout_table", timed),
        ("total_watched_keys", len(server.store.watched_keys)),
    ]


def memory_section(server: Server) -> Fields:
    """# Memory: the process's resident size stands in for Redis's allocator figure."""
    rss = rss_bytes()
    peak = max(peak_rss_bytes(), rss)
    system = _system_memory()
    maxmemory = server.settings.maxmemory
    # hush.server.memory's dataset estimate while maxmemory is set, else the RSS.
    used = server.memory.used_memory() or rss
    return [
        ("used_memory", used),
        ("used_memory_human", bytes_to_human(used)),
        ("used_memory_rss", rss),
        ("used_memory_rss_human", bytes_to_human(rss)),
        ("used_memory_peak", peak),
        ("used_memory_peak_human", bytes_to_human(peak)),
        ("used_memory_peak_perc", f"{100.0 * rss / peak:.2f}%" if peak else "0.00%"),
        ("total_system_memory", system),
        ("total_system_memory_human", bytes_to_human(system)),
        ("maxmemory", maxmemory),
        ("maxmemory_human", bytes_to_human(maxmemory)),
        ("maxmemory_policy", server.settings.maxmemory_policy),
        ("mem_allocator", "pymalloc"),
        # Scripts cached by EVAL / SCRIPT LOAD (monitoring tools export it).
        ("number_of_cached_scripts", len(server.scripts.scripts)),
        ("number_of_functions", server.functions.function_count),
    ]


def persistence_section(server: Server) -> Fields:
    """# Persistence: saves, rewrites and loads (hush.persistence.manager)."""
    return server.persistence.info_fields()


def stats_section(server: Server) -> Fields:
    """# Stats: the store's counters."""
    stats = server.store.stats
    sampler = _sampler(server)
    replication = server.replication.counters()
    return [
        ("total_connections_received", stats.total_connections_received),
        ("total_commands_processed", stats.total_commands_processed),
        ("instantaneous_ops_per_sec", int(sampler.rate("total_commands_processed"))),
        ("total_net_input_bytes", stats.total_net_input_bytes),
        ("total_net_output_bytes", stats.total_net_output_bytes),
        ("total_net_repl_input_bytes", replication["total_net_repl_input_bytes"]),
        ("total_net_repl_output_bytes", replication["total_net_repl_output_bytes"]),
        ("instantaneous_input_kbps", f"{sampler.rate('total_net_input_bytes') / 1024:.2f}"),
        ("instantaneous_output_kbps", f"{sampler.rate('total_net_output_bytes') / 1024:.2f}"),
        ("rejected_connections", stats.rejected_connections),
        ("sync_full", replication["sync_full"]),
        ("sync_partial_ok", replication["sync_partial_ok"]),
        ("sync_partial_err", replication["sync_partial_err"]),
        ("expired_keys", stats.expired_keys),
        ("evicted_keys", stats.evicted_keys),
        # Hush never evicts clients (maxmemory-clients does not exist here).
        ("evicted_clients", 0),
        ("keyspace_hits", stats.keyspace_hits),
        ("keyspace_misses", stats.keyspace_misses),
        ("pubsub_channels", len(server.pubsub.channels)),
        ("pubsub_patterns", len(server.pubsub.patterns)),
        ("pubsubshard_channels", len(server.pubsub.shard_channels)),
        ("tracking_total_keys", server.store.tracking.total_keys),
        ("tracking_total_items", server.store.tracking.items),
        ("tracking_total_prefixes", server.store.tracking.total_prefixes),
        ("total_error_replies", server.commandstats.total_error_replies),
        # Redis 7.2's counters (7.0 has none): clients closed by the limits.
        ("client_query_buffer_limit_disconnections",
         stats.client_query_buffer_limit_disconnections),
        ("client_output_buffer_limit_disconnections",
         stats.client_output_buffer_limit_disconnections),
        # Redis 7.2's ACL counters (7.0 has none).
        ("acl_access_denied_auth", stats.acl_access_denied_auth),
        ("acl_access_denied_cmd", stats.acl_access_denied_cmd),
        ("acl_access_denied_key", stats.acl_access_denied_key),
        ("acl_access_denied_channel", stats.acl_access_denied_channel),
    ]


def replication_section(server: Server) -> Fields:
    """# Replication: the role, the replicas or the master link, the history (hush.replication)."""
    return server.replication.info_fields()


def cpu_section(server: Server) -> Fields:
    """# CPU: seconds of CPU time, as Redis formats them."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    fields: Fields = [
        ("used_cpu_sys", f"{own.ru_stime:.6f}"),
        ("used_cpu_user", f"{own.ru_utime:.6f}"),
        ("used_cpu_sys_children", f"{children.ru_stime:.6f}"),
        ("used_cpu_user_children", f"{children.ru_utime:.6f}"),
    ]
    thread_usage = getattr(resource, "RUSAGE_THREAD", None)
    if thread_usage is not None:
        # INFO runs on the reactor thread, which is the one running commands.
        main = resource.getrusage(thread_usage)
        fields.append(("used_cpu_sys_main_thread", f"{main.ru_stime:.6f}"))
        fields.append(("used_cpu_user_main_thread", f"{main.ru_utime:.6f}"))
    return fields


def cluster_section(server: Server) -> Fields:
    """# Cluster: whether cluster-enabled is on (CLUSTER INFO tells the rest)."""
    return [("cluster_enabled", 0 if server.cluster is None else 1)]


def keyspace_section(server: Server) -> Fields:
    """# Keyspace: one line per non-empty database."""
    now = server.store.now_ms()
    lines: Fields = []
    for db in server.store.dbs:
        keys = len(db)
        if not keys:
            continue
        sample = [deadline - now for deadline in islice(db.expires.values(), AVG_TTL_SAMPLE)]
        live = [ttl for ttl in sample if ttl > 0]
        avg_ttl = sum(live) // len(live) if live else 0
        lines.append((f"db{db.index}", f"keys={keys},expires={len(db.expires)},avg_ttl={avg_ttl}"))
    return lines


#: The ``module:`` lines of INFO modules; hush.commands.modules, a floor up, sets it.
MODULE_LINES: Callable[[], Fields] = list

#: Section name -> (header, builder); the order is Redis's.
SECTIONS: dict[str, tuple[str, Callable[..., Fields]]] = {
    "server": ("Server", server_section),
    "clients": ("Clients", clients_section),
    "memory": ("Memory", memory_section),
    "persistence": ("Persistence", persistence_section),
    "stats": ("Stats", stats_section),
    "replication": ("Replication", replication_section),
    "cpu": ("CPU", cpu_section),
    "modules": ("Modules", lambda server: MODULE_LINES()),
    "commandstats": ("Commandstats", lambda server: server.commandstats.commandstats_lines()),
    "errorstats": ("Errorstats", lambda server: server.commandstats.errorstats_lines()),
    "cluster": ("Cluster", cluster_section),
    "keyspace": ("Keyspace", keyspace_section),
}

#: What INFO and INFO default show: not the per-command sections (Redis 7.0).
DEFAULT_SECTIONS = tuple(name for name in SECTIONS if name != "commandstats")
#: INFO all and everything (Hush has no module sections to tell them apart).
ALL_SECTIONS = tuple(SECTIONS)


def wanted_sections(names: Iterable[bytes]) -> list[str]:
    """The sections INFO's arguments ask for, in Redis's order."""
    wanted: set[str] = set()
    names = [name.decode("utf-8", "replace").lower() for name in names]
    if not names:
        names = ["default"]
    for name in names:
        if name in ("all", "everything"):
            wanted.update(ALL_SECTIONS)
        elif name == "default":
            wanted.update(DEFAULT_SECTIONS)
        elif name in SECTIONS:
            wanted.add(name)
    return [name for name in SECTIONS if name in wanted]


def _multiplexing_api() -> str:
    from twisted.internet import reactor

    name = type(reactor).__name__.lower()
    for api in ("epoll", "kqueue", "poll", "select"):
        if api in name:
            return api
    return name


def render(server: Server, names: Iterable[bytes], port: int) -> bytes:

    """The INFO text for the requested sections."""
    parts = []
    for name in wanted_sections(names):
        header, build = SECTIONS[name]
        fields = build(server, port) if name == "server" else build(server)
        lines = [f"# {header}\r\n"]
        lines.extend(f"{key}:{value}\r\n" for key, value in fields)
        parts.append("".join(lines))
    return "\r\n".join(parts).encode()
