# -*- test-case-name: tests.unit.data.test_types -*-
"""The hash value type: a ``dict`` of bytes fields to bytes values.

Its insertion order is the order Redis's listpack keeps for small hashes (an
update keeps a field's place, a delete closes the gap). Redis 7.0 keeps a
hash in a listpack while it has at most ``hash-max-listpack-entries`` fields
and no field or value longer than ``hash-max-listpack-value`` bytes, and
turns it into a hashtable for good as soon as a write passes either
(:func:`note_write`): the hashtable stays one when the hash shrinks again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from sys import getsizeof
from typing import Any

from hush.data.types import alloc
from hush.data.types.registry import (
    IMMUTABLE,
    LIMITS,
    SAMPLE,
    EncodingLimits,
    ValueType,
    chunked,
    copy_value,
    register,
    sampled_size,
)

LISTPACK = b"listpack"
HASHTABLE = b"hashtable"


def encoding(value: dict, limits: EncodingLimits = LIMITS) -> bytes:
    """Redis's encoding of a hash built with this content under ``limits``."""
    if len(value) > limits.hash_max_listpack_entries:
        return HASHTABLE
    longest = limits.hash_max_listpack_value
    for field, item in value.items():
        if len(field) > longest or len(item) > longest:
            return HASHTABLE
    return LISTPACK


def note_write(db: Any, key: bytes, value: dict, written: Iterable[bytes]) -> None:
    """After a write of the fields and values ``written`` to the hash at ``key``.

    Redis's hashTypeTryConversion and hashTypeSet: a listpack hash becomes a
    hashtable when one of them is longer than hash-max-listpack-value or it
    now has more than hash-max-listpack-entries fields.
    """
    if db.encodings.get(key) == HASHTABLE:
        return
    limits = LIMITS
    longest = limits.hash_max_listpack_value
    if len(value) > limits.hash_max_listpack_entries or any(
            len(item) > longest for item in written):
        db.encodings[key] = HASHTABLE


def is_listpack(db: Any, key: bytes, value: dict) -> bool:
    """True if the stored hash at ``key`` is a listpack (HSCAN then returns it whole)."""
    noted = db.encodings.get(key)
    if noted is not None:
        return noted == LISTPACK
    return encoding(value) == LISTPACK


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


def _usage(value: dict, encoding: bytes, samples: int) -> int:
    if encoding == LISTPACK:
        return alloc.ROBJ + alloc.jemalloc_size(alloc.listpack_bytes(
            part for pair in value.items() for part in pair))
    sample = list(islice(value.items(), samples))
    each = alloc.sampled_average(
        sample, lambda pair: alloc.sds_size(pair[0]) + alloc.sds_size(pair[1]) + alloc.DICT_ENTRY)
    return alloc.ROBJ + alloc.dict_overhead(len(value)) + int(each * len(value))


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
    usage=_usage,
))
