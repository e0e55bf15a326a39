# -*- test-case-name: tests.unit.data.test_bitmap -*-
"""Bitmaps: strings the bit commands change in place.

A bitmap is an ordinary string (TYPE string). Redis's SETBIT and BITFIELD
change its bytes where they are; a Python ``bytes`` cannot change, so those
commands keep the key's value as a ``bytearray`` (:func:`buffer`) and change
that: a SETBIT on a 512 MB bitmap costs a byte, not two copies of 512 MB.

Only the bit commands ever see the bytearray. Any other command that reads
the key as a string gets ``bytes``: the store's string lookups turn the
bytearray back the first time (:meth:`hush.data.store.Database.frozen_string`),
so no reply holds a buffer that a later command in the same MULTI or script
changes. The bytearray is therefore registered as a second class of the
string type (:data:`BITMAP`: TYPE, COPY, OBJECT ENCODING, the memory
estimate and the AOF rewrite find it), not as a type of its own.

Redis stores the strings the bit commands write, BITOP's result and the
HyperLogLogs PF* commands write as ``raw`` whatever they hold (they are built
by ``sdsnewlen`` or unshared into a raw string, never re-encoded):
:func:`note_raw` notes that for the key, as APPEND does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from sys import getsizeof
from typing import TYPE_CHECKING

from hush.core.errors import WrongType
from hush.data.types.registry import BY_CLASS
from hush.data.types.string import RAW, STRING, note_built_in_place

if TYPE_CHECKING:
    from hush.data.store import Database

Bits = bytes | bytearray


def _rewrite(key: bytes, value: bytearray) -> Iterator[list[bytes]]:
    yield [b"SET", key, bytes(value)]


#: The string type's record for the bytearray a bit command left at a key.
#: Set by class only: the string record stays the one for the name "string".
BITMAP = BY_CLASS[bytearray] = replace(
    STRING,
    cls=bytearray,
    encoding=lambda _value, _limits: RAW,
    copy=bytearray,
    size=getsizeof,
    rewrite=_rewrite,
    # RDB writers and DUMP see a string, whatever buffer the bit commands keep.
    to_neutral=bytes,
)


def note_raw(db: Database, key: bytes) -> None:
    """The string at ``key`` was written by a bit or HyperLogLog command: ``raw``."""
    note_built_in_place(db, key)


def read(db: Database, key: bytes) -> Bits | None:
    """Redis's lookupKeyRead of a string for a bit command: a hit or a miss
    counted, the value as it is (bytes or bytearray), WRONGTYPE for others."""
    value = db.get(key)
    stats = db.store.stats
    if value is None:
        stats.keyspace_misses += 1
        return None
    stats.keyspace_hits += 1
    if value.__class__ is not bytes and value.__class__ is not bytearray:
        raise WrongType()
    return value


def buffer(db: Database, key: bytes) -> bytearray | None:
    """The string at ``key`` as the bytearray to change in place, None if absent.

    Redis's lookupKeyWrite plus dbUnshareStringValue: no hit or miss is
    counted, and the string is ``raw`` from now on even if nothing changes.
    A bytes value is replaced by a bytearray of the same bytes, which is no
    write (the caller reports one with ``db.modified`` if it changes it).
    """
    value = db.get(key)
    if value is None:
        return None
    if value.__class__ is not bytearray:
        if value.__class__ is not bytes:
            raise WrongType()
        value = bytearray(value)
        db.data[key] = value
    note_raw(db, key)
    return value


def store_new(db: Database, key: bytes, value: Bits) -> None:
    """Store a string a bit command created (SETBIT, BITFIELD, BITOP): ``raw``."""
    db.set(key, value)
    note_raw(db, key)
