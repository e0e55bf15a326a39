# -*- test-case-name: tests.unit.ops.test_info -*-
"""Per-command and per-error accounting: INFO commandstats and errorstats.

Each server keeps its own :class:`CommandStats` (``StoreService.commandstats``),
starting from zero, as a new Redis does. The dispatcher
(:meth:`hush.commands.dispatch.Session.execute`) times each handler with
:func:`time.perf_counter` and adds to the counters of the command that ran:
they sit in lists indexed by the command's number (``Command.number``), so
counting is two list updates per command, no lookups. Error replies are
counted by their code (the first word: ``ERR``, ``WRONGTYPE``...), as Redis's
errorstats do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from hush.core.errors import CommandError

#: Duration buckets of a command's histogram: up to 1024 ns, then one per
#: doubling up to Redis's 1 second ceiling (hush.ops.latency).
HISTOGRAM_BUCKETS = 21

#: Redis tracks at most this many distinct error codes; later new codes are
#: still counted in total_error_replies but get no errorstat line.
MAX_ERROR_CODES = 128


class Counted(Protocol):
    """What the counters need of a command (:class:`hush.commands.table.Command`)."""

    #: The command's index into the counter lists.
    number: int

    @property
    def full_name(self) -> str:
        """``container|sub`` for subcommands, the name otherwise."""


class CommandStats:
    """One server's counters per command and per error code.

    @ivar calls: command number -> calls that ran.
    @ivar seconds: command number -> seconds spent in its handler.
    @ivar rejected: command number -> calls refused before running (arity,
        NOAUTH, OOM ...).
    @ivar failed: command number -> calls that ran and answered an error.
    @ivar errors: error code -> error replies with that code.
    @ivar total_error_replies: every error reply (INFO stats).
    @ivar histograms: command number -> calls per duration bucket (LATENCY
        HISTOGRAM, :mod:`hush.ops.latency`) while latency-tracking is on, else None.
    """

    def __init__(self, commands: Callable[[], Iterable[Counted]]) -> None:
        """``commands`` lists every command and subcommand, sorted by full name."""
        self._commands = commands
        self.calls: list[int] = []
        self.seconds: list[float] = []
        self.rejected: list[int] = []
        self.failed: list[int] = []
        self.errors: dict[str, int] = {}
        self.total_error_replies = 0
        self.histograms: list[list[int]] | None = []
        self.make_room(max((cmd.number for cmd in commands()), default=-1))

    def make_room(self, number: int) -> None:
        """Have counters up to command ``number`` (one registered after this server started).

        The lists grow in place: sessions hold on to them.
        """
        missing = number + 1 - len(self.calls)
        if missing > 0:
            self.calls.extend([0] * missing)
            self.seconds.extend([0.0] * missing)
            self.rejected.extend([0] * missing)
            self.failed.extend([0] * missing)
        histograms = self.histograms
        if histograms is not None and len(histograms) < len(self.calls):
            histograms.extend([0] * HISTOGRAM_BUCKETS
                              for _ in range(len(self.calls) - len(histograms)))

    def track_latency(self, enabled: bool) -> None:
        """latency-tracking: keep per-command duration histograms, or drop them.

        Sessions look the histograms up when they are made and when this
        changes (:meth:`hush.commands.dispatch.Session.update_gate`).
        """
        if enabled and self.histograms is None:
            self.histograms = []
            self.make_room(len(self.calls) - 1)
        elif not enabled:
            self.histograms = None

    def rejected_call(self, cmd: Counted) -> None:
        """``cmd`` was refused before it ran."""
        self.make_room(cmd.number)
        self.rejected[cmd.number] += 1

    def failed_call(self, cmd: Counted) -> None:
        """``cmd`` ran and answered an error."""
        self.make_room(cmd.number)
        self.failed[cmd.number] += 1

    def count_error(self, error: CommandError) -> None:
        """Count one error reply (total_error_replies and its code's errorstat)."""
        self.total_error_replies += 1
        code = error.message.split(" ", 1)[0]
        errors = self.errors
        count = errors.get(code)
        if count is not None:
            errors[code] = count + 1
        elif len(errors) < MAX_ERROR_CODES:
            errors[code] = 1

    def reset(self) -> None:
        """Zero every counter (CONFIG RESETSTAT)."""
        size = len(self.calls)
        # In place, as make_room: sessions hold on to the lists.
        self.calls[:] = [0] * size
        self.seconds[:] = [0.0] * size
        self.rejected[:] = [0] * size
        self.failed[:] = [0] * size
        self.errors.clear()
        self.total_error_replies = 0
        if self.histograms is not None:
            for counts in self.histograms:
                counts[:] = [0] * HISTOGRAM_BUCKETS

    def commandstats_lines(self) -> list[tuple[str, str]]:
        """``cmdstat_<name>`` fields for every command that was called, rejected or failed."""
        lines = []
        size = len(self.calls)
        for cmd in self._commands():
            number = cmd.number
            if number >= size:
                continue
            calls, rejected, failed = self.calls[number], self.rejected[number], self.failed[number]
            if not (calls or rejected or failed):
                continue
            usec = int(self.seconds[number] * 1_000_000)
            per_call = usec / calls if calls else 0.0
            lines.append((
                f"cmdstat_{cmd.full_name}",
                f"calls={calls},usec={usec},usec_per_call={per_call:.2f},"
                f"rejected_calls={rejected},failed_calls={failed}",
            ))
        return lines

    def errorstats_lines(self) -> list[tuple[str, str]]:
        """``errorstat_<CODE>:count=N`` fields, in Redis's (byte-wise sorted) order."""
        return [(f"errorstat_{code}", f"count={count}")
                for code, count in sorted(self.errors.items())]
