# -*- test-case-name: tests.test_listeners -*-
"""The listening services: one per ``--port`` endpoint, and what they really got.

Two things Twisted's ``strports.service`` does not do for Hush:

* A ``systemd:`` endpoint names an address family (``domain=INET``), but the
  socket systemd hands over has its own: ``ListenStream=6379`` and
  ``ListenStream=[::1]:6379`` give an IPv6 socket (dual-stack for the
  former). Adopted as ``INET``, its addresses are read as IPv4 ones and
  come out as garbage, so protected mode refused every client, local ones
  included. The socket is adopted with the family it really has.
* ``CONFIG GET port``, ``INFO`` and the startup log name the port of the
  first TCP listener as it is really bound, which for an adopted socket (or
  ``tcp:0``) is not in its description.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from twisted.application import strports
from twisted.application.internet import StreamServerEndpointService
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import AdoptedStreamServerEndpoint
from twisted.internet.interfaces import IListeningPort, IProtocolFactory, IStreamServerEndpoint
from zope.interface import implementer

from hush.config import Settings


def socket_family(fileno: int, default: int) -> int:
    """The address family of the open socket ``fileno``, or ``default`` if unknown."""
    try:
        # Without a family argument Python asks the kernel (SO_DOMAIN).
        probe = socket.socket(fileno=fileno)
    except OSError:
        return default
    try:
        return probe.family
    finally:
        probe.detach()


@implementer(IStreamServerEndpoint)
class ReportingEndpoint:
    """An endpoint that tells ``on_port`` which port its ``listen`` got.

    @ivar wrapped: the endpoint that really listens.
    """

    def __init__(self, wrapped: IStreamServerEndpoint,
                 on_port: Callable[[IListeningPort], None]) -> None:
        self.wrapped = wrapped
        self.on_port = on_port

    def listen(self, protocolFactory: IProtocolFactory) -> Deferred[IListeningPort]:
        """Listen with the wrapped endpoint, then report the port."""

        def report(port: IListeningPort) -> IListeningPort:
            self.on_port(port)
            return port

        return self.wrapped.listen(protocolFactory).addCallback(report)


class FirstTCPPort:
    """Keeps ``settings.port`` on the port the first TCP listener is bound to.

    Listeners report in the order of ``settings.listen``; the first whose
    address is TCP wins, later ones change nothing.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.reported = False

    def __call__(self, port: IListeningPort) -> None:
        if self.reported:
            return
        address = port.getHost()
        if isinstance(address, IPv4Address | IPv6Address):
            self.reported = True
            self.settings.port = address.port


def listener_service(description: str, factory: IProtocolFactory,
                     on_port: Callable[[IListeningPort], None],
                     reactor: Any = None) -> StreamServerEndpointService:
    """A service listening on the Twisted endpoint ``description``.

    As ``strports.service`` (on ``reactor``, by default the global one),
    except that a systemd socket is adopted with its real address family and
    the port it listens on is passed to ``on_port``.
    """
    service = strports.service(description, factory, reactor)
    endpoint = service.endpoint
    if isinstance(endpoint, AdoptedStreamServerEndpoint):
        endpoint.addressFamily = socket_family(endpoint.fileno, endpoint.addressFamily)
    service.endpoint = ReportingEndpoint(endpoint, on_port)
    return service
