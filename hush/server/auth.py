# -*- test-case-name: tests.unit.server.test_auth -*-
"""Connections before authentication, and protected mode, as Redis 7 has them.

With ``requirepass`` a connection must pass AUTH or HELLO ... AUTH before
anything but the commands flagged ``no-auth`` (the session's gate answers
NOAUTH; the credentials are checked in :mod:`hush.commands.acl_users`); until then
:class:`AuthGuard` holds its requests to Redis's small unauthenticated limits.

Protected mode refuses connections from other hosts while the default user
has no password, so that a server left open on a network is not open to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hush.ops.clientinfo import is_local
from hush.wire.resp import error_bytes

if TYPE_CHECKING:
    from hush.config.settings import Settings

#: Redis 7's reply to a non-local connection in protected mode, word for word.
DENIED_REPLY = (
    b"-DENIED Redis is running in protected mode because protected mode is enabled and no "
    b"password is set for the default user. In this mode connections are only accepted "
    b"from the loopback interface. If you want to connect from external computers to Redis "
    b"you may adopt one of the following solutions: 1) Just disable protected mode sending "
    b"the command 'CONFIG SET protected-mode no' from the loopback interface by connecting "
    b"to Redis from the same host the server is running, however MAKE SURE Redis is not "
    b"publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change "
    b"permanent. 2) Alternatively you can just disable the protected mode by editing the "
    b"Redis configuration file, and setting the protected mode option to 'no', and then "
    b"restarting the server. 3) If you started the server manually just for testing, "
    b"restart it with the '--protected-mode no' option. 4) Setup a an authentication "
    b"password for the default user. NOTE: You only need to do one of the above things in "
    b"order for the server to start accepting connections from the outside.\r\n"
)


def denied_by_protected_mode(settings: Settings, peer: Any, default_nopass: bool) -> bool:
    """True when protected mode refuses a connection from ``peer``.

    As in Redis 7 the listening address does not matter (6.x also required
    that no ``bind`` was given): a non-local peer is refused whenever
    protected mode is on and the default user needs no password
    (``default_nopass``: no requirepass, or ACL's ``nopass``).
    """
    return bool(settings.protected_mode) and default_nopass and not is_local(peer)


# -- requests from unauthenticated clients ----------------------------------------

#: Redis's limits on requests from clients that must still authenticate: a
#: stranger cannot make the server buffer 512 MB before AUTH is even checked.
UNAUTH_MAX_ARGS = 10
UNAUTH_MAX_BULK = 16384

_INCOMPLETE = 0


def first_request_end(buf: bytes, inline_max: int) -> int | str:
    """Where the first request in ``buf`` ends, 0 if it is incomplete, or an error.

    Only the headers are read, with Redis's checks in Redis's order
    (processMultibulkBuffer), the unauthenticated limits included; the
    request itself is then parsed by the connection's ordinary parser.
    """
    end = len(buf)
    if buf[0] != 42:  # not '*': an inline request, one line
        newline = buf.find(b"\n")
        if newline < 0:
            # Too long without a newline: the ordinary parser gives the error.
            return end if end > inline_max else _INCOMPLETE
        return newline + 1
    newline = buf.find(b"\r")
    if newline < 0 or newline + 1 >= end:
        return end if end > inline_max else _INCOMPLETE
    count = _length(buf[1:newline])
    if count is None:
        return "ERR Protocol error: invalid multibulk length"
    if count > UNAUTH_MAX_ARGS:
        return "ERR Protocol error: unauthenticated multibulk length"
    pos = newline + 2
    for _ in range(max(count, 0)):
        newline = buf.find(b"\r", pos)
        if newline < 0 or newline + 1 >= end:
            return end if end - pos > inline_max else _INCOMPLETE
        if buf[pos] != 36:  # '$'
            got = buf[pos:pos + 1].decode("utf-8", "surrogateescape")
            return f"ERR Protocol error: expected '$', got '{got}'"
        length = _length(buf[pos + 1 : newline])
        if length is None or length < 0:
            return "ERR Protocol error: invalid bulk length"
        if length > UNAUTH_MAX_BULK:
            return "ERR Protocol error: unauthenticated bulk length"
        pos = newline + 2 + length + 2
        if pos > end:
            return _INCOMPLETE
    return pos


def _length(raw: bytes) -> int | None:
    # Redis's string2ll: optional minus, digits, no spaces or plus sign.
    text = raw[1:] if raw[:1] == b"-" else raw
    if not text.isdigit() or len(raw) > 20:
        return None
    return int(raw)


class AuthGuard:
    """Feeds an unauthenticated connection one request at a time, within Redis's limits.

    Installed as the connection's ``dataReceived`` (an instance attribute, so
    authenticated connections keep the class's method and pay nothing); once
    a request authenticates the client, the rest of the data and everything
    after goes straight to the ordinary path again.
    """

    def __init__(self, protocol: Any, deliver: Any) -> None:
        self.protocol = protocol
        self.deliver = deliver
        self.buffer = b""
        self.inline_max = protocol.MAX_LENGTH

    def install(self) -> None:
        """Route the connection's reads through this guard."""
        self.protocol.dataReceived = self.data_received

    def data_received(self, data: bytes) -> None:
        protocol = self.protocol
        buf = self.buffer + data
        self.buffer = b""
        while buf and not protocol._closing:
            if protocol.session.authenticated or not protocol.factory.service.acl.auth_required():
                # Authenticated (or the password was removed): no more limits.
                if protocol.__dict__.get("dataReceived") == self.data_received:
                    del protocol.dataReceived
                protocol.dataReceived(buf)
                return
            end = first_request_end(buf, self.inline_max)
            if isinstance(end, str):
                # As for any protocol error: the error, then the connection closes.
                protocol._closing = True
                # After the replies to the requests before it, held till now.
                protocol.send_unsent()
                protocol.transport.write(error_bytes(end))
                protocol.transport.loseConnection()
                return
            if end == _INCOMPLETE:
                self.buffer = buf
                return
            self.deliver(buf[:end])
            buf = buf[end:]
