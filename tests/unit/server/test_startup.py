"""Starting as Redis does: notes, the pid file, one-line failures, listeners, TCP keepalive."""

from __future__ import annotations

import os
import socket
import sys

import pytest
from twisted.internet.error import CannotListenError

from hush.config.directives import NOTES
from hush.config.files import load_file
from hush.config.settings import Settings
from hush.server import keepalive, service
from hush.server.keepalive import apply_keepalive, tcp_socket
from hush.server.service import BadEndpoint, listen_failure, make_service
from hush.server.startup import (
    PidFile,
    StartupFailure,
    StartupLog,
    quiet_startup_failures,
)
from tests.support import FakeServer


def messages(events: list[dict]) -> list[str]:
    from twisted.logger import formatEvent

    return [formatEvent(event) for event in events]


# -- one-line failures -------------------------------------------------------------------


def test_a_startup_failure_ends_without_a_traceback(monkeypatch, capsys):
    seen = []
    monkeypatch.setattr(sys, "excepthook", lambda *args: seen.append(args[0]))
    quiet_startup_failures()
    quiet_startup_failures()  # once is enough: the hook is not stacked
    try:
        raise StartupFailure("Failed listening on port 1 (TCP), aborting.")
    except StartupFailure:
        sys.excepthook(*sys.exc_info())
    try:
        raise ValueError("a bug")
    except ValueError:
        sys.excepthook(*sys.exc_info())
    # The failure was logged where it happened: nothing more; other errors as before.
    assert seen == [ValueError]
    assert capsys.readouterr().err == ""


def test_a_port_in_use_is_redis_s_two_lines_and_a_failed_start(logged):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        top = make_service(Settings(listen=[f"tcp:{port}:interface=127.0.0.1"]))
        with pytest.raises(StartupFailure) as failure:
            top.privilegedStartService()
    lines = [f"Warning: Could not create server TCP listening socket 127.0.0.1:{port}: "
             "bind: Address already in use",
             f"Failed listening on port {port} (TCP), aborting."]
    assert str(failure.value) == lines[-1]
    assert messages(logged)[-2:] == lines


def test_a_bad_endpoint_is_named_with_a_plain_reason():
    with pytest.raises(BadEndpoint) as error:
        make_service(Settings(listen=["tcp:7000", "tcp:7001:bogus=1"]))
    assert (error.value.description, error.value.reason) == (
        "tcp:7001:bogus=1", "unknown parameter 'bogus'")
    assert str(error.value) == "'tcp:7001:bogus=1': unknown parameter 'bogus'"


@pytest.mark.parametrize(("description", "error", "lines"), [
    ("tcp:6379", CannotListenError("", 6379, OSError(98, "Address already in use")),
     ["Warning: Could not create server TCP listening socket *:6379: bind: Address already "
      "in use", "Failed listening on port 6379 (TCP), aborting."]),
    ("ssl:6380:privateKey=k:certKey=c",
     CannotListenError("0.0.0.0", 6380, OSError(13, "Permission denied")),
     ["Warning: Could not create server TCP listening socket *:6380: bind: Permission denied",
      "Failed listening on port 6380 (TLS), aborting."]),
    ("unix:/run/x.sock", CannotListenError(None, "/run/x.sock", OSError(13, "Permission denied")),
     ["Failed opening Unix socket: bind: Permission denied"]),
    ("systemd:domain=INET:index=0", CannotListenError(None, None, OSError(9, "Bad fd")),
     ["Failed listening on systemd:domain=INET:index=0: Bad fd"]),
    ("", CannotListenError("", 9121, OSError(98, "Address already in use")),
     ["Failed listening on 9121: Address already in use"]),
])
def test_listen_failure_texts(description, error, lines):
    assert listen_failure(description, error) == lines


def test_too_few_files_to_start_is_a_startup_failure(monkeypatch):
    from hush.server import limits

    def refuse(maxclients):
        raise limits.FileLimitError("Your current 'ulimit -n' of 32 is not enough ...")

    monkeypatch.setattr(limits, "adjust_open_files_limit", refuse)
    with pytest.raises(StartupFailure, match="ulimit"):
        FakeServer().service.privilegedStartService()


# -- the pid file ------------------------------------------------------------------------


def test_pidfile_written_at_start_and_removed_at_stop(tmp_path):
    path = tmp_path / "hush.pid"
    top = make_service(Settings(listen=[], pidfile=str(path)))
    assert isinstance(list(top)[0], PidFile)
    pidfile = list(top)[0]
    pidfile.privilegedStartService()
    assert path.read_text() == f"{os.getpid()}\n"
    pidfile.stopService()
    assert not path.exists()
    pidfile.remove()  # again: nothing to do, no error
    assert not [s for s in make_service(Settings(listen=[])) if isinstance(s, PidFile)]


def test_a_pidfile_that_cannot_be_written_is_only_logged(tmp_path, logged):
    pidfile = PidFile(str(tmp_path / "no" / "such" / "hush.pid"))
    pidfile.privilegedStartService()
    assert "Failed to write PID file: No such file or directory" in messages(logged)
    pidfile.stopService()


# -- notes ---------------------------------------------------------------------------------


def test_startup_log_notes_what_hush_does_instead(tmp_path, logged):
    path = tmp_path / "redis.conf"
    path.write_text("daemonize yes\nrdbcompression yes\nrdbchecksum no\nhz 100\n")
    settings = Settings(listen=["tcp:7000"])
    load_file(str(path), settings)
    StartupLog(settings).startService()
    text = messages(logged)
    assert "Configuration loaded" in text
    assert f"daemonize: {NOTES['daemonize']}" in text
    assert f"rdbcompression, rdbchecksum: {NOTES['rdb']}" in text
    assert text.index("Configuration loaded") < text.index("Ready to accept connections")
    assert not any(line.startswith("hz") for line in text)


# -- TCP keepalive ------------------------------------------------------------------------------


class Handle:
    """A transport as far as apply_keepalive looks: a handle, maybe a transport beneath."""

    def __init__(self, handle, transport=None) -> None:
        self._handle, self.transport = handle, transport

    def getHandle(self):
        return self._handle


@pytest.fixture
def accepted():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        client = socket.create_connection(server.getsockname())
        conn, _ = server.accept()
        yield conn
        conn.close()
        client.close()


def test_keepalive_is_set_as_redis_sets_it(accepted):
    assert apply_keepalive(Handle(accepted), 60)
    assert accepted.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    if hasattr(socket, "TCP_KEEPIDLE"):
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 60
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == 20
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == 3


def test_keepalive_zero_and_non_tcp_transports_are_left_alone(accepted, tmp_path):
    assert not apply_keepalive(Handle(accepted), 0)
    assert accepted.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 0
    # Under TLS the handle is OpenSSL's; the socket is one transport down.
    assert tcp_socket(Handle(object(), Handle(accepted))) is accepted
    with socket.socket(socket.AF_UNIX) as unix:
        assert tcp_socket(Handle(unix)) is None
    assert tcp_socket(object()) is None
    # An idle time Linux refuses (over 32767 s) leaves the kernel's default.
    assert apply_keepalive(Handle(accepted), 2**31 - 1)
    assert accepted.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1


def test_each_new_client_gets_the_keepalive_of_the_moment(monkeypatch):
    calls = []
    monkeypatch.setattr(service, "apply_keepalive",
                        lambda transport, interval: calls.append(interval))
    server = FakeServer()
    server.client()
    server.settings.set("tcp-keepalive", "10")
    server.client()
    assert calls == [300, 10]
    assert keepalive.PROBES == 3
