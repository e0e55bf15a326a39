"""Unit tests of hush.data.types.stream: IDs, ranges, trimming by nodes, groups and lag."""

from __future__ import annotations

import pytest

from hush.data.types.registry import LIMITS
from hush.data.types.stream import (
    INVALID_ENTRIES_READ,
    MAX_ID,
    MIN_ID,
    Group,
    Nack,
    Stream,
    decr_id,
    format_id,
    incr_id,
)


def make(n: int, start: int = 1) -> Stream:
    stream = Stream()
    for i in range(start, start + n):
        stream.add((i, 0), [b"f", b"v"])
    return stream


def test_id_arithmetic():
    assert incr_id((1, 2**64 - 1)) == (2, 0)
    assert incr_id(MAX_ID) is None
    assert decr_id((2, 0)) == (1, 2**64 - 1)
    assert decr_id(MIN_ID) is None
    assert format_id((5, 7)) == b"5-7"


def test_auto_id():
    stream = Stream()
    assert stream.next_auto_id(100) == (100, 0)
    stream.add((100, 0), [b"a", b"1"])
    assert stream.next_auto_id(100) == (100, 1)
    assert stream.next_auto_id(50) == (100, 1)
    assert stream.next_auto_id(101) == (101, 0)


def test_range_forward_reverse_and_count():
    stream = make(10)
    assert [sid for sid, _ in stream.range((3, 0), (6, 0))] == [(3, 0), (4, 0), (5, 0), (6, 0)]
    assert [sid for sid, _ in stream.range(MIN_ID, MAX_ID, 2, reverse=True)] == [
        (10, 0), (9, 0)]
    assert stream.range((6, 0), (3, 0)) == []


def test_delete_tracks_max_deleted_and_first():
    stream = make(3)
    assert stream.delete((1, 0))
    assert not stream.delete((1, 0))
    assert stream.first_id == (2, 0)
    assert stream.max_deleted_id == (1, 0)
    stream.delete((3, 0))
    stream.delete((2, 0))
    assert stream.first_id == MIN_ID
    assert stream.max_deleted_id == (3, 0)
    assert stream.last_id == (3, 0)
    assert stream.radix_tree_keys() == 0


def test_exact_maxlen_trim():
    stream = make(250)
    assert stream.trim(maxlen=10) == 240
    assert len(stream) == 10
    assert stream.first_id == (241, 0)
    # Trimming is not deleting: max_deleted_id stays.
    assert stream.max_deleted_id == MIN_ID


def test_approximate_trim_drops_whole_nodes_only():
    stream = make(250)
    assert stream.radix_tree_keys() == 3
    assert stream.trim(maxlen=120, approx=True) == 100
    assert len(stream) == 150
    assert stream.trim(maxlen=0, approx=True, limit=LIMITS.stream_node_max_entries) == 100
    assert stream.trim(minid=(500, 0), approx=True) == 50
    assert len(stream) == 0


def test_minid_trim():
    stream = make(20)
    assert stream.trim(minid=(15, 0)) == 14
    assert stream.first_id == (15, 0)


def test_nodes_split_by_bytes_too():
    stream = Stream()
    for i in range(1, 40):
        stream.add((i, 1), [b"field", b"x" * 300])
    assert stream.radix_tree_keys() == 3


def test_group_delivery_pending_and_ack():
    stream = make(3)
    group = stream.groups[b"g"] = Group(b"g", MIN_ID, 0)
    consumer = group.consumer(b"c", 1000)
    for sid, _ in stream.range(MIN_ID, MAX_ID):
        stream.deliver(group, sid)
        group.add_pending(sid, consumer, 1000)
    assert group.last_id == (3, 0)
    assert group.entries_read == 3
    assert stream.lag(group) == 0
    other = group.consumer(b"d", 2000)
    group.add_pending((2, 0), other, 2000)
    assert list(consumer.pel) == [(1, 0), (3, 0)]
    assert group.pel[(2, 0)].consumer is other
    assert group.ack((2, 0))
    assert not group.ack((2, 0))
    assert list(other.pel) == []


def test_claim_moves_a_pending_entry_between_consumers():
    group = Group(b"g", MIN_ID, 0)
    alice, bob = group.consumer(b"alice", 1), group.consumer(b"bob", 1)
    group.add_pending((1, 0), alice, 1)
    nack = group.pel[(1, 0)]
    group.claim((1, 0), nack, bob)
    assert nack.consumer is bob and list(bob.pel) == [(1, 0)] and not alice.pel
    group.claim((1, 0), nack, bob)
    assert list(bob.pel) == [(1, 0)]
    # A forced claim's entry had no owner yet.
    orphan = group.pel[(2, 0)] = Nack(None, 1)
    group.claim((2, 0), orphan, alice)
    assert orphan.consumer is alice and list(alice.pel) == [(2, 0)]


def test_lag_is_unknown_past_a_deletion():
    stream = make(5)
    group = Group(b"g", MIN_ID, INVALID_ENTRIES_READ)
    assert stream.lag(group) == 5
    stream.delete((3, 0))
    assert stream.lag(group) is None
    stream.add((6, 0), [b"f", b"v"])
    group.last_id = (6, 0)
    assert stream.lag(group) == 0


@pytest.mark.parametrize("n, nodes", [(0, 1), (1, 2), (101, 6)])
def test_radix_tree_node_estimate(n, nodes):
    assert make(n).radix_tree_nodes() == nodes


def test_copy_is_independent():
    stream = make(2)
    group = stream.groups[b"g"] = Group(b"g", (1, 0), 1)
    group.add_pending((1, 0), group.consumer(b"c", 5), 5)
    copy = stream.copy()
    copy.add((9, 0), [b"x", b"y"])
    copy.groups[b"g"].ack((1, 0))
    assert len(stream) == 2
    assert (1, 0) in stream.groups[b"g"].pel
    assert copy.groups[b"g"].consumers[b"c"].pel == {}
