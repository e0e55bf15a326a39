"""Listening services (hush.listeners): systemd sockets adopted with their real
address family, and the port the first TCP listener really got."""

from __future__ import annotations

import os
import socket

import pytest
from twisted.internet import endpoints
from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.testing import MemoryReactor, _FakePort
from twisted.python.systemd import ListenFDs

from hush.config.settings import Settings
from hush.server.listeners import (
    FirstTCPPort,
    endpoint_fields,
    listener_service,
    server_endpoint,
    socket_family,
)
from tests.support import FakeServer


def test_socket_family_asks_the_socket():
    with socket.socket(socket.AF_INET6) as six, socket.socket(socket.AF_INET) as four:
        assert socket_family(six.fileno(), socket.AF_INET) == socket.AF_INET6
        assert socket_family(four.fileno(), socket.AF_INET6) == socket.AF_INET
    read, write = os.pipe()
    try:
        # Not a socket: the endpoint's own family stands.
        assert socket_family(read, socket.AF_INET) == socket.AF_INET
    finally:
        os.close(read)
        os.close(write)


@pytest.fixture
def no_plugin_scan(monkeypatch):
    """Fail if Twisted looks for endpoint plugins (which writes dropin.cache)."""
    def scan(*args):
        raise AssertionError("twisted.plugin.getPlugins was called")

    monkeypatch.setattr(endpoints, "getPlugins", scan)


@pytest.mark.parametrize("description", ["systemd:domain=INET:index=0",
                                         "systemd:domain=INET:name=hush"])
def test_an_ipv6_systemd_socket_is_adopted_as_ipv6(monkeypatch, no_plugin_scan, description):
    # ListenStream=6379 or [::1]:6379 hand over an AF_INET6 socket, whatever
    # domain the --port description names.
    with socket.socket(socket.AF_INET6) as sock:
        fileno = os.dup(sock.fileno())
    monkeypatch.setattr(endpoints._SystemdParser, "_sddaemon", ListenFDs([fileno], ["hush"]))
    reactor = MemoryReactor()
    reported = []
    service = listener_service(description, FakeServer().factory, reported.append, reactor)
    service.privilegedStartService()  # adopts, then closes, the descriptor
    assert [(fd, family) for fd, family, _ in reactor.adoptedPorts] == [
        (fileno, socket.AF_INET6)]
    assert [port.getHost() for port in reported] == [IPv6Address("TCP", "::", 1234)]


def test_systemd_descriptions_are_checked_by_twisted(monkeypatch):
    monkeypatch.setattr(endpoints._SystemdParser, "_sddaemon", ListenFDs([3], ["hush"]))
    with pytest.raises(ValueError, match="exactly one of descriptor index or name"):
        server_endpoint("systemd:domain=INET", MemoryReactor())
    with pytest.raises(KeyError):
        server_endpoint("systemd:domain=INET:name=other", MemoryReactor())
    with pytest.raises(IndexError):
        server_endpoint("systemd:domain=INET:index=1", MemoryReactor())


def test_tcp6_endpoints_need_no_plugin_scan(no_plugin_scan):
    reactor = MemoryReactor()
    for description in ("tcp6:7000:interface=\\:\\:1:backlog=511", "tcp6:port=7001"):
        listener_service(description, FakeServer().factory, lambda port: None,
                         reactor).privilegedStartService()
    assert [(port, backlog, interface) for port, _, backlog, interface in reactor.tcpServers] == [
        (7000, 511, "::1"), (7001, 50, "::")]


def test_other_endpoints_are_twisteds():
    assert server_endpoint("tcp:6379:interface=127.0.0.1", MemoryReactor()) is None
    assert server_endpoint("unix:/run/hush.sock", MemoryReactor()) is None


@pytest.mark.parametrize(("description", "fields"), [
    ("tcp:6379", (["tcp", "6379"], {})),
    ("tcp6:6379:interface=\\:\\:1", (["tcp6", "6379"], {"interface": "::1"})),
    ("systemd:domain=INET:name=a\\=b", (["systemd"], {"domain": "INET", "name": "a=b"})),
    ("unix:/tmp/a\\:b.sock:mode=660", (["unix", "/tmp/a:b.sock"], {"mode": "660"})),
])
def test_endpoint_fields(description, fields):
    assert endpoint_fields(description) == fields


def test_the_first_tcp_listener_sets_the_port():
    settings = Settings()
    assert settings.port == 6379
    first_tcp_port = FirstTCPPort(settings)
    first_tcp_port(_FakePort(UNIXAddress(b"/run/hush.sock")))
    assert settings.port == 6379
    first_tcp_port(_FakePort(IPv6Address("TCP", "::", 40001)))
    assert settings.port == 40001
    first_tcp_port(_FakePort(IPv4Address("TCP", "127.0.0.1", 40002)))
    assert settings.port == 40001


def test_listeners_report_in_order():
    reactor = MemoryReactor()
    settings = Settings()
    first_tcp_port = FirstTCPPort(settings)
    for description in ("unix:/tmp/hush-listeners.sock", "tcp:7001", "tcp:7002"):
        service = listener_service(description, FakeServer().factory, first_tcp_port, reactor)
        service.privilegedStartService()
    assert settings.port == 7001
