"""The log observer twistd gets from Hush: loglevel, logfile, syslog, twistd's own choices."""

from __future__ import annotations

import io
import sys

import pytest
from twisted.application.service import Application
from twisted.logger import ILogObserver, LogLevel

from hush.config.settings import Settings
from hush.server import logconfig
from hush.server.logconfig import (
    AppendingFile,
    LevelFilter,
    Syslog,
    observer,
    redis_level,
    twistd_sink,
)
from hush.server.service import make_service


def event(text: str, level: LogLevel = LogLevel.info, **extra) -> dict:
    return {"log_format": text, "log_level": level, "log_time": 1_700_000_000.0,
            "log_namespace": "test", **extra}


@pytest.mark.parametrize(("ev", "level"), [
    (event("x", LogLevel.debug), "debug"),
    (event("x", LogLevel.info), "notice"),
    (event("x", LogLevel.warn), "warning"),
    (event("x", LogLevel.error), "warning"),
    (event("x", LogLevel.critical), "warning"),
    (event("x", LogLevel.debug, redis_level="verbose"), "verbose"),
    ({"log_format": "legacy"}, "notice"),
])
def test_redis_level_of_an_event(ev, level):
    assert redis_level(ev) == level


@pytest.mark.parametrize(("loglevel", "kept"), [
    ("debug", ["debug", "verbose", "notice", "warning"]),
    ("verbose", ["verbose", "notice", "warning"]),
    ("notice", ["notice", "warning"]),
    ("warning", ["warning"]),
])
def test_loglevel_keeps_its_level_and_above(loglevel, kept):
    settings = Settings(loglevel=loglevel)
    events = {"debug": event("d", LogLevel.debug),
              "verbose": event("v", LogLevel.debug, redis_level="verbose"),
              "notice": event("n"), "warning": event("w", LogLevel.warn)}
    passed = [name for name, ev in events.items()
              if LevelFilter(settings)(ev) is logconfig.PredicateResult.yes]
    assert passed == kept


def test_config_set_loglevel_applies_to_the_next_line(tmp_path):
    settings = Settings(logfile=str(tmp_path / "hush.log"))
    log = observer(settings, {"nodaemon": True})
    log(event("one"))
    settings.set("loglevel", "warning")
    log(event("two"))
    log(event("three", LogLevel.warn))
    settings.set("loglevel", "verbose")
    log(event("four", LogLevel.debug, redis_level="verbose"))
    log(event("five", LogLevel.debug))
    lines = (tmp_path / "hush.log").read_text().splitlines()
    assert [line.rpartition(" ")[2] for line in lines] == ["one", "three", "four"]


def test_logfile_is_appended_to_a_line_at_a_time(tmp_path):
    path = tmp_path / "hush.log"
    path.write_text("before\n")
    sink = AppendingFile(str(path))
    sink(event("first"))
    # logrotate moves the file away: the next line starts a new one.
    path.rename(tmp_path / "hush.log.1")
    sink(event("second"))
    assert (tmp_path / "hush.log.1").read_text().startswith("before\n")
    assert "first" in (tmp_path / "hush.log.1").read_text()
    assert "second" in path.read_text() and "first" not in path.read_text()
    # A line that cannot be written is dropped, as Redis drops it.
    AppendingFile(str(tmp_path / "no" / "dir.log"))(event("lost"))


class FakeSyslog:
    LOG_PID, LOG_NDELAY, LOG_NOWAIT = 1, 8, 16

    def __init__(self) -> None:
        self.opened: tuple | None = None
        self.lines: list[tuple[int, str]] = []

    def openlog(self, ident, options, facility) -> None:
        self.opened = (ident, options, facility)

    def syslog(self, priority, line) -> None:
        self.lines.append((priority, line))


def test_syslog_gets_each_line_at_redis_priorities():
    import syslog

    fake = FakeSyslog()
    sink = Syslog("hush-test", "local3", module=fake)
    assert fake.opened == ("hush-test", 1 | 8 | 16, syslog.LOG_LOCAL3)
    sink(event("starting"))
    sink(event("careful", LogLevel.warn))
    sink(event("idle", LogLevel.debug, redis_level="verbose"))
    sink(event("two\nlines", LogLevel.debug))
    assert fake.lines == [(syslog.LOG_NOTICE, "starting"), (syslog.LOG_WARNING, "careful"),
                          (syslog.LOG_INFO, "idle"), (syslog.LOG_DEBUG, "two"),
                          (syslog.LOG_DEBUG, "lines")]


def test_syslog_enabled_adds_syslog_to_the_logfile(tmp_path, monkeypatch):
    fake = FakeSyslog()
    monkeypatch.setattr(logconfig, "Syslog",
                        lambda ident, facility: Syslog(ident, facility, module=fake))
    settings = Settings(logfile=str(tmp_path / "hush.log"), syslog_enabled=True,
                        syslog_ident="myredis", loglevel="warning")
    log = observer(settings, {"nodaemon": True})
    log(event("kept", LogLevel.warn))
    log(event("dropped"))
    assert fake.opened[0] == "myredis"
    assert [line for _priority, line in fake.lines] == ["kept"]
    text = (tmp_path / "hush.log").read_text()
    assert "kept" in text and "dropped" not in text


def test_twistd_sink_follows_twistds_own_options(tmp_path, monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    twistd_sink({"nodaemon": True, "logfile": None})(event("to stdout"))
    twistd_sink({"nodaemon": True, "logfile": "-"})(event("dash"))
    assert "to stdout" in out.getvalue() and "dash" in out.getvalue()
    path = tmp_path / "t.log"
    twistd_sink({"nodaemon": True, "logfile": str(path)})(event("to file"))
    assert "to file" in path.read_text()
    with pytest.raises(SystemExit, match="Daemons cannot log to stdout"):
        twistd_sink({"nodaemon": False, "logfile": "-"})
    monkeypatch.chdir(tmp_path)
    twistd_sink({"nodaemon": False, "logfile": None})(event("daemon"))
    assert "daemon" in (tmp_path / "twistd.log").read_text()


def test_the_top_service_gives_twistd_its_observer():
    top = make_service(Settings(listen=[]))
    top.log_observer = mine = observer(Settings(), {"nodaemon": True})
    application = Application("hush")
    top.setServiceParent(application)
    assert application.getComponent(ILogObserver) is mine
    # An observer the application already has (a .tac's) is left alone.
    other = Application("hush")
    theirs = observer(Settings(), {"nodaemon": True})
    other.setComponent(ILogObserver, theirs)
    again = make_service(Settings(listen=[]))
    again.log_observer = mine
    again.setServiceParent(other)
    assert other.getComponent(ILogObserver) is theirs


def test_make_service_under_twistd_sets_the_observer():
    from twisted.scripts.twistd import ServerOptions

    config = ServerOptions()
    config.parseOptions(["-n", "--pidfile=", "hush", "--port", "tcp:7000"])
    top = config.loadedPlugins["hush"].makeService(config.subOptions)
    assert ILogObserver.providedBy(top.log_observer)
    # Options parsed outside twistd (no parent): twistd's choice is left alone.
    from hush.tap import Options, makeService

    options = Options()
    options.parseOptions(["--port", "tcp:7000"])
    assert makeService(options).log_observer is None
