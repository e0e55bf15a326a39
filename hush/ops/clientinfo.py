# -*- test-case-name: tests.commands.test_client_admin -*-
"""What Redis shows about a client: CLIENT LIST lines, addresses, types.

CLIENT LIST and CLIENT INFO, CLIENT KILL's filters, MONITOR's origin, the
slow log's client field and the server's own log lines all name a client
the same way; they take it from here.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from hush.core.errors import CommandError, c_text


def subscriptions(client: Any) -> int:
    """Channels, patterns and shard channels ``client`` is subscribed to (0 for a
    client without pub/sub state): a client with any is in pub/sub mode."""
    return (len(getattr(client, "channels", ())) + len(getattr(client, "patterns", ()))
            + len(getattr(client, "shard_channels", ())))


def is_local(address: Any) -> bool:
    """Redis's connIsLocal: a Unix socket, 127.0.0.0/8 or ::1.

    An IPv4 client of a dual-stack socket (systemd's ``ListenStream=6379``)
    arrives as an IPv4-mapped IPv6 address (``::ffff:127.0.0.1``): it is
    local when the IPv4 address is.
    """
    host = getattr(address, "host", None)
    if host is None:
        return True
    try:
        ip = ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


_TYPES = {b"normal": "normal", b"master": "master", b"replica": "replica",
          b"slave": "replica", b"pubsub": "pubsub"}


def client_type(raw: bytes) -> str:
    """The client type CLIENT LIST TYPE and CLIENT KILL TYPE name; Redis's error otherwise."""
    kind = _TYPES.get(raw.lower())
    if kind is None:
        raise CommandError(f"ERR Unknown client type '{c_text(raw)}'")
    return kind


def replication_role(client: Any) -> str | None:
    """``master`` for the link to this server's master, ``replica`` for a replica's
    connection (after its SYNC or PSYNC), else None (Redis's getClientType)."""
    if getattr(client, "is_master_link", False):
        return "master"
    link = getattr(client, "replication", None)
    if link is not None and link.is_replica:
        return "replica"
    return None


def is_type(client: Any, kind: str) -> bool:
    """True if ``client`` is of type ``kind`` (a :func:`client_type` result)."""
    role = replication_role(client)
    if role is not None:
        return kind == role
    if kind == "pubsub":
        return subscriptions(client) > 0
    return kind == "normal" and not subscriptions(client)


def peer_id(client: Any) -> bytes:
    """The client's address as Redis names it (CLIENT LIST addr, SLOWLOG, MONITOR)."""
    return address(client, peer=True)


def address(client: Any, peer: bool) -> bytes:
    """``ip:port`` of either end, or ``path:0`` for a Unix socket (Redis's form)."""
    transport = client.transport
    if transport is None:
        return b"?:0"
    where = transport.getPeer() if peer else transport.getHost()
    host = getattr(where, "host", None)
    if host is not None:
        if ":" in host:
            return f"[{host}]:{where.port}".encode()
        return f"{host}:{where.port}".encode()
    name = getattr(where, "name", None)
    if name is None and peer:
        # A Unix-socket peer is unnamed; Redis shows the listening path.
        name = getattr(transport.getHost(), "name", None)
    if isinstance(name, bytes):
        name = name.decode(errors="replace")
    return f"{name or ''}:0".encode()


def _flags(client: Any) -> str:
    role = replication_role(client)
    flags = "S" if role == "replica" else "M" if role == "master" else ""
    if subscriptions(client):
        flags += "P"
    if client.in_multi:
        flags += "x"
    if client.blocked:
        flags += "b"
    tracking = client.tracking
    if tracking is not None:
        flags += "t"
        if tracking.broken_redirect:
            flags += "R"
        if tracking.bcast:
            flags += "B"
    if client.dirty_cas:
        flags += "d"
    if client.connection.closing:
        flags += "c"
    transport = client.transport
    if transport is not None and not hasattr(transport.getPeer(), "host"):
        flags += "U"
    if client.readonly:
        flags += "r"
    if client.no_evict:
        flags += "e"
    if client.monitoring:
        flags += "O"
    return flags or "N"


def _fd(client: Any) -> int:
    fileno = getattr(client.transport, "fileno", None)
    try:
        return int(fileno()) if fileno is not None else -1
    except Exception:
        return -1


def _memory_fields(client: Any) -> list[bytes]:
    # What Hush can measure: unparsed input, queued MULTI arguments and
    # output the kernel has not taken; Redis's reply-list figures stay 0.
    connection = client.connection
    qbuf = connection.buffered_input
    multi_mem = sum(len(arg) for argv in client.multi_queue for arg in argv)
    omem = connection.pending_output() if client.transport is not None else 0
    return [
        b"qbuf=%d qbuf-free=0 argv-mem=0 multi-mem=%d rbs=0 rbp=0" % (qbuf, multi_mem),
        b"obl=0 oll=0 omem=%d tot-mem=%d" % (omem, qbuf + multi_mem + omem),
    ]


def client_line(client: Any, now: float) -> bytes:
    """One CLIENT LIST line in Redis 7.2's field order (7.0's plus lib-name, lib-ver).

    ``client`` is a session (:class:`hush.commands.dispatch.Session`).
    """
    multi = len(client.multi_queue) if client.in_multi else -1
    fields = [
        b"id=%d" % client.client_id,
        b"addr=" + address(client, peer=True),
        b"laddr=" + address(client, peer=False),
        b"fd=%d" % _fd(client),
        b"name=" + client.name,
        b"age=%d" % max(0, int(now - client.created_at)),
        b"idle=%d" % max(0, int(now - client.last_interaction)),
        b"flags=" + _flags(client).encode(),
        b"db=%d" % client.db.index,
        b"sub=%d" % len(client.channels),
        b"psub=%d" % len(client.patterns),
        b"ssub=%d" % len(client.shard_channels),
        b"multi=%d" % multi,
        *_memory_fields(client),
        b"events=r",
        b"cmd=" + client.last_command.encode(),
        b"user=" + (client.user.name if client.user is not None else b"default"),
        b"redir=%d" % (-1 if client.tracking is None else client.tracking.redirect),
        b"resp=%d" % (3 if client.resp3 else 2),
        b"lib-name=" + client.lib_name,
        b"lib-ver=" + client.lib_ver,
    ]
    return b" ".join(fields) + b"\n"
