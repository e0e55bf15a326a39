# -*- test-case-name: tests.unit.server.test_logconfig -*-
"""Where the log goes and what it keeps: Redis's loglevel, logfile and syslog-* settings.

twistd asks the Application for an ILogObserver component before it starts
any service, and uses it instead of its own choice. Hush's top service
gives it :func:`observer` (see :class:`hush.server.service.HushService`): a filter
by ``loglevel`` -- read at each event, so ``CONFIG SET loglevel`` applies at
once -- in front of

* the file ``logfile`` names, opened for each line as Redis does (logrotate
  may move it away at any time), or with ``logfile ""`` where twistd itself
  would log: standard output under ``twistd -n``, ``--logfile``,
  ``--syslog``, else ``twistd.log``;
* syslog too, with ``syslog-enabled yes`` (``syslog-ident``,
  ``syslog-facility``), at Redis's priorities.

An event's Redis level is its ``redis_level`` key when it has one (Hush's
"verbose" messages say so), else its Twisted level: debug is debug, info is
notice, warn and above are warning.
"""

from __future__ import annotations

import sys
import syslog as _syslog
from collections.abc import Mapping
from typing import Any

from twisted.logger import (
    FilteringLogObserver,
    ILogObserver,
    LegacyLogObserverWrapper,
    LogLevel,
    LogPublisher,
    PredicateResult,
    eventAsText,
    formatEventAsClassicLogText,
    textFileLogObserver,
)
from twisted.python.logfile import LogFile
from zope.interface import implementer

from hush.config.settings import Settings

#: Redis's levels, least severe first.
LEVELS = ("debug", "verbose", "notice", "warning")
_RANK = {name: rank for rank, name in enumerate(LEVELS)}


def redis_level(event: Mapping[str, Any]) -> str:
    """The Redis level of a twisted.logger event."""
    named = event.get("redis_level")
    if named in _RANK:
        return named
    level = event.get("log_level")
    if level is LogLevel.debug:
        return "debug"
    if level is LogLevel.info or level is None:
        return "notice"
    return "warning"


class LevelFilter:
    """Passes the events at or above ``settings.loglevel``, as it is at each event."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __call__(self, event: Mapping[str, Any]) -> PredicateResult:
        wanted = _RANK.get(self.settings.loglevel, _RANK["notice"])
        return PredicateResult.yes if _RANK[redis_level(event)] >= wanted else PredicateResult.no


@implementer(ILogObserver)
class AppendingFile:
    """``logfile``: each line appended to the file, opened for that line as Redis does."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __call__(self, event: Mapping[str, Any]) -> None:
        text = formatEventAsClassicLogText(event)
        if not text:
            return
        try:
            with open(self.path, "a", encoding="utf-8", errors="replace") as handle:
                handle.write(text)
        except OSError:
            pass  # Redis drops a line it cannot write; there is nowhere to say so.


#: syslog-facility's names.
FACILITIES = {"user": _syslog.LOG_USER, **{
    f"local{number}": getattr(_syslog, f"LOG_LOCAL{number}") for number in range(8)}}

#: Redis's syslog priority of each level.
PRIORITIES = {"debug": _syslog.LOG_DEBUG, "verbose": _syslog.LOG_INFO,
              "notice": _syslog.LOG_NOTICE, "warning": _syslog.LOG_WARNING}


@implementer(ILogObserver)
class Syslog:
    """``syslog-enabled yes``: every line to syslog, under ``syslog-ident``, as Redis sends it."""

    def __init__(self, ident: str, facility: str, module: Any = _syslog) -> None:
        self.module = module
        options = module.LOG_PID | module.LOG_NDELAY | getattr(module, "LOG_NOWAIT", 0)
        module.openlog(ident, options, FACILITIES[facility])

    def __call__(self, event: Mapping[str, Any]) -> None:
        text = eventAsText(event, includeTimestamp=False, includeSystem=False)
        priority = PRIORITIES[redis_level(event)]
        for line in text.splitlines():
            self.module.syslog(priority, line)


def twistd_sink(twistd: Mapping[str, Any]) -> ILogObserver:
    """Where twistd would log with these options of its own (``-n``, ``--logfile``, ``--syslog``)."""
    if twistd.get("syslog"):
        from twisted.python.syslog import SyslogObserver

        return LegacyLogObserverWrapper(SyslogObserver(twistd.get("prefix") or "twisted").emit)
    name = twistd.get("logfile") or ""
    if name == "-" or (not name and twistd.get("nodaemon")):
        if not twistd.get("nodaemon"):
            raise SystemExit("Daemons cannot log to stdout, exiting!")
        # The real standard output: twistd redirects sys.stdout into the log later.
        return textFileLogObserver(sys.stdout)
    return textFileLogObserver(LogFile.fromFullPath(name or "twistd.log"))


def observer(settings: Settings, twistd: Mapping[str, Any]) -> ILogObserver:
    """The whole log: the loglevel filter in front of the logfile (or twistd's) and syslog."""
    sinks: list[ILogObserver] = [
        AppendingFile(settings.logfile) if settings.logfile else twistd_sink(twistd)]
    if settings.syslog_enabled:
        sinks.append(Syslog(settings.syslog_ident, settings.syslog_facility))
    return FilteringLogObserver(LogPublisher(*sinks), [LevelFilter(settings)])
