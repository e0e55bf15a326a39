# -*- test-case-name: tests.unit.config.test_directives -*-
"""Every Redis 7.0 directive Hush does not act on: kept, shown, and noted at startup.

A stock ``redis.conf`` must load. Each directive of Redis 7.0.15's table
(``src/config.c``, and what ``CONFIG GET *`` lists for a build with TLS)
that Hush has no use for is here with Redis's type, bounds, default,
aliases and mutability, so that it is checked as Redis checks it, CONFIG GET
shows what redis-server shows, CONFIG SET and CONFIG REWRITE treat it as
Redis does -- and with a note of what Hush does instead, which the startup
log gives for every one a config file sets (one line per note).

The directives Hush acts on are in :data:`hush.config.table.TABLE`; a few of
these are read where they matter without a place there (the dump file's
``dbfilename``, ``rdbcompression``, ``rdbchecksum``, ``aof-use-rdb-preamble``,
``stop-writes-on-bgsave-error`` and ``hll-sparse-max-bytes``), and their
note says so.
"""

from __future__ import annotations

from hush.config.kinds import (
    INT_MAX,
    INT_MIN,
    LLONG_MAX,
    UINT_MAX,
    ULLONG_MAX,
    BaseName,
    Bool,
    Enum,
    Flags,
    Hostname,
    Int,
    Kind,
    Memory,
    OomValues,
    Percent,
    Percentiles,
    Setting,
    String,
    TitleTemplate,
)

#: What Hush does instead, by topic. The startup log shows one line per topic.
NOTES: dict[str, str] = {
    "daemonize": "Hush does not fork itself: run twistd without -n to run it in the "
                 "background, or let systemd supervise it (contrib/systemd).",
    "supervised": "Hush sends no readiness notification: use a simple systemd service "
                  "or socket activation (contrib/systemd).",
    "rdb": "Hush acts on these as Redis does: dump.rdb is written (SAVE, BGSAVE, save "
           "points, shutdown) and loaded at start without an AOF, writes are refused after "
           "a failed BGSAVE, and an AOF rewrite starts with an RDB preamble.",
    "rdb-ignored": "Hush does not act on these: it keeps the dump file a replication sync "
                   "writes, and a dump file is fsynced once, when written.",
    "aof": "Hush's AOF is a single file (its rewrites start with an RDB preamble) without "
           "timestamps or an append-only directory; it is rewritten and fsynced by Hush's "
           "own rules.",
    "replication-ignored": "Hush does not act on these: its replication links keep "
                           "TCP_NODELAY and the default source address, a replica frees its "
                           "old data at once and never evicts for its master, and Hush "
                           "propagates whatever its commands wrote.",
    "cluster": "Hush's cluster nodes have no cluster bus: no gossip, failure detection, "
               "failover or replicas; addresses and slots come from nodes.conf and CLUSTER "
               "SETSLOT (docs/scaling-out.rst, Cluster mode).",
    "tls": "Hush serves TLS on ssl: endpoints "
           "(--port ssl:6380:privateKey=key.pem:certKey=cert.pem), not from tls-* directives.",
    "threads": "Hush runs one thread: no I/O threads and no CPU pinning.",
    "lazyfree": "Hush frees deleted values at once, in the command that deletes them.",
    "allocator": "Hush uses CPython's memory allocator: no jemalloc, no active "
                 "defragmentation, no rehashing steps, no transparent huge pages setting.",
    "encodings": "Hush acts on this as Redis does: a sparse HyperLogLog that grows past "
                 "it turns dense.",
    "process": "Hush leaves the process title, OOM score, logo and crash reports to "
               "Python and the operating system.",
    "shutdown": "On SIGTERM or SIGINT Hush stops as SHUTDOWN does by default: the AOF "
                "is flushed and fsynced, then the process exits.",
    "latency": "Hush shows no latency percentiles in INFO (no latencystats section).",
    "lfu": "Hush keeps no access frequencies (the LFU policies are refused).",
    "eviction": "Hush evicts before each command until it is under maxmemory, and does "
                "not evict clients for the memory they use.",
    "expiry": "Hush expires keys at their deadlines with one timer, not by sampling "
              "cycles whose rate depends on these settings.",
    "modules": "Hush has no protected-config switch: CONFIG SET of dir "
               "and dbfilename is always refused.",
    "debugging": "Hush has no such testing hooks.",
    "warnings": "Hush makes no such startup checks.",
    "keyspace-events": "Hush checks and keeps notify-keyspace-events but sends no keyspace "
                       "notifications.",
}

_DEFRAG = ("Active defragmentation cannot be enabled: it requires a Redis server compiled "
           "with a modified Jemalloc like the one shipped by default with the Redis source "
           "distribution")
_LONG_MAX = LLONG_MAX
_SSIZE_MAX = LLONG_MAX
_PROTECTED_ACTION = ("no", "yes", "local")


def _bool(name: str, default: bool, note: str, *, mutable: bool = True,
          aliases: tuple[str, ...] = (), hidden: bool = False, kind: Kind | None = None
          ) -> Setting:
    return Setting(name, kind or Bool(), mutable=mutable, aliases=aliases, default=default,
                   note=NOTES[note], hidden=hidden)


def _int(name: str, low: int, high: int, default: int, note: str, *, mutable: bool = True,
         aliases: tuple[str, ...] = (), hidden: bool = False) -> Setting:
    return Setting(name, Int(low, high), mutable=mutable, aliases=aliases, default=default,
                   note=NOTES[note], hidden=hidden)


def _memory(name: str, low: int, high: int, default: int, note: str,
            aliases: tuple[str, ...] = ()) -> Setting:
    return Setting(name, Memory(low, high), aliases=aliases, default=default, note=NOTES[note])


def _string(name: str, default: str, note: str, *, mutable: bool = True,
            aliases: tuple[str, ...] = (), kind: Kind | None = None,
            protected: bool = False) -> Setting:
    return Setting(name, kind or String(), mutable=mutable, aliases=aliases, default=default,
                   note=NOTES[note], protected=protected)


def _enum(name: str, choices: tuple[str, ...], default: str, note: str, *,
          mutable: bool = True, synonyms: dict[str, str] | None = None) -> Setting:
    return Setting(name, Enum(*choices, synonyms=synonyms), mutable=mutable, default=default,
                   note=NOTES[note])


def _tls(name: str, kind: Kind, default: object) -> Setting:
    return Setting(name, kind, default=default, note=NOTES["tls"])


#: In the order of Redis's table: bool, string, enum, integer ... special.
ACCEPTED: tuple[Setting, ...] = (
    _bool("rdbchecksum", True, "rdb", mutable=False),
    _bool("daemonize", False, "daemonize", mutable=False),
    _bool("io-threads-do-reads", False, "threads", mutable=False),
    _bool("always-show-logo", False, "process", mutable=False),
    _bool("rdbcompression", True, "rdb"),
    _bool("rdb-del-sync-files", False, "rdb-ignored"),
    _bool("activerehashing", True, "allocator"),
    _bool("stop-writes-on-bgsave-error", True, "rdb"),
    _bool("set-proc-title", True, "process", mutable=False),
    _bool("dynamic-hz", True, "expiry"),
    _bool("lazyfree-lazy-eviction", False, "lazyfree"),
    _bool("lazyfree-lazy-expire", False, "lazyfree"),
    _bool("lazyfree-lazy-server-del", False, "lazyfree"),
    _bool("lazyfree-lazy-user-del", False, "lazyfree"),
    _bool("lazyfree-lazy-user-flush", False, "lazyfree"),
    _bool("repl-disable-tcp-nodelay", False, "replication-ignored"),
    _bool("aof-rewrite-incremental-fsync", True, "aof"),
    _bool("no-appendfsync-on-rewrite", False, "aof"),
    _bool("rdb-save-incremental-fsync", True, "rdb-ignored"),
    _bool("aof-use-rdb-preamble", True, "rdb"),
    _bool("aof-timestamp-enabled", False, "aof"),
    _bool("cluster-replica-no-failover", False, "cluster",
          aliases=("cluster-slave-no-failover",)),
    _bool("replica-lazy-flush", False, "replication-ignored", aliases=("slave-lazy-flush",)),
    _bool("replica-ignore-maxmemory", True, "replication-ignored", aliases=("slave-ignore-maxmemory",)),
    _bool("jemalloc-bg-thread", True, "allocator"),
    _bool("activedefrag", False, "allocator", kind=Bool(refuse_yes=_DEFRAG)),
    _bool("cluster-allow-pubsubshard-when-down", True, "cluster"),
    _bool("crash-log-enabled", True, "process"),
    _bool("crash-memcheck-enabled", True, "process"),
    _bool("use-exit-on-panic", False, "debugging", hidden=True),
    _bool("disable-thp", True, "allocator", mutable=False),
    _bool("cluster-allow-replica-migration", True, "cluster"),
    _bool("aof-disable-auto-gc", False, "aof"),
    _bool("replica-ignore-disk-write-errors", False, "replication-ignored"),

    _string("cluster-announce-ip", "", "cluster"),
    _string("cluster-announce-hostname", "", "cluster", kind=Hostname()),
    _string("dbfilename", "dump.rdb", "rdb", kind=BaseName("dbfilename"), protected=True),
    _string("appenddirname", "appendonlydir", "aof", mutable=False,
            kind=BaseName("appenddirname", what="dirname", allow_empty=False)),
    _string("server_cpulist", "", "threads", mutable=False),
    _string("bio_cpulist", "", "threads", mutable=False),
    _string("aof_rewrite_cpulist", "", "threads", mutable=False),
    _string("bgsave_cpulist", "", "threads", mutable=False),
    _string("ignore-warnings", "", "warnings"),
    _string("proc-title-template", "{title} {listen-addr} {server-mode}", "process",
            kind=TitleTemplate()),
    _string("bind-source-addr", "", "replication-ignored"),

    _enum("supervised", ("upstart", "systemd", "auto", "no"), "no", "supervised",
          mutable=False),
    _enum("oom-score-adj", ("no", "yes", "relative", "absolute"), "no", "process",
          synonyms={"relative": "yes"}),
    _enum("sanitize-dump-payload", ("no", "yes", "clients"), "no", "debugging"),
    _enum("enable-protected-configs", _PROTECTED_ACTION, "no", "modules", mutable=False),
    _enum("propagation-error-behavior", ("ignore", "panic", "panic-on-replicas"), "ignore",
          "replication-ignored"),
    *(Setting(name, Flags("default", "save", "nosave", "now", "force", exclusive=(
        "save", "nosave", "shutdown options SAVE and NOSAVE can't be used simultaneously")),
        default="default", note=NOTES["shutdown"])
      for name in ("shutdown-on-sigint", "shutdown-on-sigterm")),

    _int("io-threads", 1, 128, 1, "threads", mutable=False),
    _int("cluster-replica-validity-factor", 0, INT_MAX, 10, "cluster",
         aliases=("cluster-slave-validity-factor",)),
    _int("cluster-migration-barrier", 0, INT_MAX, 1, "cluster"),
    _int("active-defrag-cycle-min", 1, 99, 1, "allocator"),
    _int("active-defrag-cycle-max", 1, 99, 25, "allocator"),
    _int("active-defrag-threshold-lower", 0, 1000, 10, "allocator"),
    _int("active-defrag-threshold-upper", 0, 1000, 100, "allocator"),
    _int("lfu-log-factor", 0, INT_MAX, 10, "lfu"),
    _int("lfu-decay-time", 0, INT_MAX, 1, "lfu"),
    _int("maxmemory-eviction-tenacity", 0, 100, 10, "eviction"),
    _int("cluster-port", 0, 65535, 0, "cluster", mutable=False),
    _int("cluster-announce-bus-port", 0, 65535, 0, "cluster"),
    _int("cluster-announce-port", 0, 65535, 0, "cluster"),
    _int("cluster-announce-tls-port", 0, 65535, 0, "cluster"),
    _int("rdb-key-save-delay", INT_MIN, INT_MAX, 0, "debugging", hidden=True),
    _int("key-load-delay", INT_MIN, INT_MAX, 0, "debugging", hidden=True),
    _int("active-expire-effort", 1, 10, 1, "expiry"),
    _int("watchdog-period", 0, INT_MAX, 0, "debugging", hidden=True),
    _int("shutdown-timeout", 0, INT_MAX, 10, "shutdown"),
    _int("socket-mark-id", 0, UINT_MAX, 0, "process", mutable=False),
    _int("active-defrag-max-scan-fields", 1, _LONG_MAX, 1000, "allocator"),
    _int("cluster-node-timeout", 0, LLONG_MAX, 15000, "cluster"),
    _memory("cluster-link-sendbuf-limit", 0, ULLONG_MAX, 0, "cluster"),
    _memory("active-defrag-ignore-bytes", 1, LLONG_MAX, 100 << 20, "allocator"),
    _memory("hll-sparse-max-bytes", 0, _LONG_MAX, 3000, "encodings"),
    Setting("maxmemory-clients", Percent(-100, _SSIZE_MAX), default=0, note=NOTES["eviction"]),
    _int("loading-process-events-interval-bytes", 1024, INT_MAX, 2 * 1024 * 1024,
         "debugging", hidden=True),

    _tls("tls-port", Int(0, 65535), 0),
    _tls("tls-session-cache-size", Int(0, INT_MAX), 20 * 1024),
    _tls("tls-session-cache-timeout", Int(0, INT_MAX), 300),
    _tls("tls-cluster", Bool(), False),
    _tls("tls-replication", Bool(), False),
    _tls("tls-auth-clients", Enum("no", "yes", "optional"), "yes"),
    _tls("tls-prefer-server-ciphers", Bool(), False),
    _tls("tls-session-caching", Bool(), True),
    *(_tls(f"tls-{name}", String(), "") for name in (
        "cert-file", "key-file", "key-file-pass", "client-cert-file", "client-key-file",
        "client-key-file-pass", "dh-params-file", "ca-cert-file", "ca-cert-dir", "protocols",
        "ciphers", "ciphersuites")),

    Setting("oom-score-adj-values", OomValues(), default="0 200 800", note=NOTES["process"]),
    Setting("latency-tracking-info-percentiles", Percentiles(), default="50 99 99.9",
            note=NOTES["latency"]),
)

#: Directives Redis 7.0 still reads and ignores (with one argument), as Hush does.
DEPRECATED = frozenset(("list-max-ziplist-entries", "list-max-ziplist-value",
                        "lua-replicate-commands"))

#: Redis's directives outside its table that Hush cannot honour and will not
#: pretend to: (fewest words on the line, why the server does not start).
#: Ignoring them would leave a renamed command callable or a module's data type
#: missing.
REFUSED: dict[str, tuple[int, str]] = {
    "rename-command": (3, "Hush cannot rename or remove commands (rename-command)"),
    "sentinel": (2, "sentinel directive while not in sentinel mode"),
}
