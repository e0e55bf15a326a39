# -*- test-case-name: tests.unit.config.test_config -*-
"""The settings Hush acts on, and the lookup of every setting by name.

:data:`TABLE` holds, for each setting Hush acts on, its Redis name, aliases,
kind (:mod:`hush.config.kinds`: how a value is parsed, validated, shown by
CONFIG GET and written by CONFIG REWRITE), and whether CONFIG SET may change
it at run time; its default is the :class:`~hush.config.settings.Settings`
attribute's. :data:`ALL` adds Redis's other directives
(:data:`hush.config.directives.ACCEPTED`), which Hush keeps without acting on
them, and :data:`BY_NAME` finds any of them by name or alias.
"""

from __future__ import annotations

from hush.config.directives import ACCEPTED, NOTES
from hush.config.kinds import (
    INT_MAX,
    INT_MIN,
    LLONG_MAX,
    UINT_MAX,
    BaseName,
    Bool,
    Directory,
    Enum,
    Hz,
    Int,
    KeyspaceEvents,
    Memory,
    OutputLimits,
    ReplicaOf,
    Save,
    Setting,
    String,
    Words,
)

#: Redis's eviction policies; LFU is not among them (see docs/compatibility.rst).
POLICIES = ("volatile-lru", "volatile-random", "volatile-ttl", "allkeys-lru",
            "allkeys-random", "noeviction")

TABLE: tuple[Setting, ...] = (
    Setting("port", Int(0, 65535), mutable=False,
            doc="TCP port (0: no TCP listener), used with bind when no --port is given."),
    Setting("bind", Words(), mutable=False,
            doc="Addresses to listen on with port; one tcp endpoint each."),
    Setting("tcp-backlog", Int(0, INT_MAX), mutable=False,
            doc="Listen backlog of every TCP, TLS and UNIX listener without a backlog= of its own."),
    Setting("tcp-keepalive", Int(0, INT_MAX),
            doc="Seconds before TCP keepalive probes to a silent client (0: none)."),
    Setting("unixsocket", String(), mutable=False, doc="Path of a UNIX socket to listen on."),
    Setting("unixsocketperm", Int(0, 0o777, base=8), mutable=False,
            doc="Permissions (octal) of the UNIX socket."),
    Setting("databases", Int(1, INT_MAX), mutable=False, doc="Number of databases."),
    Setting("maxkeys", Int(0, INT_MAX),
            doc="Hush's own: capacity of each database in keys (0: unlimited)."),
    Setting("maxkeys-policy", Enum(*POLICIES),
            doc="Hush's own: what a database at maxkeys evicts for a new key."),
    Setting("maxclients", Int(1, UINT_MAX), doc="Most simultaneous client connections."),
    Setting("timeout", Int(0, INT_MAX), doc="Close a client idle this many seconds (0: never)."),
    Setting("protected-mode", Bool(), doc="Refuse remote clients when no password is set."),
    Setting("requirepass", String(), doc="Password of the default user (empty: none)."),
    Setting("aclfile", String(), mutable=False,
            doc="File of the ACL users (ACL LOAD, ACL SAVE; read at start); empty: none."),
    Setting("acllog-max-len", Int(0, LLONG_MAX), doc="Entries kept in ACL LOG."),
    Setting("acl-pubsub-default", Enum("allchannels", "resetchannels"),
            doc="The channels a new ACL user starts with (and gets back on reset)."),
    Setting("proto-max-bulk-len", Memory(1024 * 1024, LLONG_MAX),
            doc="Largest bulk string a client may send."),
    Setting("client-query-buffer-limit", Memory(1024 * 1024, LLONG_MAX),
            doc="Largest query buffer of one client."),
    Setting("client-output-buffer-limit", OutputLimits(),
            doc="<class> <hard> <soft> <seconds> output limits per client class."),
    Setting("appendonly", Bool(), doc="Log every write to the append-only file."),
    Setting("appendfsync", Enum("everysec", "always", "no"), doc="When the AOF is fsynced."),
    Setting("appendfilename", BaseName("appendfilename", allow_empty=False), mutable=False,
            doc="Name of the append-only file."),
    Setting("dir", Directory(), protected=True,
            doc="Directory of the append-only file and the dump file."),
    Setting("auto-aof-rewrite-percentage", Int(0, INT_MAX),
            doc="Rewrite the AOF when it grew by this percentage (0: never)."),
    Setting("auto-aof-rewrite-min-size", Memory(0, LLONG_MAX),
            doc="Smallest AOF that is rewritten automatically."),
    Setting("aof-load-truncated", Bool(), doc="Load an AOF whose last command is cut off."),
    Setting("save", Save(),
            doc="RDB snapshot points, <seconds> <changes> pairs: a BGSAVE starts when that "
                "many changes are that old; with any set, SHUTDOWN and SIGTERM save too."),
    Setting("loglevel", Enum("debug", "verbose", "notice", "warning"), doc="Log verbosity."),
    Setting("logfile", String(), mutable=False,
            doc="Log file, appended to (empty: standard output with twistd -n, else twistd's log)."),
    Setting("pidfile", String(), mutable=False,
            doc="File Hush writes its process id into at start and removes at exit (empty: none)."),
    Setting("syslog-enabled", Bool(), mutable=False, doc="Send the log to syslog too."),
    Setting("syslog-ident", String(), mutable=False, doc="The syslog identity."),
    Setting("syslog-facility", Enum("user", *(f"local{n}" for n in range(8))), mutable=False,
            doc="The syslog facility."),
    Setting("slowlog-log-slower-than", Int(-1, LLONG_MAX),
            doc="Log commands slower than this many microseconds (-1: never)."),
    Setting("slowlog-max-len", Int(0, LLONG_MAX), doc="Entries kept in the slow log."),
    Setting("hz", Hz(), doc="Timer frequency INFO reports (held within 1..500)."),
    Setting("notify-keyspace-events", KeyspaceEvents(),
            doc="Keyspace notification classes (checked and kept; Hush sends none).",
            note=NOTES["keyspace-events"]),
    Setting("enable-debug-command", Enum("no", "yes", "local"), mutable=False,
            doc="Who may run DEBUG: no one, everyone, or local connections."),
    Setting("enable-module-command", Enum("no", "yes", "local"), mutable=False,
            doc="Who may run MODULE LOAD and UNLOAD: no one, everyone, or local connections."),
    Setting("enable-time-control", Bool(), mutable=False,
            doc="Hush's own, for test servers: allow HUSH.CLOCK ADVANCE to move the server's "
                "clock forward."),
    Setting("busy-reply-threshold", Int(0, LLONG_MAX), aliases=("lua-time-limit",),
            doc="Milliseconds a script runs before others get BUSY."),
    Setting("maxmemory", Memory(), doc="Memory limit of the dataset (0: none)."),
    Setting("maxmemory-policy", Enum(*POLICIES), doc="What to evict at the memory limit."),
    Setting("maxmemory-samples", Int(1, INT_MAX),
            doc="Keys sampled per eviction by the volatile policies (maxmemory, maxkeys)."),
    Setting("cluster-enabled", Bool(), mutable=False,
            doc="Serve as a node of a Redis Cluster."),
    Setting("cluster-config-file", String(), mutable=False,
            doc="The node's nodes.conf, relative to dir."),
    Setting("cluster-require-full-coverage", Bool(),
            doc="The cluster is down while a slot has no node."),
    Setting("cluster-allow-reads-when-down", Bool(),
            doc="Serve reads of the node's own slots while the cluster is down."),
    Setting("cluster-preferred-endpoint-type", Enum("ip", "hostname", "unknown-endpoint"),
            doc="What names a node in redirections and CLUSTER SLOTS."),
    # Replication (hush.replication): this server's replicas and its master.
    Setting("replicaof", ReplicaOf(), mutable=False, aliases=("slaveof",),
            doc="Follow this master (<host> <port>); REPLICAOF changes it at run time, "
                "CONFIG REWRITE writes the current role."),
    Setting("masterauth", String(), doc="The password a replica gives its master."),
    Setting("masteruser", String(), doc="The user a replica authenticates as (with masterauth)."),
    Setting("replica-read-only", Bool(), aliases=("slave-read-only",),
            doc="Refuse clients' writes on a replica (READONLY)."),
    Setting("replica-serve-stale-data", Bool(), aliases=("slave-serve-stale-data",),
            doc="Serve data commands while a replica's link to its master is down "
                "(no: MASTERDOWN)."),
    Setting("repl-backlog-size", Memory(1, LLONG_MAX),
            doc="Bytes of the replication stream kept for replicas that reconnect (PSYNC)."),
    Setting("repl-backlog-ttl", Int(0, LLONG_MAX),
            doc="Seconds a master without replicas keeps its backlog (0: forever)."),
    Setting("repl-timeout", Int(1, INT_MAX),
            doc="Seconds of silence after which a master drops a replica, or a replica its "
                "link or its transfer."),
    Setting("repl-ping-replica-period", Int(1, INT_MAX), aliases=("repl-ping-slave-period",),
            doc="Seconds between the PINGs a master sends its replicas."),
    Setting("repl-diskless-sync", Bool(),
            doc="Stream a full sync's snapshot to the replicas instead of writing dump.rdb."),
    Setting("repl-diskless-sync-delay", Int(0, INT_MAX),
            doc="Seconds a diskless sync waits for more replicas to share its snapshot."),
    Setting("repl-diskless-sync-max-replicas", Int(0, INT_MAX),
            doc="Start a diskless sync at once when this many replicas wait (0: no limit)."),
    Setting("repl-diskless-load", Enum("disabled", "on-empty-db", "swapdb"),
            doc="How a replica takes its master's snapshot: through a file (disabled) or in "
                "memory."),
    Setting("min-replicas-to-write", Int(0, INT_MAX), aliases=("min-slaves-to-write",),
            doc="Refuse writes (NOREPLICAS) with fewer good replicas than this (0: off)."),
    Setting("min-replicas-max-lag", Int(0, INT_MAX), aliases=("min-slaves-max-lag",),
            doc="Seconds since its last ACK within which a replica is good."),
    Setting("replica-priority", Int(0, INT_MAX), aliases=("slave-priority",),
            doc="Sentinel promotes the replica with the lowest (0: never); INFO shows it."),
    Setting("replica-announce-ip", String(), aliases=("slave-announce-ip",),
            doc="The address a replica gives its master (REPLCONF ip-address)."),
    Setting("replica-announce-port", Int(0, 65535), aliases=("slave-announce-port",),
            doc="The port a replica gives its master (0: its own)."),
    Setting("replica-announced", Bool(),
            doc="Whether Sentinel lists this replica (INFO replica_announced)."),
    # The encoding thresholds (hush.data.types): OBJECT ENCODING, and how
    # values are laid out where a client can tell (SSCAN, HSCAN, XINFO).
    Setting("hash-max-listpack-entries", Int(0, LLONG_MAX), aliases=("hash-max-ziplist-entries",),
            doc="Most fields of a listpack hash; one more makes it a hashtable."),
    Setting("hash-max-listpack-value", Memory(0, LLONG_MAX), aliases=("hash-max-ziplist-value",),
            doc="Longest field or value of a listpack hash."),
    Setting("list-max-listpack-size", Int(INT_MIN, INT_MAX), aliases=("list-max-ziplist-size",),
            doc="Size of each quicklist node: entries when positive, -1..-5 for 4kb..64kb."),
    Setting("list-compress-depth", Int(0, INT_MAX),
            doc="Quicklist nodes at each end of a list kept uncompressed (0: none compressed)."),
    Setting("set-max-intset-entries", Int(0, LLONG_MAX),
            doc="Most members of an intset; one more (or a non-integer) makes a hashtable."),
    Setting("zset-max-listpack-entries", Int(0, LLONG_MAX), aliases=("zset-max-ziplist-entries",),
            doc="Most members of a listpack sorted set; one more makes it a skiplist."),
    Setting("zset-max-listpack-value", Memory(0, LLONG_MAX), aliases=("zset-max-ziplist-value",),
            doc="Longest member of a listpack sorted set."),
    Setting("stream-node-max-bytes", Memory(0, LLONG_MAX),
            doc="Most bytes of a stream node (0: no limit)."),
    Setting("stream-node-max-entries", Int(0, LLONG_MAX),
            doc="Most entries of a stream node (0: no limit)."),
    Setting("latency-monitor-threshold", Int(0, LLONG_MAX),
            doc="Record events of at least this many milliseconds for LATENCY (0: off)."),
    Setting("latency-tracking", Bool(),
            doc="Count each command's durations for LATENCY HISTOGRAM."),
    Setting("tracking-table-max-keys", Int(0, LLONG_MAX),
            doc="Most keys client-side caching tracks; past it, random ones are invalidated."),
)

#: Every Redis 7.0 directive (and Hush's own): those Hush acts on, then the rest.
ALL: tuple[Setting, ...] = TABLE + ACCEPTED

#: Name or alias -> setting.
BY_NAME: dict[str, Setting] = {}
for _setting in ALL:
    BY_NAME[_setting.name] = _setting
    for _alias in _setting.aliases:
        BY_NAME[_alias] = _setting
