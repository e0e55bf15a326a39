# -*- test-case-name: tests.unit.data.test_types -*-
"""The set value type: a Python ``set`` of bytes members.

Redis 7.0 keeps a set of at most :data:`INTSET_MAX_ENTRIES` integers in an
*intset*, which it reads in ascending numeric order; every other set is a
hashtable in no useful order. Hush lists intset-like sets in ascending order
too (:func:`ordered`), so clients see what Redis would show them.

Where Hush answers differently from Redis 7.0: :func:`encoding` judges by the
set's current members; Redis keeps a set in a hashtable once it held a
non-integer or more than 512 members, even after those are gone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import islice
from sys import getsizeof

from hush.data.types.registry import SAMPLE, ValueType, chunked, register, sampled_size

#: Redis's default set-max-intset-entries.
INTSET_MAX_ENTRIES = 512

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
# What Redis's string2ll accepts: no sign but "-", no leading zeros, no "-0".
_INTEGER = re.compile(rb"(?:0|-?[1-9][0-9]{0,18})\Z")


def _is_int64(member: bytes) -> bool:
    if not _INTEGER.match(member):
        return False
    return len(member) < 19 or _INT64_MIN <= int(member) <= _INT64_MAX


def is_intset(value: Iterable[bytes], size: int) -> bool:
    """True if Redis would keep these ``size`` members in an intset."""
    return size <= INTSET_MAX_ENTRIES and all(map(_is_int64, value))


def encoding(value: set) -> bytes:
    """Redis 7.0's OBJECT ENCODING of a set like this one: intset or hashtable."""
    return b"intset" if is_intset(value, len(value)) else b"hashtable"


def ordered(members: Iterable[bytes], size: int) -> list[bytes]:
    """The members in the order Redis lists them: ascending for an intset."""
    members = list(members)
    if is_intset(members, size):
        members.sort(key=int)
    return members


def _copy(value: set) -> set:
    # Set members are hashable, hence immutable in practice: a shallow copy is deep.
    return value.copy()


def _size(value: set) -> int:
    return sampled_size(value, list(islice(value, SAMPLE)), getsizeof)


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
))
