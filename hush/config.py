# -*- test-case-name: tests.test_config -*-
"""Server settings, under Redis's names, with Redis's defaults, types and errors.

:data:`TABLE` is the one table of settings: for each its Redis name, aliases,
type (how a value is parsed, validated, rendered for CONFIG GET and written
by CONFIG REWRITE), default and whether CONFIG SET may change it at run time.
One :class:`Settings` object is shared by the service and every connection;
modules that must react to a run-time change register with
:meth:`Settings.on_change`.

The same table reads ``redis.conf``-style files (:func:`load_file`) and
rewrites them in place (:func:`rewrite_file`), the way Redis 7 does.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any

from hush.glob import compile_glob
from hush.parser import ProtocolReject, split_inline

INT_MAX = 2**31 - 1
UINT_MAX = 2**32 - 1
LLONG_MAX = 2**63 - 1
ULLONG_MAX = 2**64 - 1

DEFAULT_OUTPUT_LIMITS = "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"


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
        return [setting.name for setting in TABLE]

    def render(self, name: str) -> str:
        """The CONFIG GET text of setting ``name`` (or an alias)."""
        setting = BY_NAME[name]
        return setting.kind.render(getattr(self, setting.attr))

    def get(self, pattern: bytes) -> dict[bytes, bytes]:
        """CONFIG GET: every setting (or alias) whose name matches the glob ``pattern``."""
        match = compile_glob(pattern.lower())
        found = {}
        for name, setting in BY_NAME.items():
            if match(name.encode()):
                found[name.encode()] = setting.kind.render(getattr(self, setting.attr)).encode()
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
        staged: dict[str, Any] = {}
        for raw_name, raw_value in pairs:
            name = raw_name.lower()
            setting = BY_NAME[name]
            current = staged.get(setting.attr, getattr(self, setting.attr))
            try:
                value = setting.kind.parse_set(raw_value, current)
            except ConfigError as error:
                raise ConfigError(error.reason, name) from None
            parsed[setting.attr] = (setting, value)
            staged[setting.attr] = value
        old = {attr: getattr(self, attr) for attr in parsed}
        for attr, (_setting, value) in parsed.items():
            setattr(self, attr, value)
        notified: list[str] = []
        try:
            for attr in parsed:
                if getattr(self, attr) != old[attr]:
                    notified.append(attr)
                    for callback in self._listeners.get(attr, ()):
                        callback(getattr(self, attr))
        except ConfigError as error:
            for attr in parsed:
                setattr(self, attr, old[attr])
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


# -- errors ------------------------------------------------------------------


class ConfigError(ValueError):
    """A value Redis would refuse; ``reason`` is Redis's text for why."""

    def __init__(self, reason: str, name: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.name = name

    def command_error(self) -> str:
        """The CONFIG SET error line."""
        return (f"ERR CONFIG SET failed (possibly related to argument '{self.name}') - "
                f"{self.reason}")


class UnknownSetting(ConfigError):
    """CONFIG SET of a name that is no setting."""

    def command_error(self) -> str:
        return f"ERR Unknown option or number of arguments for CONFIG SET - '{self.name}'"

    def __init__(self, name: str) -> None:
        super().__init__("Bad directive or wrong number of arguments", name)


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


# -- value types ---------------------------------------------------------------

_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)\Z")
_MEMORY_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2,
                 "g": 1000**3, "gb": 1024**3}


def parse_memory(text: str) -> int:
    """Redis's ``memtoull``: digits, then an optional unit (k=1000, kb=1024, ...)."""
    digits_end = 0
    while digits_end < len(text) and text[digits_end].isascii() and text[digits_end].isdigit():
        digits_end += 1
    unit = text[digits_end:].lower()
    if unit not in _MEMORY_UNITS or text.startswith("-"):
        raise ConfigError("argument must be a memory value")
    digits = text[:digits_end]
    # Redis's strtoull takes no digits as 0 ("mb" is 0), and overflow as an error.
    number = int(digits) if digits else 0
    if number > ULLONG_MAX:
        raise ConfigError("argument must be a memory value")
    return number * _MEMORY_UNITS[unit]


def format_memory(value: int) -> str:
    """How CONFIG REWRITE writes a byte count: the largest exact unit."""
    for unit, size in (("gb", 1024**3), ("mb", 1024**2), ("kb", 1024)):
        if value and value % size == 0:
            return f"{value // size}{unit}"
    return str(value)


def quote(text: str) -> str:
    """Redis's ``sdscatrepr``: a double-quoted string with escapes."""
    out = ['"']
    for char in text:
        if char in '\\"':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif char == "\a":
            out.append("\\a")
        elif char == "\b":
            out.append("\\b")
        elif char.isprintable() and ord(char) < 128:
            out.append(char)
        else:
            out.extend(f"\\x{byte:02x}" for byte in char.encode("utf-8", "surrogateescape"))
    out.append('"')
    return "".join(out)


class Kind:
    """How one type of setting is parsed, rendered and rewritten."""

    #: True for settings that take several words (bind, save, ...).
    multiword = False

    def parse(self, text: str) -> Any:
        """The value of ``text``; raises :class:`ConfigError` with Redis's reason."""
        raise NotImplementedError

    def parse_set(self, text: str, current: Any) -> Any:
        """CONFIG SET's value; most types ignore the current value."""
        return self.parse(text)

    def render(self, value: Any) -> str:
        """CONFIG GET's text."""
        return str(value)

    def rewrite(self, name: str, value: Any, default: Any) -> list[tuple[str, bool]]:
        """The lines CONFIG REWRITE writes, each with whether it must be written
        even when the file has no line for the setting (it is not the default)."""
        return [(f"{name} {self.text(value)}", value != default)]

    def text(self, value: Any) -> str:
        """The value as a config file line writes it."""
        return self.render(value)


class Bool(Kind):
    """yes / no, in any letter case."""

    def parse(self, text: str) -> bool:
        lowered = text.lower()
        if lowered == "yes":
            return True
        if lowered == "no":
            return False
        raise ConfigError("argument must be 'yes' or 'no'")

    def render(self, value: bool) -> str:
        return "yes" if value else "no"


class Int(Kind):
    """A whole number within Redis's bounds for the setting."""

    def __init__(self, low: int, high: int, base: int = 10) -> None:
        self.low, self.high, self.base = low, high, base

    def parse(self, text: str) -> int:
        if self.base == 8:
            if not re.fullmatch(r"[0-7]+", text):
                raise ConfigError("argument couldn't be parsed into an integer")
            number = int(text, 8)
        else:
            if not _INTEGER.match(text):
                raise ConfigError("argument couldn't be parsed into an integer")
            number = int(text)
        return self.check(number)

    def check(self, number: int) -> int:
        if not self.low <= number <= self.high:
            raise ConfigError(
                f"argument must be between {self.low} and {self.high} inclusive")
        return number

    def render(self, value: int) -> str:
        return format(value, "o") if self.base == 8 else str(value)


class Memory(Int):
    """A byte count with Redis's units (1k 1kb 1m 1mb 1g 1gb, any case)."""

    def __init__(self, low: int = 0, high: int = ULLONG_MAX) -> None:
        super().__init__(low, high)

    def parse(self, text: str) -> int:
        return self.check(parse_memory(text))

    def text(self, value: int) -> str:
        return format_memory(value)


class Enum(Kind):
    """One of a fixed set of words, in any letter case."""

    def __init__(self, *choices: str) -> None:
        self.choices = choices

    def parse(self, text: str) -> str:
        lowered = text.lower()
        if lowered not in self.choices:
            raise ConfigError(
                "argument(s) must be one of the following: " + ", ".join(self.choices))
        return lowered


class String(Kind):
    """Any text; written quoted by CONFIG REWRITE."""

    def parse(self, text: str) -> str:
        return text

    def text(self, value: str) -> str:
        return quote(value)


class Directory(String):
    """``dir``: shown and written as an absolute path, as Redis's getcwd() gives it."""

    def render(self, value: str) -> str:
        return os.path.abspath(value)

    def text(self, value: str) -> str:
        return quote(os.path.abspath(value))


class Words(Kind):
    """Several words kept as one space-separated string (bind)."""

    multiword = True

    def parse(self, text: str) -> str:
        return " ".join(text.split())


class Save(Kind):
    """``save``: pairs of <seconds> <changes>, or "" for none."""

    multiword = True

    def parse(self, text: str) -> str:
        words = text.split()
        if len(words) % 2 or not all(_INTEGER.match(word) and int(word) >= 0 for word in words):
            raise ConfigError("Invalid save parameters")
        return " ".join(str(int(word)) for word in words)

    def rewrite(self, name: str, value: str, default: Any) -> list[tuple[str, bool]]:
        words = value.split()
        force = value != default
        if not words:
            return [(f'{name} ""', force)]
        return [(f"{name} {words[i]} {words[i + 1]}", force) for i in range(0, len(words), 2)]


_OUTPUT_CLASSES = ("normal", "slave", "pubsub")


class OutputLimits(Kind):
    """client-output-buffer-limit: <class> <hard> <soft> <seconds>, repeated.

    A value names only the classes it changes; the others keep theirs.
    """

    multiword = True

    def parse_set(self, text: str, current: str) -> str:
        words = text.split()
        if not words or len(words) % 4:
            raise ConfigError("Wrong number of arguments in buffer limit configuration.")
        limits = _limits(current)
        for index in range(0, len(words), 4):
            kind = words[index].lower()
            if kind == "replica":
                kind = "slave"
            if kind not in _OUTPUT_CLASSES:
                raise ConfigError("Invalid client class specified in buffer limit configuration.")
            try:
                hard = parse_memory(words[index + 1])
                soft = parse_memory(words[index + 2])
                seconds = words[index + 3]
                if not _INTEGER.match(seconds) or int(seconds) < 0:
                    raise ConfigError("bad seconds")
            except ConfigError:
                raise ConfigError("Error in hard, soft or soft_seconds setting in buffer "
                                  "limit configuration.") from None
            limits[kind] = (hard, soft, int(seconds))
        return " ".join(f"{kind} {h} {s} {sec}" for kind, (h, s, sec) in limits.items())

    def parse(self, text: str) -> str:
        return self.parse_set(text, DEFAULT_OUTPUT_LIMITS)

    def rewrite(self, name: str, value: str, default: str) -> list[tuple[str, bool]]:
        ours, base = _limits(value), _limits(default)
        return [(f"{name} {kind} {format_memory(h)} {format_memory(s)} {sec}",
                 base.get(kind) != (h, s, sec)) for kind, (h, s, sec) in ours.items()]


def _limits(text: str) -> dict[str, tuple[int, int, int]]:
    words = text.split()
    return {words[i]: (int(words[i + 1]), int(words[i + 2]), int(words[i + 3]))
            for i in range(0, len(words) - 3, 4)}


# -- the table -------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One setting: its Redis name, type, aliases and run-time mutability."""

    name: str
    kind: Kind
    mutable: bool = True
    aliases: tuple[str, ...] = ()
    #: Redis refuses CONFIG SET of these unless enable-protected-configs is on.
    protected: bool = False
    doc: str = ""

    @property
    def attr(self) -> str:
        """The :class:`Settings` attribute."""
        return self.name.replace("-", "_")


#: Redis's eviction policies; LFU is not among them (see README).
POLICIES = ("volatile-lru", "volatile-random", "volatile-ttl", "allkeys-lru",
            "allkeys-random", "noeviction")

TABLE: tuple[Setting, ...] = (
    Setting("port", Int(0, 65535), mutable=False,
            doc="TCP port (0: no TCP listener), used with bind when no --port is given."),
    Setting("bind", Words(), mutable=False,
            doc="Addresses to listen on with port; one tcp endpoint each."),
    Setting("unixsocket", String(), mutable=False, doc="Path of a UNIX socket to listen on."),
    Setting("unixsocketperm", Int(0, 0o777, base=8), mutable=False,
            doc="Permissions (octal) of the UNIX socket."),
    Setting("databases", Int(1, INT_MAX), mutable=False, doc="Number of databases."),
    Setting("maxkeys", Int(0, INT_MAX),
            doc="Hush's own: LRU capacity of each database in keys (0: unlimited)."),
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
    Setting("appendfilename", String(), mutable=False, doc="Name of the append-only file."),
    Setting("dir", Directory(), protected=True, doc="Directory of the append-only file."),
    Setting("auto-aof-rewrite-percentage", Int(0, INT_MAX),
            doc="Rewrite the AOF when it grew by this percentage (0: never)."),
    Setting("auto-aof-rewrite-min-size", Memory(0, LLONG_MAX),
            doc="Smallest AOF that is rewritten automatically."),
    Setting("aof-load-truncated", Bool(), doc="Load an AOF whose last command is cut off."),
    Setting("save", Save(), doc="RDB snapshot points (accepted; Hush writes no RDB)."),
    Setting("loglevel", Enum("debug", "verbose", "notice", "warning"), doc="Log verbosity."),
    Setting("logfile", String(), mutable=False, doc="Log file (empty: twistd's log)."),
    Setting("slowlog-log-slower-than", Int(-1, LLONG_MAX),
            doc="Log commands slower than this many microseconds (-1: never)."),
    Setting("slowlog-max-len", Int(0, LLONG_MAX), doc="Entries kept in the slow log."),
    Setting("enable-debug-command", Enum("no", "yes", "local"), mutable=False,
            doc="Who may run DEBUG: no one, everyone, or local connections."),
    Setting("busy-reply-threshold", Int(0, LLONG_MAX), aliases=("lua-time-limit",),
            doc="Milliseconds a script runs before others get BUSY."),
    Setting("maxmemory", Memory(), doc="Memory limit of the dataset (0: none)."),
    Setting("maxmemory-policy", Enum(*POLICIES), doc="What to evict at the memory limit."),
    Setting("maxmemory-samples", Int(1, INT_MAX),
            doc="Keys sampled per eviction by the volatile-lru/-ttl policies."),
)

#: Name or alias -> setting.
BY_NAME: dict[str, Setting] = {}
for _setting in TABLE:
    BY_NAME[_setting.name] = _setting
    for _alias in _setting.aliases:
        BY_NAME[_alias] = _setting

#: Attribute -> default value.
DEFAULTS: dict[str, Any] = {
    f.name: getattr(Settings(), f.name) for f in fields(Settings)
}


# -- configuration files -----------------------------------------------------------

#: The line CONFIG REWRITE puts before the lines it appends, as Redis does.
REWRITE_SIGNATURE = "# Generated by CONFIG REWRITE"

def split_args(line: str) -> list[str]:
    """Redis's ``sdssplitargs``: words, "double quoted" with escapes, 'single quoted'.

    The same rules as inline requests (:func:`hush.parser.split_inline`).
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
            raise ConfigFileError.at_line(
                path, number, line, "Bad directive or wrong number of arguments")
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
    if not _seen:
        settings.config_file = os.path.abspath(path)


def _apply_line(settings: Settings, setting: Setting, values: list[str], first: bool) -> None:
    kind = setting.kind
    text = " ".join(values)
    current = getattr(settings, setting.attr)
    if isinstance(kind, Save) and not first:
        # Each further save line adds a snapshot point, as in Redis.
        value = kind.parse(current + " " + text)
    elif isinstance(kind, OutputLimits):
        value = kind.parse_set(text, current)
    else:
        value = kind.parse(text)
    setattr(settings, setting.attr, value)


def _escape_endpoint(text: str) -> str:
    return text.replace("\\", "\\\\").replace(":", "\\:")


#: Redis's tcp-backlog default, used for every TCP listener Hush makes.
TCP_BACKLOG = 511


def listen_endpoints(settings: Settings) -> list[str]:
    """The Twisted endpoints that ``port``/``bind``/``unixsocket`` describe.

    One tcp endpoint per bind address (``*`` is every IPv4 address, ``::*``
    every IPv6 one); Redis's optional addresses (``-::1``) are left out.
    ``port 0`` means no TCP listener.
    """
    endpoints = []
    # Redis's tcp-backlog default; Twisted's own (50) makes a burst of
    # connections wait on SYN retries (10,000 clients took 36 s instead of 2).
    backlog = f":backlog={TCP_BACKLOG}"
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
    for setting in TABLE:
        value = getattr(settings, setting.attr)
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
