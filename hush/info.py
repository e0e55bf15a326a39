# -*- test-case-name: tests.test_server -*-
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
from collections import deque
from collections.abc import Callable, Iterable
from itertools import islice
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

import twisted
from hush import REDIS_VERSION, __version__

if TYPE_CHECKING:
    from hush.service import StoreService

Fields = list[tuple[str, object]]

#: How many keys with a TTL the keyspace section looks at for avg_ttl; Redis
#: also only estimates it (from its expiry cycle's samples).
AVG_TTL_SAMPLE = 1000

#: The window instantaneous_ops_per_sec is measured over, in seconds.
OPS_WINDOW = 5.0


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
    """Per-server state INFO keeps between calls: command-count samples, replid."""

    def __init__(self) -> None:
        self.samples: deque[tuple[float, int]] = deque()
        self.replid = os.urandom(20).hex()

    def ops_per_sec(self, now: float, total: int) -> int:
        """Commands per second since the oldest sample in the window."""
        samples = self.samples
        while samples and now - samples[0][0] > OPS_WINDOW:
            samples.popleft()
        rate = 0
        if samples:
            then, count = samples[0]
            if now > then:
                rate = int((total - count) / (now - then))
        samples.append((now, total))
        return rate


_samplers: WeakKeyDictionary[StoreService, _Sampler] = WeakKeyDictionary()


def _sampler(server: StoreService) -> _Sampler:
    sampler = _samplers.get(server)
    if sampler is None:
        sampler = _samplers[server] = _Sampler()
    return sampler


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return _peak_rss_bytes()


def _peak_rss_bytes() -> int:
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


def server_section(server: StoreService, port: int) -> Fields:
    """# Server: versions, process, uptime."""
    now = server.clock.seconds()
    uptime = int(now - server.started_at)
    uname = platform.uname()
    return [
        ("redis_version", REDIS_VERSION),
        ("hush_version", __version__),
        ("redis_git_sha1", "00000000"),
        ("redis_git_dirty", 0),
        ("redis_mode", "standalone"),
        ("os", f"{uname.system} {uname.release} {uname.machine}"),
        ("arch_bits", struct.calcsize("P") * 8),
        ("python_version", platform.python_version()),
        ("twisted_version", twisted.__version__),
        ("process_id", os.getpid()),
        ("process_supervised", "no"),
        ("run_id", server.run_id),
        ("tcp_port", port),
        ("server_time_usec", int(now * 1_000_000)),
        ("uptime_in_seconds", uptime),
        ("uptime_in_days", uptime // 86400),
        # Redis's default; Hush has no periodic cron (expiry runs on its own
        # timer), but tools divide by this, so it must be positive.
        ("hz", 10),
        ("configured_hz", 10),
        ("executable", _executable()),
        ("config_file", ""),
        ("io_threads_active", 0),
    ]


def clients_section(server: StoreService) -> Fields:
    """# Clients: connection counts."""
    return [
        ("connected_clients", len(server.clients)),
        ("cluster_connections", 0),
        ("maxclients", server.settings.maxclients),
        ("blocked_clients", server.blocking.blocked_clients),
        ("tracking_clients", 0),
    ]


def memory_section(server: StoreService) -> Fields:
    """# Memory: the process's resident size stands in for Redis's allocator figure."""
    rss = _rss_bytes()
    peak = max(_peak_rss_bytes(), rss)
    system = _system_memory()
    maxmemory = server.settings.maxmemory
    return [
        ("used_memory", rss),
        ("used_memory_human", bytes_to_human(rss)),
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
    ]


def persistence_section(server: StoreService) -> Fields:
    """# Persistence: no RDB snapshots; the AOF as configured (hush.persistence)."""
    return server.persistence.info_fields()


def stats_section(server: StoreService) -> Fields:
    """# Stats: the store's counters."""
    stats = server.store.stats
    ops = _sampler(server).ops_per_sec(server.clock.seconds(), stats.total_commands_processed)
    return [
        ("total_connections_received", stats.total_connections_received),
        ("total_commands_processed", stats.total_commands_processed),
        ("instantaneous_ops_per_sec", ops),
        ("rejected_connections", stats.rejected_connections),
        ("expired_keys", stats.expired_keys),
        ("evicted_keys", stats.evicted_keys),
        ("keyspace_hits", stats.keyspace_hits),
        ("keyspace_misses", stats.keyspace_misses),
    ]


def replication_section(server: StoreService) -> Fields:
    """# Replication: always a master without replicas."""
    return [
        ("role", "master"),
        ("connected_slaves", 0),
        ("master_failover_state", "no-failover"),
        ("master_replid", _sampler(server).replid),
        ("master_replid2", "0" * 40),
        ("master_repl_offset", 0),
        ("second_repl_offset", -1),
        ("repl_backlog_active", 0),
        ("repl_backlog_size", 1048576),
        ("repl_backlog_first_byte_offset", 0),
        ("repl_backlog_histlen", 0),
    ]


def cpu_section(server: StoreService) -> Fields:
    """# CPU: seconds of CPU time, as Redis formats them."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return [
        ("used_cpu_sys", f"{own.ru_stime:.6f}"),
        ("used_cpu_user", f"{own.ru_utime:.6f}"),
        ("used_cpu_sys_children", f"{children.ru_stime:.6f}"),
        ("used_cpu_user_children", f"{children.ru_utime:.6f}"),
    ]


def cluster_section(server: StoreService) -> Fields:
    """# Cluster: Hush has no cluster mode."""
    return [("cluster_enabled", 0)]


def keyspace_section(server: StoreService) -> Fields:
    """# Keyspace: one line per non-empty database."""
    now = server.store.now_ms()
    lines: Fields = []
    for db in server.store.dbs:
        keys = len(db.data)
        if not keys:
            continue
        sample = [deadline - now for deadline in islice(db.expires.values(), AVG_TTL_SAMPLE)]
        live = [ttl for ttl in sample if ttl > 0]
        avg_ttl = sum(live) // len(live) if live else 0
        lines.append((f"db{db.index}", f"keys={keys},expires={len(db.expires)},avg_ttl={avg_ttl}"))
    return lines


#: Section name -> (header, builder); the order is Redis's.
SECTIONS: dict[str, tuple[str, Callable[..., Fields]]] = {
    "server": ("Server", server_section),
    "clients": ("Clients", clients_section),
    "memory": ("Memory", memory_section),
    "persistence": ("Persistence", persistence_section),
    "stats": ("Stats", stats_section),
    "replication": ("Replication", replication_section),
    "cpu": ("CPU", cpu_section),
    "modules": ("Modules", lambda server: []),
    "cluster": ("Cluster", cluster_section),
    "keyspace": ("Keyspace", keyspace_section),
}

DEFAULT_SECTIONS = tuple(SECTIONS)


def wanted_sections(names: Iterable[bytes]) -> list[str]:
    """The sections INFO's arguments ask for, in Redis's order."""
    wanted: set[str] = set()
    names = [name.decode("utf-8", "replace").lower() for name in names]
    if not names:
        names = ["default"]
    for name in names:
        if name in ("all", "default", "everything"):
            wanted.update(DEFAULT_SECTIONS)
        elif name in SECTIONS:
            wanted.add(name)
    return [name for name in SECTIONS if name in wanted]


def render(server: StoreService, names: Iterable[bytes], port: int) -> bytes:
    """The INFO text for the requested sections."""
    parts = []
    for name in wanted_sections(names):
        header, build = SECTIONS[name]
        fields = build(server, port) if name == "server" else build(server)
        lines = [f"# {header}\r\n"]
        lines.extend(f"{key}:{value}\r\n" for key, value in fields)
        parts.append("".join(lines))
    return "\r\n".join(parts).encode()
