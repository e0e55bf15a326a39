# -*- test-case-name: tests.commands.test_memory -*-
"""MEMORY: USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE, HELP.

MEMORY USAGE answers what Redis 7.0 would hold for a key and its value (its
objectComputeSize, modelled per type in :mod:`hush.data.types`); STATS and
DOCTOR report on Hush's own figures in Redis's shape (:mod:`hush.ops.memstats`).
"""

from __future__ import annotations

import gc

from hush.commands.args import parse_int
from hush.commands.table import command, container, help_command
from hush.core.errors import SYNTAX, CommandError
from hush.data.types.alloc import DEFAULT_SAMPLES
from hush.data.types.registry import memory_usage
from hush.ops import memstats
from hush.wire.resp import OK, Verbatim

GROUP = "server"
_TIPS = ("nondeterministic_output", "request_policy:all_shards", "response_policy:special")

container("memory", group=GROUP, since="4.0.0", summary="A container for memory diagnostics commands")


@command("memory|usage", arity=-3, flags=("readonly",), keys=(2, 2, 1), group=GROUP,
         since="4.0.0", summary="Estimate the memory usage of a key", acl=("@read", "@slow"),
         key_specs=({
             "flags": ["RO"],
             "begin_search": {"type": "index", "spec": {"index": 2}},
             "find_keys": {"type": "range", "spec": {"lastkey": 0, "keystep": 1, "limit": 0}},
         },))
def memory_usage_(ctx, key: bytes, *options: bytes) -> int | None:
    """Bytes Redis would use for ``key`` and its value; null when there is no key."""
    samples = DEFAULT_SAMPLES
    index = 0
    while index < len(options):
        if options[index].lower() == b"samples" and index + 1 < len(options):
            samples = parse_int(options[index + 1])
            if samples < 0:
                raise CommandError(SYNTAX)
            index += 2
        else:
            raise CommandError(SYNTAX)
    db = ctx.db
    # Redis looks the key up without expiring it.
    value = db.data.get(key)
    if value is None:
        return None
    return memory_usage(key, value, db.encodings.get(key), samples)


@command("memory|stats", arity=2, group=GROUP, since="4.0.0",
         summary="Show memory usage details", acl=("@slow",), tips=_TIPS)
def memory_stats(ctx) -> dict:
    """Redis's memory overhead report: a map (nested per database)."""
    return memstats.stats(ctx.server)


@command("memory|doctor", arity=2, group=GROUP, since="4.0.0",
         summary="Outputs memory problems report", acl=("@slow",), tips=_TIPS)
def memory_doctor(ctx) -> Verbatim:
    """Redis's memory doctor, on Hush's figures."""
    return Verbatim(memstats.doctor(ctx.server))


@command("memory|malloc-stats", arity=2, group=GROUP, since="4.0.0",
         summary="Show allocator internal stats", acl=("@slow",), tips=_TIPS)
def memory_malloc_stats(ctx) -> bytes:
    """What Redis answers when not built with jemalloc: Hush uses CPython's allocator."""
    return b"Stats not supported for the current allocator"


@command("memory|purge", arity=2, group=GROUP, since="4.0.0",
         summary="Ask the allocator to release memory", acl=("@slow",),
         tips=("request_policy:all_shards", "response_policy:all_succeeded"))
def memory_purge(ctx):
    """Collect unreachable cycles, which is what CPython can give back."""
    gc.collect()
    return OK


help_command("memory", [
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
], group=GROUP, since="4.0.0", acl=("slow",))
