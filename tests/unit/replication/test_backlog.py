"""The replication history: ids, offsets, and the backlog PSYNC continues from."""

from __future__ import annotations

from hush.replication.backlog import BLOCK_BYTES, MIN_SIZE, NO_ID, Backlog, History


def test_a_backlog_gives_back_the_stream_from_any_offset_it_holds():
    backlog = Backlog(MIN_SIZE, first=1)
    backlog.append(b"abc")
    backlog.append(b"defg")
    assert backlog.histlen == 7
    assert backlog.holds(1) and backlog.holds(8) and not backlog.holds(9)
    assert backlog.read_from(1) == b"abcdefg"
    assert backlog.read_from(4) == b"defg"
    assert backlog.read_from(8) == b""


def test_whole_blocks_leave_from_the_front_once_the_rest_covers_the_size():
    backlog = Backlog(MIN_SIZE, first=1)
    chunk = bytes(range(256)) * 64  # one block's worth
    assert len(chunk) == BLOCK_BYTES
    for _ in range(3):
        backlog.append(chunk)
    # Two blocks are more than the size: the first went, the newest bytes stay.
    assert backlog.histlen == 2 * BLOCK_BYTES
    assert backlog.first == 1 + BLOCK_BYTES
    assert not backlog.holds(1)
    assert backlog.read_from(backlog.first) == chunk * 2


def test_a_smaller_size_is_raised_to_the_minimum_and_resizing_trims():
    backlog = Backlog(10, first=1)
    assert backlog.size == MIN_SIZE
    backlog = Backlog(MIN_SIZE * 4, first=1)
    for _ in range(4):
        backlog.append(b"x" * BLOCK_BYTES)
    assert backlog.histlen == 4 * BLOCK_BYTES
    backlog.resize(MIN_SIZE)
    assert backlog.histlen == 2 * BLOCK_BYTES


def test_history_counts_bytes_only_with_a_backlog():
    history = History()
    history.append(b"lost")
    assert history.offset == 0
    history.create_backlog(MIN_SIZE)
    history.append(b"kept")
    assert history.offset == 4
    assert history.backlog.first == 1
    assert history.continuation(history.replid, 1) == b"kept"
    assert history.continuation(history.replid, 5) == b""
    assert history.continuation(history.replid, 6) is None
    assert history.continuation("?", -1) is None


def test_a_promoted_replica_continues_its_masters_history_up_to_the_switch():
    history = History()
    history.create_backlog(MIN_SIZE)
    history.append(b"0123456789")
    old = history.replid
    history.shift_id()
    assert history.replid2 == old and history.second_offset == 11
    assert history.replid != old
    history.append(b"new")
    # A replica of the old master that had all of it continues under the old id.
    assert history.continuation(old, 11) == b"new"
    assert history.continuation(old, 12) is None
    assert "Requested offset for second ID was 12" in history.mismatch(old, 12)
    history.clear_id2()
    assert history.replid2 == NO_ID and history.second_offset == -1
    assert "Replication ID mismatch" in history.mismatch(old, 11)
