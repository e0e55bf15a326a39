"""Streams in RDB (STREAM_LISTPACKS and STREAM_LISTPACKS_2) and the neutral stream model.

A stream value is a :class:`Stream`: its live entries (ID -> field/value
pairs, ascending), its last ID, first ID, largest deleted ID, entries-added
counter, and its consumer groups with their pending entries lists and
consumers. IDs are ``(ms, seq)`` tuples of unsigned 64-bit ints.

On disk Redis keeps the entries in listpacks ("nodes"), each keyed by its
master ID (16 bytes, big endian) and starting with a master entry (live count,
deleted count, the field names of the node's first entry, 0). Each entry is
flags, ms and seq deltas from the master ID, the values alone when its fields
are the master's (flag 2) or a field count and the pairs, and its own element
count; flag 1 marks a deleted entry, skipped when reading.

:func:`encode_stream` lays the entries out in the nodes the stream has
(:attr:`Stream.nodes`, which the reader fills in from the file too) or, when
it does not say, as Redis does when they are XADDed one by one to a new
stream (a new node when the node's bytes plus the entry's would reach
``stream-node-max-bytes`` or it already holds ``stream-node-max-entries``),
and writes groups, PELs and consumers in Redis's (radix tree, so
byte-sorted) order.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from struct import Struct

from hush.formats import listpack
from hush.formats.rdb import (
    TYPE_STREAM_LISTPACKS_2,
    RdbError,
    Reader,
    Thresholds,
    encode_length,
    encode_ms_time,
    encode_string,
)

StreamID = tuple[int, int]

_ID = Struct(">QQ")
_FLAG_DELETED = 1
_FLAG_SAMEFIELDS = 2
_U64_MAX = (1 << 64) - 1
_LISTPACK_MAX_SIZE = 1 << 30


@dataclass
class PendingEntry:
    """One entry of a group's PEL: who has it, when it was last delivered, how often."""

    consumer: bytes
    delivery_time: int
    delivery_count: int


@dataclass
class Consumer:
    """A consumer of a group: its name, last seen time (ms) and the IDs it has pending."""

    name: bytes
    seen_time: int
    pending: list[StreamID] = field(default_factory=list)


@dataclass
class ConsumerGroup:
    """A consumer group: last delivered ID, entries read (-1: unknown), PEL and consumers."""

    name: bytes
    last_id: StreamID
    entries_read: int
    pel: dict[StreamID, PendingEntry] = field(default_factory=dict)
    consumers: list[Consumer] = field(default_factory=list)


@dataclass
class Stream:
    """A stream value, as the store will hold it and RDB carries it."""

    entries: dict[StreamID, list[tuple[bytes, bytes]]] = field(default_factory=dict)
    last_id: StreamID = (0, 0)
    first_id: StreamID = (0, 0)
    max_deleted_entry_id: StreamID = (0, 0)
    entries_added: int = 0
    groups: list[ConsumerGroup] = field(default_factory=list)
    #: (master ID, master field names) of each node holding live entries, in
    #: order, as Redis keeps them (made under the stream-node-max-* in effect
    #: when each entry came); None: laid out as XADDs would under the thresholds.
    #: The layout, not the value: equal streams may differ in it.
    nodes: list[tuple[StreamID, list[bytes]]] | None = field(default=None, compare=False)


def _as_bytes(item: bytes | int) -> bytes:
    return b"%d" % item if isinstance(item, int) else item


def _node_entries(master: StreamID, items: list, out: dict) -> list[bytes]:
    """Add the live entries of one node's listpack items to ``out``; its master fields."""
    live, deleted, nfields = items[0], items[1], items[2]
    master_fields = [_as_bytes(f) for f in items[3:3 + nfields]]
    if len(master_fields) != nfields or items[3 + nfields] != 0:
        raise ValueError("bad master entry")
    ms0, seq0 = master
    i = 4 + nfields
    for _ in range(live + deleted):
        flags, ms_delta, seq_delta = items[i], items[i + 1], items[i + 2]
        i += 3
        if flags & _FLAG_SAMEFIELDS:
            values = items[i:i + nfields]
            if len(values) != nfields:
                raise ValueError("short entry")
            pairs = list(zip(master_fields, map(_as_bytes, values), strict=True))
            i += nfields
        else:
            count = items[i]
            flat = items[i + 1:i + 1 + 2 * count]
            if len(flat) != 2 * count:
                raise ValueError("short entry")
            flat = [_as_bytes(x) for x in flat]
            pairs = list(zip(flat[0::2], flat[1::2], strict=True))
            i += 1 + 2 * count
        i += 1  # the entry's own element count, used only to walk backwards
        if not flags & _FLAG_DELETED:
            out[(ms0 + ms_delta, seq0 + seq_delta)] = pairs
    if i != len(items):
        raise ValueError("trailing items")
    return master_fields


def _read_id(reader: Reader) -> StreamID:
    return _ID.unpack(reader.take(16))


def decode_stream(reader: Reader, rdb_type: int) -> Stream:
    """Read a stream object (after its type byte) into a :class:`Stream`."""
    stream = Stream(nodes=[])
    entries = stream.entries
    nodes = reader.length()
    seen_keys = set()
    for _ in range(nodes):
        key = reader.string()
        if len(key) != 16:
            raise reader.error("Stream node key entry is not the size of a stream ID")
        blob = reader.string()
        try:
            items = listpack.decode_items(blob)
        except listpack.ListpackError:
            raise reader.error("Stream listpack integrity check failed.") from None
        if not items:
            raise reader.error("Empty listpack inside stream")
        if key in seen_keys:
            raise reader.error("Listpack re-added with existing key")
        seen_keys.add(key)
        master = _ID.unpack(key)
        try:
            live = len(entries)
            master_fields = _node_entries(master, items, entries)
        except (ValueError, TypeError, IndexError):
            raise reader.error("Stream listpack integrity check failed.") from None
        if len(entries) > live:
            stream.nodes.append((master, master_fields))
    length = reader.length()
    stream.last_id = (reader.length(), reader.length())
    if rdb_type == TYPE_STREAM_LISTPACKS_2:
        stream.first_id = (reader.length(), reader.length())
        stream.max_deleted_entry_id = (reader.length(), reader.length())
        stream.entries_added = reader.length()
    else:
        stream.entries_added = length
        stream.first_id = next(iter(entries), (0, 0))
    if length != len(entries):
        raise reader.error("Stream length inconsistent with rax entries")
    for _ in range(reader.length()):
        stream.groups.append(_decode_group(reader, rdb_type, stream))
    return stream


def _decode_group(reader: Reader, rdb_type: int, stream: Stream) -> ConsumerGroup:
    name = reader.string()
    last_id = (reader.length(), reader.length())
    if rdb_type == TYPE_STREAM_LISTPACKS_2:
        entries_read = reader.length()
        if entries_read == _U64_MAX:
            entries_read = -1
    else:
        # Redis 7.0 estimates it for older files; -1 ("unknown") is its fallback.
        entries_read = -1
    if any(group.name == name for group in stream.groups):
        raise reader.error("Duplicated consumer group name %s" % name.decode("latin-1"))
    group = ConsumerGroup(name, last_id, entries_read)
    owners: dict[StreamID, bytes | None] = {}
    pel_times: dict[StreamID, tuple[int, int]] = {}
    for _ in range(reader.length()):
        entry_id = _read_id(reader)
        delivery_time = reader.ms_time()
        delivery_count = reader.length()
        if entry_id in pel_times:
            raise reader.error("Duplicated global PEL entry loading stream consumer group")
        pel_times[entry_id] = (delivery_time, delivery_count)
        owners[entry_id] = None
    names = set()
    for _ in range(reader.length()):
        consumer = Consumer(reader.string(), 0)
        if consumer.name in names:
            raise reader.error("Duplicate stream consumer detected.")
        names.add(consumer.name)
        consumer.seen_time = reader.ms_time()
        for _ in range(reader.length()):
            entry_id = _read_id(reader)
            if entry_id not in owners:
                raise reader.error("Consumer entry not found in group global PEL")
            if owners[entry_id] is not None:
                raise reader.error("Duplicated consumer PEL entry  loading a stream consumer group")
            owners[entry_id] = consumer.name
            consumer.pending.append(entry_id)
        group.consumers.append(consumer)
    for entry_id, (delivery_time, delivery_count) in pel_times.items():
        owner = owners[entry_id]
        if owner is None:
            raise reader.error("Stream CG PEL entry without consumer")
        group.pel[entry_id] = PendingEntry(owner, delivery_time, delivery_count)
    return group


def _node_listpacks(stream: Stream, thresholds: Thresholds) -> list[tuple[StreamID, bytes]]:
    """The stream's nodes (:attr:`Stream.nodes`), or those Redis would build by
    XADDing the entries in order to a new stream."""
    max_bytes = thresholds.stream_node_max_bytes
    if max_bytes == 0 or max_bytes > _LISTPACK_MAX_SIZE:
        max_bytes = _LISTPACK_MAX_SIZE
    max_entries = thresholds.stream_node_max_entries
    layout = stream.nodes
    starts = [node_master for node_master, _fields in layout] if layout is not None else []
    enc = listpack.encode_entry
    nodes: list[tuple[StreamID, bytes]] = []
    master: StreamID | None = None
    parts: list[bytes] = []
    size = 0  # the listpack's total bytes: header, entries, terminator
    count = 0
    master_fields: list[bytes] = []
    for entry_id, pairs in stream.entries.items():
        fields = [f for f, _ in pairs]
        if layout is not None:
            start, start_fields = layout[max(0, bisect_right(starts, entry_id) - 1)]
            opens = start != master
        else:
            total = sum(len(f) + len(v) for f, v in pairs)
            start, start_fields = entry_id, fields
            opens = master is None or size + total >= max_bytes or bool(
                max_entries and count >= max_entries)
        if opens:
            if master is not None:
                nodes.append((master, listpack.build(parts)))
            master = start
            master_fields = start_fields
            parts = ([enc(1), enc(0), enc(len(master_fields))] + [enc(f) for f in master_fields]
                     + [enc(0)])
            size = listpack.HEADER_SIZE + 1 + sum(map(len, parts))
            count = 1
        else:
            count += 1
            new_count = enc(count)
            size += len(new_count) - len(parts[0])
            parts[0] = new_count
        same = fields == master_fields
        flags = _FLAG_SAMEFIELDS if same else 0
        added = [enc(flags), enc(entry_id[0] - master[0]), enc(entry_id[1] - master[1])]
        if same:
            added += [enc(v) for _, v in pairs]
            added.append(enc(len(pairs) + 3))
        else:
            added.append(enc(len(pairs)))
            for f, v in pairs:
                added.append(enc(f))
                added.append(enc(v))
            added.append(enc(2 * len(pairs) + 4))
        parts += added
        size += sum(map(len, added))
    if master is not None:
        nodes.append((master, listpack.build(parts)))
    return nodes


def encode_stream(stream: Stream, thresholds: Thresholds) -> bytes:
    """The body of a STREAM_LISTPACKS_2 object (without its type byte)."""
    compress = thresholds.rdb_compression
    out = []
    nodes = _node_listpacks(stream, thresholds)
    out.append(encode_length(len(nodes)))
    for master, blob in nodes:
        out.append(encode_string(_ID.pack(*master), compress))
        out.append(encode_string(blob, compress))
    out.append(encode_length(len(stream.entries)))
    for number in (*stream.last_id, *stream.first_id, *stream.max_deleted_entry_id,
                   stream.entries_added):
        out.append(encode_length(number))
    out.append(encode_length(len(stream.groups)))
    for group in sorted(stream.groups, key=lambda g: g.name):
        out.append(encode_string(group.name, compress))
        out.append(encode_length(group.last_id[0]))
        out.append(encode_length(group.last_id[1]))
        out.append(encode_length(group.entries_read if group.entries_read >= 0 else _U64_MAX))
        out.append(encode_length(len(group.pel)))
        for entry_id in sorted(group.pel):
            pending = group.pel[entry_id]
            out.append(_ID.pack(*entry_id))
            out.append(encode_ms_time(pending.delivery_time))
            out.append(encode_length(pending.delivery_count))
        out.append(encode_length(len(group.consumers)))
        for consumer in sorted(group.consumers, key=lambda c: c.name):
            out.append(encode_string(consumer.name, compress))
            out.append(encode_ms_time(consumer.seen_time))
            out.append(encode_length(len(consumer.pending)))
            out.extend(_ID.pack(*entry_id) for entry_id in sorted(consumer.pending))
    return b"".join(out)


__all__ = [
    "Consumer",
    "ConsumerGroup",
    "PendingEntry",
    "RdbError",
    "Stream",
    "StreamID",
    "decode_stream",
    "encode_stream",
]
