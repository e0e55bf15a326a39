# -*- test-case-name: tests.test_server -*-
"""Server commands: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME, INFO, CONFIG, COMMAND."""

from __future__ import annotations

from hush.commands import introspect
from hush.commands.args import parse_int
from hush.commands.table import all_commands, command, container, lookup
from hush.errors import DB_INDEX_OUT_OF_RANGE, SYNTAX, CommandError
from hush.info import render as render_info
from hush.resp import OK, SimpleString, Verbatim

GROUP = "server"
_FLUSH_TIPS = ("request_policy:all_shards", "response_policy:all_succeeded")


def _check_flush_mode(args: tuple[bytes, ...]) -> None:
    # ASYNC is accepted but runs like SYNC: there is no background thread to
    # hand the old keyspace to, so CPython frees it as the last reference drops.
    if len(args) > 1 or (args and args[0].lower() not in (b"sync", b"async")):
        raise CommandError(SYNTAX)


@command("dbsize", arity=1, flags=("readonly", "fast"), group=GROUP,
         summary="Return the number of keys in the selected database",
         acl=("keyspace", "read", "fast"),
         tips=("request_policy:all_shards", "response_policy:agg_sum"))
def dbsize(ctx) -> int:
    """Number of keys in the selected database (expired-but-unreaped ones count, as in Redis)."""
    return len(ctx.db)


@command("flushdb", arity=-1, flags=("write",), group=GROUP,
         summary="Remove all keys from the current database",
         acl=("keyspace", "write", "slow", "dangerous"), tips=_FLUSH_TIPS)
def flushdb(ctx, *args: bytes):
    """Empty the selected database."""
    _check_flush_mode(args)
    ctx.db.clear()
    ctx.store.dirty += 1
    return OK


@command("flushall", arity=-1, flags=("write",), group=GROUP,
         summary="Remove all keys from all databases",
         acl=("keyspace", "write", "slow", "dangerous"), tips=_FLUSH_TIPS)
def flushall(ctx, *args: bytes):
    """Empty every database."""
    _check_flush_mode(args)
    ctx.store.flushall()
    ctx.store.dirty += 1
    return OK


@command("swapdb", arity=3, flags=("write", "fast"), group=GROUP, since="4.0.0",
         summary="Swaps two Redis databases",
         acl=("keyspace", "write", "fast", "dangerous"))
def swapdb(ctx, first: bytes, second: bytes):
    """Exchange the contents of two databases; connections keep their index."""
    one = parse_int(first, "ERR invalid first DB index")
    two = parse_int(second, "ERR invalid second DB index")
    count = len(ctx.store.dbs)
    if not (0 <= one < count and 0 <= two < count):
        raise CommandError(DB_INDEX_OUT_OF_RANGE)
    if one != two:
        ctx.store.swapdb(one, two)
        ctx.store.dirty += 1
    return OK


@command("time", arity=1, flags=("loading", "stale", "fast"), group=GROUP, since="2.6.0",
         summary="Return the current server time", acl=("fast",),
         tips=("nondeterministic_output",))
def time_(ctx) -> list[bytes]:
    """[unix seconds, microseconds], from the injected clock."""
    micros = int(ctx.server.clock.seconds() * 1_000_000)
    seconds, fraction = divmod(micros, 1_000_000)
    return [b"%d" % seconds, b"%d" % fraction]


@command("info", arity=-1, flags=("loading", "stale"), group=GROUP,
         summary="Get information and statistics about the server",
         acl=("slow", "dangerous"),
         tips=("nondeterministic_output", "request_policy:all_shards", "response_policy:special"))
def info(ctx, *sections: bytes) -> Verbatim:
    """The INFO report: a bulk string in RESP2, a verbatim string in RESP3."""
    return Verbatim(render_info(ctx.server, sections, _local_port(ctx)))


def _local_port(ctx) -> int:
    host = ctx.transport.getHost() if ctx.transport is not None else None
    return getattr(host, "port", None) or ctx.server.settings.port


# -- CONFIG ----------------------------------------------------------------

container("config", group=GROUP, since="2.0.0",
          summary="A container for server configuration commands")

_CONFIG_FLAGS = ("admin", "noscript", "loading", "stale")
_CONFIG_ACL = ("admin", "slow", "dangerous")

#: Settings CONFIG SET can change: only those Hush applies at run time.
_SETTABLE = {"maxkeys", "busy-reply-threshold"}
#: Old names Redis still accepts for CONFIG SET.
_ALIASES = {"lua-time-limit": "busy-reply-threshold"}
_GLOB_CHARS = frozenset(b"*?[")


@command("config|get", arity=-3, flags=_CONFIG_FLAGS, group=GROUP, since="2.0.0",
         summary="Get the values of configuration parameters", acl=_CONFIG_ACL)
def config_get(ctx, *patterns: bytes) -> dict[bytes, bytes]:
    """Every setting matching any of the glob patterns, each once (a map in RESP3)."""
    found: dict[bytes, tuple[bytes, bytes]] = {}
    for pattern in patterns:
        for name, value in ctx.server.settings.get(pattern).items():
            # Redis answers an exact (glob-free) name in the caller's spelling.
            shown = pattern if not _GLOB_CHARS.intersection(pattern) else name
            found.setdefault(name, (shown, value))
    return dict(found.values())


@command("config|set", arity=-4, flags=_CONFIG_FLAGS, group=GROUP, since="2.0.0",
         summary="Set configuration parameters to the given values", acl=_CONFIG_ACL,
         tips=("request_policy:all_nodes", "response_policy:all_succeeded"))
def config_set(ctx, *pairs: bytes):
    """Change settings that Hush can apply at run time (all or none of them)."""
    if len(pairs) % 2:
        raise CommandError(SYNTAX)
    settings = ctx.server.settings
    known = set(settings.names())
    changes: dict[str, int] = {}
    for raw_name, raw_value in zip(pairs[::2], pairs[1::2], strict=True):
        name = raw_name.decode("utf-8", "replace").lower()
        name = _ALIASES.get(name, name)
        if name not in known:
            raise CommandError(
                f"ERR Unknown option or number of arguments for CONFIG SET - '{name}'")
        if name in changes:
            raise _config_set_failed(name, "duplicate parameter")
        if name not in _SETTABLE:
            raise _config_set_failed(name, "can't set immutable config")
        try:
            value = parse_int(raw_value)
        except CommandError:
            raise _config_set_failed(
                name, "argument couldn't be parsed into an integer") from None
        if value < 0:
            raise _config_set_failed(name, "argument must be between 0 and 2147483647 inclusive")
        changes[name] = value
    for name, value in changes.items():
        setattr(settings, name.replace("-", "_"), value)
        if name == "maxkeys":
            ctx.store.maxkeys = value
    return OK


def _config_set_failed(name: str, why: str) -> CommandError:
    return CommandError(f"ERR CONFIG SET failed (possibly related to argument '{name}') - {why}")


@command("config|resetstat", arity=2, flags=_CONFIG_FLAGS, group=GROUP, since="2.0.0",
         summary="Reset the stats returned by INFO", acl=_CONFIG_ACL)
def config_resetstat(ctx):
    """Zero the INFO stats counters."""
    ctx.store.stats.reset()
    return OK


_CONFIG_HELP = [
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "HELP",
    "    Prints this help.",
]


@command("config|help", arity=2, flags=("loading", "stale"), group=GROUP, since="5.0.0",
         summary="Show helpful text about the different subcommands", acl=("slow",))
def config_help(ctx) -> list[SimpleString]:
    """CONFIG's subcommands, one status line each."""
    return [SimpleString(line.encode()) for line in _CONFIG_HELP]


# -- COMMAND ---------------------------------------------------------------

_COMMAND_FLAGS = ("loading", "stale")
_COMMAND_ACL = ("slow", "connection")


@command("command", arity=-1, flags=_COMMAND_FLAGS, group=GROUP, since="2.8.13",
         summary="Get array of Redis command details", acl=_COMMAND_ACL,
         tips=("nondeterministic_output_order",))
def command_(ctx) -> list:
    """Every command's COMMAND INFO entry."""
    return [introspect.info_entry(cmd) for cmd in all_commands()]


@command("command|count", arity=2, flags=_COMMAND_FLAGS, group=GROUP, since="2.8.13",
         summary="Get total number of Redis commands", acl=_COMMAND_ACL)
def command_count(ctx) -> int:
    """How many top-level commands there are."""
    return len(all_commands())


@command("command|info", arity=-2, flags=_COMMAND_FLAGS, group=GROUP, since="2.8.13",
         summary="Get array of specific Redis command details, or all when no argument is given.",
         acl=_COMMAND_ACL, tips=("nondeterministic_output_order",))
def command_info(ctx, *names: bytes) -> list:
    """COMMAND INFO entries; null for names that are not commands."""
    if not names:
        return command_(ctx)
    entries = []
    for name in names:
        cmd = introspect.find(name)
        entries.append(None if cmd is None else introspect.info_entry(cmd))
    return entries


@command("command|docs", arity=-2, flags=_COMMAND_FLAGS, group=GROUP, since="7.0.0",
         summary="Get array of specific Redis command documentation", acl=_COMMAND_ACL,
         tips=("nondeterministic_output_order",))
def command_docs(ctx, *names: bytes) -> dict:
    """Name -> documentation map; unknown names are left out."""
    if names:
        commands = [cmd for cmd in map(introspect.find, names) if cmd is not None]
    else:
        commands = all_commands()
    return {cmd.full_name.encode(): introspect.docs_entry(cmd) for cmd in commands}


@command("command|list", arity=-2, flags=_COMMAND_FLAGS, group=GROUP, since="7.0.0",
         summary="Get an array of Redis command names", acl=_COMMAND_ACL,
         tips=("nondeterministic_output_order",))
def command_list(ctx, *args: bytes) -> list[bytes]:
    """Every command and subcommand name, optionally filtered."""
    keep = introspect.list_filter(args)
    names = []
    for cmd in all_commands():
        for each in (cmd, *introspect.unique_subcommands(cmd)):
            if keep(each):
                names.append(each.full_name.encode())
    return names


@command("command|getkeys", arity=-4, flags=_COMMAND_FLAGS, group=GROUP, since="2.8.13",
         summary="Extract keys given a full Redis command", acl=_COMMAND_ACL)
def command_getkeys(ctx, *argv: bytes) -> list[bytes]:
    """The key arguments of a whole command line, as the table locates them."""
    argv_list = list(argv)
    cmd = lookup(argv_list[0])
    if cmd is not None and cmd.subcommands and len(argv_list) > 1:
        cmd = cmd.subcommands.get(argv_list[1].lower(), cmd)
    if cmd is None:
        raise CommandError("ERR Invalid command specified")
    if (cmd.arity > 0 and len(argv_list) != cmd.arity) or len(argv_list) < -cmd.arity:
        raise CommandError("ERR Invalid number of arguments specified for command")
    positions = cmd.key_positions(argv_list)
    if not positions:
        if "no-mandatory-keys" in cmd.flags:
            return []
        raise CommandError("ERR The command has no key arguments")
    return [argv_list[i] for i in positions]


_COMMAND_HELP = [
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "HELP",
    "    Prints this help.",
]


@command("command|help", arity=2, flags=_COMMAND_FLAGS, group=GROUP, since="5.0.0",
         summary="Show helpful text about the different subcommands", acl=_COMMAND_ACL)
def command_help(ctx) -> list[SimpleString]:
    """COMMAND's subcommands, one status line each."""
    return [SimpleString(line.encode()) for line in _COMMAND_HELP]
