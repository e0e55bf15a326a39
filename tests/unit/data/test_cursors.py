"""Unit tests of the snapshot cursors behind SCAN (hush.data.cursors)."""

from __future__ import annotations

import random
from collections import OrderedDict

import pytest

from hush.core.errors import CommandError
from hush.data.cursors import MAX_SNAPSHOTS, WORK_FACTOR, CursorRegistry, parse_cursor


class Owner:
    """Something iterated: an ordered dict standing in for a keyspace."""

    def __init__(self, items) -> None:
        self.data = OrderedDict((item, True) for item in items)

    def page(self, registry: CursorRegistry, cursor: int, count: int):
        return registry.page(self, cursor, count, lambda: self.data,
                             lambda item: item in self.data)


def iterate(registry, owner, count, between=None, limit=10_000):
    """Run a whole iteration; ``between(step)`` may change ``owner`` between calls."""
    cursor, seen, step = 0, [], 0
    while True:
        cursor, batch = owner.page(registry, cursor, count)
        seen.extend(batch)
        step += 1
        assert step < limit, "iteration does not end"
        if cursor == 0:
            return seen
        if between is not None:
            between(step)


# -- parse_cursor ------------------------------------------------------------------


@pytest.mark.parametrize("raw,value", [
    (b"0", 0), (b"", 0), (b"+0", 0), (b"-0", 0), (b"007", 7), (b"+5", 5),
    (b"18446744073709551615", 2**64 - 1),
    (b"-1", 2**64 - 1),
    (b"-18446744073709551615", 1),
])
def test_parse_cursor_reads_like_strtoul(raw, value):
    assert parse_cursor(raw) == value


@pytest.mark.parametrize("raw", [
    b" 1", b"1 ", b"x", b"1x", b"0x10", b"-", b"+", b"+-1", b"--1", b"1.0",
    b"18446744073709551616", b"-18446744073709551616", b"\xd9\xa1",
])
def test_parse_cursor_rejects(raw):
    with pytest.raises(CommandError) as info:
        parse_cursor(raw)
    assert info.value.message == "ERR invalid cursor"


# -- pages ------------------------------------------------------------------------


def test_small_collection_is_answered_whole_without_a_snapshot():
    registry = CursorRegistry()
    owner = Owner([b"a", b"b", b"c"])
    cursor, batch = owner.page(registry, 0, 3)
    assert cursor == 0
    assert batch == [b"a", b"b", b"c"]
    assert len(registry) == 0


def test_large_collection_is_paged_and_snapshot_dropped_at_the_end():
    registry = CursorRegistry()
    items = [b"k%d" % i for i in range(25)]
    owner = Owner(items)
    cursor, batch = owner.page(registry, 0, 10)
    assert cursor != 0 and batch == items[:10]
    assert len(registry) == 1
    cursor, batch = owner.page(registry, cursor, 10)
    assert cursor != 0 and batch == items[10:20]
    cursor, batch = owner.page(registry, cursor, 10)
    assert cursor == 0 and batch == items[20:]
    assert len(registry) == 0


def test_exact_multiple_ends_without_an_empty_extra_call():
    registry = CursorRegistry()
    owner = Owner(range(20))
    cursor, batch = owner.page(registry, 0, 10)
    cursor, batch = owner.page(registry, cursor, 10)
    assert cursor == 0 and batch == list(range(10, 20))


def test_cursor_fits_unsigned_64_bits():
    registry = CursorRegistry()
    owner = Owner(range(100))
    cursor, _ = owner.page(registry, 0, 1)
    assert 0 < cursor < 2**64


def test_reordering_does_not_lose_or_repeat_items():
    """The store moves keys to the end on access; a snapshot ignores that."""
    registry = CursorRegistry()
    items = list(range(200))
    owner = Owner(items)
    rng = random.Random(7)

    def touch(_step):
        for _ in range(30):
            owner.data.move_to_end(rng.choice(items))

    seen = iterate(registry, owner, 7, touch)
    assert sorted(seen) == items


def test_deleted_items_are_skipped_and_added_ones_do_not_appear():
    registry = CursorRegistry()
    owner = Owner(range(100))

    def churn(step):
        owner.data.pop(99 - step, None)
        owner.data[1000 + step] = True

    seen = iterate(registry, owner, 5, churn)
    assert len(seen) == len(set(seen))
    assert not [item for item in seen if item >= 1000]
    # Every item still present at the end was present throughout: all seen.
    assert {item for item in owner.data if item < 1000} <= set(seen)


def test_work_per_call_is_bounded_when_items_were_deleted():
    registry = CursorRegistry()
    owner = Owner(range(1000))
    cursor, _ = owner.page(registry, 0, 2)
    for item in range(2, 900):
        del owner.data[item]
    cursor, batch = owner.page(registry, cursor, 2)
    # At most COUNT * WORK_FACTOR entries looked at: none found, cursor moves on.
    assert batch == [] and cursor != 0
    assert cursor & 0xFFFFFFFF == 2 + 2 * WORK_FACTOR


def test_unknown_cursor_restarts_the_iteration():
    registry = CursorRegistry()
    owner = Owner(range(30))
    cursor, batch = owner.page(registry, 12345 << 32 | 3, 10)
    assert batch == list(range(10)) and cursor != 0


def test_unknown_cursor_on_small_collection_answers_everything():
    registry = CursorRegistry()
    owner = Owner(range(5))
    assert owner.page(registry, 987654321, 10) == (0, list(range(5)))


def test_cursor_of_another_owner_restarts():
    registry = CursorRegistry()
    first, second = Owner(range(30)), Owner(range(100, 130))
    cursor, _ = first.page(registry, 0, 10)
    _, batch = second.page(registry, cursor, 10)
    assert batch == list(range(100, 110))


def test_offset_past_snapshot_end_restarts():
    registry = CursorRegistry()
    owner = Owner(range(30))
    cursor, _ = owner.page(registry, 0, 10)
    forged = (cursor >> 32) << 32 | 31
    _, batch = owner.page(registry, forged, 10)
    assert batch == list(range(10))


def test_registry_keeps_only_the_most_recent_snapshots():
    registry = CursorRegistry()
    owner = Owner(range(50))
    first, _ = owner.page(registry, 0, 10)
    others = [owner.page(registry, 0, 10)[0] for _ in range(MAX_SNAPSHOTS)]
    assert len(registry) == MAX_SNAPSHOTS
    # The oldest was evicted: its cursor starts over (with a new snapshot).
    restarted, batch = owner.page(registry, first, 10)
    assert batch == list(range(10)) and restarted not in others
    # A recent one still continues where it was.
    _, batch = owner.page(registry, others[-1], 10)
    assert batch == list(range(10, 20))


def test_using_a_snapshot_keeps_it_from_eviction():
    registry = CursorRegistry(max_snapshots=2)
    owner = Owner(range(50))
    first, _ = owner.page(registry, 0, 10)
    owner.page(registry, 0, 10)
    first, _ = owner.page(registry, first, 10)  # first is now the most recent
    owner.page(registry, 0, 10)                  # evicts the second, not first
    _, batch = owner.page(registry, first, 10)
    assert batch == list(range(20, 30))


def test_total_snapshotted_items_are_bounded_but_newest_kept():
    registry = CursorRegistry(max_items=100)
    owner = Owner(range(80))
    owner.page(registry, 0, 10)
    owner.page(registry, 0, 10)
    assert len(registry) == 1
    big = Owner(range(500))
    cursor, _ = big.page(registry, 0, 10)
    assert len(registry) == 1
    _, batch = big.page(registry, cursor, 10)
    assert batch == list(range(10, 20))


def test_forget_and_clear():
    registry = CursorRegistry()
    first, second = Owner(range(30)), Owner(range(30))
    first.page(registry, 0, 10)
    second.page(registry, 0, 10)
    registry.forget(first)
    assert len(registry) == 1
    registry.clear()
    assert len(registry) == 0


def test_snapshot_ids_wrap_without_reusing_zero():
    registry = CursorRegistry()
    registry._last_id = 2**32 - 1
    owner = Owner(range(30))
    cursor, _ = owner.page(registry, 0, 10)
    assert cursor >> 32 == 1
    _, batch = owner.page(registry, cursor, 10)
    assert batch == list(range(10, 20))
