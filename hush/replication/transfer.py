# -*- test-case-name: tests.unit.replication.test_master -*-
"""Sending a full sync's snapshot to replicas, at the pace their sockets take it.

From disk (:class:`FileTransfer`): the dump file a BGSAVE wrote, as
``$<size>\\r\\n`` and its bytes, one replica each. Diskless
(:class:`PipeTransfer`): what the forked child streams into a pipe --
``$EOF:<mark>\\r\\n``, the RDB, the mark -- read once and written to every
replica of that sync; the pipe is not read while any of them has a full
write buffer, as Redis stops reading it.

A replica's connection (:class:`hush.core.interfaces.Connection`) says when
its buffer is full (``writes_paused``) and calls ``on_drain`` when it has
drained.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from twisted.internet import abstract, error, main
from twisted.python.failure import Failure

#: Bytes read from the dump file or the pipe at a time (Redis's PROTO_IOBUF_LEN).
CHUNK = 16 * 1024


class FileTransfer:
    """The dump file to one replica: ``$<size>\\r\\n`` then the file, as its socket drains.

    ``done(ok)`` is called once the last byte is handed to the connection
    (True), or when the file cannot be read (False).
    """

    def __init__(self, connection: Any, path: str, done: Callable[[bool], None]) -> None:
        self.connection = connection
        self.done = done
        self.handle = open(path, "rb")
        self.size = os.fstat(self.handle.fileno()).st_size
        self.sent = 0
        self.finished = False

    def start(self) -> None:
        """Send the preamble and as much of the file as the socket takes."""
        self.connection.on_drain = self.pump
        self.connection.send_raw(b"$%d\r\n" % self.size)
        self.pump()

    def pump(self) -> None:
        """Send chunks until the connection's buffer is full or the file is sent."""
        connection = self.connection
        while not self.finished and not connection.writes_paused and not connection.closing:
            try:
                chunk = self.handle.read(CHUNK * 4)
            except OSError:
                self._end(False)
                return
            if not chunk:
                self._end(self.sent == self.size)
                return
            self.sent += len(chunk)
            connection.send_raw(chunk)

    def cancel(self) -> None:
        """The replica went away: stop without calling ``done``."""
        self.finished = True
        self._close()

    def _end(self, ok: bool) -> None:
        self.finished = True
        self._close()
        self.done(ok)

    def _close(self) -> None:
        if self.connection.on_drain == self.pump:
            self.connection.on_drain = None
        self.handle.close()


class _PipeReader(abstract.FileDescriptor):
    """The read end of the snapshot child's pipe in the reactor."""

    def __init__(self, fd: int, transfer: PipeTransfer, reactor: Any) -> None:
        super().__init__(reactor)
        self.fd = fd
        self.transfer = transfer
        os.set_blocking(fd, False)

    def fileno(self) -> int:
        return self.fd

    def doRead(self) -> Any:
        try:
            data = os.read(self.fd, CHUNK * 4)
        except BlockingIOError:
            return None
        except OSError:
            return error.ConnectionLost()
        if not data:
            # The reactor calls connectionLost with a ConnectionDone failure.
            return main.CONNECTION_DONE
        self.transfer.received(data)
        return None

    def connectionLost(self, reason: Any) -> None:
        if self.fd < 0:
            return
        super().connectionLost(reason)
        try:
            os.close(self.fd)
        except OSError:
            pass
        self.fd = -1
        self.transfer.ended(reason.check(error.ConnectionDone) is not None)


class PipeTransfer:
    """The diskless sync of some replicas: the child's pipe copied to each of them.

    @ivar connections: the replicas' connections still receiving it.
    @ivar complete: True once the pipe ended with everything read (the child's
        status still decides whether the sync succeeded).
    """

    def __init__(self, fd: int, connections: list[Any], reactor: Any,
                 ended: Callable[[bool], None]) -> None:
        self.connections = list(connections)
        self._ended = ended
        self.complete = False
        self.finished = False
        #: Bytes written to the replicas so far (INFO total_net_repl_output_bytes).
        self.written = 0
        self.reader = _PipeReader(fd, self, reactor)
        for connection in self.connections:
            connection.on_drain = self.drained
        self.reader.startReading()

    def received(self, data: bytes) -> None:
        """Write a piece of the snapshot to every replica; pause if any is full."""
        for connection in list(self.connections):
            if connection.closing:
                self.drop(connection)
                continue
            connection.send_raw(data)
            self.written += len(data)
        if any(connection.writes_paused for connection in self.connections):
            self.reader.stopReading()

    def drained(self) -> None:
        """A replica's buffer drained: read the pipe again once none is full."""
        if self.finished or self.reader.fd < 0:
            return
        if not any(connection.writes_paused for connection in self.connections):
            self.reader.startReading()

    def drop(self, connection: Any) -> None:
        """A replica went away; without any left the snapshot is abandoned."""
        if connection in self.connections:
            self.connections.remove(connection)
            if connection.on_drain == self.drained:
                connection.on_drain = None
        if not self.connections and not self.finished:
            self.abort()

    def abort(self) -> None:
        """Stop reading: the child then fails on its next write and exits."""
        if self.reader.fd >= 0:
            self.reader.stopReading()
            self.reader.connectionLost(Failure(ConnectionAbortedError()))

    def ended(self, complete: bool) -> None:
        """The pipe closed: at its end (``complete``) or because it was abandoned."""
        if self.finished:
            return
        self.finished = True
        self.complete = complete
        for connection in self.connections:
            if connection.on_drain == self.drained:
                connection.on_drain = None
        self._ended(complete)
