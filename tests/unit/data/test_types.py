"""The value-type registry: one record per Redis type, and what consumers ask it."""

from __future__ import annotations

import dataclasses
from collections import deque
from sys import getsizeof

import pytest

from hush.data.types import registry, stream, string
from hush.data.types.registry import (
    BY_CLASS,
    ITEMS_PER_COMMAND,
    copy_value,
    object_encoding,
    rewrite_commands,
    type_name,
    value_size,
)
from hush.data.types.stream import Group, Stream
from hush.data.types.zset import ZSet


def a_stream(entries: int = 3) -> Stream:
    value = Stream()
    for ms in range(1, entries + 1):
        value.add((ms, 0), [b"field", b"value-%d" % ms])
    return value


def test_every_type_has_one_record_by_its_class():
    names = {cls: record.name for cls, record in BY_CLASS.items()}
    # A bitmap a bit command changes in place is a string held as a bytearray.
    assert names == {bytes: b"string", bytearray: b"string", deque: b"list", dict: b"hash",
                     set: b"set", ZSet: b"zset", Stream: b"stream"}
    for cls, record in BY_CLASS.items():
        assert record.cls is cls


@pytest.mark.parametrize("value,name", [
    (b"x", b"string"), (deque([b"a"]), b"list"), ({b"f": b"v"}, b"hash"),
    ({b"m"}, b"set"), (ZSet(), b"zset"), (Stream(), b"stream"),
])
def test_type_name(value, name):
    assert type_name(value) == name


def test_a_noted_encoding_outranks_the_content():
    assert object_encoding(b"12") == b"int"
    assert object_encoding(b"12", noted=string.RAW) == b"raw"


@pytest.mark.parametrize("value,encoding", [
    (b"x" * 44, b"embstr"), (deque(), b"quicklist"), ({b"f": b"v"}, b"listpack"),
    ({b"1", b"2"}, b"intset"), ({b"a"}, b"hashtable"), (ZSet(), b"listpack"),
    (Stream(), b"stream"), (frozenset(), b"unknown"),
])
def test_object_encoding_by_type(value, encoding):
    assert object_encoding(value) == encoding


def test_note_printed_number_only_for_short_strings():
    class Db:
        encodings: dict[bytes, bytes] = {}

    db = Db()
    string.note_printed_number(db, b"k", b"3")
    string.note_printed_number(db, b"long", b"1" * 45)
    assert db.encodings == {b"k": b"embstr"}


def test_copies_share_nothing_mutable():
    value = a_stream()
    value.groups[b"g"] = group = Group(b"g", (1, 0), 1)
    group.add_pending((1, 0), group.consumer(b"alice", 5), 5)
    copied = copy_value(value)
    assert copied is not value and copied.entries == value.entries
    copied.entries[(1, 0)].append(b"more")
    copied.groups[b"g"].ack((1, 0))
    assert value.entries[(1, 0)] == [b"field", b"value-1"]
    assert (1, 0) in value.groups[b"g"].pel
    text = b"shared"
    assert copy_value(text) is text


def test_a_stream_has_a_size_that_grows_with_its_entries_and_pending_entries():
    empty = value_size(Stream())
    small = value_size(a_stream(3))
    large_stream = a_stream(300)
    large = value_size(large_stream)
    assert getsizeof(Stream()) < empty < small < large
    # Estimated from a sample: about proportional to the number of entries.
    assert large - empty > 50 * (small - empty)
    large_stream.groups[b"g"] = group = Group(b"g", (0, 0), 0)
    consumer = group.consumer(b"c", 0)
    for ms in range(1, 101):
        group.add_pending((ms, 0), consumer, 0)
    assert value_size(large_stream) > large + 100 * 8


def test_unknown_classes_are_sized_by_getsizeof():
    assert value_size(frozenset()) == getsizeof(frozenset())


def test_rewrite_chunks_large_containers():
    value = deque(b"%d" % i for i in range(ITEMS_PER_COMMAND + 1))
    commands = list(rewrite_commands(b"l", value))
    assert [len(argv) - 2 for argv in commands] == [ITEMS_PER_COMMAND, 1]
    assert [part for argv in commands for part in argv[2:]] == list(value)
    hash_value = {b"f%d" % i: b"v" for i in range(ITEMS_PER_COMMAND + 1)}
    commands = list(rewrite_commands(b"h", hash_value))
    assert [len(argv) - 2 for argv in commands] == [2 * ITEMS_PER_COMMAND, 2]


def test_rewrite_of_strings_sorted_sets_and_streams():
    assert list(rewrite_commands(b"s", b"v")) == [[b"SET", b"s", b"v"]]
    zset = ZSet()
    zset.add(b"a", 1.5)
    assert list(rewrite_commands(b"z", zset)) == [[b"ZADD", b"z", b"1.5", b"a"]]
    commands = list(rewrite_commands(b"x", a_stream(1)))
    assert commands == [
        [b"XADD", b"x", b"1-0", b"field", b"value-1"],
        [b"XSETID", b"x", b"1-0", b"ENTRIESADDED", b"1", b"MAXDELETEDID", b"0-0"],
    ]


def test_rewrite_of_an_unknown_class_is_refused():
    with pytest.raises(TypeError, match="cannot write a frozenset value to the AOF"):
        rewrite_commands(b"k", frozenset())


def test_the_stream_record_is_registered_by_its_module():
    assert registry.BY_CLASS[Stream] is stream.STREAM


# -- encoding thresholds -------------------------------------------------------------


@pytest.fixture
def limits():
    """registry.LIMITS, put back as it was after the test."""
    saved = dataclasses.replace(registry.LIMITS)
    yield registry.LIMITS
    for name in registry.LIMIT_SETTINGS:
        attr = name.replace("-", "_")
        setattr(registry.LIMITS, attr, getattr(saved, attr))


def test_thresholds_follow_the_settings(limits, db):
    from hush.config.settings import Settings

    settings = Settings(hash_max_listpack_entries=2)
    registry.follow_settings(settings, [db])
    assert limits.hash_max_listpack_entries == 2
    assert object_encoding({b"a": b"1", b"b": b"2", b"c": b"3"}) == b"hashtable"
    settings.set("hash-max-ziplist-entries", "5")
    assert limits.hash_max_listpack_entries == 5
    settings.set("set-max-intset-entries", "1")
    assert object_encoding({b"1", b"2"}) == b"hashtable"


def test_lowering_a_threshold_pins_the_encodings_it_would_change(limits, db):
    db.set(b"small", {b"a": b"1"})
    db.set(b"three", {b"a": b"1", b"b": b"2", b"c": b"3"})
    db.set(b"ints", {b"1", b"2", b"3"})
    registry.set_limit([db], "hash-max-listpack-entries", 2)
    registry.set_limit([db], "set-max-intset-entries", 2)
    # Redis converts nothing when a threshold changes.
    assert db.encodings == {b"three": b"listpack", b"ints": b"intset"}
    assert object_encoding(db.data[b"small"], db.encodings.get(b"small")) == b"listpack"
    # Raising walks nothing: what fitted still fits.
    registry.set_limit([db], "hash-max-listpack-entries", 100)
    assert db.encodings == {b"three": b"listpack", b"ints": b"intset"}


def test_hash_writes_convert_for_good(limits, db):
    from hush.data.types import hash as hash_type

    limits.hash_max_listpack_entries = 2
    value = {b"a": b"1", b"b": b"2"}
    db.set(b"h", value)
    hash_type.note_write(db, b"h", value, (b"b", b"2"))
    assert b"h" not in db.encodings
    value[b"c"] = b"3"
    hash_type.note_write(db, b"h", value, (b"c", b"3"))
    assert db.encodings[b"h"] == b"hashtable"
    del value[b"c"], value[b"b"]
    assert not hash_type.is_listpack(db, b"h", value)
    limits.hash_max_listpack_value = 3
    db.set(b"v", {b"f": b"1234"})
    hash_type.note_write(db, b"v", db.data[b"v"], (b"f", b"1234"))
    assert db.encodings[b"v"] == b"hashtable"


def test_set_additions_convert_and_a_rebuild_judges_again(limits, db):
    from hush.data.types import set as set_type

    value = {b"1", b"2"}
    db.set(b"s", value)
    set_type.note_added(db, b"s", value, value)
    assert set_type.is_stored_intset(db, b"s", value)
    value.add(b"x")
    set_type.note_added(db, b"s", value, (b"x",))
    value.discard(b"x")
    assert not set_type.is_stored_intset(db, b"s", value)
    assert set_type.ordered_stored(db, b"s", value) in ([b"1", b"2"], [b"2", b"1"])
    set_type.rebuilt(db, b"s", value)
    assert set_type.ordered_stored(db, b"s", value) == [b"1", b"2"]


def test_stored_keeps_what_the_content_makes_now(limits, db):
    db.set(b"h", {b"f%d" % i: b"v" for i in range(600)})
    registry.stored(db, b"h", db.data[b"h"])
    limits.hash_max_listpack_entries = 1000
    assert registry.object_encoding(db.data[b"h"], db.encodings.get(b"h")) == b"hashtable"
    # What the content alone decides needs no note; a loaded key's old note goes.
    db.data[b"s"] = {b"1"}
    db.encodings[b"s"] = b"hashtable"
    registry.stored(db, b"s", db.data[b"s"])
    assert b"s" not in db.encodings
    assert registry.object_encoding(db.data[b"s"]) == b"intset"


def test_stream_nodes_follow_the_limits(limits):
    limits.stream_node_max_entries = 10
    assert a_stream(25).radix_tree_keys() == 3
    limits.stream_node_max_entries = 0
    limits.stream_node_max_bytes = 0
    assert a_stream(250).radix_tree_keys() == 1
