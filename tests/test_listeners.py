"""Listening services (hush.listeners): systemd sockets adopted with their real
address family, and the port the first TCP listener really got."""

from __future__ import annotations

import os
import socket

import pytest
from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.endpoints import _SystemdParser
from twisted.internet.testing import MemoryReactor, _FakePort
from twisted.python.systemd import ListenFDs

from hush.config import Settings
from hush.listeners import FirstTCPPort, listener_service, socket_family
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


@pytest.mark.parametrize("description", ["systemd:domain=INET:index=0",
                                         "systemd:domain=INET:name=hush"])
def test_an_ipv6_systemd_socket_is_adopted_as_ipv6(monkeypatch, description):
    # ListenStream=6379 or [::1]:6379 hand over an AF_INET6 socket, whatever
    # domain the --port description names.
    with socket.socket(socket.AF_INET6) as sock:
        fileno = os.dup(sock.fileno())
    monkeypatch.setattr(_SystemdParser, "_sddaemon", ListenFDs([fileno], ["hush"]))
    reactor = MemoryReactor()
    reported = []
    service = listener_service(description, FakeServer().factory, reported.append, reactor)
    service.privilegedStartService()  # adopts, then closes, the descriptor
    assert [(fd, family) for fd, family, _ in reactor.adoptedPorts] == [
        (fileno, socket.AF_INET6)]
    assert [port.getHost() for port in reported] == [IPv6Address("TCP", "::", 1234)]


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
