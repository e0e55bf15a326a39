# -*- test-case-name: tests.unit.config.test_config -*-
"""The value types of settings, and the row type of the settings tables.

A :class:`Kind` is how Redis 7.0 parses one type of setting (with its error
texts), shows it in CONFIG GET and writes it back with CONFIG REWRITE. A
:class:`Setting` is one row of a table: :data:`hush.config.table.TABLE` (what Hush
acts on) and :data:`hush.config.directives.ACCEPTED` (the rest of Redis 7.0's
directives, kept and shown but not acted on).
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass
from typing import Any

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
UINT_MAX = 2**32 - 1
LLONG_MAX = 2**63 - 1
ULLONG_MAX = 2**64 - 1

DEFAULT_OUTPUT_LIMITS = "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"


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
    """yes / no, in any letter case.

    ``refuse_yes`` is the reason for refusing ``yes`` where the server lacks
    the feature (Redis's activedefrag without its jemalloc).
    """

    def __init__(self, refuse_yes: str = "") -> None:
        self.refuse_yes = refuse_yes

    def parse(self, text: str) -> bool:
        lowered = text.lower()
        if lowered == "yes":
            if self.refuse_yes:
                raise ConfigError(self.refuse_yes)
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
                raise ConfigError("argument couldn't be parsed as an octal number")
            number = int(text, 8)
        else:
            if not _INTEGER.match(text):
                raise ConfigError("argument couldn't be parsed into an integer")
            number = int(text)
        return self.check(number)

    def check(self, number: int) -> int:
        if not self.low <= number <= self.high:
            low, high = (format(self.low, "o"), format(self.high, "o")) if self.base == 8 else (
                self.low, self.high)
            raise ConfigError(f"argument must be between {low} and {high} inclusive")
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
    """One of a fixed set of words, in any letter case.

    ``synonyms`` maps a word to the one CONFIG GET shows for it (Redis shows
    the first name of a value: oom-score-adj ``relative`` reads back ``yes``).
    """

    def __init__(self, *choices: str, synonyms: dict[str, str] | None = None) -> None:
        self.choices = choices
        self.synonyms = synonyms or {}

    def parse(self, text: str) -> str:
        lowered = text.lower()
        if lowered not in self.choices:
            raise ConfigError(
                "argument(s) must be one of the following: " + ", ".join(self.choices))
        return self.synonyms.get(lowered, lowered)


class String(Kind):
    """Any text; written quoted by CONFIG REWRITE."""

    def parse(self, text: str) -> str:
        return text

    def text(self, value: str) -> str:
        return quote(value)


class Directory(String):
    """``dir``: shown and written as an absolute path, as Redis's getcwd() gives it.

    It must be a directory Hush can enter: Redis chdirs into it while reading
    the configuration and refuses to start with the system's reason; Hush
    refuses the same ones (and never creates it).
    """

    def parse(self, text: str) -> str:
        try:
            if not stat.S_ISDIR(os.stat(text).st_mode):
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
        except OSError as error:
            raise ConfigError(os.strerror(error.errno or errno.EINVAL)) from None
        if not os.access(text, os.X_OK):
            raise ConfigError(os.strerror(errno.EACCES))
        return text

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



class Hz(Int):
    """``hz``: any number from 0 up is taken, then held within 1..500, as Redis does."""

    def __init__(self) -> None:
        super().__init__(0, INT_MAX)

    def parse(self, text: str) -> int:
        return min(max(super().parse(text), 1), 500)


class Percent(Memory):
    """A byte count, or a percentage written ``N%`` and kept negative (maxmemory-clients)."""

    def parse(self, text: str) -> int:
        try:
            number = parse_memory(text)
        except ConfigError:
            digits = text[:-1]
            # string2ll refuses "-0" too.
            if len(text) < 2 or not text.endswith("%") or not _INTEGER.match(digits) \
                    or digits.startswith("-"):
                raise ConfigError("argument must be a memory or percent value") from None
            number = -int(digits)
        if number > LLONG_MAX:
            # Redis keeps memtoull's result in a long long: 2**63 and more wrap
            # to negative, which reads as a percentage (2**64-1 is "1%").
            number -= 2**64
        if number < 0:
            if number < self.low:
                raise ConfigError(f"percentage argument must be less or equal to {-self.low}")
            return number
        return self.check(number)

    def render(self, value: int) -> str:
        return f"{-value}%" if value < 0 else str(value)

    def text(self, value: int) -> str:
        return f"{-value}%" if value < 0 else format_memory(value)


class Flags(Kind):
    """Several words of a fixed set, combined (shutdown-on-sigint: ``save now``).

    Shown as Redis shows them: ``default`` alone, else the words in the
    table's order.
    """

    multiword = True

    def __init__(self, *choices: str, exclusive: tuple[str, str, str] | None = None) -> None:
        self.choices = choices
        #: Two words that may not be combined, and Redis's reason.
        self.exclusive = exclusive

    def parse(self, text: str) -> str:
        words = {word.lower() for word in text.split()}
        if not words or not words <= set(self.choices):
            raise ConfigError(
                "argument(s) must be one of the following: " + ", ".join(self.choices))
        if self.exclusive and {self.exclusive[0], self.exclusive[1]} <= words:
            raise ConfigError(self.exclusive[2])
        chosen = [word for word in self.choices[1:] if word in words]
        return " ".join(chosen) or self.choices[0]


_DOUBLE = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\Z|[+-]?inf(inity)?\Z",
                     re.IGNORECASE)


def _trimmed_double(value: float) -> str:
    # Redis prints "%f" and trims the zeros after the point (trimDoubleString).
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


class Percentiles(Kind):
    """latency-tracking-info-percentiles: numbers from 0 to 100, or "" for none."""

    multiword = True

    def parse(self, text: str) -> str:
        values = []
        for word in text.split():
            if not _DOUBLE.match(word):
                raise ConfigError("Invalid latency-tracking-info-percentiles parameters")
            value = float(word)
            if not 0.0 <= value <= 100.0:
                raise ConfigError(
                    "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
            values.append(_trimmed_double(value))
        return " ".join(values)

    def text(self, value: str) -> str:
        return value or '""'


class OomValues(Kind):
    """oom-score-adj-values: three numbers from -2000 to 2000."""

    multiword = True

    def parse(self, text: str) -> str:
        words = text.split()
        if len(words) != 3:
            raise ConfigError("wrong number of arguments")
        if not all(re.fullmatch(r"[+-]?[0-9]+", word) and -2000 <= int(word) <= 2000
                   for word in words):
            raise ConfigError(
                "Invalid oom-score-adj-values, elements must be between -2000 and 2000.")
        return " ".join(str(int(word)) for word in words)


class ReplicaOf(Kind):
    """replicaof: ``<host> <port>``, or ``no one`` (shown as "")."""

    multiword = True

    def parse(self, text: str) -> str:
        words = text.split()
        if len(words) != 2:
            raise ConfigError("wrong number of arguments")
        host, port = words
        if host.lower() == "no" and port.lower() == "one":
            return ""
        if not re.fullmatch(r"[+-]?[0-9]+", port) or not 0 <= int(port) <= 65535:
            raise ConfigError("Invalid master port")
        return f"{host} {int(port)}"

    def rewrite(self, name: str, value: str, default: Any) -> list[tuple[str, bool]]:
        # No master: no line at all, as Redis rewrites it.
        return [(f"{name} {value}", True)] if value else []


#: notify-keyspace-events classes, in the order Redis shows them; A stands for
#: every class from g to n (not the K/E channels and not m).
_EVENT_CLASSES = "g$lshzxetdn"
_EVENT_CHANNELS = "KEm"


class KeyspaceEvents(Kind):
    """notify-keyspace-events: class characters, shown in Redis's canonical order."""

    def parse(self, text: str) -> str:
        chosen = set()
        for char in text:
            if char == "A":
                chosen.update(_EVENT_CLASSES)
            elif char in _EVENT_CLASSES or char in _EVENT_CHANNELS:
                chosen.add(char)
            else:
                raise ConfigError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
        if chosen.issuperset(_EVENT_CLASSES):
            shown = "A"
        else:
            shown = "".join(char for char in _EVENT_CLASSES if char in chosen)
        return shown + "".join(char for char in _EVENT_CHANNELS if char in chosen)

    def text(self, value: str) -> str:
        return quote(value)


class BaseName(String):
    """A file or directory name without a path (dbfilename, appendfilename, appenddirname)."""

    def __init__(self, name: str, what: str = "filename", allow_empty: bool = True) -> None:
        self.name, self.what, self.allow_empty = name, what, allow_empty

    def parse(self, text: str) -> str:
        if not text and not self.allow_empty:
            raise ConfigError(f"{self.name} can't be empty")
        if "/" in text or "\\" in text:
            raise ConfigError(f"{self.name} can't be a path, just a {self.what}")
        return text


class Hostname(String):
    """cluster-announce-hostname: letters, digits, hyphens and dots."""

    def parse(self, text: str) -> str:
        if len(text) >= 256:
            raise ConfigError("Hostnames must be less than 256 characters")
        if not re.fullmatch(r"[A-Za-z0-9.-]*", text):
            raise ConfigError(
                "Hostnames may only contain alphanumeric characters, hyphens or dots")
        return text


#: proc-title-template variables, as they expand when the template is checked.
_TITLE_VARIABLES = {"title": "", "listen-addr": "*:6379", "server-mode": "",
                    "config-file": "-", "port": "6379", "tls-port": "0", "unixsocket": ""}


class TitleTemplate(String):
    """proc-title-template: known ``{variables}`` (``{{`` for a brace), not empty."""

    def parse(self, text: str) -> str:
        out, rest = [], text
        while rest:
            start = rest.find("{")
            if start < 0:
                out.append(rest)
                break
            out.append(rest[:start])
            rest = rest[start + 1:]
            if rest.startswith("{"):
                out.append("{")
                rest = rest[1:]
                continue
            end = rest.find("}")
            if not rest or end < 0 or rest[:end] not in _TITLE_VARIABLES:
                raise ConfigError("template format is invalid or contains unknown variables")
            out.append(_TITLE_VARIABLES[rest[:end]])
            rest = rest[end + 1:]
        # An empty title (the template alone gives nothing) is refused, as in Redis.
        if not "".join(out).strip(" "):
            raise ConfigError("template format is invalid or contains unknown variables")
        return text


# -- table rows ----------------------------------------------------------------------


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
    #: The default of a setting that has no :class:`~hush.config.settings.Settings`
    #: attribute (the directives Hush only keeps); the others take theirs.
    default: Any = None
    #: What Hush does instead, logged at startup when a config file sets it.
    note: str = ""
    #: Left out of CONFIG GET patterns (only its exact name finds it), as in Redis.
    hidden: bool = False

    @property
    def attr(self) -> str:
        """The :class:`Settings` attribute."""
        return self.name.replace("-", "_")
