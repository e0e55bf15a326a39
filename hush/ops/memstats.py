# -*- test-case-name: tests.commands.test_memory -*-
"""MEMORY STATS and MEMORY DOCTOR: Redis's memory overhead report, from Hush's figures.

Redis builds both from its allocator's counters (getMemoryOverheadData).
Hush has no allocator of its own: the dataset is its estimate of what the
keys hold (the maxmemory estimate while maxmemory is set, else one made from
a sample of each database's keys), the server itself counts as a fixed
baseline, and the process's resident size stands for what the allocator
holds. The report has Redis's fields, in Redis's order and types; MEMORY
DOCTOR applies Redis's rules to these figures, word for word.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import islice
from weakref import WeakKeyDictionary

from hush.core.interfaces import Server
from hush.data.types.alloc import DICT_ENTRY, POINTER, ROBJ, dict_slots
from hush.data.types.registry import value_size
from hush.ops.info import rss_bytes

#: What the server itself is counted as (the same as hush.server.memory's
#: BASELINE: about what an empty Redis 7 reports as used).
STARTUP_ALLOCATED = 1_000_000

#: Keys of each database sized to estimate its dataset when maxmemory is off.
SAMPLE = 64

_peaks: WeakKeyDictionary[Server, int] = WeakKeyDictionary()


@dataclass
class Overhead:
    """Redis's struct redisMemOverhead, as far as Hush has the figures."""

    total_allocated: int
    startup_allocated: int
    peak_allocated: int
    clients_normal: int
    aof_buffer: int
    lua_caches: int
    rss: int
    dbs: list[tuple[int, int, int]] = field(default_factory=list)
    total_keys: int = 0

    @property
    def overhead_total(self) -> int:
        return (self.startup_allocated + self.clients_normal + self.aof_buffer
                + self.lua_caches + sum(main + expires for _db, main, expires in self.dbs))

    @property
    def net_usage(self) -> int:
        return max(1, self.total_allocated - self.startup_allocated)

    @property
    def dataset(self) -> int:
        return max(0, self.total_allocated - self.overhead_total)

    @property
    def total_frag(self) -> float:
        return self.rss / self.total_allocated if self.total_allocated else 0.0


def _dataset_estimate(server: Server) -> int:
    """The keys' size from a sample of each database (maxmemory off: nothing is tracked)."""
    total = 0
    for db in server.store.dbs:
        count = len(db)
        if not count:
            continue
        sample = list(islice(db.items(), SAMPLE))
        each = sum(len(key) + value_size(value) for key, value in sample) / len(sample)
        total += int(each * count)
    return total


def overhead(server: Server) -> Overhead:
    """The figures of MEMORY STATS and MEMORY DOCTOR now."""
    used = server.memory.used_memory()
    if used is None:
        used = STARTUP_ALLOCATED + _dataset_estimate(server)
    peak = max(used, _peaks.get(server, 0))
    _peaks[server] = peak
    clients = sum(
        client.connection.buffered_input + client.connection.pending_output()
        + sum(len(arg) for argv in client.multi_queue for arg in argv)
        for client in server.clients.values() if client.transport is not None)
    lua = sum(len(getattr(script, "body", b"")) for script in server.scripts.scripts.values())
    report = Overhead(total_allocated=used, startup_allocated=STARTUP_ALLOCATED,
                      peak_allocated=peak, clients_normal=clients, aof_buffer=0,
                      lua_caches=lua, rss=rss_bytes())
    for db in server.store.dbs:
        keys = len(db)
        if not keys:
            continue
        report.total_keys += keys
        expires = len(db.expires)
        main = keys * DICT_ENTRY + dict_slots(keys) * POINTER + keys * ROBJ
        on_expires = expires * DICT_ENTRY + (dict_slots(expires) * POINTER if expires else 0)
        report.dbs.append((db.index, main, on_expires))
    return report


def stats(server: Server) -> dict[bytes, object]:
    """MEMORY STATS: Redis 7.0's fields, in its order."""
    mh = overhead(server)
    reply: dict[bytes, object] = {
        b"peak.allocated": mh.peak_allocated,
        b"total.allocated": mh.total_allocated,
        b"startup.allocated": mh.startup_allocated,
        b"replication.backlog": 0,
        b"clients.slaves": 0,
        b"clients.normal": mh.clients_normal,
        b"cluster.links": 0,
        b"aof.buffer": mh.aof_buffer,
        b"lua.caches": mh.lua_caches,
        b"functions.caches": 0,
    }
    for index, main, expires in mh.dbs:
        reply[b"db.%d" % index] = {
            b"overhead.hashtable.main": main,
            b"overhead.hashtable.expires": expires,
            b"overhead.hashtable.slot-to-keys": 0,
        }
    reply.update({
        b"overhead.total": mh.overhead_total,
        b"keys.count": mh.total_keys,
        b"keys.bytes-per-key": mh.net_usage // mh.total_keys if mh.total_keys else 0,
        b"dataset.bytes": mh.dataset,
        b"dataset.percentage": mh.dataset * 100 / mh.net_usage,
        b"peak.percentage": mh.total_allocated * 100 / mh.peak_allocated,
        # The allocator is the process: all it holds is active and resident.
        b"allocator.allocated": mh.total_allocated,
        b"allocator.active": mh.total_allocated,
        b"allocator.resident": mh.rss,
        b"allocator-fragmentation.ratio": 1.0,
        b"allocator-fragmentation.bytes": 0,
        b"allocator-rss.ratio": mh.total_frag,
        b"allocator-rss.bytes": mh.rss - mh.total_allocated,
        b"rss-overhead.ratio": 1.0,
        b"rss-overhead.bytes": 0,
        b"fragmentation": mh.total_frag,
        b"fragmentation.bytes": mh.rss - mh.total_allocated,
    })
    return reply


_PEAK = (
    " * Peak memory: In the past this instance used more than 150% the memory that is "
    "currently using. The allocator is normally not able to release memory after a peak, "
    "so you can expect to see a big fragmentation ratio, however this is actually harmless "
    "and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) "
    "is currently bigger than expected, the memory will be used as soon as you fill the "
    "Redis instance with more data. If the memory peak was only occasional and you want to "
    "try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other "
    "option is to shutdown and restart the instance.\n\n")
_HIGH_FRAG = (
    " * High total RSS: This instance has a memory fragmentation and RSS overhead greater "
    "than 1.4 (this means that the Resident Set Size of the Redis process is much larger "
    "than the sum of the logical allocations Redis performed). This problem is usually due "
    "either to a large peak memory (check if there is a peak memory entry above in the "
    "report) or may result from a workload that causes the allocator to fragment memory a "
    "lot. If the problem is a large peak memory, then there is no issue. Otherwise, make "
    "sure you are using the Jemalloc allocator and not the default libc malloc. Note: The "
    "currently used allocator is \"pymalloc\".\n\n")
_BIG_CLIENT_BUF = (
    " * Big client buffers: The clients output buffers in this instance are greater than "
    "200K per client (on average). This may result from different causes, like Pub/Sub "
    "clients subscribed to channels bot not receiving data fast enough, so that data piles "
    "on the Redis instance output buffer, or clients sending commands with large replies or "
    "very large sequences of commands in the same pipeline. Please use the CLIENT LIST "
    "command in order to investigate the issue if it causes problems in your instance, or "
    "to understand better why certain clients are using a big amount of memory.\n\n")
_MANY_SCRIPTS = (
    " * Many scripts: There seem to be many cached scripts in this instance (more than "
    "1000). This may be because scripts are generated and `EVAL`ed, instead of being "
    "parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT "
    "FLUSH` is called periodically, the scripts' caches may end up consuming most of your "
    "memory.\n\n")


def doctor(server: Server) -> bytes:
    """MEMORY DOCTOR: Redis's report, by its rules, on Hush's figures."""
    mh = overhead(server)
    if mh.total_allocated < 5 * 1024 * 1024:
        return (b"Hi Sam, this instance is empty or is using very little memory, my issues "
                b"detector can't be used in these conditions. Please, leave for your mission "
                b"on Earth and fill it with some data. The new Sam and I will be back to our "
                b"programming as soon as I finished rebooting.\n")
    issues = []
    if mh.peak_allocated / mh.total_allocated > 1.5:
        issues.append(_PEAK)
    if mh.total_frag > 1.4 and mh.rss - mh.total_allocated > 10 << 20:
        issues.append(_HIGH_FRAG)
    clients = len(server.clients)
    if clients and mh.clients_normal / clients > 1024 * 200:
        issues.append(_BIG_CLIENT_BUF)
    if len(server.scripts.scripts) > 1000:
        issues.append(_MANY_SCRIPTS)
    if not issues:
        return (b"Hi Sam, I can't find any memory issue in your instance. I can only account "
                b"for what occurs on this base.\n")
    return ("Sam, I detected a few issues in this Redis instance memory implants:\n\n"
            + "".join(issues) + "I'm here to keep you safe, Sam. I want to help you.\n").encode()
