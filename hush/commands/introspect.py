# -*- test-case-name: tests.commands.test_server -*-
"""The command table rendered as Redis 7.0's COMMAND INFO / COMMAND DOCS replies.

Everything here is computed from :class:`hush.commands.table.Command` data.
Where a family gives no ACL categories or key specs, they are derived the way
Redis derives its implicit ones: categories from the flags and the group,
one range key spec from (first, last, step).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from hush.commands.docs import documentation
from hush.commands.table import Command, lookup, spec_positions
from hush.core.errors import SYNTAX, CommandError
from hush.core.glob import compile_glob
from hush.wire.resp import RespSet, SimpleString

#: COMMAND INFO lists flags in this order (Redis's flag bits); flags Redis
#: never reports (sentinel, only-sentinel, and may_replicate, which Redis 7.0
#: hides on purpose) are absent and dropped.
FLAG_ORDER = (
    "write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript", "blocking",
    "loading", "stale", "skip_monitor", "skip_slowlog", "asking", "fast", "no_auth",
    "no_mandatory_keys", "no_async_loading", "no_multi", "movablekeys", "allow_busy",
)
_FLAG_RANK = {name: rank for rank, name in enumerate(FLAG_ORDER)}

#: ACL categories in Redis's order (the order COMMAND INFO lists them in).
ACL_ORDER = (
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
    "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
    "dangerous", "connection", "transaction", "scripting",
)
_ACL_RANK = {name: rank for rank, name in enumerate(ACL_ORDER)}

#: The category each command group implies (Redis's JSON files give these).
GROUP_CATEGORY = {
    "generic": "keyspace", "string": "string", "list": "list", "hash": "hash", "set": "set",
    "sorted_set": "sortedset", "stream": "stream", "geo": "geo", "hyperloglog": "hyperloglog",
    "bitmap": "bitmap", "pubsub": "pubsub", "transactions": "transaction",
    "scripting": "scripting", "connection": "connection",
}


def find(name: bytes) -> Command | None:
    """A command by name, or a subcommand by ``container|sub``, in any case."""
    container, bar, sub = name.lower().partition(b"|")
    cmd = lookup(container)
    if cmd is None or not bar:
        return cmd
    return cmd.subcommands.get(sub)


def unique_subcommands(cmd: Command) -> list[Command]:
    """A container's subcommands once each (the table keys them in two cases)."""
    seen = {id(sub): sub for sub in cmd.subcommands.values()}
    return list(seen.values())


def flags(cmd: Command) -> list[str]:
    """Redis's flag names for ``cmd``, in Redis's order."""
    names = {flag.replace("-", "_") for flag in cmd.flags}
    return sorted((n for n in names if n in _FLAG_RANK), key=_FLAG_RANK.__getitem__)


def acl_categories(cmd: Command) -> list[str]:
    """Explicit categories plus the ones Redis implies, in Redis's order."""
    cats = {cat.lstrip("@") for cat in cmd.acl_categories}
    own = set(flags(cmd))
    if "write" in own:
        cats.add("write")
    if "readonly" in own and "scripting" not in cats:
        cats.add("read")
    if "admin" in own:
        cats.update(("admin", "dangerous"))
    if "pubsub" in own:
        cats.add("pubsub")
    if "blocking" in own:
        cats.add("blocking")
    cats.add("fast" if "fast" in own else "slow")
    # A container only dispatches; Redis gives it no group category.
    if cmd.handler is not None or not cmd.subcommands:
        implied = GROUP_CATEGORY.get(cmd.group)
        if implied and not cmd.acl_categories:
            cats.add(implied)
    return sorted((c for c in cats if c in _ACL_RANK), key=_ACL_RANK.__getitem__)


def key_specs(cmd: Command) -> list[dict[str, Any]]:
    """The command's key specs in Redis's shape, given or derived."""
    if cmd.key_specs is not None:
        return [dict(spec) for spec in cmd.key_specs]
    if not cmd.first_key:
        return []
    last = cmd.last_key - cmd.first_key if cmd.last_key >= 0 else cmd.last_key
    if "readonly" in cmd.flags:
        spec_flags = ["RO", "access"]
    elif "write" in cmd.flags:
        spec_flags = ["RW", "update"]
    else:
        spec_flags = ["RO"]
    return [{
        "flags": spec_flags,
        "begin_search": {"type": "index", "spec": {"index": cmd.first_key}},
        "find_keys": {"type": "range",
                      "spec": {"lastkey": last, "keystep": cmd.key_step or 1, "limit": 0}},
    }]


def _reply_value(value: Any, key: str = "") -> Any:
    """Turn a key-spec fragment into reply values (flag lists become sets of statuses)."""
    if isinstance(value, dict):
        return {k.encode(): _reply_value(v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if key == "flags":
            return RespSet(SimpleString(flag.encode()) for flag in value)
        return [_reply_value(item) for item in value]
    if isinstance(value, str):
        return value.encode()
    return value


def info_entry(cmd: Command) -> list[Any]:
    """One COMMAND INFO entry: Redis 7's ten fields."""
    subs = unique_subcommands(cmd)
    return [
        cmd.full_name.encode(),
        cmd.arity,
        RespSet(SimpleString(flag.encode()) for flag in flags(cmd)),
        cmd.first_key,
        cmd.last_key,
        cmd.key_step,
        RespSet(SimpleString(b"@" + cat.encode()) for cat in acl_categories(cmd)),
        RespSet(tip.encode() for tip in cmd.tips),
        RespSet(_reply_value(spec) for spec in key_specs(cmd)),
        # Redis sends an empty set, but a non-empty array, of subcommands.
        [info_entry(sub) for sub in subs] if subs else RespSet(),
    ]


def docs_entry(cmd: Command) -> dict[bytes, Any]:
    """One COMMAND DOCS entry, from Redis's documentation (:mod:`hush.commands.docs`).

    A container lists the docs of the subcommands Hush has. A module's
    command is documented by its declaration, as Redis documents one by
    RedisModule_SetCommandInfo: a summary and a version only where given.
    A command without documentation (which tests/commands/test_docs.py does
    not let happen) gets its summary, version and group from the table.
    """
    doc = None if cmd.module else documentation(cmd.full_name)
    reply: dict[bytes, Any]
    if cmd.module:
        given = ((b"summary", cmd.summary), (b"since", cmd.since), (b"group", cmd.group),
                 (b"module", cmd.module))
        reply = {key: value.encode() for key, value in given if value}
    elif doc is None:
        reply = {b"summary": cmd.summary.encode(), b"since": cmd.since.encode(),
                 b"group": cmd.group.encode()}
    else:
        reply = {key.encode(): _doc_value(key, value) for key, value in doc.items()
                 if key != "subcommands"}
    subs = unique_subcommands(cmd)
    if subs:
        if doc is None:
            reply[b"complexity"] = b"Depends on subcommand."
        reply[b"subcommands"] = {sub.full_name.encode(): docs_entry(sub) for sub in subs}
    return reply


def _doc_value(key: str, value: Any) -> Any:
    """A documentation value as Redis replies it: flags and history are sets."""
    if key == "arguments":
        return [{name.encode(): _doc_value(name, item) for name, item in arg.items()}
                for arg in value]
    if key in ("flags", "doc_flags"):
        return RespSet(SimpleString(flag.encode()) for flag in value)
    if key == "history":
        return RespSet([version.encode(), text.encode()] for version, text in value)
    if isinstance(value, str):
        return value.encode()
    return value


def has_keys(cmd: Command) -> bool:
    """Redis's doesCommandHaveKeys: a key spec that locates keys (not only not_key ones)."""
    return any("not_key" not in spec["flags"] for spec in key_specs(cmd))


def keys_with_flags(cmd: Command, argv: list[bytes]) -> list[tuple[int, list[str]]]:
    """(position, flags of the key spec that found it) of each key in ``argv`` (COMMAND
    GETKEYSANDFLAGS), spec by spec as Redis searches them."""
    if cmd.key_flags is not None:
        return cmd.key_flags(argv)
    positions = cmd.key_positions(argv)
    specs = [spec for spec in key_specs(cmd) if "not_key" not in spec["flags"]]
    found = [(position, spec["flags"]) for spec in specs
             for position in spec_positions((spec,), argv)]
    if sorted(position for position, _flags in found) == sorted(positions):
        return found
    # Keys a command finds its own way (the table says how): the first spec's flags.
    flags = specs[0]["flags"] if specs else []
    return [(position, flags) for position in positions]


def list_filter(args: Iterable[bytes]) -> Callable[[Command], bool]:
    """COMMAND LIST's ``FILTERBY MODULE|ACLCAT|PATTERN value`` as a predicate."""
    args = list(args)
    if not args:
        return lambda cmd: True
    if len(args) != 3 or args[0].lower() != b"filterby":
        raise CommandError(SYNTAX)
    kind, value = args[1].lower(), args[2]
    if kind == b"module":
        name = value.decode("utf-8", "surrogateescape")
        return lambda cmd: bool(cmd.module) and (cmd.parent or cmd).module == name
    if kind == b"aclcat":
        category = value.decode("utf-8", "replace").lower()
        return lambda cmd: category in acl_categories(cmd)
    if kind == b"pattern":
        match = compile_glob(value.lower())
        return lambda cmd: match(cmd.full_name.encode())
    raise CommandError(SYNTAX)

