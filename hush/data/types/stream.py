# -*- test-case-name: tests.unit.data.test_stream -*-
"""The stream value type: entries by ID, consumer groups and their pending lists.

An ID is a ``(ms, seq)`` tuple of unsigned 64-bit ints; tuples order as Redis
orders IDs. Entries live in a :class:`SortedDict` so ranges cost O(log n + m).
Redis stores entries in listpack nodes of at most ``stream-node-max-entries``
entries; approximate trimming (``~``) only drops whole nodes, so the node
boundaries are modelled here (:class:`_Node`) to trim exactly what Redis trims.

Its record (:data:`STREAM`) copies a stream with its groups, estimates its
size from a sample of entries plus its pending entries, rewrites it for the
AOF as Redis's rewriteStreamObject does, and converts it to and from RDB's
stream model (:mod:`hush.formats.rdb_stream`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from itertools import islice
from sys import getsizeof

from sortedcontainers import SortedDict

from hush.data.types import alloc
from hush.data.types.registry import LIMITS, SAMPLE, ValueType, register, sampled_size
from hush.formats import rdb_stream

StreamID = tuple[int, int]

UINT64_MAX = 2**64 - 1
MIN_ID: StreamID = (0, 0)
MAX_ID: StreamID = (UINT64_MAX, UINT64_MAX)

#: The largest a stream node may grow, whatever stream-node-max-bytes says
#: (Redis's STREAM_LISTPACK_MAX_SIZE; also what 0 means).
NODE_BYTES_CEILING = 1 << 30

#: Redis's SCG_INVALID_ENTRIES_READ: a group's read counter is unknown.
INVALID_ENTRIES_READ = -1


def format_id(sid: StreamID) -> bytes:
    """``ms-seq`` as Redis writes an ID."""
    return b"%d-%d" % sid


def incr_id(sid: StreamID) -> StreamID | None:
    """The next ID, or None past the largest."""
    ms, seq = sid
    if seq == UINT64_MAX:
        if ms == UINT64_MAX:
            return None
        return (ms + 1, 0)
    return (ms, seq + 1)


def decr_id(sid: StreamID) -> StreamID | None:
    """The previous ID, or None before 0-0."""
    ms, seq = sid
    if seq == 0:
        if ms == 0:
            return None
        return (ms - 1, UINT64_MAX)
    return (ms, seq - 1)


class Consumer:
    """A consumer of a group: its name, its pending entries and when it was last seen."""

    __slots__ = ("name", "seen_time", "pel")

    def __init__(self, name: bytes, now_ms: int) -> None:
        self.name = name
        self.seen_time = now_ms
        self.pel: SortedDict = SortedDict()


class Nack:
    """A pending entry: delivered to ``consumer``, not yet acknowledged."""

    __slots__ = ("consumer", "delivery_time", "delivery_count")

    def __init__(self, consumer: Consumer | None, now_ms: int) -> None:
        self.consumer = consumer
        self.delivery_time = now_ms
        self.delivery_count = 1


class Group:
    """A consumer group: its last delivered ID, read counter, PEL and consumers."""

    __slots__ = ("name", "last_id", "entries_read", "pel", "consumers")

    def __init__(self, name: bytes, last_id: StreamID, entries_read: int) -> None:
        self.name = name
        self.last_id = last_id
        self.entries_read = entries_read
        self.pel: SortedDict = SortedDict()
        self.consumers: dict[bytes, Consumer] = {}

    def consumer(self, name: bytes, now_ms: int, refresh: bool = True) -> Consumer:
        """The consumer called ``name``, created if new; its seen-time refreshed."""
        consumer = self.consumers.get(name)
        if consumer is None:
            consumer = self.consumers[name] = Consumer(name, now_ms)
        elif refresh:
            consumer.seen_time = now_ms
        return consumer

    def add_pending(self, sid: StreamID, consumer: Consumer, now_ms: int) -> None:
        """Record a delivery of ``sid`` to ``consumer`` (reassigning a pending one)."""
        nack = self.pel.get(sid)
        if nack is None:
            nack = self.pel[sid] = Nack(consumer, now_ms)
        else:
            if nack.consumer is not None:
                nack.consumer.pel.pop(sid, None)
            nack.consumer = consumer
            nack.delivery_time = now_ms
            nack.delivery_count = 1
        consumer.pel[sid] = nack

    def claim(self, sid: StreamID, nack: Nack, consumer: Consumer) -> None:
        """Make ``consumer`` the owner of the pending ``sid`` (XCLAIM, XAUTOCLAIM)."""
        if nack.consumer is not consumer:
            if nack.consumer is not None:
                nack.consumer.pel.pop(sid, None)
            consumer.pel[sid] = nack
            nack.consumer = consumer

    def ack(self, sid: StreamID) -> bool:
        """Forget the pending ``sid``; True if it was pending."""
        nack = self.pel.pop(sid, None)
        if nack is None:
            return False
        if nack.consumer is not None:
            nack.consumer.pel.pop(sid, None)
        return True

    def sorted_consumers(self) -> list[Consumer]:
        """Consumers in Redis's (radix tree, so byte-wise) order."""
        return [self.consumers[name] for name in sorted(self.consumers)]


class _Node:
    """One listpack of Redis's stream: where approximate trimming cuts.

    ``nbytes`` follows the listpack's real size (Redis starts a new node when
    the next entry would pass ``stream-node-max-bytes``).
    """

    __slots__ = ("master", "fields", "last_id", "live", "total", "nbytes")

    def __init__(self, master: StreamID, fields: list[bytes]) -> None:
        self.master = master
        self.fields = fields[0::2]
        self.last_id: StreamID = master
        self.live = 0
        self.total = 0
        # Header and end byte, then the master entry: count, deleted, the
        # number of fields, the field names and a zero terminator.
        self.nbytes = 7 + 2 + 2 + _lp_int(len(self.fields)) + sum(
            _lp_str(f) for f in self.fields) + 2

    def entry_bytes(self, sid: StreamID, fields: list[bytes]) -> int:
        """What appending this entry adds to the listpack."""
        names = fields[0::2]
        values = fields[1::2]
        size = 2 + _lp_int(sid[0] - self.master[0]) + _lp_int(sid[1] - self.master[1])
        if names == self.fields:
            size += sum(_lp_str(v) for v in values)
            count = len(values) + 3
        else:
            size += _lp_int(len(names)) + sum(_lp_str(v) for v in fields)
            count = 2 * len(names) + 4
        return size + _lp_int(count)


def _backlen(size: int) -> int:
    if size <= 127:
        return 1
    if size < 16383:
        return 2
    if size < 2097151:
        return 3
    return 4 if size < 268435455 else 5


def _lp_int(value: int) -> int:
    """Bytes of an integer element in a listpack (with its back length)."""
    if 0 <= value <= 127:
        size = 1
    elif -4096 <= value <= 4095:
        size = 2
    elif -32768 <= value <= 32767:
        size = 3
    elif -8388608 <= value <= 8388607:
        size = 4
    elif -(2**31) <= value < 2**31:
        size = 5
    else:
        size = 9
    return size + 1


def _lp_str(raw: bytes) -> int:
    """Bytes of a string element; listpacks store integer-looking strings as integers."""
    if 0 < len(raw) <= 20 and (raw.isdigit() or (raw[:1] == b"-" and raw[1:].isdigit())):
        if (raw[:1] != b"0" or raw == b"0") and raw[:2] != b"-0" and raw != b"-":
            value = int(raw)
            if -(2**63) <= value < 2**63:
                return _lp_int(value)
    n = len(raw)
    size = 1 + n if n <= 63 else (2 + n if n <= 4095 else 5 + n)
    return size + _backlen(size)


class Stream:
    """A Redis stream value.

    @ivar entries: ID -> flat ``[field, value, ...]`` list, in ID order.
    @ivar last_id: the largest ID ever added (or set with XSETID).
    @ivar entries_added: how many entries were ever added.
    @ivar max_deleted_id: the largest ID removed by XDEL.
    @ivar groups: name -> :class:`Group`.
    """

    __slots__ = ("entries", "last_id", "entries_added", "max_deleted_id", "groups", "_nodes")

    def __init__(self) -> None:
        self.entries: SortedDict = SortedDict()
        self.last_id: StreamID = MIN_ID
        self.entries_added = 0
        self.max_deleted_id: StreamID = MIN_ID
        self.groups: dict[bytes, Group] = {}
        # master ID -> node, in ID order.
        self._nodes: SortedDict = SortedDict()

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def first_id(self) -> StreamID:
        """The first live entry's ID, 0-0 when empty."""
        return self.entries.keys()[0] if self.entries else MIN_ID

    def last_entry_id(self) -> StreamID:
        """The last live entry's ID, 0-0 when empty."""
        return self.entries.keys()[-1] if self.entries else MIN_ID

    # -- adding ------------------------------------------------------------

    def next_auto_id(self, now_ms: int) -> StreamID | None:
        """The ID ``*`` stands for now; None when no ID is left."""
        last_ms, last_seq = self.last_id
        if now_ms > last_ms:
            return (now_ms, 0)
        return incr_id(self.last_id)

    def add(self, sid: StreamID, fields: list[bytes],
            node_start: tuple[StreamID, list[bytes]] | None = None) -> None:
        """Append an entry; ``sid`` must be greater than :attr:`last_id`.

        ``node_start`` (a loaded node's master ID and field names) puts it in
        that node, opened by this entry if it is not the last one; without
        it, the thresholds in effect decide, as for XADD.
        """
        self.entries[sid] = fields
        self.last_id = sid
        self.entries_added += 1
        nodes = self._nodes
        node = nodes.values()[-1] if nodes else None
        if node_start is not None:
            master, names = node_start
            if node is None or node.master != master:
                node = nodes[master] = _Node(master, [x for name in names for x in (name, b"")])
        else:
            # Redis's streamAppendItem: a new node when this entry would take the
            # last one to stream-node-max-bytes, or it holds stream-node-max-entries
            # (deleted ones included); 0 is no limit.
            max_bytes = LIMITS.stream_node_max_bytes
            if not max_bytes or max_bytes > NODE_BYTES_CEILING:
                max_bytes = NODE_BYTES_CEILING
            max_entries = LIMITS.stream_node_max_entries
            if (node is None or node.nbytes + sum(len(f) for f in fields) >= max_bytes
                    or (max_entries and node.total >= max_entries)):
                node = nodes[sid] = _Node(sid, fields)
        node.nbytes += node.entry_bytes(sid, fields)
        node.last_id = sid
        node.live += 1
        node.total += 1

    def _node_of(self, sid: StreamID) -> tuple[StreamID, _Node]:
        nodes = self._nodes
        index = nodes.bisect_right(sid) - 1
        return nodes.peekitem(index)

    def _drop(self, sid: StreamID) -> None:
        del self.entries[sid]
        master, node = self._node_of(sid)
        node.live -= 1
        if not node.live:
            del self._nodes[master]

    # -- reading -----------------------------------------------------------

    def range(self, start: StreamID, end: StreamID, count: int = 0,
              reverse: bool = False) -> list[tuple[StreamID, list[bytes]]]:
        """Entries with ``start <= id <= end``, at most ``count`` (0: all)."""
        if start > end:
            return []
        entries = self.entries
        ids: Iterator[StreamID] = entries.irange(start, end, reverse=reverse)
        out = []
        for sid in ids:
            out.append((sid, entries[sid]))
            if len(out) == count:
                break
        return out

    # -- removing ----------------------------------------------------------

    def delete(self, sid: StreamID) -> bool:
        """XDEL one entry; True if it existed."""
        if sid not in self.entries:
            return False
        self._drop(sid)
        if sid > self.max_deleted_id:
            self.max_deleted_id = sid
        return True

    def trim(self, maxlen: int | None = None, minid: StreamID | None = None,
             approx: bool = False, limit: int = 0) -> int:
        """Redis's streamTrim: drop old entries by MAXLEN or MINID; how many went.

        Approximate trimming drops whole nodes only, and at most ``limit``
        entries (0: no limit).
        """
        deleted = 0
        nodes = self._nodes
        while nodes:
            if maxlen is not None and len(self.entries) <= maxlen:
                break
            master, node = nodes.peekitem(0)
            live = node.live
            if limit and deleted + live > limit:
                break
            if maxlen is not None:
                remove_node = len(self.entries) - live >= maxlen
            else:
                remove_node = node.last_id < minid
            if remove_node:
                for sid in list(self.entries.irange(master, node.last_id)):
                    del self.entries[sid]
                del nodes[master]
                deleted += live
                continue
            if approx:
                break
            for sid in list(self.entries.irange(master, node.last_id)):
                if maxlen is not None:
                    if len(self.entries) <= maxlen:
                        break
                elif sid >= minid:
                    break
                self._drop(sid)
                deleted += 1
            break
        return deleted

    # -- groups --------------------------------------------------------------

    def has_tombstones(self, start: StreamID | None) -> bool:
        """Redis's streamRangeHasTombstones from ``start`` to the end."""
        if not self.entries or self.max_deleted_id == MIN_ID:
            return False
        if self.first_id > self.max_deleted_id:
            return False
        return (start or MIN_ID) <= self.max_deleted_id

    def estimate_entries_read(self, sid: StreamID) -> int:
        """Redis's streamEstimateDistanceFromFirstEverEntry."""
        if not self.entries_added:
            return 0
        if not self.entries and sid <= self.last_id:
            return self.entries_added
        if sid == self.last_id:
            return self.entries_added
        if sid > self.last_id:
            return INVALID_ENTRIES_READ
        first = self.first_id
        if self.max_deleted_id == MIN_ID or self.max_deleted_id < first:
            if sid < first:
                return self.entries_added - len(self.entries)
            if sid == first:
                return self.entries_added - len(self.entries) + 1
        return INVALID_ENTRIES_READ

    def lag(self, group: Group) -> int | None:
        """XINFO GROUPS's lag: entries not yet delivered to ``group``, None if unknown."""
        if not self.entries_added:
            return 0
        if group.entries_read != INVALID_ENTRIES_READ and not self.has_tombstones(group.last_id):
            return self.entries_added - group.entries_read
        read = self.estimate_entries_read(group.last_id)
        if read != INVALID_ENTRIES_READ:
            return self.entries_added - read
        return None

    def deliver(self, group: Group, sid: StreamID) -> None:
        """Advance ``group`` past ``sid`` as delivering it does."""
        if sid <= group.last_id:
            return
        if group.entries_read != INVALID_ENTRIES_READ and not self.has_tombstones(sid):
            group.entries_read += 1
        elif self.entries_added:
            group.entries_read = self.estimate_entries_read(sid)
        group.last_id = sid

    # -- introspection -----------------------------------------------------------

    def radix_tree_keys(self) -> int:
        """How many listpack nodes Redis would hold (XINFO's radix-tree-keys)."""
        return len(self._nodes)

    def radix_tree_nodes(self) -> int:
        """The node count of Redis's radix tree over the node keys (an estimate)."""
        keys = [ms.to_bytes(8, "big") + seq.to_bytes(8, "big") for ms, seq in self._nodes]
        return _rax_nodes(keys, 0)

    def copy(self) -> Stream:
        """A deep copy (COPY): entries, groups, consumers and PELs."""
        new = Stream()
        new.entries = SortedDict((sid, list(fields)) for sid, fields in self.entries.items())
        new.last_id = self.last_id
        new.entries_added = self.entries_added
        new.max_deleted_id = self.max_deleted_id
        for master, node in self._nodes.items():
            copied = new._nodes[master] = _Node(master, [])
            copied.fields, copied.last_id, copied.live = node.fields, node.last_id, node.live
            copied.total, copied.nbytes = node.total, node.nbytes
        for name, group in self.groups.items():
            g = new.groups[name] = Group(name, group.last_id, group.entries_read)
            for cname, consumer in group.consumers.items():
                g.consumers[cname] = Consumer(cname, consumer.seen_time)
            for sid, nack in group.pel.items():
                owner = g.consumers[nack.consumer.name] if nack.consumer is not None else None
                n = g.pel[sid] = Nack(owner, nack.delivery_time)
                n.delivery_count = nack.delivery_count
                if owner is not None:
                    owner.pel[sid] = n
        return new


def _rax_nodes(keys: list[bytes], depth: int) -> int:
    """Nodes of a compressed radix tree holding ``keys`` (sorted, equal length)."""
    if not keys:
        return 1
    if depth == len(keys[0]):
        return 1
    first, last = keys[0], keys[-1]
    if first[depth] == last[depth]:
        common = depth
        while common < len(first) and first[common] == last[common]:
            common += 1
        return 1 + _rax_nodes(keys, common)
    total = 1
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i][depth] != keys[start][depth]:
            total += _rax_nodes(keys[start:i], depth + 1)
            start = i
    return total


# -- the registry's record: COPY, memory estimate, AOF rewrite -----------------------

#: An entry's ID: the tuple and its two ints.
_ID_SIZE = getsizeof((0, 0)) + 2 * getsizeof(2**62)
#: A pending entry: its Nack, its ID, and its place in the group's and the
#: consumer's sorted PELs.
_NACK_SIZE = getsizeof(Nack(None, 0)) + _ID_SIZE + 2 * 8
#: A consumer without its name: the object and its PEL.
_CONSUMER_SIZE = getsizeof(Consumer(b"", 0)) + getsizeof(SortedDict())


def _entry_size(item: tuple[StreamID, list[bytes]]) -> int:
    fields = item[1]
    return _ID_SIZE + getsizeof(fields) + sum(map(getsizeof, fields))


def _size(value: Stream) -> int:
    """The entries (sampled as other containers are), then the groups' PELs."""
    entries = value.entries
    size = getsizeof(value) + sampled_size(entries, list(islice(entries.items(), SAMPLE)),
                                           _entry_size)
    for name, group in value.groups.items():
        size += getsizeof(group) + getsizeof(name) + len(group.pel) * _NACK_SIZE
        for consumer_name in group.consumers:
            size += getsizeof(consumer_name) + _CONSUMER_SIZE
    return size


def _rewrite(key: bytes, value: Stream) -> Iterator[list[bytes]]:
    """A stream as commands, Redis's rewriteStreamObject: entries, IDs, groups, PELs."""
    if value.entries:
        for sid, fields in value.entries.items():
            yield [b"XADD", key, format_id(sid), *fields]
    else:
        # An empty stream still exists (and keeps its last ID): create it with
        # an entry trimmed away at once.
        yield [b"XADD", key, b"MAXLEN", b"0", format_id(value.last_id), b"x", b"y"]
    yield [b"XSETID", key, format_id(value.last_id),
           b"ENTRIESADDED", b"%d" % value.entries_added,
           b"MAXDELETEDID", format_id(value.max_deleted_id)]
    for name, group in value.groups.items():
        yield [b"XGROUP", b"CREATE", key, name, format_id(group.last_id),
               b"ENTRIESREAD", b"%d" % group.entries_read]
        for sid, nack in group.pel.items():
            if nack.consumer is None:
                continue
            yield [b"XCLAIM", key, name, nack.consumer.name, b"0", format_id(sid),
                   b"TIME", b"%d" % nack.delivery_time,
                   b"RETRYCOUNT", b"%d" % nack.delivery_count, b"JUSTID", b"FORCE"]
        for consumer in group.consumers.values():
            if not consumer.pel:
                yield [b"XGROUP", b"CREATECONSUMER", key, name, consumer.name]


def _usage(value: Stream, _encoding: bytes, samples: int) -> int:
    """Redis's objectComputeSize of a stream, from Hush's model of its nodes.

    The newest node is allocated 4096 bytes up front; the others are shrunk
    to fit. Node sizes are the model's estimate of the listpack encoding.
    """
    sizes = [node.nbytes for node in value._nodes.values()]
    size = alloc.ROBJ + alloc.STREAM + alloc.rax_usage(len(sizes), value.radix_tree_nodes())
    allocated = [alloc.jemalloc_size(nbytes) for nbytes in sizes]
    if allocated:
        allocated[-1] = alloc.jemalloc_size(max(sizes[-1], alloc.STREAM_LISTPACK_PREALLOC))
    if len(allocated) <= samples:
        size += sum(allocated)
    else:
        size += sum(allocated[:samples]) // samples * (len(allocated) - 1) + allocated[-1]
    for group in value.groups.values():
        pending = len(group.pel)
        size += alloc.STREAM_CG + alloc.rax_usage(pending, _rax_nodes_of(group.pel))
        size += alloc.STREAM_NACK * pending
        for consumer in group.consumers.values():
            size += alloc.STREAM_CONSUMER + len(consumer.name)
            size += alloc.rax_usage(len(consumer.pel), _rax_nodes_of(consumer.pel))
    return size


def _rax_nodes_of(pel: SortedDict) -> int:
    keys = [ms.to_bytes(8, "big") + seq.to_bytes(8, "big") for ms, seq in pel]
    return _rax_nodes(keys, 0) if keys else 1


def _to_neutral(value: Stream) -> rdb_stream.Stream:
    out = rdb_stream.Stream(
        entries={sid: list(zip(fields[0::2], fields[1::2], strict=True))
                 for sid, fields in value.entries.items()},
        last_id=value.last_id,
        first_id=value.first_id,
        max_deleted_entry_id=value.max_deleted_id,
        entries_added=value.entries_added,
        # The nodes as the thresholds of each XADD made them, as Redis writes them.
        nodes=[(master, node.fields) for master, node in value._nodes.items()],
    )
    for group in value.groups.values():
        neutral = rdb_stream.ConsumerGroup(group.name, group.last_id, group.entries_read)
        # A pending entry whose consumer is gone cannot be written: Redis has none.
        neutral.pel = {sid: rdb_stream.PendingEntry(nack.consumer.name, nack.delivery_time,
                                                    nack.delivery_count)
                       for sid, nack in group.pel.items() if nack.consumer is not None}
        neutral.consumers = [rdb_stream.Consumer(consumer.name, consumer.seen_time,
                                                 list(consumer.pel))
                             for consumer in group.consumers.values()]
        out.groups.append(neutral)
    return out


def _from_neutral(neutral: rdb_stream.Stream) -> Stream:
    """A stream loaded from RDB, in the file's nodes as Redis keeps them (or laid
    out as XADDs in order lay them, where the neutral value does not say)."""
    stream = Stream()
    layout = neutral.nodes
    starts = [master for master, _names in layout] if layout else []
    for sid, pairs in neutral.entries.items():
        node_start = layout[max(0, bisect_right(starts, sid) - 1)] if layout else None
        stream.add(sid, [item for pair in pairs for item in pair], node_start)
    stream.last_id = neutral.last_id
    stream.entries_added = neutral.entries_added
    stream.max_deleted_id = neutral.max_deleted_entry_id
    for loaded in neutral.groups:
        group = stream.groups[loaded.name] = Group(loaded.name, loaded.last_id,
                                                   loaded.entries_read)
        for consumer in loaded.consumers:
            group.consumers[consumer.name] = Consumer(consumer.name, consumer.seen_time)
        for sid, pending in loaded.pel.items():
            owner = group.consumers[pending.consumer]
            nack = group.pel[sid] = Nack(owner, pending.delivery_time)
            nack.delivery_count = pending.delivery_count
            owner.pel[sid] = nack
    return stream


STREAM = register(ValueType(
    name=b"stream",
    cls=Stream,
    encoding=lambda _value, _limits: b"stream",
    copy=Stream.copy,
    size=_size,
    rewrite=_rewrite,
    to_neutral=_to_neutral,
    from_neutral=_from_neutral,
    usage=_usage,
))
