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

from hush.data.types.registry import (
    IMMUTABLE,
    SAMPLE,
    ValueType,
    chunked,
    copy_value,
    register,
    sampled_size,
)


def _copy(value: deque) -> deque:
    return deque(item if item.__class__ in IMMUTABLE else copy_value(item) for item in value)


def _size(value: deque) -> int:
    return sampled_size(value, list(islice(value, SAMPLE)), getsizeof)


def _rewrite(key: bytes, value: deque) -> Iterator[list[bytes]]:
    return chunked(b"RPUSH", key, list(value), 1)


LIST = register(ValueType(
    name=b"list",
    cls=deque,
    encoding=lambda _value, _limits: b"quicklist",
    copy=_copy,
    size=_size,
    rewrite=_rewrite,
))
