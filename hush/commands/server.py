# -*- test-case-name: tests.commands.test_server -*-
"""Server commands: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME, INFO, COMMAND (CONFIG: config.py)."""

from __future__ import annotations

from hush.commands import introspect
from hush.commands.args import parse_int
from hush.commands.table import all_commands, command, help_command, lookup
from hush.core.errors import DB_INDEX_OUT_OF_RANGE, SYNTAX, CommandError
from hush.ops import lolwut as art
from hush.ops.info import render as render_info
from hush.wire.resp import OK, RespSet, SimpleString, Verbatim

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
    # Redis flushes the whole tracking table even for one database.
    ctx.store.tracking.flushed()
    ctx.store.dirty += 1
    return OK


@command("flushall", arity=-1, flags=("write",), group=GROUP,
         summary="Remove all keys from all databases",
         acl=("keyspace", "write", "slow", "dangerous"), tips=_FLUSH_TIPS)
def flushall(ctx, *args: bytes):
    """Empty every database (and, with save points set, the dump file, as Redis does)."""
    _check_flush_mode(args)
    ctx.store.flushall()
    ctx.server.persistence.flushed_all()
    ctx.store.dirty += 1
    return OK


@command("swapdb", arity=3, flags=("write", "fast"), group=GROUP, since="4.0.0",
         summary="Swaps two Redis databases",
         acl=("keyspace", "write", "fast", "dangerous"))
def swapdb(ctx, first: bytes, second: bytes):
    """Exchange the contents of two databases; connections keep their index."""
    if ctx.server.cluster is not None:
        # Redis Cluster has database 0 only.
        raise CommandError("ERR SWAPDB is not allowed in cluster mode")
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


# -- ROLE, WAIT, LOLWUT -----------------------------------------------------------


@command("role", arity=1, flags=("noscript", "loading", "stale", "fast"), group=GROUP,
         since="2.8.12", summary="Return the role of the instance in the context of replication",
         acl=("admin", "fast", "dangerous"))
def role(ctx) -> list:
    """[master, offset, [[ip, port, offset] of each online replica]], or
    [slave, master host, master port, link state, offset applied]."""
    return ctx.server.replication.role()


_WAIT_ON_REPLICA = (
    "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 "
    "if a replica is configured to be writable (which is not the default) writes to replicas "
    "are just local and are not propagated.")


@command("wait", arity=3, flags=("noscript",), group=GROUP, since="3.0.0",
         summary="Wait for the synchronous replication of all the write commands sent in the "
                 "context of the current connection", acl=("slow", "connection"),
         tips=("request_policy:all_shards", "response_policy:agg_min"))
def wait(ctx, raw_replicas: bytes, raw_timeout: bytes):
    """Block until ``numreplicas`` replicas acknowledged, or the timeout; how many did."""
    replication = ctx.server.replication
    if replication.is_replica:
        raise CommandError(_WAIT_ON_REPLICA)
    wanted = parse_int(raw_replicas)
    timeout = parse_int(raw_timeout, "ERR timeout is not an integer or out of range")
    if timeout < 0:
        raise CommandError("ERR timeout is negative")
    return replication.wait(ctx, wanted, timeout)


@command("lolwut", arity=-1, flags=("readonly", "fast"), group=GROUP, since="5.0.0",
         summary="Display some computer art and the Redis version", acl=("read", "fast"))
def lolwut(ctx, *args: bytes) -> Verbatim:
    """The version line of Redis 7.0, or with VERSION 5 or 6 the older art."""
    drawing = ""
    if len(args) >= 2 and args[0].lower() == b"version":
        drawing = art.chooses(parse_int(args[1]))
        args = args[2:]
    if drawing == "5":
        columns, per_row, per_column = _sizes(args, [66, 8, 12])
        return Verbatim(art.schotter(art.clamp(columns, 1, 1000), art.clamp(per_row, 1, 200),
                                     art.clamp(per_column, 1, 200)))
    if drawing == "6":
        columns, rows = _sizes(args, [80, 20])
        return Verbatim(art.skyline(art.clamp(columns, 1, 1000), art.clamp(rows, 1, 1000)))
    return Verbatim(art.version_only())


def _sizes(args: tuple[bytes, ...], defaults: list[int]) -> list[int]:
    """LOLWUT's optional size arguments, parsed in order (extra ones are ignored)."""
    given = [parse_int(raw) for raw in args[:len(defaults)]]
    return given + defaults[len(given):]


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
    return [argv[position] for position, _flags in _keys_of(list(argv))]


@command("command|getkeysandflags", arity=-4, flags=_COMMAND_FLAGS, group=GROUP, since="7.0.0",
         summary="Extract keys and access flags given a full Redis command",
         acl=_COMMAND_ACL)
def command_getkeysandflags(ctx, *argv: bytes) -> list:
    """[key, flags] of each key argument of a whole command line."""
    return [[argv[position], RespSet(SimpleString(flag.encode()) for flag in flags)]
            for position, flags in _keys_of(list(argv))]


def _keys_of(argv: list[bytes]) -> list[tuple[int, list[str]]]:
    """Redis's getKeysSubcommandImpl checks, then the keys with their spec's flags."""
    cmd = lookup(argv[0])
    if cmd is not None and cmd.subcommands and len(argv) > 1:
        cmd = cmd.subcommands.get(argv[1].lower())
    if cmd is None:
        raise CommandError("ERR Invalid command specified")
    if not introspect.has_keys(cmd):
        raise CommandError("ERR The command has no key arguments")
    if (cmd.arity > 0 and len(argv) != cmd.arity) or len(argv) < -cmd.arity:
        raise CommandError("ERR Invalid number of arguments specified for command")
    found = introspect.keys_with_flags(cmd, argv)
    if not found and "no-mandatory-keys" not in cmd.flags:
        raise CommandError("ERR Invalid arguments specified for command")
    return found


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
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
    "HELP",
    "    Prints this help.",
]


help_command("command", _COMMAND_HELP, group=GROUP, since="5.0.0", acl=_COMMAND_ACL,
             flags=_COMMAND_FLAGS)
