# -*- test-case-name: tests.commands.test_table,tests.commands.test_server,tests.commands.test_dispatch -*-
"""The command table: every command's handler and metadata, as data.

A family module declares each command with :func:`command`::

    @command("get", arity=2, flags=("readonly", "fast"), keys=(1, 1, 1),
             group="string", summary="Get the value of a key")
    def get(ctx, key):
        ...

``arity`` follows Redis: positive is exact (command name included), negative
is a minimum. ``keys`` is (first, last, step) as in COMMAND INFO (last -1 is
the final argument). Subcommands (``client|id``) are registered by their full
name and attached to their container, which must be registered first.

The dispatcher, COMMAND, COMMAND INFO/DOCS/COUNT and key extraction all read
this table, so adding a command is one decorated function. A container's
HELP subcommand is one call of :func:`help_command` with its text.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from hush.wire.resp import SimpleString

Handler = Callable[..., Any]

_numbers = itertools.count()


@dataclass(eq=False)
class Command:
    """One command (or subcommand) and what Redis says about it."""

    name: str
    handler: Handler | None
    arity: int
    flags: tuple[str, ...] = ()
    first_key: int = 0
    last_key: int = 0
    key_step: int = 0
    group: str = "generic"
    summary: str = ""
    since: str = "1.0.0"
    acl_categories: tuple[str, ...] = ()
    #: Redis's command tips (``nondeterministic_output``, ``request_policy:...``).
    tips: tuple[str, ...] = ()
    #: What a run propagates to the AOF instead of its argv (:func:`effects`); None: the argv.
    effects: Effects | None = None
    #: Key specs as COMMAND INFO reports them; None: derived from first/last/step.
    key_specs: tuple[dict[str, Any], ...] | None = None
    #: How a command with ``variable_flags`` key specs flags its keys for an
    #: argv (:func:`key_flags`); None: each key gets its spec's flags.
    key_flags: KeyFlags | None = None
    #: The key positions of an argv where no key spec can say them (SORT's
    #: STORE): Redis's getkeys_proc. None: from the key specs or first/last/step.
    getkeys: Callable[[list[bytes]], list[int]] | None = None
    #: Runs a read's repeats of this command in one call (:func:`batch`); None: one by one.
    batch: Batch | None = None
    subcommands: dict[bytes, Command] = field(default_factory=dict)
    parent: Command | None = None
    #: The name of the module that declared it (hush.commands.modules); "" for Hush's own.
    module: str = ""
    #: Unique per command object: its index in each server's counters (hush.ops.commandstats).
    number: int = field(default_factory=lambda: next(_numbers))
    #: The argument counts (command name included) the dispatcher's lean lane
    #: may run without resolve(): the arity's, and none for a container (its
    #: subcommand decides) or a command without a handler.
    sizes: range = field(init=False, repr=False)
    #: Flagged readonly or write: a command on data, which a pipeline of its
    #: repeats may run without the session's per-command checks.
    data_command: bool = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.data_command = "readonly" in self.flags or "write" in self.flags
        arity = self.arity
        if self.handler is None or self.subcommands:
            self.sizes = range(0)
        elif arity > 0:
            self.sizes = range(arity, arity + 1)
        else:
            self.sizes = range(-arity, 1 << 62)

    @property
    def full_name(self) -> str:
        """``container|sub`` for subcommands, the name otherwise."""
        return f"{self.parent.name}|{self.name}" if self.parent else self.name

    @property
    def is_write(self) -> bool:
        """True for commands that may change data."""
        return "write" in self.flags

    def key_positions(self, argv: list[bytes]) -> list[int]:
        """Indexes into ``argv`` (command name at 0) of the key arguments.

        Arguments a ``not_key`` spec locates (SPUBLISH's shard channel) are
        no keys: Redis declares them for cluster routing only.
        """
        if self.getkeys is not None:
            return self.getkeys(argv)
        specs = self.key_specs
        if specs and ("movablekeys" in self.flags or _has_not_key(specs)):
            return spec_positions(specs, argv)
        if not self.first_key:
            return []
        last = self.last_key if self.last_key >= 0 else len(argv) + self.last_key
        step = self.key_step or 1
        return list(range(self.first_key, min(last, len(argv) - 1) + 1, step))

    def routing_positions(self, argv: list[bytes]) -> list[int]:
        """The arguments cluster routing hashes: the keys, and shard channels
        (SPUBLISH, SSUBSCRIBE), which their ``not_key`` specs locate."""
        specs = self.key_specs
        if self.getkeys is None and specs and _has_not_key(specs):
            return spec_positions(specs, argv, not_keys=True)
        return self.key_positions(argv)


def _has_not_key(specs: tuple[dict[str, Any], ...]) -> bool:
    return any("not_key" in spec["flags"] for spec in specs)


def spec_positions(specs: Iterable[dict[str, Any]], argv: list[bytes], *,
                   not_keys: bool = False) -> list[int]:
    """Key indexes from index/range and index/keynum key specs (EVAL, LMPOP, ZUNIONSTORE ...).

    A key count that is not a number, negative or beyond the arguments gives
    no keys at all, as Redis's key-spec search does; a keyword that is not
    there (GEORADIUS without STORE) only skips its spec. ``not_keys`` takes
    the ``not_key`` specs' arguments too (Redis's GET_KEYSPEC_INCLUDE_NOT_KEYS).
    """
    positions: list[int] = []
    for spec in specs:
        if "not_key" in spec["flags"] and not not_keys:
            continue
        begin, find = spec["begin_search"], spec["find_keys"]
        if begin["type"] == "index":
            start = begin["spec"]["index"]
        elif begin["type"] == "keyword":
            start = _after_keyword(argv, begin["spec"]["keyword"], begin["spec"]["startfrom"])
            if start is None:
                continue
        else:
            return []
        params = find["spec"]
        if find["type"] == "range":
            lastkey = params["lastkey"]
            if lastkey >= 0:
                last = start + lastkey
            elif params.get("limit"):
                # XREAD's STREAMS k1 k2 id1 id2: the keys are the first 1/limit.
                last = start + (len(argv) - start) // params["limit"] + lastkey
            else:
                last = len(argv) + lastkey
            positions.extend(range(start, min(last, len(argv) - 1) + 1, params["keystep"]))
        elif find["type"] == "keynum":
            at = start + params["keynumidx"]
            try:
                count = int(argv[at]) if at < len(argv) else -1
            except ValueError:
                return []
            first = start + params["firstkey"]
            step = params["keystep"]
            if count < 0 or first + (count - 1) * step >= len(argv):
                return []
            positions.extend(range(first, first + count * step, step))
    return positions


def spec_key_positions(spec: dict[str, Any], argv: list[bytes]) -> list[int]:
    """The key indexes one key spec finds in ``argv`` (none for a key count that is not one)."""
    return spec_positions((spec,), argv)


def _after_keyword(argv: list[bytes], keyword: str, startfrom: int) -> int | None:
    """The index after ``keyword`` (searched from ``startfrom``; negative: from the end)."""
    wanted = keyword.encode().lower()
    if startfrom >= 0:
        indexes = range(startfrom, len(argv))
    else:
        indexes = range(len(argv) + startfrom, 0, -1)
    for index in indexes:
        if argv[index].lower() == wanted:
            return index + 1
    return None


#: Lookup by the command name as bytes, in lower case and upper case.
COMMANDS: dict[bytes, Command] = {}


def range_spec(*flags: str, index: int = 1, lastkey: int = 0, keystep: int = 1,
               limit: int = 0, notes: str = "") -> dict[str, Any]:
    """A key spec whose keys follow an index, as COMMAND INFO reports it.

    ``lastkey`` -1 means "to the last argument"; Redis puts notes first.
    """
    spec: dict[str, Any] = {"notes": notes} if notes else {}
    spec["flags"] = list(flags)
    spec["begin_search"] = {"type": "index", "spec": {"index": index}}
    spec["find_keys"] = {"type": "range",
                         "spec": {"lastkey": lastkey, "keystep": keystep, "limit": limit}}
    return spec


def keynum_spec(*flags: str, index: int) -> dict[str, Any]:
    """A key spec whose key count is the argument at ``index`` (LMPOP, ZUNION, ...)."""
    return {
        "flags": list(flags),
        "begin_search": {"type": "index", "spec": {"index": index}},
        "find_keys": {"type": "keynum", "spec": {"keynumidx": 0, "firstkey": 1, "keystep": 1}},
    }


def lookup(name: bytes) -> Command | None:
    """Find a top-level command by name, in any letter case."""
    cmd = COMMANDS.get(name)
    if cmd is None:
        cmd = COMMANDS.get(name.lower())
    return cmd


def all_commands() -> list[Command]:
    """Every top-level command, once each, sorted by name."""
    seen = {id(cmd): cmd for cmd in COMMANDS.values()}
    return sorted(seen.values(), key=lambda cmd: cmd.name)


#: ``effects(ctx, argv, reply)``: the deterministic commands a run amounts to.
Effects = Callable[[Any, list[bytes], Any], list[list[bytes]]]


def effects(*names: str) -> Callable[[Effects], Effects]:
    """Declare the decorated function as what the named commands propagate.

    Called as ``function(ctx, argv, reply)`` after a run that changed data (and
    with ``ctx`` offering ``db`` and ``store`` only, when a blocked client is
    served), it returns the deterministic commands the run amounts to -- SPOP
    as SREM of the members it popped, EXPIRE as PEXPIREAT, BLPOP as LPOP --
    which :mod:`hush.persistence.propagation` records instead of the argv. The
    commands must be registered first.
    """

    def declare(function: Effects) -> Effects:
        for name in names:
            top, _, sub = name.lower().partition("|")
            cmd = COMMANDS[top.encode()]
            if sub:
                cmd = cmd.subcommands[sub.encode()]
            cmd.effects = function
        return function

    return declare


#: ``batch(ctx, argvs, out)``: run every argv of ``argvs`` (one command, one
#: argument count) in order, appending each one's encoded reply to ``out``;
#: True if it did, False if it ran none and left ``out`` alone.
Batch = Callable[[Any, list[list[bytes]], list[bytes]], bool]


def batch(*names: str) -> Callable[[Batch], Batch]:
    """Declare the decorated function as the way to run many of the named commands at once.

    A pipeline usually repeats one command (benchmarks, bulk loads): the
    connection hands a read of such repeats, from a client with no gate to
    pass (:attr:`hush.commands.dispatch.Session.plain`) and with no client
    blocked on any key, to this function instead of calling the handler per
    command. It must leave the data, the replies and the counters it touches
    exactly as the handler called once per argv in order would, or return
    False before changing anything; the connection counts the commands and
    their time (the run's time, split evenly) as :meth:`Session.execute` would.
    """

    def declare(function: Batch) -> Batch:
        for name in names:
            COMMANDS[name.lower().encode()].batch = function
        return function

    return declare


#: ``key_flags(argv)``: (position, flags) of each key of a command line.
KeyFlags = Callable[[list[bytes]], list[tuple[int, list[str]]]]


def key_flags(*names: str) -> Callable[[KeyFlags], KeyFlags]:
    """Declare the decorated function as how the named commands flag their keys.

    For commands whose key specs say ``variable_flags`` (Redis's getkeys
    procedures that flag keys by the arguments): COMMAND GETKEYSANDFLAGS
    calls it with the whole command line, the command name at 0.
    """

    def declare(function: KeyFlags) -> KeyFlags:
        for name in names:
            top, _, sub = name.lower().partition("|")
            cmd = COMMANDS[top.encode()]
            if sub:
                cmd = cmd.subcommands[sub.encode()]
            cmd.key_flags = function
        return function

    return declare


def every_command() -> list[Command]:
    """Every command and subcommand, each once, by full name."""
    found: list[Command] = []
    for cmd in all_commands():
        found.append(cmd)
        found.extend({id(sub): sub for sub in cmd.subcommands.values()}.values())
    return sorted(found, key=lambda cmd: cmd.full_name)


def command(
    name: str,
    arity: int,
    flags: Iterable[str] = (),
    keys: tuple[int, int, int] = (0, 0, 0),
    group: str = "generic",
    summary: str = "",
    since: str = "1.0.0",
    acl: Iterable[str] = (),
    tips: Iterable[str] = (),
    key_specs: Iterable[dict[str, Any]] | None = None,
    getkeys: Callable[[list[bytes]], list[int]] | None = None,
) -> Callable[[Handler | None], Handler | None]:
    """Register the decorated function as the handler of ``name``.

    ``name`` may be ``container|sub`` for a subcommand. The handler is called
    as ``handler(ctx, *argv[1:])`` (subcommands: ``handler(ctx, *argv[2:])``).
    ``getkeys(argv)`` gives the key positions of commands whose key specs
    cannot (see :attr:`Command.getkeys`).
    """

    def register(handler: Handler | None) -> Handler | None:
        first, last, step = keys
        container, _, sub = name.lower().partition("|")
        cmd = Command(
            name=sub or container,
            handler=handler,
            arity=arity,
            flags=tuple(flags),
            first_key=first,
            last_key=last,
            key_step=step,
            group=group,
            summary=summary,
            since=since,
            acl_categories=tuple(acl),
            tips=tuple(tips),
            key_specs=None if key_specs is None else tuple(key_specs),
            getkeys=getkeys,
        )
        if sub:
            parent = COMMANDS[container.encode()]
            cmd.parent = parent
            parent.sizes = range(0)
            parent.subcommands[sub.encode()] = cmd
            parent.subcommands[sub.upper().encode()] = cmd
        else:
            COMMANDS[container.encode()] = cmd
            COMMANDS[container.upper().encode()] = cmd
        return handler

    return register


def container(name: str, group: str, summary: str, since: str = "1.0.0") -> None:
    """Register a command that only dispatches to its subcommands (CLIENT, CONFIG, ...)."""
    command(name, arity=-2, group=group, summary=summary, since=since)(None)


def help_reply(lines: Iterable[str]) -> list[SimpleString]:
    """Redis's reply to a HELP: each line of the text as a status reply."""
    return [SimpleString(line.encode()) for line in lines]


def help_command(name: str, lines: Iterable[str], *, group: str, since: str,
                 acl: Iterable[str], flags: Iterable[str] = ("loading", "stale"),
                 check: Callable[[Any], None] | None = None) -> None:
    """Register ``name|help``, answering with ``lines`` (see :func:`help_reply`).

    Every container's HELP is this same subcommand in Redis, but for its
    text, group, version and ACL categories. ``check(ctx)``, if given, may
    refuse it first (CLUSTER HELP outside cluster mode) by raising.
    """
    text = tuple(lines)

    def handler(ctx: Any) -> list[SimpleString]:
        if check is not None:
            check(ctx)
        return help_reply(text)

    handler.__name__ = handler.__qualname__ = f"{name}_help"
    handler.__doc__ = f"The subcommands of {name.upper()}, one status line each."
    command(f"{name}|help", arity=2, flags=flags, group=group, since=since, acl=acl,
            summary="Show helpful text about the different subcommands")(handler)
