# -*- test-case-name: tests.unit.data.test_types -*-
"""The set value type: a Python ``set`` of bytes members.

Redis 7.0 keeps a set of at most ``set-max-intset-entries`` integers in an
*intset*, which it reads in ascending numeric order; every other set is a
hashtable in no useful order. Hush lists intset sets in ascending order
too (:func:`ordered`, :func:`ordered_stored`), so clients see what Redis
would show them. A set turns into a hashtable for good when a member that
is no integer, or one member too many, is added (:func:`note_added`); only
SPOP of most of a set rebuilds it from what is left (:func:`rebuilt`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import islice
from sys import getsizeof
from typing import Any

from hush.data.types import alloc
from hush.data.types.registry import (
    LIMITS,
    SAMPLE,
    EncodingLimits,
    ValueType,
    chunked,
    register,
    sampled_size,
)

INTSET = b"intset"
HASHTABLE = b"hashtable"

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
# What Redis's string2ll accepts: no sign but "-", no leading zeros, no "-0".
_INTEGER = re.compile(rb"(?:0|-?[1-9][0-9]{0,18})\Z")


def _is_int64(member: bytes) -> bool:
    if not _INTEGER.match(member):
        return False
    return len(member) < 19 or _INT64_MIN <= int(member) <= _INT64_MAX


def is_intset(value: Iterable[bytes], size: int, limits: EncodingLimits = LIMITS) -> bool:
    """True if Redis would build a set of these ``size`` members as an intset now."""
    return size <= limits.set_max_intset_entries and all(map(_is_int64, value))


def encoding(value: set, limits: EncodingLimits = LIMITS) -> bytes:
    """Redis 7.0's encoding of a set built with these members: intset or hashtable."""
    return INTSET if is_intset(value, len(value), limits) else HASHTABLE


def ordered(members: Iterable[bytes], size: int) -> list[bytes]:
    """Members of a set Redis builds now (SINTER, SUNION ...) in the order it lists them."""
    members = list(members)
    if is_intset(members, size):
        members.sort(key=int)
    return members


def is_stored_intset(db: Any, key: bytes, value: set) -> bool:
    """True if the stored set at ``key`` is an intset."""
    noted = db.encodings.get(key)
    if noted is not None:
        return noted == INTSET
    return is_intset(value, len(value))


def ordered_stored(db: Any, key: bytes, value: set) -> list[bytes]:
    """The members of the stored set at ``key`` in the order Redis lists them."""
    members = list(value)
    if is_stored_intset(db, key, value):
        members.sort(key=int)
    return members


def note_added(db: Any, key: bytes, value: set, added: Iterable[bytes]) -> None:
    """After ``added`` joined the set at ``key`` (new or not): Redis's setTypeAdd.

    An intset becomes a hashtable for good when a member is no integer or
    it now holds more than set-max-intset-entries members.
    """
    if db.encodings.get(key) == HASHTABLE:
        return
    if len(value) > LIMITS.set_max_intset_entries or not all(map(_is_int64, added)):
        db.encodings[key] = HASHTABLE


def rebuilt(db: Any, key: bytes, value: set) -> None:
    """The set at ``key`` was rebuilt from its remaining members (SPOP of most of it)."""
    db.encodings.pop(key, None)
    note_added(db, key, value, value)


def _copy(value: set) -> set:
    # Set members are hashable, hence immutable in practice: a shallow copy is deep.
    return value.copy()


def _size(value: set) -> int:
    return sampled_size(value, list(islice(value, SAMPLE)), getsizeof)


def _usage(value: set, encoding: bytes, samples: int) -> int:
    if encoding == INTSET:
        numbers = [int(member) for member in value]
        width = 2
        if numbers:
            low, high = min(numbers), max(numbers)
            if low < -(1 << 31) or high >= 1 << 31:
                width = 8
            elif low < -(1 << 15) or high >= 1 << 15:
                width = 4
        return alloc.ROBJ + alloc.jemalloc_size(alloc.INTSET_HEADER + width * len(numbers))
    each = alloc.sampled_average(list(islice(value, samples)),
                                 lambda member: alloc.DICT_ENTRY + alloc.sds_size(member))
    return alloc.ROBJ + alloc.dict_overhead(len(value)) + int(each * len(value))


def _rewrite(key: bytes, value: set) -> Iterator[list[bytes]]:
    return chunked(b"SADD", key, list(value), 1)


SET = register(ValueType(
    name=b"set",
    cls=set,
    encoding=encoding,
    copy=_copy,
    size=_size,
    rewrite=_rewrite,
    to_neutral=lambda value: value,
    from_neutral=lambda value: value,
    usage=_usage,
))
