# -*- test-case-name: tests.unit.replication.test_backlog -*-
"""The replication history: ids, the offset, and the backlog that PSYNC continues from.

Redis names a replication history by a 40-character id (``master_replid``)
and counts the bytes of its stream (``master_repl_offset``). A server that
was a replica and got promoted keeps the old id as ``master_replid2``, valid
up to ``second_repl_offset``, so that the other replicas of the old master
can continue with it (PSYNC2). The backlog keeps the last
``repl-backlog-size`` bytes of the stream; a replica that reconnects asking
for an offset still in it gets the rest (+CONTINUE), else a full sync.

As in Redis 7, the stream is kept in blocks (16 KiB, at most a sixteenth of
the backlog's size) and whole blocks are dropped from the front, so the
backlog holds between ``repl-backlog-size`` and one block more.
"""

from __future__ import annotations

import os
from collections import deque

#: Redis's PROTO_REPLY_CHUNK_BYTES: the smallest block of the backlog.
BLOCK_BYTES = 16 * 1024
#: Redis's CONFIG_REPL_BACKLOG_MIN_SIZE: a smaller repl-backlog-size is raised to it.
MIN_SIZE = 16 * 1024
#: The id of no history (Redis's cleared replid2).
NO_ID = "0" * 40


def new_id() -> str:
    """A random replication id: 40 hexadecimal characters."""
    return os.urandom(20).hex()


class Backlog:
    """The tail of the replication stream, from offset :attr:`first` on.

    @ivar size: repl-backlog-size (at least :data:`MIN_SIZE`).
    @ivar first: the offset of the first byte held (``repl_backlog_first_byte_offset``).
    @ivar histlen: how many bytes are held (``repl_backlog_histlen``).
    """

    def __init__(self, size: int, first: int) -> None:
        self.size = max(size, MIN_SIZE)
        self.first = first
        self.histlen = 0
        self._blocks: deque[bytearray] = deque()
        self._capacity = 0

    def resize(self, size: int) -> None:
        """CONFIG SET repl-backlog-size: keep the newest bytes that fit."""
        self.size = max(size, MIN_SIZE)
        self._trim()

    def append(self, data: bytes) -> None:
        """Add the next bytes of the stream."""
        blocks = self._blocks
        while data:
            tail = blocks[-1] if blocks else None
            room = self._capacity - len(tail) if tail is not None else 0
            if room <= 0:
                limit = max(self.size // 16, BLOCK_BYTES)
                self._capacity = min(max(len(data), BLOCK_BYTES), limit)
                tail = bytearray()
                blocks.append(tail)
                room = self._capacity
                added = True
            else:
                added = False
            piece = data[:room]
            tail += piece
            self.histlen += len(piece)
            data = data[room:]
            if added:
                self._trim()

    def _trim(self) -> None:
        # Whole blocks go from the front while what stays still covers size.
        blocks = self._blocks
        while len(blocks) > 1 and self.histlen - len(blocks[0]) > self.size:
            dropped = blocks.popleft()
            self.histlen -= len(dropped)
            self.first += len(dropped)

    def holds(self, offset: int) -> bool:
        """True if the stream from ``offset`` on (up to its end) is all here."""
        return self.first <= offset <= self.first + self.histlen

    def read_from(self, offset: int) -> bytes:
        """The bytes from ``offset`` to the end (``offset`` must be :meth:`held <holds>`)."""
        skip = offset - self.first
        parts = []
        for block in self._blocks:
            if skip >= len(block):
                skip -= len(block)
                continue
            parts.append(bytes(block[skip:]) if skip else bytes(block))
            skip = 0
        return b"".join(parts)


class History:
    """The replication ids and offset of this server, and its backlog if there is one.

    @ivar replid: ``master_replid``, the id of the history this server follows or leads.
    @ivar replid2: ``master_replid2``, the previous id after a promotion (else :data:`NO_ID`).
    @ivar second_offset: ``second_repl_offset``: up to which offset ``replid2`` is valid (-1).
    @ivar offset: ``master_repl_offset``: bytes of stream so far.
    @ivar backlog: the :class:`Backlog`, or None (no replica has connected since the
        last ``repl-backlog-ttl``, on a master that was never a replica).
    """

    def __init__(self) -> None:
        self.replid = new_id()
        self.replid2 = NO_ID
        self.second_offset = -1
        self.offset = 0
        self.backlog: Backlog | None = None

    def change_id(self) -> None:
        """A new history begins (Redis's changeReplicationId)."""
        self.replid = new_id()

    def clear_id2(self) -> None:
        """Forget the previous history (clearReplicationId2)."""
        self.replid2 = NO_ID
        self.second_offset = -1

    def shift_id(self) -> None:
        """A promoted replica: the master's id stays valid up to here, a new one begins."""
        self.replid2 = self.replid
        # A replica asks for the first byte it lacks, hence the + 1.
        self.second_offset = self.offset + 1
        self.change_id()

    def create_backlog(self, size: int) -> None:
        """Start keeping the stream, from the next byte on."""
        self.backlog = Backlog(size, self.offset + 1)

    def free_backlog(self) -> None:
        """Stop keeping the stream (no replica for repl-backlog-ttl, a new master)."""
        self.backlog = None

    def append(self, data: bytes) -> None:
        """Count ``data`` as the next bytes of the stream, and keep it in the backlog."""
        backlog = self.backlog
        if backlog is None:
            return
        self.offset += len(data)
        backlog.append(data)

    def continuation(self, replid: str, offset: int) -> bytes | None:
        """The stream a replica asking to continue ``replid`` from ``offset`` lacks, or None.

        None when the history is another (or the second id's validity ends
        before ``offset``) or the backlog no longer holds ``offset``: then a
        full sync is needed.
        """
        if replid != self.replid and (replid != self.replid2 or offset > self.second_offset):
            return None
        backlog = self.backlog
        if backlog is None or not backlog.holds(offset):
            return None
        return backlog.read_from(offset)

    def mismatch(self, replid: str, offset: int) -> str:
        """Why :meth:`continuation` refused, in Redis's log words."""
        if replid == "?":
            return "Full resync requested"
        if replid not in (self.replid, self.replid2):
            return (f"Partial resynchronization not accepted: Replication ID mismatch "
                    f"(Replica asked for '{replid}', my replication IDs are "
                    f"'{self.replid}' and '{self.replid2}')")
        if replid == self.replid2 and replid != self.replid and offset > self.second_offset:
            return (f"Partial resynchronization not accepted: Requested offset for second ID "
                    f"was {offset}, but I can reply up to {self.second_offset}")
        return f"Unable to partial resync for lack of backlog (Replica request was: {offset})."
