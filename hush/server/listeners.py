# -*- test-case-name: tests.unit.server.test_listeners -*-
"""The listening services: one per ``--port`` endpoint, and what they really got.

Three things Twisted's ``strports.service`` does not do for Hush:

* A ``systemd:`` endpoint names an address family (``domain=INET``), but the
  socket systemd hands over has its own: ``ListenStream=6379`` and
  ``ListenStream=[::1]:6379`` give an IPv6 socket (dual-stack for the
  former). Adopted as ``INET``, its addresses are read as IPv4 ones and
  come out as garbage, so protected mode refused every client, local ones
  included. The socket is adopted with the family it really has.
* ``systemd:`` and ``tcp6:`` endpoints (Twisted's endpoint plugins) are
  made without looking for plugins: that scans Python's path and writes
  ``twisted/plugins/dropin.cache``, which a hardened service (systemd's
  ``ProtectSystem=strict``) may not, and Twisted logs "Unable to write to
  plugin cache" at every start.
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
from twisted.internet.interfaces import (
    IListeningPort,
    IProtocolFactory,
    IStreamServerEndpoint,
    IStreamServerEndpointStringParser,
)
from zope.interface import implementer

from hush.config.settings import Settings


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


def endpoint_fields(description: str) -> tuple[list[str], dict[str, str]]:
    """The positional and ``key=value`` fields of a Twisted endpoint description.

    Fields are separated by ``:``; a backslash makes the next character
    literal (``interface=\\:\\:1``).
    """
    fields: list[list[tuple[str, bool]]] = [[]]
    escaped = False
    for char in description:
        if escaped:
            fields[-1].append((char, True))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ":":
            fields.append([])
        else:
            fields[-1].append((char, False))
    args: list[str] = []
    kwargs: dict[str, str] = {}
    for chars in fields:
        text = "".join(char for char, _ in chars)
        equals = next((i for i, (char, esc) in enumerate(chars) if char == "=" and not esc), -1)
        if equals < 0:
            args.append(text)
        else:
            kwargs[text[:equals]] = text[equals + 1:]
    return args, kwargs


def _twisted_parsers() -> dict[str, IStreamServerEndpointStringParser]:
    # The endpoint types Twisted itself provides as plugins (systemd, tcp6,
    # tls, stdio ...): the objects getPlugins would find, without the scan.
    from twisted.plugins import twisted_core

    parsers = {}
    for value in vars(twisted_core).values():
        if IStreamServerEndpointStringParser.providedBy(value):
            parsers[value.prefix.lower()] = value
    return parsers


def server_endpoint(description: str, reactor: Any = None) -> IStreamServerEndpoint | None:
    """The endpoint of a type Twisted provides as a plugin (``systemd:``,
    ``tcp6:`` ...), made without a plugin scan; None for the other types.

    A systemd socket is adopted with the address family it really has.
    """
    args, kwargs = endpoint_fields(description)
    parser = _twisted_parsers().get(args[0].lower())
    if parser is None:
        return None
    if reactor is None:
        from twisted.internet import reactor
    endpoint = parser.parseStreamServer(reactor, *args[1:], **kwargs)
    if isinstance(endpoint, AdoptedStreamServerEndpoint):
        endpoint.addressFamily = socket_family(endpoint.fileno, endpoint.addressFamily)
    return endpoint


def listener_service(description: str, factory: IProtocolFactory,
                     on_port: Callable[[IListeningPort], None],
                     reactor: Any = None) -> StreamServerEndpointService:
    """A service listening on the Twisted endpoint ``description``.

    As ``strports.service`` (on ``reactor``, by default the global one),
    except that the endpoint types Twisted provides as plugins are made
    without a plugin scan (see :func:`server_endpoint`) and the port it
    listens on is passed to ``on_port``.
    """
    endpoint = server_endpoint(description, reactor)
    if endpoint is None:
        service = strports.service(description, factory, reactor)
    else:
        service = StreamServerEndpointService(endpoint, factory)
        # As strports.service does: a failure to listen at start raises.
        service._raiseSynchronously = True
    service.endpoint = ReportingEndpoint(service.endpoint, on_port)
    return service
