# -*- test-case-name: tests.unit.data.test_types -*-
"""The string value type: a ``bytes`` object.

OBJECT ENCODING of a string is decided by Redis when it stores the value: an
integer it can hold in a long is ``int``, a string up to
:data:`EMBSTR_LIMIT` bytes ``embstr``, a longer one ``raw``
(:func:`encoding`). Some commands store a string another way, which its
content cannot tell: APPEND and SETRANGE build it in place, so it is ``raw``
whatever it holds (:func:`note_built_in_place`); INCRBYFLOAT stores the printed
number without trying the integer encoding (:func:`note_printed_number`).
Those commands note the encoding for the key in ``Database.encodings``; the
note outranks the content (:func:`hush.data.types.registry.object_encoding`)
until the key gets a new value or goes, when the database forgets it, and
RENAME, MOVE and COPY carry it to the new key with the value.
"""

from __future__ import annotations

from collections.abc import Iterator
from sys import getsizeof
from typing import TYPE_CHECKING

from hush.data.types import alloc
from hush.data.types.registry import ValueType, register
from hush.formats.listpack import string_to_int

if TYPE_CHECKING:
    from hush.data.store import Database

#: Longest string Redis stores embedded (OBJ_ENCODING_EMBSTR_SIZE_LIMIT).
EMBSTR_LIMIT = 44

INT = b"int"
EMBSTR = b"embstr"
RAW = b"raw"


def as_long(value: bytes) -> int | None:
    """The integer Redis would hold ``value`` as (its string2l), or None."""
    return string_to_int(value)


def encoding(value: bytes) -> bytes:
    """What Redis 7.0 calls a string holding ``value`` after SET: int, embstr or raw."""
    if string_to_int(value) is not None:
        return INT
    return EMBSTR if len(value) <= EMBSTR_LIMIT else RAW


def note_built_in_place(db: Database, key: bytes) -> None:
    """The string at ``key`` was built in place (APPEND, SETRANGE): ``raw``.

    Redis unshares such a value into a growable raw string and never turns it
    back into an int or embstr, whatever it holds.
    """
    db.encodings[key] = RAW


def note_printed_number(db: Database, key: bytes, text: bytes) -> None:
    """``text``, a printed number, was stored at ``key`` as INCRBYFLOAT stores it.

    Redis stores it as a plain string object without trying the integer
    encoding: "3" is ``embstr`` here where SET makes it ``int``.
    """
    if len(text) <= EMBSTR_LIMIT:
        db.encodings[key] = EMBSTR


def _rewrite(key: bytes, value: bytes) -> Iterator[list[bytes]]:
    yield [b"SET", key, value]


def _usage(value: bytes, encoding: bytes, _samples: int) -> int:
    # An int lives in the object itself; an embstr shares one allocation
    # with it (an sds of type 8); a raw string has an sds of its own.
    if encoding == INT:
        return alloc.ROBJ
    if encoding == EMBSTR:
        return alloc.jemalloc_size(alloc.ROBJ + 3 + len(value) + 1)
    return alloc.ROBJ + alloc.sds_size(value)


STRING = register(ValueType(
    name=b"string",
    cls=bytes,
    encoding=lambda value, _limits: encoding(value),
    copy=lambda value: value,
    size=getsizeof,
    rewrite=_rewrite,
    to_neutral=lambda value: value,
    from_neutral=lambda value: value,
    usage=_usage,
))
