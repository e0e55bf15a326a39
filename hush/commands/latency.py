# -*- test-case-name: tests.commands.test_latency -*-
"""LATENCY: LATEST, HISTORY, RESET, GRAPH, DOCTOR, HISTOGRAM, HELP (:mod:`hush.ops.latency`)."""

from __future__ import annotations

from hush.commands import introspect
from hush.commands.table import all_commands, command, container, help_command
from hush.core.errors import CommandError, c_text
from hush.ops.latency import histogram_reply
from hush.wire.resp import Verbatim

GROUP = "server"
_FLAGS = ("admin", "noscript", "loading", "stale")
_ACL = ("@admin", "@slow", "@dangerous")
_TIPS = ("nondeterministic_output", "request_policy:all_nodes", "response_policy:special")

container("latency", group=GROUP, since="2.8.13",
          summary="A container for latency diagnostics commands")


@command("latency|latest", arity=2, flags=_FLAGS, group=GROUP, since="2.8.13", acl=_ACL,
         tips=_TIPS, summary="Return the latest latency samples for all events.")
def latency_latest(ctx) -> list:
    """[event, time, latest latency, all-time max] for each event class."""
    return ctx.server.latency.latest()


@command("latency|history", arity=3, flags=_FLAGS, group=GROUP, since="2.8.13", acl=_ACL,
         tips=_TIPS, summary="Return timestamp-latency samples for the event.")
def latency_history(ctx, event: bytes) -> list:
    """The [time, latency] samples of an event class, oldest first."""
    return ctx.server.latency.history(event)


@command("latency|reset", arity=-2, flags=_FLAGS, group=GROUP, since="2.8.13", acl=_ACL,
         tips=("request_policy:all_nodes", "response_policy:all_succeeded"),
         summary="Reset latency data for one or more events.")
def latency_reset(ctx, *events: bytes) -> int:
    """Forget the named event classes (all without names); how many there were."""
    return ctx.server.latency.reset(events)


@command("latency|graph", arity=3, flags=_FLAGS, group=GROUP, since="2.8.13", acl=_ACL,
         tips=_TIPS, summary="Return a latency graph for the event.")
def latency_graph(ctx, event: bytes) -> Verbatim:
    """An ASCII graph of an event class's samples."""
    graph = ctx.server.latency.graph(event, int(ctx.server.clock.seconds()))
    if graph is None:
        raise CommandError(f"ERR No samples available for event '{c_text(event)}'")
    return Verbatim(graph)


@command("latency|doctor", arity=2, flags=_FLAGS, group=GROUP, since="2.8.13", acl=_ACL,
         tips=_TIPS, summary="Return a human readable latency analysis report.")
def latency_doctor(ctx) -> Verbatim:
    """Redis's latency analysis, with its advice."""
    settings = ctx.server.settings
    return Verbatim(ctx.server.latency.doctor(settings.latency_monitor_threshold,
                                              settings.slowlog_log_slower_than,
                                              int(ctx.server.clock.seconds())))


@command("latency|histogram", arity=-2, flags=_FLAGS, group=GROUP, since="7.0.0", acl=_ACL,
         tips=_TIPS,
         summary="Return the cumulative distribution of latencies of a subset of commands "
                 "or all.")
def latency_histogram(ctx, *names: bytes) -> dict:
    """Calls and cumulative duration buckets of the named commands (all without names)."""
    stats = ctx.server.commandstats
    histograms = stats.histograms or []
    if names:
        chosen = []
        for name in names:
            cmd = introspect.find(name)
            if cmd is not None:
                chosen.append(cmd)
                chosen.extend(introspect.unique_subcommands(cmd))
    else:
        chosen = [each for cmd in all_commands()
                  for each in (cmd, *introspect.unique_subcommands(cmd))]
    reply = {}
    for cmd in chosen:
        counts = histograms[cmd.number] if cmd.number < len(histograms) else None
        if counts and any(counts):
            reply[cmd.full_name.encode()] = histogram_reply(counts)
    return reply


help_command("latency", [
    "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the "
    "specified command names.",
    "    If no commands are specified then all histograms are replied.",
    "HELP",
    "    Prints this help.",
], group=GROUP, since="2.8.13", acl=("slow",))
