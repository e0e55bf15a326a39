# -*- test-case-name: tests.unit.data.test_types -*-
"""The hash value type: a ``dict`` of bytes fields to bytes values.

Its insertion order is the order Redis's listpack keeps for small hashes (an
update keeps a field's place, a delete closes the gap). Redis 7.0 keeps a
hash in a listpack while it has at most :data:`LISTPACK_MAX_ENTRIES` fields
and no field or value longer than :data:`LISTPACK_MAX_VALUE` bytes, in a
hashtable otherwise.

Where Hush answers differently from Redis 7.0: :func:`encoding` judges by the
hash's current size; Redis keeps a hash in a hashtable once it outgrew the
listpack, even after it shrinks again.
"""

from __future__ import annotations

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

#: Redis 7.0's defaults for hash-max-listpack-entries and hash-max-listpack-value.
LISTPACK_MAX_ENTRIES = 512
LISTPACK_MAX_VALUE = 64


def encoding(value: dict) -> bytes:
    """Redis's OBJECT ENCODING of a hash of this size: listpack or hashtable."""
    if len(value) > LISTPACK_MAX_ENTRIES:
        return b"hashtable"
    for field, item in value.items():
        if len(field) > LISTPACK_MAX_VALUE or len(item) > LISTPACK_MAX_VALUE:
            return b"hashtable"
    return b"listpack"


def _copy(value: dict) -> dict:
    new = value.copy()
    for field, item in new.items():
        if item.__class__ not in IMMUTABLE:
            new[field] = copy_value(item)
    return new


def _pair_size(pair: tuple[bytes, bytes]) -> int:
    return getsizeof(pair[0]) + getsizeof(pair[1])


def _size(value: dict) -> int:
    return sampled_size(value, list(islice(value.items(), SAMPLE)), _pair_size)


def _rewrite(key: bytes, value: dict) -> Iterator[list[bytes]]:
    return chunked(b"HSET", key, [part for pair in value.items() for part in pair], 2)


HASH = register(ValueType(
    name=b"hash",
    cls=dict,
    encoding=encoding,
    copy=_copy,
    size=_size,
    rewrite=_rewrite,
    to_neutral=lambda value: value,
    from_neutral=lambda value: value,
))
