# -*- test-case-name: tests.unit.data.test_types -*-
"""The list value type: a ``collections.deque`` of bytes, head on the left.

Redis 7.0 keeps every list in a quicklist (listpack lists came in 7.2), so
that is its OBJECT ENCODING whatever the list holds and whatever
``list-max-listpack-size`` and ``list-compress-depth`` say (they shape the
quicklist's nodes, which only MEMORY USAGE sees). A list that becomes
empty is deleted by the commands that empty it (:mod:`hush.commands.lists`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from itertools import islice
from sys import getsizeof

from hush.data.types import alloc
from hush.data.types.registry import (
    IMMUTABLE,
    LIMITS,
    SAMPLE,
    ValueType,
    chunked,
    copy_value,
    register,
    sampled_size,
)
from hush.formats.listpack import encode_entry


def _copy(value: deque) -> deque:
    return deque(item if item.__class__ in IMMUTABLE else copy_value(item) for item in value)


def _size(value: deque) -> int:
    return sampled_size(value, list(islice(value, SAMPLE)), getsizeof)


#: Quicklist node sizes for list-max-listpack-size -1 .. -5.
_NODE_SIZE_LIMITS = (4096, 8192, 16384, 32768, 65536)
#: The most any node may hold whatever its fill (Redis's SIZE_SAFETY_LIMIT).
_SAFETY_LIMIT = 8192


def quicklist_nodes(value: deque) -> list[int]:
    """The listpack size of each node of a quicklist built by appending ``value``.

    Redis's _quicklistNodeAllowInsert under list-max-listpack-size: a
    negative fill caps a node's bytes (4kb .. 64kb), a positive one its
    entries (and 8kb). A list built otherwise (LPUSH, LINSERT) may have other
    node boundaries; this is the figure of one appended in order.
    """
    fill = LIMITS.list_max_listpack_size
    limit = _NODE_SIZE_LIMITS[-fill - 1] if -len(_NODE_SIZE_LIMITS) <= fill < 0 else None
    nodes: list[int] = []
    size = count = 0
    for item in value:
        grown = size + len(item) + 8
        if nodes and (grown <= limit if limit is not None else (
                grown <= _SAFETY_LIMIT and count < fill)):
            size += len(encode_entry(item))
            count += 1
            nodes[-1] = size
        else:
            size = alloc.LISTPACK_OVERHEAD + len(encode_entry(item))
            count = 1
            nodes.append(size)
    return nodes


def _usage(value: deque, _encoding: bytes, samples: int) -> int:
    nodes = quicklist_nodes(value)
    each = alloc.sampled_average(
        nodes[:samples], lambda size: alloc.QUICKLIST_NODE + alloc.jemalloc_size(size))
    return alloc.ROBJ + alloc.QUICKLIST + int(each * len(nodes))


def _rewrite(key: bytes, value: deque) -> Iterator[list[bytes]]:
    return chunked(b"RPUSH", key, list(value), 1)


LIST = register(ValueType(
    name=b"list",
    cls=deque,
    encoding=lambda _value, _limits: b"quicklist",
    copy=_copy,
    size=_size,
    rewrite=_rewrite,
    # The writer only iterates: the deque is its own neutral list.
    to_neutral=lambda value: value,
    from_neutral=deque,
    usage=_usage,
))
