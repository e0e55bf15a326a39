# -*- test-case-name: tests.unit.server.test_startup -*-
"""``tcp-keepalive``: TCP keepalive probes on client connections, set as Redis sets them.

With ``tcp-keepalive N`` (Redis's default 300), a client connection over
TCP (or TLS over TCP) gets SO_KEEPALIVE, its first probe after N seconds of
silence, further probes every N/3 seconds, and is dropped after 3
unanswered ones (Redis's anetKeepAlive). A peer that vanished without a FIN
(a crashed host, a dropped NAT entry) is thus noticed instead of holding a
client slot for ever. ``0`` sets nothing. Like Redis, a change applies to
connections accepted afterwards.
"""

from __future__ import annotations

import socket
from typing import Any

#: Unanswered probes before the kernel drops the connection (Redis's choice).
PROBES = 3


def tcp_socket(transport: Any) -> socket.socket | None:
    """The TCP socket under a transport (through a TLS layer), or None (UNIX, tests)."""
    for _depth in range(3):
        get_handle = getattr(transport, "getHandle", None)
        handle = get_handle() if get_handle is not None else None
        if isinstance(handle, socket.socket):
            return handle if handle.family in (socket.AF_INET, socket.AF_INET6) else None
        # A TLS connection's handle is its OpenSSL object; the socket is beneath.
        transport = getattr(transport, "transport", None)
        if transport is None:
            return None
    return None


def apply_keepalive(transport: Any, interval: int) -> bool:
    """Set Redis's keepalive on ``transport``'s TCP socket; True if there was one to set."""
    if interval <= 0:
        return False
    sock = tcp_socket(transport)
    if sock is None:
        return False
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    except OSError:
        return False  # the peer is already gone
    # Not every platform has the finer knobs, and Linux refuses an idle time
    # over 32767 s: as in Redis, what cannot be set is left at the default.
    for option, value in (("TCP_KEEPIDLE", interval), ("TCP_KEEPINTVL", max(interval // 3, 1)),
                          ("TCP_KEEPCNT", PROBES)):
        number = getattr(socket, option, None)
        if number is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, number, value)
            except OSError:
                pass
    return True
