# -*- test-case-name: tests.unit.config.test_config -*-
"""Redis's listening settings as Twisted endpoint strings, and back.

Redis listens where ``port``, ``bind`` and ``unixsocket`` say; Hush listens
on Twisted endpoints (``--port tcp:6379``). :func:`listen_endpoints` turns
the settings into endpoints, :func:`tcp_port` reads the port back out of
one, and :func:`with_backlog` gives each listener Redis's ``tcp-backlog``.
"""

from __future__ import annotations

import re
from typing import Protocol


class ListenSettings(Protocol):
    """What :func:`listen_endpoints` reads of :class:`~hush.config.settings.Settings`."""

    port: int
    bind: str
    tcp_backlog: int
    unixsocket: str
    unixsocketperm: int


def tcp_port(description: str) -> int | None:
    """The port of a Twisted ``tcp:``/``tcp6:`` endpoint string, else None."""
    kind, _, rest = description.partition(":")
    if kind.lower() not in ("tcp", "tcp6"):
        return None
    for part in rest.split(":"):
        if part.startswith("port="):
            part = part[len("port="):]
        if part.isdigit():
            return int(part)
    return None


def _escape_endpoint(text: str) -> str:
    return text.replace("\\", "\\\\").replace(":", "\\:")


def listen_endpoints(settings: ListenSettings) -> list[str]:
    """The Twisted endpoints that ``port``/``bind``/``unixsocket`` describe.

    One tcp endpoint per bind address (``*`` is every IPv4 address, ``::*``
    every IPv6 one); Redis's optional addresses (``-::1``) are left out.
    ``port 0`` means no TCP listener.
    """
    endpoints = []
    backlog = f":backlog={settings.tcp_backlog}"
    if settings.port:
        for address in settings.bind.split():
            if address.startswith("-"):
                continue
            if address == "*":
                endpoints.append(f"tcp:{settings.port}{backlog}")
            elif address == "::*":
                endpoints.append(f"tcp6:{settings.port}:interface=\\:\\:{backlog}")
            elif ":" in address:
                endpoints.append(
                    f"tcp6:{settings.port}:interface={_escape_endpoint(address)}{backlog}")
            else:
                endpoints.append(f"tcp:{settings.port}:interface={address}{backlog}")
    if settings.unixsocket:
        endpoint = f"unix:{_escape_endpoint(settings.unixsocket)}"
        if settings.unixsocketperm:
            endpoint += f":mode={settings.unixsocketperm:o}"
        endpoints.append(endpoint)
    return endpoints


#: The endpoint types whose listeners take a backlog.
_BACKLOG_TYPES = ("tcp", "tcp6", "ssl", "unix")


def with_backlog(description: str, backlog: int) -> str:
    """The endpoint ``description`` listening with ``backlog``, unless it names its own.

    Redis's tcp-backlog applies to each of its listeners; Twisted's own
    default (50) makes a burst of connections wait on SYN retries (10,000
    clients took 36 s to connect instead of 2).
    """
    kind = description.partition(":")[0].lower()
    if kind not in _BACKLOG_TYPES or re.search(r"(?<!\\):backlog=", description):
        return description
    return f"{description}:backlog={backlog}"
