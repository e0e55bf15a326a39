# -*- test-case-name: tests.unit.config.test_config -*-
"""The settings of one server: their values, CONFIG GET and CONFIG SET, change listeners.

One :class:`Settings` object is shared by the service and every connection.
Its attributes are the settings Hush acts on (:data:`hush.config.table.TABLE`);
the values of Redis's other directives, which Hush keeps and shows without
acting on them, are in :attr:`Settings.accepted`. Modules that must react to
a run-time change register with :meth:`Settings.on_change`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any

from hush.config.directives import ACCEPTED
from hush.config.endpoints import tcp_port
from hush.config.kinds import (
    DEFAULT_OUTPUT_LIMITS,
    ConfigError,
    OutputLimits,
    Setting,
    UnknownSetting,
    _limits,
)
from hush.config.table import ALL, BY_NAME
from hush.core.glob import compile_glob


@dataclass
class Settings:
    """Every setting Hush has. Attribute names are Redis's with ``_`` for ``-``.

    Booleans are Python bools and memory sizes ints in bytes; :meth:`render`
    shows them as Redis does. ``listen`` (the Twisted endpoints) and
    ``config_file`` are not CONFIG settings.
    """

    port: int = 6379
    bind: str = "127.0.0.1"
    databases: int = 16
    maxkeys: int = 1000
    maxkeys_policy: str = "allkeys-lru"
    maxclients: int = 10000
    timeout: int = 0
    proto_max_bulk_len: int = 512 * 1024 * 1024
    client_query_buffer_limit: int = 1024 * 1024 * 1024
    appendonly: bool = False
    save: str = ""
    dir: str = "."
    loglevel: str = "notice"
    maxmemory: int = 0
    maxmemory_policy: str = "noeviction"
    client_output_buffer_limit: str = DEFAULT_OUTPUT_LIMITS
    enable_debug_command: str = "no"            # no | yes | local (Redis 7.0's default: no)
    enable_module_command: str = "no"           # no | yes | local (MODULE LOAD/UNLOAD)
    enable_time_control: bool = False           # Hush's own: HUSH.CLOCK ADVANCE (test servers)
    listen: list[str] = field(default_factory=list)
    requirepass: str = ""                       # "" = no password
    aclfile: str = ""                           # "" = no ACL file
    acllog_max_len: int = 128
    acl_pubsub_default: str = "resetchannels"
    #: The config file's ``user`` lines (loaded into hush.commands.acl_users at start):
    #: (file, line number, line, its words).
    user_lines: list[tuple[str, int, str, list[bytes]]] = field(default_factory=list)
    #: CONFIG REWRITE's ``user`` lines, from the server's ACL (set when it is wired).
    rewrite_users: Callable[[], list[str]] | None = None
    protected_mode: bool = True
    appendfsync: str = "everysec"               # always | everysec | no
    appendfilename: str = "appendonly.aof"
    auto_aof_rewrite_percentage: int = 100
    auto_aof_rewrite_min_size: int = 64 * 1024 * 1024
    aof_load_truncated: bool = True
    slowlog_log_slower_than: int = 10000        # microseconds
    slowlog_max_len: int = 128
    busy_reply_threshold: int = 5000            # ms (alias lua-time-limit)
    maxmemory_samples: int = 5
    logfile: str = ""
    pidfile: str = ""
    syslog_enabled: bool = False
    syslog_ident: str = "redis"
    syslog_facility: str = "local0"
    tcp_keepalive: int = 300                    # seconds (0: no keepalive probes)
    tcp_backlog: int = 511
    hz: int = 10
    notify_keyspace_events: str = ""
    cluster_enabled: bool = False
    cluster_config_file: str = "nodes.conf"
    cluster_require_full_coverage: bool = True
    cluster_allow_reads_when_down: bool = False
    cluster_preferred_endpoint_type: str = "ip"
    # Encoding thresholds (Redis 7.0's defaults; hush.data.types applies them).
    hash_max_listpack_entries: int = 512
    hash_max_listpack_value: int = 64
    list_max_listpack_size: int = -2
    list_compress_depth: int = 0
    set_max_intset_entries: int = 512
    zset_max_listpack_entries: int = 128
    zset_max_listpack_value: int = 64
    stream_node_max_bytes: int = 4096
    stream_node_max_entries: int = 100
    latency_monitor_threshold: int = 0          # milliseconds (0: the monitor is off)
    latency_tracking: bool = True
    tracking_table_max_keys: int = 1_000_000
    # Replication (hush.replication).
    replicaof: str = ""                         # "<host> <port>", "" as a master
    masterauth: str = ""
    masteruser: str = ""
    replica_read_only: bool = True
    replica_serve_stale_data: bool = True
    repl_backlog_size: int = 1024 * 1024
    repl_backlog_ttl: int = 3600
    repl_timeout: int = 60
    repl_ping_replica_period: int = 10
    repl_diskless_sync: bool = True
    repl_diskless_sync_delay: int = 5
    repl_diskless_sync_max_replicas: int = 0
    repl_diskless_load: str = "disabled"
    min_replicas_to_write: int = 0
    min_replicas_max_lag: int = 10
    replica_priority: int = 100
    replica_announce_ip: str = ""
    replica_announce_port: int = 0
    replica_announced: bool = True
    #: The values of the Redis directives Hush keeps without acting on them
    #: (hush.config.directives), by name; absent ones have their table default.
    accepted: dict[str, Any] = field(default_factory=dict)
    #: The directives with a note that the config file set, in file order.
    noted: list[str] = field(default_factory=list)
    unixsocket: str = ""
    unixsocketperm: int = 0
    config_file: str = ""                       # the --config file, for CONFIG REWRITE
    #: ``loadmodule`` lines and ``--loadmodule`` options: (path, arguments), in order.
    loadmodule: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def pubsub_output_limit(self) -> tuple[int, int, int]:
        """(hard bytes, soft bytes, soft seconds) for pub/sub clients."""
        return self.output_limit("pubsub")

    def output_limit(self, kind: str) -> tuple[int, int, int]:
        """(hard bytes, soft bytes, soft seconds) for a client class; 0 = no limit.

        ``kind`` is ``normal``, ``pubsub`` or ``slave`` (``replica``).
        """
        return _output_limits(self.client_output_buffer_limit).get(kind, (0, 0, 0))

    def __post_init__(self) -> None:
        self._listeners: dict[str, list[Callable[[Any], None]]] = {}
        self.follow_listen()

    def follow_listen(self) -> None:
        """Make ``port`` the first TCP endpoint's of ``listen``, if there is one."""
        # CONFIG GET port and INFO should name the port actually listened on.
        for description in self.listen:
            port = tcp_port(description)
            if port is not None:
                self.port = port
                break

    # -- reading -----------------------------------------------------------

    def names(self) -> list[str]:
        """Every CONFIG name, in Redis's spelling (aliases not included)."""
        return [setting.name for setting in ALL]

    def value(self, setting: Setting) -> Any:
        """The current value of ``setting``, whichever table it is in."""
        if setting.attr in _FIELDS:
            return getattr(self, setting.attr)
        return self.accepted.get(setting.name, setting.default)

    def assign(self, setting: Setting, value: Any) -> None:
        """Change ``setting`` without parsing or telling anyone (see :meth:`set_many`)."""
        if setting.attr in _FIELDS:
            setattr(self, setting.attr, value)
        else:
            self.accepted[setting.name] = value

    def render(self, name: str) -> str:
        """The CONFIG GET text of setting ``name`` (or an alias)."""
        setting = BY_NAME[name]
        return setting.kind.render(self.value(setting))

    def get(self, pattern: bytes) -> dict[bytes, bytes]:
        """CONFIG GET: every setting (or alias) whose name matches the glob ``pattern``.

        Hidden settings answer only to their exact name, as in Redis.
        """
        lowered = pattern.lower()
        exact = not any(char in lowered for char in b"*?[")
        match = compile_glob(lowered)
        found = {}
        for name, setting in BY_NAME.items():
            if setting.hidden and not exact:
                continue
            if match(name.encode()):
                found[name.encode()] = setting.kind.render(self.value(setting)).encode()
        return found

    # -- changing ----------------------------------------------------------

    def on_change(self, name: str, callback: Callable[[Any], None]) -> None:
        """Call ``callback(new_value)`` whenever CONFIG SET changes ``name``.

        A callback may raise :class:`ConfigError` to refuse the value; CONFIG
        SET then puts every setting of the call back and reports the error.
        """
        self._listeners.setdefault(BY_NAME[name].attr, []).append(callback)

    def set(self, name: str, value: str) -> None:
        """CONFIG SET of one setting; see :meth:`set_many`."""
        self.set_many([(name, value)])

    def set_many(self, pairs: Iterable[tuple[str, str]]) -> None:
        """CONFIG SET: change several settings, all or none.

        Every value is parsed first; then all are applied and the listeners
        told; if a listener refuses, the old values come back (and their
        listeners are told again) before the error is raised.
        Raises :class:`ConfigError` (its ``name`` is the setting concerned)
        or :class:`UnknownSetting`.
        """
        pairs = list(pairs)
        # Names first, as Redis 7 does: an unknown name is reported even
        # after a bad value. Duplicates are by the name given, so an alias
        # and its setting may both appear (the later wins), as in Redis 7.0.
        seen: set[str] = set()
        for raw_name, _raw_value in pairs:
            name = raw_name.lower()
            setting = BY_NAME.get(name)
            if setting is None:
                raise UnknownSetting(raw_name)
            if not setting.mutable:
                raise ConfigError("can't set immutable config", name)
            if setting.protected:
                raise ConfigError("can't set protected config", name)
            if name in seen:
                raise ConfigError("duplicate parameter", name)
            seen.add(name)
        parsed: dict[str, tuple[Setting, Any]] = {}
        for raw_name, raw_value in pairs:
            name = raw_name.lower()
            setting = BY_NAME[name]
            staged = parsed.get(setting.attr)
            current = staged[1] if staged else self.value(setting)
            try:
                value = setting.kind.parse_set(raw_value, current)
            except ConfigError as error:
                raise ConfigError(error.reason, name) from None
            parsed[setting.attr] = (setting, value)
        old = {attr: self.value(setting) for attr, (setting, _value) in parsed.items()}
        for setting, value in parsed.values():
            self.assign(setting, value)
        notified: list[str] = []
        try:
            for attr, (_setting, value) in parsed.items():
                if value != old[attr]:
                    notified.append(attr)
                    for callback in self._listeners.get(attr, ()):
                        callback(value)
        except ConfigError as error:
            for attr, (setting, _value) in parsed.items():
                self.assign(setting, old[attr])
            for attr in notified:
                for callback in self._listeners.get(attr, ()):
                    callback(old[attr])
            raise ConfigError(error.reason, error.name or parsed[notified[-1]][0].name) from None


@lru_cache(maxsize=8)
def _output_limits(text: str) -> dict[str, tuple[int, int, int]]:
    """client-output-buffer-limit as {class: (hard, soft, seconds)}; units allowed."""
    return _limits(OutputLimits().parse(text))


#: The Settings attributes; the other settings live in Settings.accepted.
_FIELDS = frozenset(f.name for f in fields(Settings))

#: Attribute -> default value.
DEFAULTS: dict[str, Any] = {
    f.name: getattr(Settings(), f.name) for f in fields(Settings)
}
DEFAULTS.update({setting.attr: setting.default for setting in ACCEPTED})
