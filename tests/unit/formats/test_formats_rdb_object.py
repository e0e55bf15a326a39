"""RDB objects <-> neutral values: encoding choices, old encodings, streams, corrupt objects."""

from __future__ import annotations

import math
import struct

import pytest

from hush.formats import intset, listpack, rdb
from hush.formats.rdb import EmptyKey, RdbError, Reader, Thresholds
from hush.formats.rdb_object import decode_object, encode_object, encoding_of, quicklist_nodes
from hush.formats.rdb_stream import Consumer, ConsumerGroup, PendingEntry, Stream
from tests.unit.formats.test_formats_ziplist import craft as craft_ziplist
from tests.unit.formats.test_formats_zipmap import craft as craft_zipmap


def round_trip(kind, value, thresholds=rdb.DEFAULT_THRESHOLDS):
    rdb_type, body = encode_object(kind, value, thresholds)
    reader = Reader(body)
    decoded = decode_object(reader, rdb_type)
    assert reader.pos == len(body)
    return rdb_type, decoded


def decode(rdb_type, body):
    reader = Reader(body)
    value = decode_object(reader, rdb_type)
    assert reader.pos == len(body)
    return value


# -- encoding choices -----------------------------------------------------------------


def test_sets():
    assert encoding_of("set", {b"1", b"-5", b"9223372036854775807"}) == rdb.TYPE_SET_INTSET
    assert encoding_of("set", {b"1", b"01"}) == rdb.TYPE_SET
    assert encoding_of("set", {b"%d" % i for i in range(512)}) == rdb.TYPE_SET_INTSET
    assert encoding_of("set", {b"%d" % i for i in range(513)}) == rdb.TYPE_SET
    assert encoding_of("set", {b"1", b"2"}, Thresholds(set_max_intset_entries=1)) == rdb.TYPE_SET
    for members in ({b"1", b"-7", b"100000"}, {b"a", b"1"}):
        assert round_trip("set", members)[1] == ("set", members)


def test_hashes():
    small = {b"f": b"v", b"n": b"12"}
    assert round_trip("hash", small) == (rdb.TYPE_HASH_LISTPACK, ("hash", small))
    long_value = {b"f": b"x" * 65}
    assert round_trip("hash", long_value) == (rdb.TYPE_HASH, ("hash", long_value))
    assert encoding_of("hash", {b"f": b"x" * 64}) == rdb.TYPE_HASH_LISTPACK
    many = {b"%d" % i: b"v" for i in range(513)}
    assert round_trip("hash", many) == (rdb.TYPE_HASH, ("hash", many))
    assert encoding_of("hash", many, Thresholds(hash_max_listpack_entries=600)) == rdb.TYPE_HASH_LISTPACK
    # pairs in a list are accepted too, in their order
    assert round_trip("hash", [(b"b", b"1"), (b"a", b"2")])[1] == ("hash", {b"b": b"1", b"a": b"2"})


def test_zsets():
    members = [(b"a", 1.0), (b"b", -0.5), (b"c", math.inf), (b"d", 0.1), (b"e", -math.inf)]
    expected = sorted(members, key=lambda p: (p[1], p[0]))
    assert round_trip("zset", members) == (rdb.TYPE_ZSET_LISTPACK, ("zset", expected))
    long_member = [(b"m" * 65, 1.0), (b"a", 2.0)]
    assert round_trip("zset", long_member) == (rdb.TYPE_ZSET_2, ("zset", long_member))
    many = [(b"%d" % i, i / 3) for i in range(129)]
    assert round_trip("zset", many) == (rdb.TYPE_ZSET_2, ("zset", many))


def test_strings():
    for value in (b"", b"12", b"-2147483648", b"x" * 100, bytes(range(256))):
        assert round_trip("string", value) == (rdb.TYPE_STRING, ("string", value))


def test_empty_collections_are_refused():
    for kind in ("list", "set", "zset", "hash"):
        with pytest.raises(ValueError):
            encode_object(kind, [] if kind != "set" else set())


# -- lists and quicklist nodes --------------------------------------------------------


def test_list_nodes_follow_the_size_limit():
    items = [b"element-%05d" % i for i in range(3000)]
    nodes = quicklist_nodes(items)
    assert len(nodes) > 1
    for container, blob in nodes:
        assert container == 2
        # -2 means 8 KiB per node, estimated before each append
        assert len(blob) <= 8192
    assert round_trip("list", items)[1] == ("list", items)


def test_list_nodes_with_a_count_limit():
    items = [b"%d" % i for i in range(12)]
    nodes = quicklist_nodes(items, Thresholds(list_max_listpack_size=5))
    assert [len(listpack.decode(blob)) for _, blob in nodes] == [5, 5, 2]


def test_plain_nodes_for_large_elements():
    th = Thresholds(list_packed_threshold=100)
    items = [b"a", b"b", b"x" * 150, b"c"]
    nodes = quicklist_nodes(items, th)
    assert [container for container, _ in nodes] == [2, 1, 2]
    assert nodes[1][1] == b"x" * 150
    assert round_trip("list", items, th)[1] == ("list", items)


def test_quicklist_node_of_unknown_container():
    body = b"\x01\x03" + rdb.encode_string(listpack.encode([b"a"]))
    with pytest.raises(RdbError, match="Quicklist integrity check failed"):
        decode(rdb.TYPE_LIST_QUICKLIST_2, body)


def test_corrupt_listpack_node():
    blob = bytearray(listpack.encode([b"a", b"b"]))
    blob[4] = 5  # wrong count
    body = b"\x01\x02" + rdb.encode_string(bytes(blob), compress=False)
    with pytest.raises(RdbError, match="Listpack integrity check failed") as info:
        decode(rdb.TYPE_LIST_QUICKLIST_2, body)
    assert info.value.offset == 2


# -- older encodings Redis 7.0 still loads -------------------------------------------


def test_old_list_types():
    assert decode(rdb.TYPE_LIST, b"\x02\x01a\xc0\x05") == ("list", [b"a", b"5"])
    zl = craft_ziplist([b"\x01a", b"\xfe\x07"])
    assert decode(rdb.TYPE_LIST_ZIPLIST, rdb.encode_string(zl)) == ("list", [b"a", b"7"])
    quicklist_1 = b"\x02" + rdb.encode_string(zl) + rdb.encode_string(craft_ziplist([b"\x01z"]))
    assert decode(rdb.TYPE_LIST_QUICKLIST, quicklist_1) == ("list", [b"a", b"7", b"z"])


def test_old_hash_and_zset_types():
    zl = craft_ziplist([b"\x01f", b"\x01v", b"\x01g", b"\xf3"])
    assert decode(rdb.TYPE_HASH_ZIPLIST, rdb.encode_string(zl)) == ("hash", {b"f": b"v", b"g": b"2"})
    zm = craft_zipmap([(b"f1", b"v1"), (b"f2", b"v2")])
    assert decode(rdb.TYPE_HASH_ZIPMAP, rdb.encode_string(zm)) == ("hash", {b"f1": b"v1", b"f2": b"v2"})
    zl = craft_ziplist([b"\x01a", b"\x031.5", b"\x01b", b"\xf3"])
    assert decode(rdb.TYPE_ZSET_ZIPLIST, rdb.encode_string(zl)) == ("zset", [(b"a", 1.5), (b"b", 2.0)])
    old_zset = b"\x02\x01a" + rdb.encode_string_double(2.5) + b"\x01b" + rdb.encode_string_double(-math.inf)
    assert decode(rdb.TYPE_ZSET, old_zset) == ("zset", [(b"b", -math.inf), (b"a", 2.5)])


def test_intset_set():
    body = rdb.encode_string(intset.encode([5, -3]))
    assert decode(rdb.TYPE_SET_INTSET, body) == ("set", {b"5", b"-3"})


# -- corrupt objects ------------------------------------------------------------------


@pytest.mark.parametrize("rdb_type,body,message", [
    (rdb.TYPE_SET, b"\x02\x01a\x01a", "Duplicate set members detected"),
    (rdb.TYPE_HASH, b"\x02\x01a\x01b\x01a\x01c", "Duplicate hash fields detected"),
    (rdb.TYPE_ZSET_2, b"\x02\x01a" + struct.pack("<d", 1) + b"\x01a" + struct.pack("<d", 2),
     "Duplicate zset fields detected"),
    (rdb.TYPE_ZSET_2, b"\x01\x01a" + struct.pack("<d", math.nan), "Zset with NAN score detected"),
    (rdb.TYPE_HASH_LISTPACK, rdb.encode_string(listpack.encode([b"a", b"1", b"a", b"2"])),
     "Hash listpack integrity check failed."),
    (rdb.TYPE_HASH_LISTPACK, rdb.encode_string(listpack.encode([b"a", b"1", b"b"])),
     "Hash listpack integrity check failed."),
    (rdb.TYPE_ZSET_LISTPACK, rdb.encode_string(listpack.encode([b"a", b"x"])),
     "Zset listpack integrity check failed."),
    (rdb.TYPE_SET_INTSET, rdb.encode_string(b"\x02\x00\x00\x00\x02\x00\x00\x00\x01\x00"),
     "Intset integrity check failed."),
    (8, b"", "Unknown RDB encoding type 8"),
    (rdb.TYPE_MODULE_2, rdb.encode_length(0x1234 << 10),
     "The RDB file contains module data I can't load: no matching module type 'AAAAAABI0'"),
])
def test_corrupt_objects(rdb_type, body, message):
    with pytest.raises(RdbError) as info:
        decode(rdb_type, body)
    assert info.value.reason == message
    assert not isinstance(info.value, EmptyKey)


@pytest.mark.parametrize("rdb_type,body", [
    (rdb.TYPE_LIST, b"\x00"),
    (rdb.TYPE_SET, b"\x00"),
    (rdb.TYPE_HASH, b"\x00"),
    (rdb.TYPE_ZSET_2, b"\x00"),
    (rdb.TYPE_LIST_QUICKLIST_2, b"\x00"),
    (rdb.TYPE_HASH_LISTPACK, rdb.encode_string(listpack.encode([]))),
    (rdb.TYPE_LIST_ZIPLIST, rdb.encode_string(craft_ziplist([]))),
])
def test_empty_values_are_empty_keys(rdb_type, body):
    with pytest.raises(EmptyKey):
        decode(rdb_type, body)


def test_collection_counts_beyond_the_input_are_truncated_not_allocated():
    with pytest.raises(rdb.Truncated):
        decode(rdb.TYPE_LIST, b"\x81\x00\x00\x00\x10\x00\x00\x00\x00\x01a")
    with pytest.raises(rdb.Truncated):
        decode(rdb.TYPE_SET, b"\x80\xff\xff\xff\xff\x01a")


# -- streams --------------------------------------------------------------------------


def sample_stream() -> Stream:
    stream = Stream()
    for i in range(1, 8):
        stream.entries[(1000 + i, i % 2)] = [(b"name", b"item%d" % i), (b"n", b"%d" % i)]
    stream.entries[(3000, 0)] = [(b"other", b"x")]
    stream.last_id = (3000, 0)
    stream.first_id = (1001, 1)
    stream.max_deleted_entry_id = (999, 0)
    stream.entries_added = 9
    stream.groups = [
        ConsumerGroup(b"g2", (0, 0), -1),
        ConsumerGroup(b"g1", (1003, 1), 3, pel={
            (1002, 0): PendingEntry(b"alice", 1_700_000_000_000, 2),
            (1003, 1): PendingEntry(b"bob", 1_700_000_000_500, 1),
        }, consumers=[
            Consumer(b"bob", 1_700_000_001_000, [(1003, 1)]),
            Consumer(b"alice", 1_700_000_002_000, [(1002, 0)]),
            Consumer(b"carol", 1_700_000_003_000, []),
        ]),
    ]
    return stream


def test_stream_round_trip():
    stream = sample_stream()
    rdb_type, (kind, decoded) = round_trip("stream", stream)
    assert rdb_type == rdb.TYPE_STREAM_LISTPACKS_2 and kind == "stream"
    assert decoded.entries == stream.entries
    assert (decoded.last_id, decoded.first_id, decoded.max_deleted_entry_id, decoded.entries_added) == (
        (3000, 0), (1001, 1), (999, 0), 9)
    # groups and consumers come back in Redis's (byte-sorted) order
    assert [g.name for g in decoded.groups] == [b"g1", b"g2"]
    g1 = decoded.groups[0]
    assert g1.pel == stream.groups[1].pel and g1.entries_read == 3 and g1.last_id == (1003, 1)
    assert [(c.name, c.seen_time, c.pending) for c in g1.consumers] == [
        (b"alice", 1_700_000_002_000, [(1002, 0)]),
        (b"bob", 1_700_000_001_000, [(1003, 1)]),
        (b"carol", 1_700_000_003_000, []),
    ]
    assert decoded.groups[1].entries_read == -1


def test_stream_nodes_split_by_entries_and_bytes():
    stream = Stream()
    for i in range(250):
        stream.entries[(i + 1, 0)] = [(b"f", b"v%d" % i)]
    body = encode_object("stream", stream)[1]
    assert Reader(body).length() == 3  # 100 entries per node
    body = encode_object("stream", stream, Thresholds(stream_node_max_bytes=200))[1]
    assert Reader(body).length() > 3
    assert decode(rdb.TYPE_STREAM_LISTPACKS_2, body)[1].entries == stream.entries


def test_stream_nodes_as_the_stream_has_them():
    """Given nodes win over the thresholds; the reader gives a file's nodes back,
    a node's master fields being those of its (maybe deleted) first entry."""
    stream = Stream()
    for i in range(6):
        stream.entries[(i + 1, 0)] = [(b"f", b"v%d" % i)]
    stream.nodes = [((1, 0), [b"f"]), ((3, 0), [b"f"]), ((5, 0), [b"old"])]
    body = encode_object("stream", stream)[1]
    assert Reader(body).length() == 3
    decoded = decode(rdb.TYPE_STREAM_LISTPACKS_2, body)[1]
    assert decoded.entries == stream.entries and decoded.nodes == stream.nodes
    # A node whose every entry is gone is not one.
    body = node((1, 0), [((1, 0), [(b"a", b"1")]), ((2, 0), [(b"a", b"2")])], deleted={(1, 0)})
    body += node((3, 0), [((3, 0), [(b"a", b"3")])], deleted={(3, 0)})
    # One live entry, last ID 3-0, no groups.
    decoded = decode(rdb.TYPE_STREAM_LISTPACKS, rdb.encode_length(2) + body + bytes(
        [1, 3, 0, 0]))[1]
    assert decoded.nodes == [((1, 0), [b"a"])]


def test_empty_stream_with_a_group():
    stream = Stream(groups=[ConsumerGroup(b"g", (0, 0), 0)])
    decoded = round_trip("stream", stream)[1][1]
    assert decoded.entries == {} and decoded.groups[0].name == b"g"


def node(master, entries, deleted=()):
    """A stream node listpack the way Redis lays it out, with some entries flagged deleted."""
    fields = [f for f, _ in entries[0][1]]
    items = [len(entries) - len(deleted), len(deleted), len(fields), *fields, 0]
    for entry_id, pairs in entries:
        flags = 1 if entry_id in deleted else 0
        items += [flags, entry_id[0] - master[0], entry_id[1] - master[1], len(pairs)]
        for f, v in pairs:
            items += [f, v]
        items.append(2 * len(pairs) + 4)
    return rdb.encode_string(struct.pack(">QQ", *master)) + rdb.encode_string(listpack.encode(items))


def test_deleted_entries_are_skipped_and_version_1_streams_load():
    entries = [((5, 0), [(b"a", b"1")]), ((6, 0), [(b"a", b"2")]), ((7, 0), [(b"b", b"3")])]
    body = b"\x01" + node((5, 0), entries, deleted={(6, 0)}) + b"\x02\x07\x00"
    body += b"\x01" + rdb.encode_string(b"g") + b"\x06\x00"
    body += b"\x01" + struct.pack(">QQ", 7, 0) + rdb.encode_ms_time(123) + b"\x01"
    body += b"\x01" + rdb.encode_string(b"c") + rdb.encode_ms_time(456) + b"\x01" + struct.pack(">QQ", 7, 0)
    kind, stream = decode(rdb.TYPE_STREAM_LISTPACKS, body)
    assert stream.entries == {(5, 0): [(b"a", b"1")], (7, 0): [(b"b", b"3")]}
    assert stream.first_id == (5, 0) and stream.entries_added == 2 and stream.last_id == (7, 0)
    assert stream.groups[0].pel == {(7, 0): PendingEntry(b"c", 123, 1)}


@pytest.mark.parametrize("mutate,message", [
    (lambda b: b.replace(b"\x10\x00\x00", b"\x0f\x00\x00", 1), "Stream node key entry is not the size of a stream ID"),
    (lambda b: b[:-8] + struct.pack(">QQ", 9, 9)[:8], "Consumer entry not found in group global PEL"),
])
def test_corrupt_streams(mutate, message):
    stream = Stream(entries={(1, 0): [(b"f", b"v")]}, last_id=(1, 0), first_id=(1, 0), entries_added=1,
                    groups=[ConsumerGroup(b"g", (1, 0), 1, pel={(1, 0): PendingEntry(b"c", 5, 1)},
                                          consumers=[Consumer(b"c", 6, [(1, 0)])])])
    body = mutate(encode_object("stream", stream, Thresholds(rdb_compression=False))[1])
    with pytest.raises(RdbError) as info:
        decode(rdb.TYPE_STREAM_LISTPACKS_2, body)
    assert info.value.reason == message


def test_pel_entry_without_consumer_is_refused():
    stream = Stream(entries={(1, 0): [(b"f", b"v")]}, last_id=(1, 0), entries_added=1,
                    groups=[ConsumerGroup(b"g", (1, 0), 1, pel={(1, 0): PendingEntry(b"c", 5, 1)},
                                          consumers=[Consumer(b"c", 6, [])])])
    with pytest.raises(RdbError, match="Stream CG PEL entry without consumer"):
        decode(rdb.TYPE_STREAM_LISTPACKS_2, encode_object("stream", stream)[1])
