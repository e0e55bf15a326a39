# -*- test-case-name: tests.commands.test_migrate -*-
"""A blocking RESP connection to another server, and Redis's cache of them (MIGRATE).

MIGRATE is synchronous in Redis: the server sends the keys and waits for the
target's replies, up to the command's timeout, before it deletes them and
answers. Hush does the same with a blocking socket, so that nothing else runs
between the read of the keys and their deletion. The replies MIGRATE reads
are one line each (``+OK``, ``-ERR ...``), read as Redis's connSyncReadLine
reads them.

Like Redis, connections are kept for reuse by ``host:port`` (at most
:data:`CACHE_ITEMS`) and closed once unused for :data:`CACHE_TTL` seconds.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Callable

from twisted.internet.interfaces import IDelayedCall, IReactorTime

#: Connections kept at most (MIGRATE_SOCKET_CACHE_ITEMS).
CACHE_ITEMS = 64
#: Seconds an unused connection is kept (MIGRATE_SOCKET_CACHE_TTL).
CACHE_TTL = 10
#: Bytes written per send, as Redis writes a MIGRATE's commands.
WRITE_CHUNK = 64 * 1024
#: Longest reply line read (Redis reads into 1 KiB buffers).
LINE_MAX = 1024


class Timeout(OSError):
    """The other side did not answer (or take the data) within the timeout."""


class SyncConnection:
    """One blocking TCP connection; every call waits at most ``timeout`` seconds.

    @ivar last_db: the database last SELECTed on it (-1: unknown).
    @ivar sent_all: False from the start of a :meth:`send` until all was written.
    """

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        self.sock = sock
        self.timeout = timeout
        self.last_db = -1
        self.last_use = 0.0
        self.sent_all = True
        self._buffer = b""

    @classmethod
    def connect(cls, host: str, port: int, timeout: float) -> SyncConnection:
        """Connect (blocking, at most ``timeout`` seconds) with TCP_NODELAY on."""
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(sock, timeout)

    def send(self, data: bytes) -> None:
        """Write all of ``data`` in 64 KiB chunks; :class:`Timeout` or OSError on failure."""
        self.sent_all = False
        self.sock.settimeout(self.timeout)
        view = memoryview(data)
        try:
            for start in range(0, len(view), WRITE_CHUNK):
                self.sock.sendall(view[start:start + WRITE_CHUNK])
        except TimeoutError:
            raise Timeout("write timed out") from None
        self.sent_all = True

    def read_line(self) -> bytes:
        """One reply line without its CRLF; :class:`Timeout`, or OSError when closed."""
        self.sock.settimeout(self.timeout)
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line, self._buffer = self._buffer[:end], self._buffer[end + 1:]
                return line.rstrip(b"\r")[:LINE_MAX - 1]
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                raise Timeout("read timed out") from None
            if not chunk:
                raise ConnectionError("connection closed by the other side")
            self._buffer += chunk

    def close(self) -> None:
        """Close the socket (errors ignored)."""
        try:
            self.sock.close()
        except OSError:
            pass


class ConnectionCache:
    """Connections by ``host:port``, reused while used within :data:`CACHE_TTL` seconds."""

    def __init__(self, clock: IReactorTime,
                 connect: Callable[[str, int, float], SyncConnection] = SyncConnection.connect
                 ) -> None:
        self.clock = clock
        self.connect = connect
        self.connections: dict[bytes, SyncConnection] = {}
        self._sweep: IDelayedCall | None = None

    def get(self, host: bytes, port: bytes, timeout: float) -> SyncConnection:
        """The cached connection to ``host:port`` or a new one (OSError if it cannot connect)."""
        name = host + b":" + port
        now = self.clock.seconds()
        cached = self.connections.get(name)
        if cached is not None:
            cached.last_use = now
            cached.timeout = timeout
            return cached
        if len(self.connections) >= CACHE_ITEMS:
            victim = random.choice(list(self.connections))
            self.connections.pop(victim).close()
        try:
            port_number = int(port)
        except ValueError:
            port_number = 0  # atoi's answer: the connection then fails
        conn = self.connect(host.decode("utf-8", "replace"), port_number, timeout)
        conn.last_use = now
        self.connections[name] = conn
        if self._sweep is None:
            self._sweep = self.clock.callLater(1, self._close_idle)
        return conn

    def close(self, host: bytes, port: bytes) -> None:
        """Drop the connection to ``host:port`` (after an error)."""
        conn = self.connections.pop(host + b":" + port, None)
        if conn is not None:
            conn.close()

    def _close_idle(self) -> None:
        self._sweep = None
        now = self.clock.seconds()
        for name, conn in list(self.connections.items()):
            if now - conn.last_use > CACHE_TTL:
                del self.connections[name]
                conn.close()
        if self.connections:
            self._sweep = self.clock.callLater(1, self._close_idle)

    def close_all(self) -> None:
        """Close every connection (server stop)."""
        if self._sweep is not None and self._sweep.active():
            self._sweep.cancel()
        self._sweep = None
        for conn in self.connections.values():
            conn.close()
        self.connections.clear()
