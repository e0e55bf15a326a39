# -*- test-case-name: tests.unit.ops.test_info -*-
"""Per-command and per-error accounting: INFO commandstats and errorstats.

The dispatcher (:meth:`hush.server.protocol.RedisProtocol.execute`) times each
handler with :func:`time.perf_counter` and adds to the counters kept on the
command table's entries (``calls``, ``seconds``, ``rejected_calls``,
``failed_calls``): a couple of attribute updates per command, no lookups.
Error replies are counted here by their code (the first word: ``ERR``,
``WRONGTYPE``...), as Redis's errorstats do. The command table is
process-wide, so these counters are too; a new :class:`StoreService` starts
them from zero.
"""

from __future__ import annotations

from hush.commands.table import Command, all_commands
from hush.core.errors import CommandError

#: Redis tracks at most this many distinct error codes; later new codes are
#: still counted in total_error_replies but get no errorstat line.
MAX_ERROR_CODES = 128

#: Error code -> replies with that code.
errors: dict[str, int] = {}


class _Totals:
    total_error_replies = 0


totals = _Totals()


def count_error(error: CommandError) -> None:
    """Count one error reply (total_error_replies and its code's errorstat)."""
    totals.total_error_replies += 1
    code = error.message.split(" ", 1)[0]
    count = errors.get(code)
    if count is not None:
        errors[code] = count + 1
    elif len(errors) < MAX_ERROR_CODES:
        errors[code] = 1


def every_command() -> list[Command]:
    """Every command and subcommand, each once, by full name."""
    found: list[Command] = []
    for cmd in all_commands():
        found.append(cmd)
        found.extend({id(sub): sub for sub in cmd.subcommands.values()}.values())
    return sorted(found, key=lambda cmd: cmd.full_name)


def reset() -> None:
    """Zero every command's counters and the error counts (CONFIG RESETSTAT)."""
    for cmd in every_command():
        cmd.calls = cmd.rejected_calls = cmd.failed_calls = 0
        cmd.seconds = 0.0
    errors.clear()
    totals.total_error_replies = 0


def commandstats_lines() -> list[tuple[str, str]]:
    """``cmdstat_<name>`` fields for every command that was called, rejected or failed."""
    lines = []
    for cmd in every_command():
        calls = cmd.calls
        if not (calls or cmd.rejected_calls or cmd.failed_calls):
            continue
        usec = int(cmd.seconds * 1_000_000)
        per_call = usec / calls if calls else 0.0
        lines.append((
            f"cmdstat_{cmd.full_name}",
            f"calls={calls},usec={usec},usec_per_call={per_call:.2f},"
            f"rejected_calls={cmd.rejected_calls},failed_calls={cmd.failed_calls}",
        ))
    return lines


def errorstats_lines() -> list[tuple[str, str]]:
    """``errorstat_<CODE>:count=N`` fields, in Redis's (byte-wise sorted) order."""
    return [(f"errorstat_{code}", f"count={count}") for code, count in sorted(errors.items())]
