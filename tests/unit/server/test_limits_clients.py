"""maxclients, the open-files limit it needs, and the idle timeout, with fakes."""

from __future__ import annotations

import resource

import pytest
from twisted.logger import globalLogPublisher

from hush.server import limits
from hush.server.limits import FileLimitError, adjust_open_files_limit
from tests.support import REPO, FakeServer

INF = resource.RLIM_INFINITY


class FakeLimits:
    """getrlimit/setrlimit over a (soft, hard) pair; setrlimit obeys the hard limit."""

    def __init__(self, soft: int, hard: int, fail: OSError | None = None) -> None:
        self.soft, self.hard, self.fail = soft, hard, fail
        self.calls: list[tuple[int, int]] = []

    def getrlimit(self, which: int) -> tuple[int, int]:
        assert which == resource.RLIMIT_NOFILE
        return self.soft, self.hard

    def setrlimit(self, which: int, limits: tuple[int, int]) -> None:
        assert which == resource.RLIMIT_NOFILE
        self.calls.append(limits)
        if self.fail is not None:
            raise self.fail
        soft, hard = limits
        if hard != self.hard or (self.hard != INF and soft > self.hard):
            raise OSError(1, "Operation not permitted")
        self.soft = soft

    def adjust(self, maxclients: int):
        return adjust_open_files_limit(maxclients, self.getrlimit, self.setrlimit)


# -- RLIMIT_NOFILE ---------------------------------------------------------------


def test_enough_already():
    fake = FakeLimits(20000, 20000)
    assert fake.adjust(10000) == (10000, [])
    assert fake.calls == []


def test_soft_limit_raised_up_to_what_is_needed():
    fake = FakeLimits(1024, 524288)
    assert fake.adjust(10000) == (10000, [
        "Increased maximum number of open files to 10032 (it was originally set to 1024)."])
    assert fake.calls == [(10032, 524288)]
    assert fake.soft == 10032


def test_infinite_hard_limit():
    fake = FakeLimits(1024, INF)
    maxclients, _ = fake.adjust(10000)
    assert maxclients == 10000
    assert fake.soft == 10032


def test_hard_limit_too_low_reduces_maxclients():
    fake = FakeLimits(1024, 4096)
    maxclients, warnings = fake.adjust(10000)
    assert maxclients == 4096 - 32
    assert fake.soft == 4096
    assert warnings == [
        "You requested maxclients of 10000 requiring at least 10032 max file descriptors.",
        "Server can't set maximum open files to 10032 because of OS error: "
        "Operation not permitted.",
        "Current maximum open files is 4096. maxclients has been reduced to 4064 to "
        "compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.",
    ]


def test_setrlimit_failing_keeps_the_current_limit():
    fake = FakeLimits(1024, 65536, fail=OSError(1, "Operation not permitted"))
    maxclients, warnings = fake.adjust(10000)
    assert maxclients == 1024 - 32
    assert "maxclients has been reduced to 992" in warnings[2]


def test_soft_equal_to_hard():
    fake = FakeLimits(256, 256)
    maxclients, warnings = fake.adjust(10000)
    assert maxclients == 224
    assert fake.calls == []
    assert warnings[0].startswith("You requested maxclients of 10000")


def test_too_few_descriptors_to_start():
    fake = FakeLimits(32, 32)
    with pytest.raises(FileLimitError) as caught:
        fake.adjust(10000)
    assert str(caught.value) == (
        "Your current 'ulimit -n' of 32 is not enough for the server to start. "
        "Please increase your open file limit to at least 10032. Exiting.")


def test_service_start_lowers_maxclients_and_warns(monkeypatch):
    fake = FakeLimits(1024, 1024)
    monkeypatch.setattr(limits, "adjust_open_files_limit",
                        lambda maxclients: adjust_open_files_limit(
                            maxclients, fake.getrlimit, fake.setrlimit))
    server = FakeServer()
    events: list[dict] = []
    globalLogPublisher.addObserver(events.append)
    try:
        server.service.privilegedStartService()
    finally:
        globalLogPublisher.removeObserver(events.append)
    assert server.settings.maxclients == 992
    messages = [e.get("message") for e in events]
    assert any(m and m.startswith("You requested maxclients of 10000") for m in messages)
    assert [e["log_level"].name for e in events if e.get("message")] == ["warn"] * 3
    assert server.client().call("CONFIG", "GET", "maxclients") == [b"maxclients", b"992"]


# -- maxclients ------------------------------------------------------------------


def test_maxclients():
    server = FakeServer(maxclients=2)
    first, second = server.client(40001), server.client(40002)
    third = server.client(40003)
    assert third.raw() == b"-ERR max number of clients reached\r\n"
    assert third.closed
    third.disconnect()
    assert first.call("PING") == b"PONG"
    assert second.call("PING") == b"PONG"
    stats = first.call("INFO", "stats").decode()
    assert "rejected_connections:1\r\n" in stats
    assert "total_connections_received:2\r\n" in stats
    assert "maxclients:2\r\n" in first.call("INFO", "clients").decode()
    # A freed place is taken again.
    second.disconnect()
    fourth = server.client(40004)
    assert fourth.call("PING") == b"PONG"
    assert len(server.service.clients) == 2


# -- idle timeout ----------------------------------------------------------------


def advance(server: FakeServer, seconds: int) -> None:
    for _ in range(seconds):
        server.clock.advance(1)


def test_idle_clients_are_closed():
    server = FakeServer(timeout=10)
    idle, busy = server.client(40001), server.client(40002)
    for _ in range(4):
        advance(server, 5)
        assert busy.call("PING") == b"PONG"
    assert idle.closed
    assert not busy.closed
    assert list(server.service.clients) == [busy.protocol.session.client_id]
    # Closed without a reply, as Redis's freeClient.
    assert idle.raw() == b""


def test_idle_boundary_is_whole_seconds_past_timeout():
    server = FakeServer(timeout=3)
    client = server.client()
    advance(server, 3)
    assert not client.closed
    advance(server, 1)
    assert client.closed


def test_blocked_and_subscribed_clients_are_not_idle():
    server = FakeServer(timeout=2)
    blocked, subscriber, in_multi = server.client(1), server.client(2), server.client(3)
    blocked.send_raw(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n")
    subscriber.call("SUBSCRIBE", "news")
    in_multi.call("MULTI")
    advance(server, 10)
    assert not blocked.closed
    assert not subscriber.closed
    assert in_multi.closed
    # A served blocked client counts from its reply.
    pusher = server.client(4)
    pusher.call("RPUSH", "q", "x")
    assert blocked.replies() == [[b"q", b"x"]]
    advance(server, 2)
    assert not blocked.closed
    advance(server, 2)
    assert blocked.closed


def test_one_timer_for_all_clients():
    server = FakeServer(timeout=5)
    clients = [server.client(40000 + n) for n in range(50)]
    assert len(server.clock.getDelayedCalls()) == 1
    advance(server, 7)
    assert all(c.closed for c in clients)
    # Nothing left to watch: the timer stops.
    assert server.clock.getDelayedCalls() == []


def test_no_timeout_no_timer():
    server = FakeServer()
    client = server.client()
    assert server.clock.getDelayedCalls() == []
    advance(server, 1000)
    assert not client.closed


def test_config_set_timeout_starts_the_sweep():
    server = FakeServer()
    admin, idle = server.client(1), server.client(2)
    assert admin.call("CONFIG", "SET", "timeout", "2") == b"OK"
    assert admin.call("CONFIG", "GET", "timeout") == [b"timeout", b"2"]
    advance(server, 2)
    admin.call("PING")
    advance(server, 2)
    assert idle.closed
    assert not admin.closed
    admin.call("CONFIG", "SET", "timeout", "0")
    advance(server, 5)
    assert not admin.closed


def test_service_stop_cancels_the_sweep():
    server = FakeServer(timeout=5)
    server.client()
    server.service.startService()
    server.service.stopService()
    assert server.clock.getDelayedCalls() == []


# -- options and the systemd units ---------------------------------------------


def test_options():
    from hush.tap import Options

    options = Options()
    options.parseOptions(["--requirepass", "pw", "--maxclients", "5", "--timeout", "30"])
    settings = options.settings()
    assert (settings.requirepass, settings.maxclients, settings.timeout) == ("pw", 5, 30)
    defaults = Options()
    defaults.parseOptions([])
    settings = defaults.settings()
    assert (settings.requirepass, settings.maxclients, settings.timeout) == ("", 10000, 0)
    assert settings.protected_mode is True
    unprotected = Options()
    unprotected.parseOptions(["--protected-mode", "NO"])
    assert unprotected.settings().protected_mode is False
    # A bad value is one line naming the option (hush.tap), not twistd's usage text.
    for bad in (["--maxclients", "0"], ["--timeout", "-1"], ["--protected-mode", "off"]):
        with pytest.raises(SystemExit, match=f"^Invalid {bad[0]} "):
            Options().parseOptions(bad)


def _unit(name: str) -> dict[str, str]:
    values = {}
    for line in (REPO / "contrib" / "systemd" / name).read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def test_systemd_units_agree_with_what_works(tmp_path):
    from hush.config.settings import Settings
    from hush.tap import Options

    service, socket_unit = _unit("hush.service"), _unit("hush.socket")
    argv = service["ExecStart"].split()
    options = Options()
    assert argv[0] == "/opt/hush/bin/hush"  # the hush command: hush.tap's options
    # --dir must exist (as in Redis): systemd makes the StateDirectory; here a
    # temporary one stands in for it.
    assert argv[argv.index("--dir") + 1] == "/var/lib/hush"
    argv[argv.index("--dir") + 1] = str(tmp_path)
    options.parseOptions(argv[1:])
    # tests/e2e/test_security.py starts twistd with this endpoint, as systemd would.
    assert options["ports"] == [f"systemd:domain=INET:name={socket_unit['FileDescriptorName']}"]
    assert int(service["LimitNOFILE"]) == Settings().maxclients + limits.RESERVED_FDS
    assert service["ReadWritePaths"] == service["WorkingDirectory"] == "/var/lib/hush"
    for option in ("NoNewPrivileges", "PrivateTmp", "ProtectHome"):
        assert service[option] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["User"] == "hush"
