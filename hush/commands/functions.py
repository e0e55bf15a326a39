# -*- test-case-name: tests.commands.test_functions -*-
"""Functions: FCALL, FCALL_RO and FUNCTION LOAD/DELETE/LIST/FLUSH/DUMP/RESTORE/STATS/KILL/HELP.

The libraries live in :class:`hush.scripting.functions.FunctionLibraries`
(``ctx.server.functions``); a function runs on the script engine
(``ctx.server.scripts``), in the functions' own Lua state with EVAL's
sandbox. FUNCTION LOAD, DELETE, FLUSH and RESTORE change the data as a
write does, so the AOF logs them as they were sent.
"""

from __future__ import annotations

from typing import Any

from hush.commands.args import parse_int
from hush.commands.table import command, container, help_command
from hush.core.errors import CommandError, SubcommandSyntax, c_text
from hush.formats.rdb_payload import dump_functions, function_sources
from hush.wire.resp import OK, RespSet, SimpleString

GROUP = "scripting"
_ACL = ("slow", "scripting")
_FCALL_FLAGS = ("noscript", "stale", "skip-monitor", "no-mandatory-keys", "movablekeys")
_ALL_SHARDS = ("request_policy:all_shards", "response_policy:all_succeeded")


def _keys_spec(flags: list[str], notes: str) -> dict[str, Any]:
    return {
        "notes": notes,
        "flags": flags,
        "begin_search": {"type": "index", "spec": {"index": 2}},
        "find_keys": {"type": "keynum", "spec": {"keynumidx": 0, "firstkey": 1, "keystep": 1}},
    }


@command("fcall", arity=-3, flags=_FCALL_FLAGS, group=GROUP, since="7.0.0", acl=_ACL,
         summary="Invoke a function",
         key_specs=(_keys_spec(["RW", "access", "update"], "We cannot tell how the keys will "
                               "be used so we assume the worst, RW and UPDATE"),))
def fcall(ctx, name: bytes, numkeys: bytes, *rest: bytes) -> Any:
    """Run a function with its keys and arguments."""
    return _fcall(ctx, name, numkeys, rest, readonly=False)


@command("fcall_ro", arity=-3, flags=("readonly", *_FCALL_FLAGS), group=GROUP, since="7.0.0",
         acl=_ACL, summary="Invoke a read-only function",
         key_specs=(_keys_spec(["RO", "access"], "We cannot tell how the keys will be used so "
                               "we assume the worst, RO and ACCESS"),))
def fcall_ro(ctx, name: bytes, numkeys: bytes, *rest: bytes) -> Any:
    """Run a function flagged no-writes; any other is refused."""
    return _fcall(ctx, name, numkeys, rest, readonly=True)


def _fcall(ctx, name: bytes, numkeys: bytes, rest: tuple[bytes, ...], readonly: bool) -> Any:
    function = ctx.server.functions.find(name)
    if function is None:
        raise CommandError("ERR Function not found")
    count = parse_int(numkeys, "ERR Bad number of keys provided")
    if count > len(rest):
        raise CommandError("ERR Number of keys can't be greater than number of args")
    if count < 0:
        raise CommandError("ERR Number of keys can't be negative")
    if ctx.server.cluster is not None and function.script.no_cluster:
        raise CommandError("ERR Can not run script on cluster, 'no-cluster' flag is set.")
    no_writes = "no-writes" in function.flags
    if readonly and not no_writes:
        raise CommandError("ERR Can not execute a script with write flag using *_ro command.")
    # FUNCTION STATS shows the command that runs it (clients send the name in capitals).
    command_argv = [b"FCALL_RO" if readonly else b"FCALL", name, numkeys, *rest]
    return ctx.server.scripts.call_function(ctx, function, rest[:count], rest[count:],
                                            readonly or no_writes, command_argv)


container("function", group=GROUP, since="7.0.0", summary="A container for function commands")


@command("function|load", arity=-3, flags=("write", "denyoom", "noscript"), group=GROUP,
         since="7.0.0", acl=_ACL, tips=_ALL_SHARDS,
         summary="Create a function with the given arguments (name, code, description)")
def function_load(ctx, *args: bytes) -> bytes:
    """Load a library (REPLACE: over one of the same name); its name."""
    replace = False
    for option in args[:-1]:
        if option.lower() != b"replace":
            raise CommandError(f"ERR Unknown option given: {c_text(option)}")
        replace = True
    # The AOF is replayed without the time limit, as Redis loads from its master.
    name = ctx.server.functions.load(args[-1], replace, limited=not ctx.store.loading)
    ctx.store.dirty += 1
    return name


@command("function|delete", arity=3, flags=("write", "noscript"), group=GROUP, since="7.0.0",
         acl=_ACL, tips=_ALL_SHARDS, summary="Delete a function by name")
def function_delete(ctx, name: bytes) -> Any:
    """Drop a library and its functions."""
    ctx.server.functions.delete(name)
    ctx.store.dirty += 1
    return OK


@command("function|flush", arity=-2, flags=("write", "noscript"), group=GROUP, since="7.0.0",
         acl=_ACL, tips=_ALL_SHARDS, summary="Deleting all functions")
def function_flush(ctx, *mode: bytes) -> Any:
    """Drop every library (ASYNC and SYNC alike: Python frees them at once)."""
    if len(mode) > 1:
        raise SubcommandSyntax("FUNCTION", "FLUSH")
    if mode and mode[0].lower() not in (b"sync", b"async"):
        raise CommandError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
    ctx.server.functions.flush()
    ctx.store.dirty += 1
    return OK


@command("function|list", arity=-2, flags=("noscript",), group=GROUP, since="7.0.0", acl=_ACL,
         tips=("nondeterministic_output_order",),
         summary="List information about all the functions")
def function_list(ctx, *args: bytes) -> list[dict[bytes, Any]]:
    """Each library (or those matching LIBRARYNAME) with its functions, WITHCODE its code."""
    with_code = False
    pattern = None
    index = 0
    while index < len(args):
        arg = args[index]
        if not with_code and arg.lower() == b"withcode":
            with_code = True
        elif pattern is None and arg.lower() == b"libraryname":
            if index >= len(args) - 1:
                raise CommandError("ERR library name argument was not given")
            index += 1
            pattern = args[index]
        else:
            raise CommandError(f"ERR Unknown argument {c_text(arg)}")
        index += 1
    entries = ctx.server.functions.listing(pattern, with_code)
    for entry in entries:
        for function in entry[b"functions"]:
            function[b"flags"] = RespSet(SimpleString(flag.encode())
                                         for flag in function[b"flags"])
    return entries


@command("function|dump", arity=2, flags=("noscript",), group=GROUP, since="7.0.0", acl=_ACL,
         summary="Dump all functions into a serialized binary payload")
def function_dump(ctx) -> bytes:
    """Every library's code as one payload FUNCTION RESTORE takes (Redis's format)."""
    return dump_functions(ctx.server.functions.dump_sources())


_POLICIES = {b"flush": "flush", b"append": "append", b"replace": "replace"}


@command("function|restore", arity=-3, flags=("write", "denyoom", "noscript"), group=GROUP,
         since="7.0.0", acl=_ACL, tips=_ALL_SHARDS,
         summary="Restore all the functions on the given payload")
def function_restore(ctx, payload: bytes, *policy: bytes) -> Any:
    """Load a FUNCTION DUMP payload: APPEND (the default), REPLACE or FLUSH first."""
    if len(policy) > 1:
        raise SubcommandSyntax("FUNCTION", "RESTORE")
    chosen = "append"
    if policy:
        found = _POLICIES.get(policy[0].lower())
        if found is None:
            raise CommandError("ERR Wrong restore policy given, value should be either FLUSH, "
                               "APPEND or REPLACE.")
        chosen = found
    ctx.server.functions.restore(function_sources(payload), chosen)
    ctx.store.dirty += 1
    return OK


@command("function|stats", arity=2, flags=("noscript", "allow-busy"), group=GROUP,
         since="7.0.0", acl=_ACL,
         tips=("nondeterministic_output", "request_policy:all_shards",
               "response_policy:special"),
         summary="Return information about the function currently running (name, description, "
                 "duration)")
def function_stats(ctx) -> dict[bytes, Any]:
    """The function running now (name, command, milliseconds so far) and the engines' counts."""
    scripts = ctx.server.scripts
    run = scripts.running
    running = None
    if run is not None:
        if run.function_name is None:
            # An EVAL script is busy: only SCRIPT KILL may be asked about it.
            raise CommandError(scripts.busy_message)
        running = {
            b"name": run.function_name,
            b"command": run.command,
            b"duration_ms": int((scripts.now() - run.started) * 1000),
        }
    return {b"running_script": running, b"engines": ctx.server.functions.stats()}


@command("function|kill", arity=2, flags=("noscript", "allow-busy"), group=GROUP,
         since="7.0.0", acl=_ACL,
         tips=("request_policy:all_shards", "response_policy:one_succeeded"),
         summary="Kill the function currently in execution.")
def function_kill(ctx) -> Any:
    """Stop the running function unless it already wrote."""
    ctx.server.scripts.kill(functions=True)
    return OK


_HELP = [
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME "
    "argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored "
    "using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a "
    "restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, "
    "abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, "
    "replace the old",
    "      libraries with the new libraries (notice that even on this option there is a "
    "chance of failure",
    "      in case of functions name collision with another library).",
    "HELP",
    "    Prints this help.",
]


help_command("function", _HELP, group=GROUP, since="7.0.0", acl=_ACL)
