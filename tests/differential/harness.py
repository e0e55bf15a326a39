"""Differential testing: the same commands to Hush and to a real redis-server.

``Pair`` holds one raw socket to each server and compares the raw reply bytes
exactly (so RESP2/RESP3 shapes, error texts and number formats all count).
Families write their scripts as lists of commands and call
:meth:`Pair.check` for each, or :meth:`Pair.run_script`; replies that hold
what cannot agree (times, client ids) are compared through a *mask* that
blanks those values on both sides.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from typing import Any

import hiredis

from tests.support import encode_command

#: A mask: (the command, its raw reply) -> the reply with what may differ blanked.
Mask = Callable[[tuple, bytes], bytes]


def parse_reply(raw: bytes) -> Any:
    """One raw reply as hiredis parses it (an error is a ``hiredis.ReplyError``)."""
    reader = hiredis.Reader()
    reader.feed(raw)
    return reader.gets()


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


class ParsedConnection:
    """A raw connection whose replies come back parsed; an error as ``("error", text)``.

    For comparing a model of some commands with a real redis-server.
    """

    def __init__(self, port: int) -> None:
        self.conn = RawConnection(port)

    def run(self, *args: bytes | str) -> Any:
        reply = parse_reply(self.conn.call(*args))
        return ("error", str(reply)) if isinstance(reply, hiredis.ReplyError) else reply

    def close(self) -> None:
        self.conn.close()


class Pair:
    """One connection to Hush and one to redis-server, compared reply by reply."""

    def __init__(self, hush_port: int, redis_port: int) -> None:
        self.hush = RawConnection(hush_port)
        self.redis = RawConnection(redis_port)

    def both(self, *args) -> tuple[bytes, bytes]:
        """Send to both; return (hush_reply, redis_reply)."""
        return self.hush.call(*args), self.redis.call(*args)

    def send(self, *args) -> None:
        """Send to both without reading the replies (see :meth:`check_next`)."""
        self.hush.send(*args)
        self.redis.send(*args)

    def check(self, *args, mask: Mask | None = None) -> bytes:
        """Send to both and assert the raw replies are identical (once masked)."""
        ours, theirs = self.both(*args)
        if mask is not None:
            ours, theirs = mask(args, ours), mask(args, theirs)
        assert ours == theirs, f"{args!r}: hush {ours!r} != redis {theirs!r}"
        return ours

    def check_next(self, what: object = "") -> bytes:
        """Read the next reply of each (a push, a pipelined reply); assert they are identical."""
        ours, theirs = self.hush.read_reply(), self.redis.read_reply()
        assert ours == theirs, f"{what!r}: hush {ours!r} != redis {theirs!r}"
        return ours

    def run_script(self, script: Iterable[tuple], mask: Mask | None = None) -> None:
        """Check every command of a script (argument tuples), one after the other."""
        for args in script:
            self.check(*args, mask=mask)

    def run_pipelined(self, script: Iterable[tuple]) -> None:
        """Send every command of a script at once, then check the replies in order."""
        script = list(script)
        for args in script:
            self.send(*args)
        for args in script:
            self.check_next(args)

    def close(self) -> None:
        self.hush.close()
        self.redis.close()
