# -*- test-case-name: tests.unit.replication.test_stream -*-
"""The replication stream's bytes: writing it as a master, reading it as a replica.

A master sends its replicas each propagated command as a RESP multibulk
array, preceded by ``SELECT`` when the command's database is not the one the
stream last selected (Redis's ``slaveseldb``). A replica reads the same
arrays back, and counts every byte it applied -- a bare newline a master
sends to keep the link alive included -- as Redis's replicas count their
offset.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

#: (database index, argv) of one propagated command (hush.persistence.propagation.Op).
Op = tuple[int, list[bytes]]


def encode(argv: list[bytes]) -> bytes:
    """One command as a RESP multibulk array."""
    parts = [b"*%d\r\n" % len(argv)]
    for arg in argv:
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


class StreamEncoder:
    """Propagated commands as stream bytes, selecting databases as needed.

    @ivar selected: the database the stream has selected, or -1 when the next
        command must select its own (after a full sync starts, or a promotion).
    """

    def __init__(self) -> None:
        self.selected = -1

    def encode(self, ops: Iterable[Op]) -> bytes:
        """The bytes of ``ops``, each after a SELECT when its database differs."""
        parts = []
        for db_index, argv in ops:
            if db_index != self.selected and db_index >= 0:
                parts.append(encode([b"SELECT", b"%d" % db_index]))
                self.selected = db_index
            parts.append(encode(argv))
        return b"".join(parts)


class StreamError(Exception):
    """The master's stream is not Redis's protocol: the link is dropped."""


class StreamParser:
    """Commands out of a master's stream, each with the bytes it took.

    Feed it what arrives with :meth:`feed`; :meth:`commands` gives each
    complete command as ``(argv, raw)`` -- an empty argv for a bare newline;
    ``raw`` its bytes, as a replica passes them on -- and keeps an unfinished
    one for the next read.
    """

    def __init__(self) -> None:
        self._buf = b""
        self._pos = 0

    @property
    def buffered(self) -> int:
        """Bytes received and not yet part of a complete command."""
        return len(self._buf) - self._pos

    def feed(self, data: bytes) -> None:
        """Add the bytes of one read."""
        if self._pos:
            self._buf = self._buf[self._pos:] + data
            self._pos = 0
        else:
            self._buf += data

    def commands(self) -> Iterator[tuple[list[bytes], bytes]]:
        """Each complete command from where the last one ended.

        Raises :class:`StreamError` for anything but multibulk arrays and
        bare newlines (Redis drops a master that sends inline commands).
        """
        buf = self._buf
        while True:
            start = self._pos
            if start >= len(buf):
                return
            first = buf[start:start + 1]
            if first == b"*":
                parsed = _multibulk(buf, start)
                if parsed is None:
                    return
                argv, end = parsed
            else:
                newline = buf.find(b"\n", start)
                if newline < 0:
                    if len(buf) - start > 64 * 1024:
                        raise StreamError("too big inline request")
                    return
                if buf[start:newline].strip(b"\r"):
                    raise StreamError("Master using the inline protocol. Desync?")
                argv, end = [], newline + 1
            self._pos = end
            yield argv, buf[start:end]


def _multibulk(buf: bytes, start: int) -> tuple[list[bytes], int] | None:
    """The array at ``start`` and the offset after it, or None while incomplete."""
    line_end = buf.find(b"\r\n", start)
    if line_end < 0:
        return None
    count = _number(buf[start + 1:line_end])
    pos = line_end + 2
    argv = []
    for _ in range(count):
        line_end = buf.find(b"\r\n", pos)
        if line_end < 0:
            return None
        if buf[pos:pos + 1] != b"$":
            raise StreamError(f"expected '$', got '{buf[pos:pos + 1]!r}'")
        size = _number(buf[pos + 1:line_end])
        pos = line_end + 2
        if len(buf) < pos + size + 2:
            return None
        argv.append(buf[pos:pos + size])
        pos += size + 2
    return argv, pos


def _number(raw: bytes) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise StreamError(f"invalid length {raw!r}") from None
    if value < 0:
        raise StreamError(f"invalid length {raw!r}")
    return value
