"""Differential testing: the same commands to Hush and to a real redis-server.

``Pair`` holds one raw socket to each server and compares the raw reply bytes
exactly (so RESP2/RESP3 shapes, error texts and number formats all count).
Families write their scripts as lists of commands and call
:meth:`Pair.check` for each, or :meth:`Pair.run_script`.
"""

from __future__ import annotations

import socket

from tests.support import encode_command


def _frame_end(buf: bytes, pos: int) -> int:
    """Offset just past the RESP value starting at ``pos``, or -1 if incomplete."""
    if pos >= len(buf):
        return -1
    line_end = buf.find(b"\r\n", pos)
    if line_end < 0:
        return -1
    kind = buf[pos : pos + 1]
    head = buf[pos + 1 : line_end]
    after = line_end + 2
    if kind in b"+-:_,#(":
        return after
    if kind in b"$=!":
        length = int(head)
        if length < 0:
            return after
        end = after + length + 2
        return end if end <= len(buf) else -1
    if kind in b"*~>%|":
        count = int(head)
        if count < 0:
            return after
        if kind in b"%|":
            count *= 2
        for _ in range(count):
            after = _frame_end(buf, after)
            if after < 0:
                return -1
        return after
    raise ValueError(f"not RESP at {pos}: {buf[pos:pos + 20]!r}")


class RawConnection:
    """A blocking socket that sends commands and returns raw reply bytes."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def send(self, *args) -> None:
        self.sock.sendall(encode_command(*args))

    def read_reply(self) -> bytes:
        while True:
            end = _frame_end(self.buf, 0) if self.buf else -1
            if end >= 0:
                reply, self.buf = self.buf[:end], self.buf[end:]
                return reply
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk

    def call(self, *args) -> bytes:
        self.send(*args)
        return self.read_reply()

    def close(self) -> None:
        self.sock.close()


class Pair:
    """One connection to Hush and one to redis-server, compared reply by reply."""

    def __init__(self, hush_port: int, redis_port: int) -> None:
        self.hush = RawConnection(hush_port)
        self.redis = RawConnection(redis_port)

    def both(self, *args) -> tuple[bytes, bytes]:
        """Send to both; return (hush_reply, redis_reply)."""
        return self.hush.call(*args), self.redis.call(*args)

    def check(self, *args) -> bytes:
        """Send to both and assert the raw replies are identical."""
        ours, theirs = self.both(*args)
        assert ours == theirs, f"{args!r}: hush {ours!r} != redis {theirs!r}"
        return ours

    def run_script(self, script) -> None:
        """Check every command of a script (a sequence of argument tuples)."""
        for args in script:
            self.check(*args)

    def close(self) -> None:
        self.hush.close()
        self.redis.close()
