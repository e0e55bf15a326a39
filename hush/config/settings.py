# -*- test-case-name: tests.unit.config.test_config -*-
"""Server settings, under Redis's names, with Redis's defaults, types and errors.

:data:`TABLE` is the table of the settings Hush acts on: for each its Redis
name, aliases, type (:mod:`hush.config.kinds`: how a value is parsed,
validated, rendered for CONFIG GET and written by CONFIG REWRITE), default
and whether CONFIG SET may change it at run time. Every other directive of
Redis 7.0 is in :data:`hush.config.directives.ACCEPTED`: kept, shown and rewritten
the same way, with a note of what Hush does instead. One :class:`Settings`
object is shared by the service and every connection; modules that must
react to a run-time change register with :meth:`Settings.on_change`.

The same tables read ``redis.conf``-style files (:func:`load_file`) and
rewrite them in place (:func:`rewrite_file`), the way Redis 7 does.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any

from hush.config.directives import ACCEPTED, DEPRECATED, NOTES, REFUSED
from hush.config.kinds import (
    DEFAULT_OUTPUT_LIMITS,
    INT_MAX,
    LLONG_MAX,
    UINT_MAX,
    Bool,
    ConfigError,
    Directory,
    Enum,
    Hz,
    Int,
    KeyspaceEvents,
    Memory,
    OutputLimits,
    Save,
    Setting,
    String,
    UnknownSetting,
    Words,
    _limits,
)
from hush.config.kinds import BaseName as BaseName
from hush.config.kinds import parse_memory as parse_memory
from hush.core.glob import compile_glob
from hush.wire.parser import ProtocolReject, split_inline


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
    listen: list[str] = field(default_factory=list)
    requirepass: str = ""                       # "" = no password
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
    #: The values of the Redis directives Hush keeps without acting on them
    #: (hush.config.directives), by name; absent ones have their table default.
    accepted: dict[str, Any] = field(default_factory=dict)
    #: The directives with a note that the config file set, in file order.
    noted: list[str] = field(default_factory=list)
    unixsocket: str = ""
    unixsocketperm: int = 0
    config_file: str = ""                       # the --config file, for CONFIG REWRITE

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


def tcp_port(description: str) -> int | None:
    """The port of a Twisted ``tcp:``/``tcp6:`` endpoint string, else None."""
    kind, _, rest = description.partition(":")
    if kind.lower() not in ("tcp", "tcp6"):
        return None
    for part in rest.split(":"):
        if part.startswith("port="):
            part = part[len("port="):]
        if part.isdigit():
            return int(part)
    return None


class ConfigFileError(Exception):
    """A configuration file Hush cannot start with; ``str()`` is the report."""

    @classmethod
    def at_line(cls, path: str, number: int, line: str, reason: str) -> ConfigFileError:
        """Redis's report of a bad line, naming the file too."""
        return cls(
            "\n*** FATAL CONFIG FILE ERROR (Hush, Redis 7.0 compatible) ***\n"
            f"Reading the configuration file {path}, at line {number}\n"
            f">>> '{line}'\n{reason}"
        )



# -- the table -------------------------------------------------------------------


#: Redis's eviction policies; LFU is not among them (see README).
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
    Setting("dir", Directory(), protected=True, doc="Directory of the append-only file."),
    Setting("auto-aof-rewrite-percentage", Int(0, INT_MAX),
            doc="Rewrite the AOF when it grew by this percentage (0: never)."),
    Setting("auto-aof-rewrite-min-size", Memory(0, LLONG_MAX),
            doc="Smallest AOF that is rewritten automatically."),
    Setting("aof-load-truncated", Bool(), doc="Load an AOF whose last command is cut off."),
    Setting("save", Save(), doc="RDB snapshot points (accepted; Hush writes no RDB).",
            note=NOTES["rdb"]),
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
    Setting("busy-reply-threshold", Int(0, LLONG_MAX), aliases=("lua-time-limit",),
            doc="Milliseconds a script runs before others get BUSY."),
    Setting("maxmemory", Memory(), doc="Memory limit of the dataset (0: none)."),
    Setting("maxmemory-policy", Enum(*POLICIES), doc="What to evict at the memory limit."),
    Setting("maxmemory-samples", Int(1, INT_MAX),
            doc="Keys sampled per eviction by the volatile policies (maxmemory, maxkeys)."),
)

#: Every Redis 7.0 directive (and Hush's own): those Hush acts on, then the rest.
ALL: tuple[Setting, ...] = TABLE + ACCEPTED

#: Name or alias -> setting.
BY_NAME: dict[str, Setting] = {}
for _setting in ALL:
    BY_NAME[_setting.name] = _setting
    for _alias in _setting.aliases:
        BY_NAME[_alias] = _setting

#: The Settings attributes; the other settings live in Settings.accepted.
_FIELDS = frozenset(f.name for f in fields(Settings))

#: Attribute -> default value.
DEFAULTS: dict[str, Any] = {
    f.name: getattr(Settings(), f.name) for f in fields(Settings)
}
DEFAULTS.update({setting.attr: setting.default for setting in ACCEPTED})


# -- configuration files -----------------------------------------------------------

#: The line CONFIG REWRITE puts before the lines it appends, as Redis does.
REWRITE_SIGNATURE = "# Generated by CONFIG REWRITE"

def split_args(line: str) -> list[str]:
    """Redis's ``sdssplitargs``: words, "double quoted" with escapes, 'single quoted'.

    The same rules as inline requests (:func:`hush.wire.parser.split_inline`).
    Raises ValueError for unbalanced quotes (or a closing quote not followed
    by a space), as Redis refuses such a line.
    """
    try:
        words = split_inline(line.encode("utf-8", "surrogateescape"))
    except ProtocolReject as error:
        raise ValueError(str(error)) from None
    return [word.decode("utf-8", "surrogateescape") for word in words]


def _read_lines(path: str) -> list[str]:
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        return handle.read().split("\n")


def load_file(path: str, settings: Settings, keep: Iterable[str] = (),
              _seen: frozenset[str] = frozenset()) -> None:
    """Apply the ``redis.conf``-style file at ``path`` to ``settings``.

    One directive a line, ``#`` comments, arguments quoted as Redis splits
    them, ``include other.conf``. Settings named in ``keep`` (given on the
    command line) are left alone. Raises :class:`ConfigFileError` naming the
    file and line of the first bad directive.
    """
    keep = set(keep)
    try:
        lines = _read_lines(path)
    except OSError as error:
        raise ConfigFileError(
            f"Fatal error, can't open config file '{path}': {error.strerror}") from None
    real = os.path.realpath(path)
    if real in _seen:
        raise ConfigFileError(f"Fatal error, config file '{path}' includes itself")
    started: set[str] = set()
    for number, raw in enumerate(lines, 1):
        line = raw.strip(" \t\r\n")
        if not line or line.startswith("#"):
            continue
        try:
            args = split_args(line)
        except ValueError:
            raise ConfigFileError.at_line(
                path, number, line, "Unbalanced quotes in configuration line") from None
        if not args:
            continue
        name = args[0].lower()
        if name == "include" and len(args) == 2:
            load_file(args[1], settings, keep, _seen | {real})
            continue
        setting = BY_NAME.get(name)
        if setting is None:
            if name in DEPRECATED and len(args) == 2:
                continue  # Redis 7.0 ignores these too.
            raise ConfigFileError.at_line(path, number, line, _refusal(name, args))
        if setting.attr in keep:
            continue
        values = args[1:]
        if not values or (len(values) != 1 and not setting.kind.multiword):
            raise ConfigFileError.at_line(path, number, line, "wrong number of arguments")
        try:
            _apply_line(settings, setting, values, first=setting.attr not in started)
        except ConfigError as error:
            raise ConfigFileError.at_line(path, number, line, error.reason) from None
        started.add(setting.attr)
        # A directive given as "" is switched off, as in Redis: nothing to note.
        if setting.note and values != [""] and setting.name not in settings.noted:
            settings.noted.append(setting.name)
    if not _seen:
        settings.config_file = os.path.abspath(path)
        _check_logfile(settings)


def _refusal(name: str, args: list[str]) -> str:
    """Why a line that names no setting stops the server, in Redis's words where it has them."""
    if name in REFUSED and len(args) >= REFUSED[name][0]:
        return REFUSED[name][1]
    if "." in name:
        # Redis takes dotted names for module settings, and without the module aborts.
        if len(args) < 2:
            return "Module config specified without value"
        return ("Module Configuration detected without loadmodule directive or no "
                "ApplyConfig call: aborting")
    return "Bad directive or wrong number of arguments"


def _check_logfile(settings: Settings) -> None:
    # Redis opens the log file once while reading the configuration: a file
    # it cannot append to stops the server before anything else happens.
    if not settings.logfile:
        return
    try:
        with open(settings.logfile, "a"):
            pass
    except OSError as error:
        raise ConfigFileError(
            "\n*** FATAL CONFIG FILE ERROR (Hush, Redis 7.0 compatible) ***\n"
            f"Can't open the log file: {error.strerror}") from None


def _apply_line(settings: Settings, setting: Setting, values: list[str], first: bool) -> None:
    kind = setting.kind
    text = " ".join(values)
    current = settings.value(setting)
    if isinstance(kind, Save) and not first:
        # Each further save line adds a snapshot point, as in Redis.
        value = kind.parse(current + " " + text)
    elif isinstance(kind, OutputLimits):
        value = kind.parse_set(text, current)
    else:
        value = kind.parse(text)
    settings.assign(setting, value)


def _escape_endpoint(text: str) -> str:
    return text.replace("\\", "\\\\").replace(":", "\\:")


def listen_endpoints(settings: Settings) -> list[str]:
    """The Twisted endpoints that ``port``/``bind``/``unixsocket`` describe.

    One tcp endpoint per bind address (``*`` is every IPv4 address, ``::*``
    every IPv6 one); Redis's optional addresses (``-::1``) are left out.
    ``port 0`` means no TCP listener.
    """
    endpoints = []
    backlog = f":backlog={settings.tcp_backlog}"
    if settings.port:
        for address in settings.bind.split():
            if address.startswith("-"):
                continue
            if address == "*":
                endpoints.append(f"tcp:{settings.port}{backlog}")
            elif address == "::*":
                endpoints.append(f"tcp6:{settings.port}:interface=\\:\\:{backlog}")
            elif ":" in address:
                endpoints.append(
                    f"tcp6:{settings.port}:interface={_escape_endpoint(address)}{backlog}")
            else:
                endpoints.append(f"tcp:{settings.port}:interface={address}{backlog}")
    if settings.unixsocket:
        endpoint = f"unix:{_escape_endpoint(settings.unixsocket)}"
        if settings.unixsocketperm:
            endpoint += f":mode={settings.unixsocketperm:o}"
        endpoints.append(endpoint)
    return endpoints


#: The endpoint types whose listeners take a backlog.
_BACKLOG_TYPES = ("tcp", "tcp6", "ssl", "unix")


def with_backlog(description: str, backlog: int) -> str:
    """The endpoint ``description`` listening with ``backlog``, unless it names its own.

    Redis's tcp-backlog applies to each of its listeners; Twisted's own
    default (50) makes a burst of connections wait on SYN retries (10,000
    clients took 36 s to connect instead of 2).
    """
    kind = description.partition(":")[0].lower()
    if kind not in _BACKLOG_TYPES or re.search(r"(?<!\\):backlog=", description):
        return description
    return f"{description}:backlog={backlog}"


def rewrite_file(settings: Settings) -> None:
    """CONFIG REWRITE: bring the --config file up to date, as Redis does.

    Comments, blank lines, ``include`` and lines Hush does not know stay
    where they are; a setting's first line is replaced with its current
    value (even when that is the default), its further lines are dropped,
    and settings that differ from the default but have no line are appended
    after a ``# Generated by CONFIG REWRITE`` line. The file is replaced
    atomically. Raises OSError.
    """
    path = settings.config_file
    try:
        lines = _read_lines(path)
    except FileNotFoundError:
        lines = []
    if lines and lines[-1] == "":
        lines.pop()
    has_tail = False
    positions: dict[str, list[int]] = {}
    for index, raw in enumerate(lines):
        line = raw.strip(" \t\r\n")
        if line == REWRITE_SIGNATURE:
            has_tail = True
            continue
        if not line or line.startswith("#"):
            continue
        try:
            args = split_args(line)
        except ValueError:
            continue
        setting = BY_NAME.get(args[0].lower()) if args else None
        if setting is not None:
            positions.setdefault(setting.name, []).append(index)
    out: list[str | None] = list(lines)
    for setting in ALL:
        value = settings.value(setting)
        default = DEFAULTS[setting.attr]
        slots = positions.pop(setting.name, [])
        for text, force in setting.kind.rewrite(setting.name, value, default):
            if slots:
                out[slots.pop(0)] = text
            elif force:
                if not has_tail:
                    out.extend(["", REWRITE_SIGNATURE])
                    has_tail = True
                out.append(text)
        for orphan in slots:
            out[orphan] = None
    content = "".join(f"{line}\n" for line in out if line is not None)
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(temporary, "w", encoding="utf-8", errors="surrogateescape") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
