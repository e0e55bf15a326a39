# -*- test-case-name: tests.commands.test_scripting -*-
"""Scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT LOAD/EXISTS/FLUSH/KILL/HELP.

The engine (Lua state, sandbox, conversions, script cache, busy scripts)
lives in :mod:`hush.scripting.engine`, one per server as ``ctx.server.scripts``.
"""

from __future__ import annotations

from typing import Any

from hush.commands.table import command, container, help_command
from hush.core.errors import CommandError
from hush.wire.resp import OK

GROUP = "scripting"
_ACL = ("slow", "scripting")
_EVAL_FLAGS = ("noscript", "stale", "skip-monitor", "no-mandatory-keys", "movablekeys")
_EVAL_RO_FLAGS = ("readonly", *_EVAL_FLAGS)


def _keys_spec(flags: list[str], notes: str | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"notes": notes} if notes else {}
    spec.update({
        "flags": flags,
        "begin_search": {"type": "index", "spec": {"index": 2}},
        "find_keys": {"type": "keynum", "spec": {"keynumidx": 0, "firstkey": 1, "keystep": 1}},
    })
    return spec


_RW_NOTES = "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE"
_RO_NOTES = "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS"


@command("eval", arity=-3, flags=_EVAL_FLAGS, group=GROUP, since="2.6.0", acl=_ACL,
         summary="Execute a Lua script server side",
         key_specs=(_keys_spec(["RW", "access", "update"], _RW_NOTES),))
def eval_(ctx, script: bytes, numkeys: bytes, *rest: bytes) -> Any:
    return ctx.server.scripts.eval(ctx, script, numkeys, rest, by_sha=False, readonly=False)


@command("evalsha", arity=-3, flags=_EVAL_FLAGS, group=GROUP, since="2.6.0", acl=_ACL,
         summary="Execute a Lua script server side",
         key_specs=(_keys_spec(["RW", "access", "update"], None),))
def evalsha(ctx, sha: bytes, numkeys: bytes, *rest: bytes) -> Any:
    return ctx.server.scripts.eval(ctx, sha, numkeys, rest, by_sha=True, readonly=False)


@command("eval_ro", arity=-3, flags=_EVAL_RO_FLAGS, group=GROUP, since="7.0.0", acl=_ACL,
         summary="Execute a read-only Lua script server side",
         key_specs=(_keys_spec(["RO", "access"], _RO_NOTES),))
def eval_ro(ctx, script: bytes, numkeys: bytes, *rest: bytes) -> Any:
    return ctx.server.scripts.eval(ctx, script, numkeys, rest, by_sha=False, readonly=True)


@command("evalsha_ro", arity=-3, flags=_EVAL_RO_FLAGS, group=GROUP, since="7.0.0", acl=_ACL,
         summary="Execute a read-only Lua script server side",
         key_specs=(_keys_spec(["RO", "access"], None),))
def evalsha_ro(ctx, sha: bytes, numkeys: bytes, *rest: bytes) -> Any:
    return ctx.server.scripts.eval(ctx, sha, numkeys, rest, by_sha=True, readonly=True)


container("script", group=GROUP, since="2.6.0",
          summary="A container for Lua scripts management commands")


@command("script|flush", arity=-2, flags=("noscript",), group=GROUP, since="2.6.0",
         acl=_ACL, summary="Remove all the scripts from the script cache.",
         tips=("request_policy:all_nodes", "response_policy:all_succeeded"))
def script_flush(ctx, *mode: bytes) -> Any:
    # ASYNC and SYNC differ only in who frees the memory; both empty the cache now.
    if len(mode) > 1 or (mode and mode[0].lower() not in (b"async", b"sync")):
        raise CommandError("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
    ctx.server.scripts.flush()
    return OK


@command("script|load", arity=3, flags=("noscript", "stale"), group=GROUP, since="2.6.0",
         acl=_ACL, summary="Load the specified Lua script into the script cache.",
         tips=("request_policy:all_nodes", "response_policy:all_succeeded"))
def script_load(ctx, body: bytes) -> bytes:
    return ctx.server.scripts.load(body).sha.encode()


@command("script|kill", arity=2, flags=("noscript", "allow-busy"), group=GROUP, since="2.6.0",
         acl=_ACL, summary="Kill the script currently in execution.",
         tips=("request_policy:all_shards", "response_policy:one_succeeded"))
def script_kill(ctx) -> Any:
    ctx.server.scripts.kill()
    return OK


@command("script|exists", arity=-3, flags=("noscript",), group=GROUP, since="2.6.0",
         acl=_ACL, summary="Check existence of scripts in the script cache.",
         tips=("request_policy:all_shards", "response_policy:agg_logical_and"))
def script_exists(ctx, *shas: bytes) -> list[int]:
    scripts = ctx.server.scripts
    return [1 if scripts.exists(sha) else 0 for sha in shas]


_SCRIPT_HELP = [
    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
    "HELP",
    "    Prints this help.",
]


help_command("script", _SCRIPT_HELP, group=GROUP, since="5.0.0", acl=_ACL)


@command("script|debug", arity=3, flags=("noscript",), group=GROUP, since="3.2.0", acl=_ACL,
         summary="Set the debug mode for executed scripts.")
def script_debug(ctx, mode: bytes) -> Any:
    """Only NO (no debugging, Hush's only mode): Hush has no Lua debugger (LDB)."""
    if ctx.in_multi:
        raise CommandError("ERR SCRIPT DEBUG must be called outside MULTI")
    mode = mode.lower()
    if mode == b"no":
        return OK
    if mode in (b"yes", b"sync"):
        raise CommandError("ERR SCRIPT DEBUG YES/SYNC is not supported: Hush has no Lua debugger")
    raise CommandError("ERR Use SCRIPT DEBUG YES/SYNC/NO")
