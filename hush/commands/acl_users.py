# -*- test-case-name: tests.commands.test_acl,tests.differential.test_acl -*-
"""ACL users as Redis 7.0 keeps them: rules, permission checks, descriptions, the ACL log.

A :class:`User` has flags (``on``/``off``, ``nopass``, the payload
sanitizing pair), password hashes (SHA-256, hex) and selectors: the root
selector -- the rules given outside parentheses -- then any ``(...)``
selectors. A :class:`Selector` allows commands (a bitmap over the command
table, as Redis's: a Python int indexed by :attr:`Command.number`, all ones
-- ``-1`` -- after ``+@all``, so commands registered later are allowed too),
first arguments of otherwise denied commands (``+select|0``), key patterns
with read and write permissions (``~``, ``%R~``, ``%W~``) and channel
patterns (``&``). A command is allowed when one selector allows it, its keys
and its channels.

:class:`AccessControl` is one server's set of users (``StoreService.acl``):
the default user, ACL SETUSER's all-or-nothing changes, authentication, the
ACL log, the ACL file and ``user`` lines of the config file. Every text is
Redis's, and rules are described back (ACL LIST, GETUSER, SAVE, CONFIG
REWRITE) the way Redis describes them.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import os
from collections.abc import Callable, Iterable
from typing import Any

from twisted.logger import Logger

from hush.commands import introspect
from hush.commands.table import Command, all_commands, lookup, spec_key_positions
from hush.core.errors import CommandError, c_string, c_text, text
from hush.core.glob import compile_glob
from hush.core.interfaces import Server
from hush.ops.clientinfo import client_line
from hush.wire.parser import ProtocolReject, split_inline

log = Logger()

DEFAULT_NAME = b"default"

NOAUTH = "NOAUTH Authentication required."
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
NO_PASSWORD_CONFIGURED = (
    "ERR AUTH <password> called without any password configured for the default user. "
    "Are you sure your configuration is correct?"
)
HELLO_NOAUTH = (
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
    "HELLO AUTH <user> <pass> option can be used to authenticate the client and select "
    "the RESP protocol version at the same time"
)

#: Why a command was refused (Redis's ACL_DENIED_*; the order picks which to report).
DENIED_CMD, DENIED_KEY, DENIED_AUTH, DENIED_CHANNEL = 1, 2, 3, 4
REASON_NAMES = {DENIED_CMD: "command", DENIED_KEY: "key", DENIED_AUTH: "auth",
                DENIED_CHANNEL: "channel"}
#: Where it was refused (ACL LOG's ``context``).
TOPLEVEL, LUA, MULTI = "toplevel", "lua", "multi"

#: Key permissions of a pattern; a command needs those of each key it names.
READ, WRITE = 1, 2
ALL_PERMISSIONS = READ | WRITE

#: The user flags in the order ACL LIST and GETUSER show them.
USER_FLAGS = ("on", "off", "nopass", "skip-sanitize-payload", "sanitize-payload")

#: ACL SETUSER's reasons for refusing a rule (Redis's ACLSetUserStringError).
UNKNOWN_COMMAND = "Unknown command or category name in ACL"
SYNTAX = "Syntax error"
KEYS_AFTER_ALL = ("Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid "
                  "and does not have any effect. Try 'resetkeys' to start with an empty list "
                  "of patterns")
CHANNELS_AFTER_ALL = ("Adding a pattern after the * pattern (or the 'allchannels' flag) is not "
                      "valid and does not have any effect. Try 'resetchannels' to start with an "
                      "empty list of channels")
NO_SUCH_PASSWORD = "The password you are trying to remove from the user does not exist"
BAD_HASH = ("The password hash must be exactly 64 characters and contain only lowercase "
            "hexadecimal characters")
DUPLICATE_USER = "Duplicate user found. A user can only be defined once in config files"
SUBCOMMAND_FIRST_ARG = "Allowing first-arg of a subcommand is not supported"

NOPERM_COMMAND = "NOPERM this user has no permissions to run the '{}' command"
NOPERM_KEY = "NOPERM this user has no permissions to access one of the keys used as arguments"
NOPERM_CHANNEL = ("NOPERM this user has no permissions to access one of the channels used as "
                  "arguments")
#: A script's refusal (``The user executing the script ...``), by reason.
SCRIPT_REASONS = {
    DENIED_CMD: "can't run this command or subcommand",
    DENIED_KEY: "can't access at least one of the keys mentioned in the command arguments",
    DENIED_CHANNEL: "can't publish to the channel mentioned in the command",
}
#: EXEC's refusal of a queued command whose permission went away meanwhile.
EXEC_REASONS = {
    DENIED_CMD: "no permission to execute the command or subcommand",
    DENIED_KEY: "no permission to touch the specified keys",
    DENIED_CHANNEL: "no permission to access one of the channels used as arguments",
}


class RuleError(Exception):
    """An ACL rule Redis would refuse; ``message`` is its reason."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def hash_password(password: bytes) -> bytes:
    """A password as Redis stores it: its SHA-256 in lowercase hex."""
    return hashlib.sha256(password).hexdigest().encode()


def _valid_hash(value: bytes) -> bool:
    return len(value) == 64 and all(48 <= c <= 57 or 97 <= c <= 102 for c in value)


def has_spaces(value: bytes) -> bool:
    """Redis's ACLStringHasSpaces: a space (isspace) or a NUL byte."""
    return any(c in b" \t\n\v\f\r\x00" for c in value)


# -- the command catalogue, as the rules see it --------------------------------------


class _Catalogue:
    """Every command and subcommand with its category bitmasks, built once per table.

    ``effect[cat]`` is what ``+@cat`` sets: each command of the category,
    and for a container of it every subcommand too (Redis's
    ACLChangeSelectorPerm); ``mask[cat]`` only the commands of the category
    (what ACL LIST's description counts).
    """

    def __init__(self) -> None:
        self.commands: list[Command] = []
        for cmd in all_commands():
            self.commands.append(cmd)
            self.commands.extend(introspect.unique_subcommands(cmd))
        self.size = len(self.commands)
        self.mask: dict[str, int] = dict.fromkeys(introspect.ACL_ORDER, 0)
        self.effect: dict[str, int] = dict.fromkeys(introspect.ACL_ORDER, 0)
        self.members: dict[str, list[Command]] = {cat: [] for cat in introspect.ACL_ORDER}
        for cmd in self.commands:
            for category in introspect.acl_categories(cmd):
                self.mask[category] |= 1 << cmd.number
                self.effect[category] |= _family_bits(cmd)
                self.members[category].append(cmd)
        self.count = {cat: mask.bit_count() for cat, mask in self.mask.items()}


def _family_bits(cmd: Command) -> int:
    bits = 1 << cmd.number
    for sub in introspect.unique_subcommands(cmd):
        bits |= 1 << sub.number
    return bits


_catalogue: _Catalogue | None = None


def catalogue() -> _Catalogue:
    """The catalogue of the command table as it is now (rebuilt when commands were added)."""
    global _catalogue
    count = sum(1 + len(introspect.unique_subcommands(cmd)) for cmd in all_commands())
    if _catalogue is None or _catalogue.size != count:
        _catalogue = _Catalogue()
    return _catalogue


def find_command(name: bytes) -> Command | None:
    """Redis's ACLLookupCommand: ``cmd`` or ``container|sub``, strictly (no more levels)."""
    parts = c_string(name).split(b"|")
    if len(parts) > 2:
        return None
    cmd = lookup(parts[0])
    if cmd is None or len(parts) == 1:
        return cmd
    if not cmd.subcommands:
        return None
    return cmd.subcommands.get(parts[1].lower())


# -- selectors ---------------------------------------------------------------------------


class Selector:
    """One set of permissions: commands, first arguments, keys, channels."""

    __slots__ = ("root", "allkeys", "allchannels", "allcommands", "bits", "firstargs",
                 "patterns", "channels")

    def __init__(self, root: bool = False, allchannels: bool = False) -> None:
        self.root = root
        self.allkeys = False
        self.allchannels = allchannels
        self.allcommands = False
        #: Allowed commands by Command.number; negative (all ones) after +@all.
        self.bits = 0
        #: Command number -> the first arguments it is allowed with.
        self.firstargs: dict[int, list[bytes]] = {}
        #: [pattern, permissions] pairs, in the order they were added.
        self.patterns: list[list[Any]] = []
        self.channels: list[bytes] = []

    def copy(self) -> Selector:
        other = Selector(self.root, self.allchannels)
        other.allkeys, other.allcommands, other.bits = self.allkeys, self.allcommands, self.bits
        other.firstargs = {number: list(args) for number, args in self.firstargs.items()}
        other.patterns = [list(pattern) for pattern in self.patterns]
        other.channels = list(self.channels)
        return other

    @property
    def unrestricted(self) -> bool:
        """Every command (those to come too), key and channel."""
        return self.bits == -1 and self.allkeys and self.allchannels

    # -- rules -----------------------------------------------------------

    def _set_bit(self, cmd: Command, allow: bool) -> None:
        if allow:
            self.bits |= 1 << cmd.number
        else:
            self.bits &= ~(1 << cmd.number)
            self.allcommands = False

    def _change(self, cmd: Command, allow: bool) -> None:
        # Redis's ACLChangeSelectorPerm: a container takes its subcommands along.
        self._set_bit(cmd, allow)
        self.firstargs.pop(cmd.number, None)
        for sub in introspect.unique_subcommands(cmd):
            self._set_bit(sub, allow)

    def apply(self, op: bytes) -> None:
        """One selector rule (Redis's ACLSetSelector); raises RuleError."""
        word = c_string(op).lower()
        if word in (b"allkeys", b"~*"):
            self.allkeys = True
            self.patterns = []
        elif word == b"resetkeys":
            self.allkeys = False
            self.patterns = []
        elif word in (b"allchannels", b"&*"):
            self.allchannels = True
            self.channels = []
        elif word == b"resetchannels":
            self.allchannels = False
            self.channels = []
        elif word in (b"allcommands", b"+@all"):
            self.bits = -1
            self.allcommands = True
            self.firstargs = {}
        elif word in (b"nocommands", b"-@all"):
            self.bits = 0
            self.allcommands = False
            self.firstargs = {}
        elif op[:1] in (b"~", b"%"):
            self._add_key_pattern(op)
        elif op[:1] == b"&":
            if self.allchannels:
                raise RuleError(CHANNELS_AFTER_ALL)
            pattern = op[1:]
            if has_spaces(pattern):
                raise RuleError(SYNTAX)
            if pattern not in self.channels:
                self.channels.append(pattern)
            self.allchannels = False
        elif op[:1] == b"+" and op[1:2] != b"@":
            self._allow(op)
        elif op[:1] == b"-" and op[1:2] != b"@":
            cmd = find_command(op[1:])
            if cmd is None:
                raise RuleError(UNKNOWN_COMMAND)
            self._change(cmd, False)
        elif op[:2] in (b"+@", b"-@"):
            category = c_string(op[2:]).decode("latin-1").lower()
            if category not in introspect.ACL_ORDER:
                raise RuleError(UNKNOWN_COMMAND)
            self._category(category, op[:1] == b"+")
        else:
            raise RuleError(SYNTAX)

    def _add_key_pattern(self, op: bytes) -> None:
        if self.allkeys:
            raise RuleError(KEYS_AFTER_ALL)
        offset = 1
        if op[:1] == b"%":
            flags = 0
            while offset < len(op):
                char = op[offset:offset + 1].upper()
                if char == b"R" and not flags & READ:
                    flags |= READ
                elif char == b"W" and not flags & WRITE:
                    flags |= WRITE
                elif char == b"~":
                    offset += 1
                    break
                else:
                    raise RuleError(SYNTAX)
                offset += 1
        else:
            flags = ALL_PERMISSIONS
        pattern = op[offset:]
        if has_spaces(pattern):
            raise RuleError(SYNTAX)
        for existing in self.patterns:
            if existing[0] == pattern:
                existing[1] |= flags
                break
        else:
            self.patterns.append([pattern, flags])
        self.allkeys = False

    def _allow(self, op: bytes) -> None:
        name = c_string(op[1:])
        if b"|" not in name:
            cmd = find_command(name)
            if cmd is None:
                raise RuleError(UNKNOWN_COMMAND)
            self._change(cmd, True)
            return
        base, _, first = name.rpartition(b"|")
        cmd = find_command(base)
        if cmd is None:
            raise RuleError(UNKNOWN_COMMAND)
        if cmd.parent is not None:
            raise RuleError(SUBCOMMAND_FIRST_ARG)
        if not first:
            raise RuleError(SYNTAX)
        if cmd.subcommands:
            sub = find_command(name)
            if sub is None:
                raise RuleError(UNKNOWN_COMMAND)
            self._change(sub, True)
            return
        # Redis logs a deprecation warning here (a first argument of a denied command).
        allowed = self.firstargs.setdefault(cmd.number, [])
        if not any(first.lower() == known.lower() for known in allowed):
            allowed.append(first)

    def _category(self, category: str, allow: bool) -> None:
        table = catalogue()
        if allow:
            self.bits |= table.effect[category]
        else:
            self.bits &= ~table.effect[category]
            self.allcommands = False
        for cmd in table.members[category]:
            self.firstargs.pop(cmd.number, None)

    # -- checks ------------------------------------------------------------

    def check(self, cmd: Command, argv: list[bytes], keys: Callable[[], list[tuple[int, int]]]
              ) -> tuple[int, int]:
        """(0, 0) if this selector allows the command, else (reason, argv index).

        ``keys`` gives the command's (index, permissions) pairs when asked.
        """
        if not self.allcommands and "no-auth" not in cmd.flags and not (self.bits >> cmd.number) & 1:
            allowed = self.firstargs.get(cmd.number)
            index = 2 if cmd.parent is not None else 1
            if not allowed or len(argv) <= index or not any(
                    argv[index].lower() == arg.lower() for arg in allowed):
                return DENIED_CMD, 0
        if not self.allkeys:
            for index, needed in keys():
                if not self.key_allowed(argv[index], needed):
                    return DENIED_KEY, index
        if not self.allchannels:
            for index, pattern in command_channels(cmd, argv):
                if not self.channel_allowed(argv[index], pattern):
                    return DENIED_CHANNEL, index
        return 0, 0

    def key_allowed(self, key: bytes, needed: int) -> bool:
        if self.allkeys:
            return True
        for pattern, flags in self.patterns:
            if flags & needed == needed and _match(pattern, key):
                return True
        return False

    def channel_allowed(self, channel: bytes, is_pattern: bool) -> bool:
        if self.allchannels:
            return True
        if is_pattern:
            # A PSUBSCRIBE pattern must be one of the patterns, literally.
            return channel in self.channels
        return any(_match(pattern, channel) for pattern in self.channels)

    # -- descriptions ----------------------------------------------------------

    def describe_commands(self) -> bytes:
        """The command rules as ACL LIST shows them (Redis's ACLDescribeSelectorCommandRules).

        Categories are chosen greedily by best fit, then single commands fix
        the difference; Hush goes through single commands in the table's
        order where Redis goes in its hash table's.
        """
        table = catalogue()
        additive = self.bits >= 0
        rules = [b"-@all" if additive else b"+@all"]
        fake = 0 if additive else -1
        temp = self.bits
        applied: set[str] = set()
        while True:
            best = None
            mindiff = 1 << 62
            maxsame = 0
            for category in introspect.ACL_ORDER:
                if category in applied:
                    continue
                on = (temp & table.mask[category]).bit_count()
                off = table.count[category] - on
                diff, same = (off, on) if additive else (on, off)
                if same > diff and (diff < mindiff or (diff == mindiff and same > maxsame)):
                    best, mindiff, maxsame = category, diff, same
            if best is None:
                break
            effect = table.effect[best]
            if additive:
                fake |= effect
                temp &= ~effect
            else:
                fake &= ~effect
                temp |= effect
            rules.append(("+@" if additive else "-@").encode() + best.encode())
            applied.add(best)
        for cmd in all_commands():
            fake = self._describe_single(cmd, fake, rules)
        return b" ".join(rules)

    def _describe_single(self, cmd: Command, fake: int, rules: list[bytes]) -> int:
        number = cmd.number
        userbit = (self.bits >> number) & 1
        if userbit != (fake >> number) & 1:
            rules.append((b"+" if userbit else b"-") + cmd.full_name.encode())
            family = _family_bits(cmd)
            fake = fake | family if userbit else fake & ~family
        for sub in introspect.unique_subcommands(cmd):
            fake = self._describe_single(sub, fake, rules)
        if not userbit:
            for first in self.firstargs.get(number, ()):
                rules.append(b"+" + cmd.full_name.encode() + b"|" + first)
        return fake

    def describe_keys(self) -> bytes:
        """The key patterns as GETUSER shows them (``~*`` for all keys)."""
        if self.allkeys:
            return b"~*"
        return b" ".join(_pattern_text(pattern, flags) for pattern, flags in self.patterns)

    def describe_channels(self) -> bytes:
        """The channel patterns as GETUSER shows them (``&*`` for all channels)."""
        if self.allchannels:
            return b"&*"
        return b" ".join(b"&" + pattern for pattern in self.channels)

    def describe(self) -> bytes:
        """Keys, channels and commands as ACL LIST shows them."""
        parts = []
        if self.allkeys:
            parts.append(b"~*")
        else:
            parts.extend(_pattern_text(pattern, flags) for pattern, flags in self.patterns)
        if self.allchannels:
            parts.append(b"&*")
        else:
            parts.append(b"resetchannels")
            parts.extend(b"&" + pattern for pattern in self.channels)
        parts.append(self.describe_commands())
        return b" ".join(parts)

    def reply(self) -> dict[bytes, bytes]:
        """This selector in ACL GETUSER's reply."""
        return {b"commands": self.describe_commands(), b"keys": self.describe_keys(),
                b"channels": self.describe_channels()}


def _pattern_text(pattern: bytes, flags: int) -> bytes:
    if flags == READ:
        return b"%R~" + pattern
    if flags == WRITE:
        return b"%W~" + pattern
    return b"~" + pattern


def _match(pattern: bytes, subject: bytes) -> bool:
    # Redis's stringmatchlen: even "*" does not match an empty key or channel.
    return compile_glob(pattern)(subject)


# -- what a command touches ------------------------------------------------------------

#: Commands naming channels: (first index, how many (-1: the rest), is a pattern).
_CHANNELS = {
    "subscribe": (1, -1, False), "ssubscribe": (1, -1, False),
    "psubscribe": (1, -1, True), "publish": (1, 1, False), "spublish": (1, 1, False),
}


def command_channels(cmd: Command, argv: list[bytes]) -> list[tuple[int, bool]]:
    """(index, is a pattern) of the channels a command subscribes or publishes to."""
    found = _CHANNELS.get(cmd.name) if cmd.parent is None else None
    if found is None:
        return []
    start, count, pattern = found
    stop = len(argv) if count < 0 else min(len(argv), start + count)
    return [(index, pattern) for index in range(start, stop)]


def _set_key_flags(argv: list[bytes]) -> int:
    # SET's key is read too with GET (Redis's setGetKeys).
    if any(arg.lower() == b"get" for arg in argv[3:]):
        return READ | WRITE
    return WRITE


def _bitfield_key_flags(argv: list[bytes]) -> int:
    # Only GET (and OVERFLOW) operations: read-only (Redis's bitfieldGetKeys).
    index = 2
    while index < len(argv):
        remaining = len(argv) - index - 1
        op = argv[index].lower()
        if op == b"get" and remaining >= 2:
            index += 3
        elif op == b"overflow" and remaining >= 1:
            index += 2
        else:
            return READ | WRITE
    return READ


#: Commands whose key permissions depend on their arguments (key specs flagged VARIABLE_FLAGS).
VARIABLE_KEY_FLAGS: dict[str, Callable[[list[bytes]], int]] = {
    "set": _set_key_flags, "bitfield": _bitfield_key_flags}


def _spec_permissions(flags: Iterable[str]) -> int:
    needed = 0
    for flag in flags:
        if flag == "access":
            needed |= READ
        elif flag in ("insert", "delete", "update"):
            needed |= WRITE
    return needed


#: Command number -> how its keys are found: the key specs with the permissions
#: each needs; for keys at the table's positions, the permissions (an int) or
#: a function of the arguments giving them (VARIABLE_KEY_FLAGS), or None for a
#: spec Redis cannot follow. Worked out once per command.
_KEY_PLANS: dict[int, Any] = {}


def _key_plan(cmd: Command) -> Any:
    variable = VARIABLE_KEY_FLAGS.get(cmd.full_name)
    if variable is not None:
        return variable
    specs = introspect.key_specs(cmd)
    if len(specs) == 1 and cmd.key_specs is None and "movablekeys" not in cmd.flags:
        # Keys at first..last by step (GET, MSET, ...): the table's positions.
        return _spec_permissions(specs[0]["flags"])
    plan = []
    for spec in specs:
        if spec["begin_search"]["type"] not in ("index", "keyword"):
            # A spec Redis cannot follow (SORT's STORE): every key, both ways.
            return None
        plan.append((spec, _spec_permissions(spec["flags"])))
    return plan


def command_keys(cmd: Command, argv: list[bytes]) -> list[tuple[int, int]]:
    """(index, permissions needed) of each key a command names, from its key specs."""
    try:
        plan = _KEY_PLANS[cmd.number]
    except KeyError:
        plan = _KEY_PLANS[cmd.number] = _key_plan(cmd)
    if plan.__class__ is not list:
        if plan is None:
            needed = READ | WRITE
        elif plan.__class__ is int:
            needed = plan
        else:
            needed = plan(argv)
        return [(index, needed) for index in cmd.key_positions(argv)]
    refs = []
    for spec, needed in plan:
        positions = _spec_keys(spec, argv)
        if positions is None:
            return []
        refs.extend((index, needed) for index in positions)
    return refs


def _spec_keys(spec: dict[str, Any], argv: list[bytes]) -> list[int] | None:
    positions = spec_key_positions(spec, argv)
    find = spec["find_keys"]
    if not positions and find["type"] == "keynum":
        # Redis's getKeysUsingKeySpecs: a key count that is not one makes the
        # whole search fail (no keys) rather than this spec alone.
        at = spec["begin_search"]["spec"].get("index", 0) + find["spec"]["keynumidx"]
        if at < len(argv) and argv[at] != b"0":
            return None
    return positions


# -- users ---------------------------------------------------------------------------------


class User:
    """One ACL user: flags, password hashes, selectors (the root one first)."""

    __slots__ = ("name", "enabled", "nopass", "sanitize", "passwords", "selectors",
                 "unrestricted", "_description")

    def __init__(self, name: bytes, allchannels: bool = False) -> None:
        self.name = name
        self.enabled = False
        self.nopass = False
        #: None, or which of the payload sanitizing flags was set last.
        self.sanitize: str | None = None
        self.passwords: list[bytes] = []
        self.selectors: list[Selector] = [Selector(root=True, allchannels=allchannels)]
        #: True when a selector allows everything: the dispatcher skips the checks.
        self.unrestricted = False
        self._description: bytes | None = None

    @property
    def root(self) -> Selector:
        return self.selectors[0]

    def copy_from(self, other: User) -> None:
        """Take ``other``'s rules (Redis's ACLCopyUser); the name stays."""
        self.enabled, self.nopass, self.sanitize = other.enabled, other.nopass, other.sanitize
        self.passwords = list(other.passwords)
        self.selectors = [selector.copy() for selector in other.selectors]
        self.changed()

    def changed(self) -> None:
        """Recompute what follows from the rules (after any change)."""
        self._description = None
        self.unrestricted = any(selector.unrestricted for selector in self.selectors)

    def apply(self, op: bytes, allchannels_default: bool = False) -> None:
        """One rule (Redis's ACLSetUser); raises RuleError."""
        self._description = None
        if not op:
            return
        word = c_string(op).lower()
        if word == b"on":
            self.enabled = True
        elif word == b"off":
            self.enabled = False
        elif word in (b"skip-sanitize-payload", b"sanitize-payload"):
            self.sanitize = word.decode()
        elif word == b"nopass":
            self.nopass = True
            self.passwords = []
        elif word == b"resetpass":
            self.nopass = False
            self.passwords = []
        elif op[:1] in (b">", b"#"):
            if op[:1] == b">":
                digest = hash_password(op[1:])
            else:
                digest = op[1:]
                if not _valid_hash(digest):
                    raise RuleError(BAD_HASH)
            if digest not in self.passwords:
                self.passwords.append(digest)
            self.nopass = False
        elif op[:1] in (b"<", b"!"):
            if op[:1] == b"<":
                digest = hash_password(op[1:])
            else:
                digest = op[1:]
                if not _valid_hash(digest):
                    raise RuleError(BAD_HASH)
            if digest not in self.passwords:
                raise RuleError(NO_SUCH_PASSWORD)
            self.passwords.remove(digest)
        elif op[:1] == b"(" and op[-1:] == b")":
            self.selectors.append(_selector_from(op, allchannels_default))
        elif word == b"clearselectors":
            del self.selectors[1:]
        elif word == b"reset":
            self.nopass = False
            self.passwords = []
            root = self.root
            root.apply(b"resetkeys")
            root.apply(b"resetchannels")
            if allchannels_default:
                root.apply(b"allchannels")
            self.enabled = False
            self.sanitize = "sanitize-payload"
            del self.selectors[1:]
            root.apply(b"-@all")
        else:
            self.root.apply(op)

    def describe(self) -> bytes:
        """The user's rules as ACL LIST shows them (cached until the user changes)."""
        if self._description is None:
            parts = [flag.encode() for flag in self.flags()]
            parts.extend(b"#" + digest for digest in self.passwords)
            parts.append(self.root.describe())
            text_ = b" ".join(parts)
            for selector in self.selectors[1:]:
                text_ += b" (" + selector.describe() + b")"
            self._description = text_
        return self._description

    def flags(self) -> list[str]:
        """The user's flags, in Redis's order."""
        found = ["on" if self.enabled else "off"]
        if self.nopass:
            found.append("nopass")
        if self.sanitize is not None:
            found.append(self.sanitize)
        return sorted(found, key=USER_FLAGS.index)

    def check(self, cmd: Command, argv: list[bytes]) -> tuple[int, int]:
        """(0, 0) if some selector allows the command, else (reason, argv index) to report.

        As Redis picks it: the command, unless a selector got past it; then
        the key or channel refused at the highest index.
        """
        found: list[tuple[int, int]] | None = None

        def keys() -> list[tuple[int, int]]:
            nonlocal found
            if found is None:
                found = command_keys(cmd, argv)
            return found

        reason, index = DENIED_CMD, 0
        for selector in self.selectors:
            result, at = selector.check(cmd, argv, keys)
            if not result:
                return 0, 0
            if result > reason or (result == reason and at > index):
                reason, index = result, at
        return reason, index

    def may_use_channel(self, channel: bytes, is_pattern: bool) -> bool:
        """True if some selector allows this channel (or pattern)."""
        return any(selector.channel_allowed(channel, is_pattern) for selector in self.selectors)


def _selector_from(op: bytes, allchannels_default: bool) -> Selector:
    selector = Selector(allchannels=allchannels_default)
    try:
        rules = split_inline(op[1:-1])
    except ProtocolReject:
        # Redis's sdssplitargs gives no rules at all for unbalanced quotes.
        rules = []
    for rule in rules:
        selector.apply(rule)
    return selector


def merge_selectors(args: list[bytes]) -> list[bytes] | int:
    """Rules with a selector spread over several arguments joined (``(+get`` ``~k)``).

    Returns the merged rules, or the index of the argument that opens a
    parenthesis never closed.
    """
    merged: list[bytes] = []
    opened = -1
    for index, arg in enumerate(args):
        if opened < 0 and arg[:1] == b"(" and arg[-1:] != b")":
            opened = index
            merged.append(arg)
            continue
        if opened >= 0:
            merged[-1] += b" " + arg
            if arg[-1:] == b")":
                opened = -1
            continue
        merged.append(arg)
    return opened if opened >= 0 else merged


class LogEntry:
    """One ACL LOG entry: a refusal, counted again while it repeats within a minute."""

    __slots__ = ("count", "reason", "context", "object", "username", "ctime_ms", "client_info")

    def __init__(self, reason: int, context: str, obj: bytes, username: bytes,
                 ctime_ms: int, client_info: bytes) -> None:
        self.count = 1
        self.reason = reason
        self.context = context
        self.object = obj
        self.username = username
        self.ctime_ms = ctime_ms
        self.client_info = client_info

    def matches(self, other: LogEntry) -> bool:
        return (self.reason == other.reason and self.context == other.context
                and abs(self.ctime_ms - other.ctime_ms) <= 60000
                and self.object == other.object and self.username == other.username)


# -- the users of one server -------------------------------------------------------------------

NO_ACL_FILE = (
    "ERR This Redis instance is not configured to use an ACL file. You may want to specify "
    "users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a "
    "Redis configuration file set) in order to store users in the Redis configuration.")


class AccessControl:
    """The users of one server, its ACL log, and the checks the dispatcher asks for.

    @ivar users: name -> user (ACL LIST and USERS show them sorted by name).
    @ivar default: the ``default`` user, the one object new connections get.
    @ivar log: ACL LOG's entries, newest first.
    """

    def __init__(self, server: Server) -> None:
        self.server = server
        self.settings = server.settings
        self.users: dict[bytes, User] = {}
        self.default = self._default_user()
        self.users[DEFAULT_NAME] = self.default
        self.log: list[LogEntry] = []

    @property
    def _allchannels(self) -> bool:
        return self.settings.acl_pubsub_default == "allchannels"

    def _new_user(self, name: bytes) -> User:
        user = User(name, allchannels=self._allchannels)
        user.changed()
        return user

    def _default_user(self) -> User:
        user = self._new_user(DEFAULT_NAME)
        for op in (b"+@all", b"~*", b"&*", b"on", b"nopass"):
            user.apply(op)
        user.changed()
        return user

    def get(self, name: bytes) -> User | None:
        """The user called ``name``, or None."""
        return self.users.get(name)

    def sorted_users(self) -> list[User]:
        """Every user, by name (Redis keeps them in a radix tree)."""
        return [self.users[name] for name in sorted(self.users)]

    # -- changes ----------------------------------------------------------------

    def set_user(self, name: bytes, args: list[bytes]) -> None:
        """ACL SETUSER: apply every rule to a copy, then all of them or none.

        Raises CommandError with Redis's text naming the rule refused.
        """
        merged = merge_selectors(args)
        if isinstance(merged, int):
            raise CommandError(
                f"ERR Unmatched parenthesis in acl selector starting at '{c_text(args[merged])}'.")
        existing = self.users.get(name)
        staged = self._new_user(name)
        if existing is not None:
            staged.copy_from(existing)
        for rule in merged:
            try:
                staged.apply(rule, self._allchannels)
            except RuleError as error:
                raise CommandError(
                    f"ERR Error in ACL SETUSER modifier '{c_text(rule)}': {error.message}"
                ) from None
        staged.changed()
        if existing is not None:
            self._kill_revoked_subscribers(staged, existing)
            existing.copy_from(staged)
            self._user_changed(existing)
        else:
            self.users[name] = staged

    def set_default_password(self, password: str) -> None:
        """requirepass: the default user's only password (none: ``nopass``)."""
        user = self.default
        user.apply(b"resetpass")
        if password:
            # fsencode undoes the surrogateescape decoding of command-line arguments.
            user.apply(b">" + os.fsencode(password))
        else:
            user.apply(b"nopass")
        self._user_changed(user)

    def delete_users(self, names: list[bytes], caller: Any) -> int:
        """ACL DELUSER: drop users and close their connections; how many existed."""
        if DEFAULT_NAME in names:
            raise CommandError("ERR The 'default' user cannot be removed")
        deleted = 0
        for name in names:
            user = self.users.pop(name, None)
            if user is not None:
                deleted += 1
                self._kill_clients_of(user, caller)
        return deleted

    def _user_changed(self, user: User) -> None:
        user.changed()
        for client in list(self.server.clients.values()):
            if client.user is user:
                client.update_gate()

    def _kill_clients_of(self, user: User, caller: Any) -> None:
        """Close every connection authenticated as ``user`` (the caller's after its reply)."""
        for client in list(self.server.clients.values()):
            if client.user is not user:
                continue
            # As Redis does, defensively: back to the default user, unauthenticated.
            client.user = self.default
            client.authenticated = False
            if client is caller:
                client.close_after_reply()
            else:
                client.connection.disconnect()
                self.server.unregister_client(client)

    def _kill_revoked_subscribers(self, new: User, old: User) -> None:
        """Close subscribers of ``old`` whose channels ``new`` no longer allows (Redis's
        ACLKillPubsubClientsIfNeeded)."""
        if any(selector.allchannels for selector in new.selectors):
            return
        upcoming = [pattern for selector in new.selectors for pattern in selector.channels]
        if not any(selector.allchannels for selector in old.selectors) and all(
                pattern in upcoming for selector in old.selectors
                for pattern in selector.channels):
            return
        probe = Selector()
        probe.channels = upcoming
        for client in list(self.server.clients.values()):
            if client.user is not old or not (
                    client.channels or client.patterns or client.shard_channels):
                continue
            if any(not probe.channel_allowed(pattern, True) for pattern in client.patterns) or any(
                    not probe.channel_allowed(channel, False)
                    for channel in itertools.chain(client.channels, client.shard_channels)):
                client.connection.disconnect()
                self.server.unregister_client(client)

    # -- authentication ----------------------------------------------------------------

    def credentials(self, name: bytes, password: bytes) -> User | None:
        """The user these credentials authenticate, or None (Redis's ACLCheckUserCredentials).

        Each stored hash is compared in constant time.
        """
        user = self.users.get(name)
        if user is None or not user.enabled:
            return None
        if user.nopass:
            return user
        digest = hash_password(password)
        matched = False
        for stored in user.passwords:
            matched |= hmac.compare_digest(digest, stored)
        return user if matched else None

    def auth_required(self) -> bool:
        """True while a connection must authenticate before running commands."""
        default = self.default
        return not default.nopass or not default.enabled

    # -- the log --------------------------------------------------------------------------

    def add_log(self, client: Any, reason: int, context: str, obj: bytes,
                username: bytes | None = None) -> None:
        """Record a refusal in ACL LOG (a repeat within a minute bumps an entry's count).

        ``client`` is the connection's session (a script's caller), whose
        CLIENT LIST line the entry keeps; ``username`` defaults to its user.
        """
        stats = self.server.store.stats
        if reason == DENIED_CMD:
            stats.acl_access_denied_cmd += 1
        elif reason == DENIED_KEY:
            stats.acl_access_denied_key += 1
        elif reason == DENIED_CHANNEL:
            stats.acl_access_denied_channel += 1
        now = self.server.clock.seconds()
        entry = LogEntry(reason, context, obj,
                         username if username is not None else client.user.name,
                         int(now * 1000), client_line(client, now).rstrip(b"\n"))
        for index, current in enumerate(self.log[:10]):
            if current.matches(entry):
                del self.log[index]
                current.client_info = entry.client_info
                current.ctime_ms = entry.ctime_ms
                current.count += 1
                self.log.insert(0, current)
                return
        self.log.insert(0, entry)
        del self.log[self.settings.acllog_max_len:]

    def log_reply(self, count: int) -> list[dict[bytes, Any]]:
        """ACL LOG's entries, at most ``count``."""
        now_ms = int(self.server.clock.seconds() * 1000)
        return [{
            b"count": entry.count,
            b"reason": REASON_NAMES[entry.reason].encode(),
            b"context": entry.context.encode(),
            b"object": entry.object,
            b"username": entry.username,
            b"age-seconds": (now_ms - entry.ctime_ms) / 1000,
            b"client-info": entry.client_info,
        } for entry in self.log[:max(count, 0)]]

    # -- configuration and the ACL file -------------------------------------------------------

    def load_config_users(self, lines: list[list[bytes]]) -> tuple[str | None, list[str]]:
        """The config file's ``user`` lines, at start (Redis's ACLLoadConfiguredUsers).

        Returns the log line of the first rule that does not apply (an
        unknown command or category) or None, and notices of disabled users.
        """
        notices = []
        for argv in lines:
            name, rules = argv[1], merge_selectors(argv[2:])
            assert not isinstance(rules, int)  # refused while the file was read
            if has_spaces(name):
                return "Spaces not allowed in ACL usernames", notices
            user = self.users.get(name)
            if user is None:
                user = self.users[name] = self._new_user(name)
            else:
                user.apply(b"reset", self._allchannels)
            for rule in rules:
                try:
                    user.apply(rule, self._allchannels)
                except RuleError as error:
                    return (f"Error loading ACL rule '{c_text(rule)}' for the user named "
                            f"'{c_text(name)}': {error.message}"), notices
            self._user_changed(user)
            if not user.enabled:
                notices.append(f"The user '{c_text(name)}' is disabled (there is no 'on' "
                               "modifier in the user description). Make sure this is not a "
                               "configuration error.")
        return None, notices

    def load_file(self, path: str, caller: Any = None) -> str | None:
        """ACL LOAD: the users of the ACL file, all of them or, on any error, none.

        Returns None, or Redis's one-line report of every error found. The
        connections of the users replaced are closed (``caller``'s after its reply).
        """
        try:
            with open(path, "rb") as handle:
                content = handle.read()
        except OSError as error:
            return f"Error loading ACLs, opening file '{path}': {error.strerror}"
        errors = []
        users: dict[bytes, User] = {}
        for number, raw in enumerate(content.split(b"\n"), 1):
            line = raw.strip(b" \t\r\n")
            if not line:
                continue
            # Split on each space, as Redis's sdssplitlen: two spaces make an empty word.
            argv = line.split(b" ")
            if argv[0] != b"user" or len(argv) < 2:
                errors.append(f"{path}:{number} should start with user keyword followed by the "
                              "username. ")
                continue
            name = argv[1]
            if has_spaces(name):
                errors.append(f"'{path}:{number}: username '{c_text(name)}' contains invalid "
                              "characters. ")
                continue
            if name in users:
                errors.append(f"WARNING: Duplicate user '{c_text(name)}' found on line {number}. ")
                continue
            user = users[name] = self._new_user(name)
            merged = merge_selectors(argv[2:])
            if isinstance(merged, int):
                errors.append(f"{path}:{number}: Unmatched parenthesis in selector definition.")
                continue
            syntax_error = False
            for rule in merged:
                rule = rule.strip(b"\t\r\n")
                try:
                    user.apply(rule, self._allchannels)
                except RuleError as error:
                    if error.message == UNKNOWN_COMMAND:
                        errors.append(f"{path}:{number}: Error in applying operation "
                                      f"'{c_text(rule)}': {error.message}. ")
                    elif not syntax_error:
                        errors.append(f"{path}:{number}: {error.message}. ")
                        syntax_error = True
        if errors:
            return ("".join(errors) + "WARNING: ACL errors detected, no change to the previously "
                    "active ACL rules was performed")
        # The default user object stays (connections hold it); it takes the file's rules.
        new_default = users.pop(DEFAULT_NAME, None) or self._default_user()
        old_users = [user for name, user in self.users.items() if name != DEFAULT_NAME]
        self.default.copy_from(new_default)
        self.users = {DEFAULT_NAME: self.default, **users}
        for user in users.values():
            user.changed()
        for user in old_users:
            self._kill_clients_of(user, caller)
        self._user_changed(self.default)
        return None

    def save_file(self, path: str) -> bool:
        """ACL SAVE: every user as a ``user`` line, written to a temporary file then renamed."""
        content = b"".join(b"user " + user.name + b" " + user.describe() + b"\n"
                           for user in self.sorted_users())
        temporary = f"{path}.tmp-{os.getpid()}-{int(self.server.clock.seconds() * 1000)}"
        try:
            with open(temporary, "wb") as handle:
                handle.write(content)
            os.replace(temporary, path)
        except OSError as error:
            log.warn("Writing ACL file for ACL SAVE: {error}", error=error.strerror)
            try:
                os.unlink(temporary)
            except OSError:
                pass
            return False
        return True

    def config_lines(self) -> list[str]:
        """CONFIG REWRITE's ``user`` lines (none when an ACL file holds the users)."""
        if self.settings.aclfile:
            return []
        return ["user " + text(user.name) + " " + text(user.describe())
                for user in self.sorted_users()]


def check_config_users(lines: list[list[bytes]]) -> tuple[int, str] | None:
    """Check the config file's ``user`` lines as Redis does while reading it.

    Returns (index of the bad line, Redis's reason) or None. A rule naming an
    unknown command passes here: Redis refuses it only when it loads the
    users, after the modules that could define it.
    """
    seen: set[bytes] = set()
    for number, argv in enumerate(lines):
        name = argv[1]
        if name in seen:
            return number, f"Error in user declaration '{c_text(argv[1])}': {DUPLICATE_USER}"
        seen.add(name)
        merged = merge_selectors(argv[2:])
        if isinstance(merged, int):
            # Redis names the argument at the rule's index counted from the
            # line's start, and errno says nothing better.
            return number, (f"Error in user declaration '{c_text(argv[merged])}': "
                            f"{UNKNOWN_COMMAND}")
        probe = User(name)
        for index, rule in enumerate(merged):
            try:
                probe.apply(rule)
            except RuleError as error:
                if error.message != UNKNOWN_COMMAND:
                    return number, (f"Error in user declaration '{c_text(argv[index])}': "
                                    f"{error.message}")
        # The line's username itself is checked when the users load.
    return None
