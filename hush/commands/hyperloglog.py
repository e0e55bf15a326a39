# -*- test-case-name: tests.commands.test_hyperloglog -*-
"""HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST.

A HyperLogLog is a string (TYPE string) holding Redis's own ``HYLL`` bytes,
built and read by :mod:`hush.formats.hyperloglog` byte for byte as Redis
does: GET of a key returns what redis-server returns after the same commands,
and a value copied from one to the other with GET and SET keeps working.
This module looks the keys up in Redis's order (hyperloglog.c) and stores
what the format returns. Redis changes an HLL in place, so a key keeps its
TTL, and what the PF* commands leave is ``raw`` for OBJECT ENCODING (they
unshare the string before reading it, even when nothing changes).

PFCOUNT of one key caches the cardinality in the value, which is a write:
the key is signalled as modified and the command goes to the AOF, as Redis
propagates it. The sparse-to-dense promotion follows ``hll-sparse-max-bytes``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hush.commands.table import command, range_spec
from hush.config.settings import BY_NAME
from hush.core.errors import CommandError, WrongType, c_text
from hush.data.types import bitmap
from hush.formats import hyperloglog as hll
from hush.wire.resp import OK, SimpleString

GROUP = "hyperloglog"

NO_SUCH_KEY = "ERR The specified key does not exist"


def _sparse_max_bytes(ctx) -> int:
    return ctx.server.settings.value(BY_NAME["hll-sparse-max-bytes"])


def _string(value: Any) -> bytes | None:
    """A looked-up value as the bytes of a string (None stays None); WRONGTYPE otherwise."""
    if value is None or value.__class__ is bytes:
        return value
    if value.__class__ is bytearray:
        return bytes(value)
    raise WrongType()


def _write(db, key: bytes, value: bytes) -> None:
    """Store an HLL the command built: in place in Redis, so the TTL stays."""
    db.set(key, value, keep_ttl=True)
    bitmap.note_raw(db, key)


def _read_all(db, keys: tuple[bytes, ...]) -> Iterator[bytes]:
    """The HLLs at ``keys`` in order, missing ones left out, each looked up
    only when the previous one was merged (Redis's order of errors)."""
    for key in keys:
        value = _string(bitmap.read(db, key))
        if value is not None:
            yield value


@command("pfadd", arity=-2, flags=("write", "denyoom", "fast"), keys=(1, 1, 1), group=GROUP,
         since="2.8.9", acl=("@write", "@hyperloglog", "@fast"),
         summary="Adds the specified elements to the specified HyperLogLog.",
         key_specs=(range_spec("RW", "insert"),))
def pfadd(ctx, key: bytes, *elements: bytes) -> int:
    db = ctx.db
    value = _string(db.get(key))
    try:
        new, changed = hll.pfadd(value, elements, _sparse_max_bytes(ctx))
    except hll.CorruptHll as error:
        if error.value is not None:
            # Redis changed the value in place before meeting the corruption.
            _write(db, key, error.value)
        elif value is not None:
            bitmap.note_raw(db, key)
        raise
    if changed:
        _write(db, key, new)
        return 1
    bitmap.note_raw(db, key)
    return 0


@command("pfcount", arity=-2, flags=("readonly", "may-replicate"), keys=(1, -1, 1),
         group=GROUP, since="2.8.9", acl=("@read", "@hyperloglog", "@slow"),
         summary="Return the approximated cardinality of the set(s) observed by the "
                 "HyperLogLog at key(s).",
         key_specs=(range_spec("RW", "access", lastkey=-1,
                               notes="RW because it may change the internal representation "
                                     "of the key, and propagate to replicas"),))
def pfcount(ctx, key: bytes, *others: bytes) -> int:
    db = ctx.db
    if others:
        # The union of several: computed, never cached.
        return hll.pfcount_union(_read_all(db, (key, *others)))
    value = _string(bitmap.read(db, key))
    if value is None:
        return 0
    card, write_back = hll.pfcount(value)
    if write_back is not None:
        _write(db, key, write_back)
    else:
        bitmap.note_raw(db, key)
    return card


@command("pfmerge", arity=-2, flags=("write", "denyoom"), keys=(1, -1, 1), group=GROUP,
         since="2.8.9", acl=("@write", "@hyperloglog", "@slow"),
         summary="Merge N different HyperLogLogs into a single one.",
         key_specs=(range_spec("RW", "access", "insert"),
                    range_spec("RO", "access", index=2, lastkey=-1)))
def pfmerge(ctx, destination: bytes, *sources: bytes) -> SimpleString:
    db = ctx.db
    # The destination is the first input, looked up (and checked) first.
    current = _string(bitmap.read(db, destination))
    merged = hll.pfmerge(current, _read_all(db, sources), _sparse_max_bytes(ctx))
    _write(db, destination, merged)
    return OK


@command("pfdebug", arity=3, flags=("write", "denyoom", "admin"), keys=(2, 2, 1), group=GROUP,
         since="2.8.9", acl=("@write", "@hyperloglog", "@admin", "@slow", "@dangerous"),
         summary="Internal commands for debugging HyperLogLog values",
         key_specs=(range_spec("RW", "access", index=2),))
def pfdebug(ctx, subcommand: bytes, key: bytes) -> Any:
    db = ctx.db
    value = _string(db.get(key))
    if value is None:
        raise CommandError(NO_SUCH_KEY)
    hll.check(value)
    bitmap.note_raw(db, key)
    name = subcommand.lower()
    if name == b"getreg":
        registers, converted = hll.pfdebug_getreg(value)
        if converted is not None:
            _write(db, key, converted)
        return registers
    if name == b"decode":
        return hll.pfdebug_decode(value)
    if name == b"encoding":
        return SimpleString(hll.pfdebug_encoding(value))
    if name == b"todense":
        converted_now, dense = hll.pfdebug_todense(value)
        if converted_now:
            _write(db, key, dense)
        return int(converted_now)
    raise CommandError(f"ERR Unknown PFDEBUG subcommand '{c_text(subcommand)}'")


@command("pfselftest", arity=1, flags=("admin",), group=GROUP, since="2.8.9",
         acl=("@hyperloglog", "@admin", "@slow", "@dangerous"),
         summary="An internal command for testing HyperLogLog values")
def pfselftest(ctx) -> SimpleString:
    hll.selftest()
    return OK
