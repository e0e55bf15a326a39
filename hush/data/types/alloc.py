# -*- test-case-name: tests.unit.data.test_types -*-
"""Redis 7.0's allocations on x86-64 with jemalloc: what MEMORY USAGE adds up.

MEMORY USAGE reports the bytes Redis would hold for a key and its value
(its objectComputeSize), not what CPython holds for it (that is the
``size`` of each type's record, which maxmemory uses): memory tools and
Redis's own tests compare it with Redis's figures. Each type's record
computes its value's figure from the sizes here: Redis's structures, its
``sds`` strings, and jemalloc's size classes, in which every allocation is
rounded up.
"""

from __future__ import annotations

from collections.abc import Iterable

from hush.formats.listpack import encode_entry

#: sizeof() of Redis 7.0's structures on a 64-bit build.
ROBJ = 16
DICT_ENTRY = 24
DICT = 56
POINTER = 8
QUICKLIST = 40
QUICKLIST_NODE = 40
ZSET = 16
ZSKIPLIST = 32
#: A skiplist node without levels (ele, score, backward), and one level.
ZSKIPLIST_NODE = 24
ZSKIPLIST_LEVEL = 16
ZSKIPLIST_MAXLEVEL = 32
STREAM = 80
STREAM_ID = 16
RAX = 24
RAX_NODE = 4
STREAM_CG = 40
STREAM_NACK = 24
STREAM_CONSUMER = 24
#: An intset's header (encoding and length).
INTSET_HEADER = 8
#: A listpack's header and end byte.
LISTPACK_OVERHEAD = 7
#: The size a stream's newest listpack node is allocated with up front.
STREAM_LISTPACK_PREALLOC = 4096
#: Elements Redis samples by default (OBJ_COMPUTE_SIZE_DEF_SAMPLES).
DEFAULT_SAMPLES = 5


def _expected_skiplist_node() -> float:
    # A node gets one level more with probability 1/4 (ZSKIPLIST_P), up to 32.
    total = 0.0
    for level in range(1, ZSKIPLIST_MAXLEVEL + 1):
        chance = 0.75 * 0.25 ** (level - 1) if level < ZSKIPLIST_MAXLEVEL else 0.25 ** (level - 1)
        total += chance * jemalloc_size(ZSKIPLIST_NODE + level * ZSKIPLIST_LEVEL)
    return total




def jemalloc_size(size: int) -> int:
    """The size class jemalloc serves a request of ``size`` bytes from.

    8, then multiples of 16 up to 128, then four classes for each doubling
    (160, 192, 224, 256, 320, ...).
    """
    if size <= 8:
        return 8
    if size <= 128:
        return (size + 15) & ~15
    step = 1 << ((size - 1).bit_length() - 3)
    return (size + step - 1) & ~(step - 1)


def sds_alloc(length: int) -> int:
    """Bytes malloc'ed for an sds string of ``length`` bytes (header, data, NUL)."""
    if length < 1 << 5:
        header = 1 if length else 3
    elif length < 1 << 8:
        header = 3
    elif length < 1 << 16:
        header = 5
    elif length < 1 << 32:
        header = 9
    else:
        header = 17
    return header + length + 1


def sds_size(value: bytes) -> int:
    """Redis's sdsZmallocSize of an sds holding ``value``."""
    return jemalloc_size(sds_alloc(len(value)))


def dict_slots(count: int) -> int:
    """Buckets of a dict grown to ``count`` entries (4 at least, then powers of two)."""
    return max(4, 1 << (count - 1).bit_length()) if count > 1 else 4


def dict_overhead(count: int) -> int:
    """A dict's own structure and bucket array for ``count`` entries."""
    return DICT + POINTER * dict_slots(count)


def sampled_average(items: list, each) -> float:
    """The average of ``each`` over ``items`` (a sample), 0 for none."""
    return sum(map(each, items)) / len(items) if items else 0.0


def rax_usage(elements: int, nodes: int) -> int:
    """Redis's streamRadixTreeMemoryUsage (which forgets the rax's own size)."""
    return elements * STREAM_ID + nodes * RAX_NODE + nodes * POINTER * 30


def listpack_bytes(entries: Iterable[bytes | int]) -> int:
    """lpBytes of a listpack Redis builds by appending ``entries``."""
    return LISTPACK_OVERHEAD + sum(len(encode_entry(entry)) for entry in entries)


#: The average allocation of a skiplist node: Redis draws each node's levels
#: at random, so its MEMORY USAGE of a skiplist varies; this is the mean.
SKIPLIST_NODE_AVERAGE = _expected_skiplist_node()
