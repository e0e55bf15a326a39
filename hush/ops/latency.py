# -*- test-case-name: tests.commands.test_latency -*-
"""The latency monitor and per-command latency histograms (Redis 7.0's latency.c).

The monitor keeps, per event class, the worst latency of each second for
the last 160 seconds with an event, once ``latency-monitor-threshold`` is
set: the dispatcher reports commands at least that slow as ``command`` or,
for commands flagged fast, ``fast-command`` (:meth:`LatencyMonitor.add`).
LATENCY LATEST, HISTORY, RESET, GRAPH and DOCTOR read it, with Redis's
texts.

The histograms count each command's durations in the buckets LATENCY
HISTOGRAM reports (powers of two from 1024 ns, as Redis iterates its HDR
histograms), while ``latency-tracking`` is on (:func:`bucket_of`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

#: Samples kept per event class (Redis's LATENCY_TS_LEN).
HISTORY_LENGTH = 160
#: Columns of LATENCY GRAPH.
GRAPH_COLUMNS = 80
#: Histogram buckets: durations below 1024 ns * 2**k, for k below this
#: (Redis clamps durations to one second).
BUCKETS = 21


def bucket_of(seconds: float) -> int:
    """The histogram bucket of a duration: 0 below 1024 ns, then one per doubling.

    The dispatcher inlines this (hush.commands.dispatch).
    """
    return min(int(seconds * 976562.5).bit_length(), BUCKETS - 1)


def histogram_reply(counts: list[int]) -> dict[bytes, object]:
    """One command's LATENCY HISTOGRAM entry: calls, then cumulative counts per bucket.

    A bucket is named by the microseconds its upper bound stands for in
    Redis's HDR histogram (1024 ns * 2**k, plus its precision's slack).
    """
    histogram: dict[int, int] = {}
    cumulative = 0
    for index, count in enumerate(counts):
        if count:
            cumulative += count
            upper = 1024 << index
            histogram[(upper + upper // 128 - 1) // 1000] = cumulative
    return {b"calls": cumulative, b"histogram_usec": histogram}


class EventSeries:
    """One event class's samples: (unix second, worst latency in ms), oldest first."""

    __slots__ = ("samples", "max")

    def __init__(self) -> None:
        self.samples: list[tuple[int, int]] = []
        self.max = 0


class LatencyMonitor:
    """One server's latency events."""

    def __init__(self) -> None:
        self.events: dict[bytes, EventSeries] = {}

    def add(self, event: bytes, latency_ms: int, now: int) -> None:
        """Record an event of ``latency_ms`` at unix second ``now`` (Redis's latencyAddSample)."""
        series = self.events.get(event)
        if series is None:
            series = self.events[event] = EventSeries()
        series.max = max(series.max, latency_ms)
        samples = series.samples
        if samples and samples[-1][0] == now:
            if latency_ms > samples[-1][1]:
                samples[-1] = (now, latency_ms)
            return
        samples.append((now, latency_ms))
        if len(samples) > HISTORY_LENGTH:
            del samples[0]

    def reset(self, events: Iterable[bytes] = ()) -> int:
        """Forget the named event classes (all without names); how many were known."""
        names = [name.lower() for name in events]
        if not names:
            count = len(self.events)
            self.events.clear()
            return count
        reset = 0
        for event in list(self.events):
            if event.lower() in names:
                del self.events[event]
                reset += 1
        return reset

    def latest(self) -> list[list]:
        """LATENCY LATEST: [event, time, latest latency, all-time max] per event."""
        return [[event, series.samples[-1][0], series.samples[-1][1], series.max]
                for event, series in self.events.items()]

    def history(self, event: bytes) -> list[list[int]]:
        """LATENCY HISTORY: [time, latency] pairs of an event, oldest first."""
        series = self.events.get(event)
        return [] if series is None else [list(sample) for sample in series.samples]

    def graph(self, event: bytes, now: int) -> bytes | None:
        """LATENCY GRAPH's ASCII art, or None when the event has no samples."""
        series = self.events.get(event)
        if series is None:
            return None
        values = [latency for _time, latency in series.samples]
        labels = [_age(now - time) for time, _latency in series.samples]
        head = "%s - high %d ms, low %d ms (all time high %d ms)\n" % (
            event.decode("utf-8", "replace"), max(values), min(values), series.max)
        return (head + "-" * GRAPH_COLUMNS + "\n" + sparkline(values, labels)).encode()

    def doctor(self, threshold_ms: int, slowlog_us: int, now: int) -> bytes:
        """LATENCY DOCTOR: Redis's report, for the events Hush records."""
        if not self.events and threshold_ms == 0:
            return (b"I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this "
                    b"Redis instance. You may use \"CONFIG SET latency-monitor-threshold "
                    b"<milliseconds>.\" in order to enable it. If we weren't in a deep space "
                    b"mission I'd suggest to take a look at "
                    b"https://redis.io/topics/latency-monitor.\n")
        report = ""
        advice: dict[str, bool] = {}
        for number, (event, series) in enumerate(self.events.items(), start=1):
            if number == 1:
                report += ("Dave, I have observed latency spikes in this Redis instance. You "
                           "don't mind talking about it, do you Dave?\n\n")
            report += _event_line(number, event, series, now)
            if event == b"command":
                if slowlog_us < 0:
                    advice["slowlog_enabled"] = True
                elif slowlog_us // 1000 > threshold_ms:
                    advice["slowlog_tuning"] = True
                advice["slowlog_inspect"] = advice["large_objects"] = True
            elif event == b"fast-command":
                advice["scheduler"] = True
            report += "\n"
        if not self.events and not advice:
            return (report + "Dave, no latency spike was observed during the lifetime of this "
                    "Redis instance, not in the slightest bit. I honestly think you ought to sit "
                    "down calmly, take a stress pill, and think things over.\n").encode()
        if not advice:
            return (report + "\nWhile there are latency events logged, I'm not able to suggest "
                    "any easy fix. Please use the Redis community to get some help, providing "
                    "this report in your help request.\n").encode()
        report += "\nI have a few advices for you:\n\n"
        if advice.get("slowlog_enabled"):
            report += (
                "- There are latency issues with potentially slow commands you are using. Try "
                "to enable the Slow Log Redis feature using the command 'CONFIG SET "
                f"slowlog-log-slower-than {threshold_ms * 1000}'. If the Slow log is disabled "
                "Redis is not able to log slow commands execution for you.\n")
        if advice.get("slowlog_tuning"):
            report += (
                "- Your current Slow Log configuration only logs events that are slower than "
                "your configured latency monitor threshold. Please use 'CONFIG SET "
                f"slowlog-log-slower-than {threshold_ms * 1000}'.\n")
        if advice.get("slowlog_inspect"):
            report += (
                "- Check your Slow Log to understand what are the commands you are running "
                "which are too slow to execute. Please check https://redis.io/commands/slowlog "
                "for more information.\n")
        if advice.get("scheduler"):
            report += (
                "- The system is slow to execute Redis code paths not containing system calls. "
                "This usually means the system does not provide Redis CPU time to run for long "
                "periods. You should try to:\n"
                "  1) Lower the system load.\n"
                "  2) Use a computer / VM just for Redis if you are running other software in "
                "the same system.\n"
                "  3) Check if you have a \"noisy neighbour\" problem.\n"
                "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic "
                "latency in your system.\n"
                "  5) Check if the problem is allocator-related by recompiling Redis with "
                "MALLOC=libc, if you are using Jemalloc. However this may create fragmentation "
                "problems.\n")
        if advice.get("large_objects"):
            report += (
                "- Deleting, expiring or evicting (because of maxmemory policy) large objects "
                "is a blocking operation. If you have very large objects that are often "
                "deleted, expired, or evicted, try to fragment those objects into multiple "
                "smaller objects.\n")
        return report.encode()


def _event_line(number: int, event: bytes, series: EventSeries, now: int) -> str:
    """One event's line of the doctor's report (Redis's analyzeLatencyForEvent)."""
    latencies = [latency for _time, latency in series.samples]
    count = len(latencies)
    average = sum(latencies) // count
    deviation = sum(abs(average - latency) for latency in latencies) // count
    period = max(1, now - series.samples[0][0])
    return ("%d. %s: %d latency spikes (average %dms, mean deviation %dms, period %.2f sec). "
            "Worst all time event %dms." % (number, event.decode("utf-8", "replace"), count,
                                            average, deviation, period / count, series.max))


def _age(seconds: int) -> str:
    """A sample's label in LATENCY GRAPH: how long ago, in s, m, h or d."""
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def sparkline(values: list[int], labels: list[str], rows: int = 4) -> str:
    """Redis's sparklineRender with its fill charset, in chunks of 80 columns."""
    parts = []
    for start in range(0, len(values), GRAPH_COLUMNS):
        parts.append(_render_range(values, labels, rows, start,
                                   min(GRAPH_COLUMNS, len(values) - start)))
    return "\n".join(parts)


def _render_range(values: list[int], labels: list[str], rows: int, offset: int,
                  length: int) -> str:
    charset = "_o#"
    low, high = min(values), max(values)
    span = (high - low) or 1
    steps = len(charset) * rows
    has_labels = any(labels)
    lines = []
    row = 0
    while True:
        chars = [" "] * length
        drawn = False
        for column in range(length):
            value = values[column + offset]
            step = int(math.floor((value - low) * steps / span))
            step = min(max(step, 0), steps - 1)
            if row < rows:
                index = step - (rows - row - 1) * len(charset)
                drawn = True
                if 0 <= index < len(charset):
                    chars[column] = charset[index]
                elif index >= len(charset):
                    chars[column] = "|"
            else:
                if has_labels and row - rows < 1:
                    drawn = True
                    break
                label = labels[column + offset]
                position = row - rows - 1
                if len(label) > position:
                    drawn = True
                    chars[column] = label[position]
        if not drawn:
            return "".join(lines)
        lines.append("".join(chars) + "\n")
        row += 1
