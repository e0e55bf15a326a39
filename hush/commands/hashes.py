# -*- test-case-name: tests.commands.test_hashes -*-
"""Hash commands (HSET, HGET, HINCRBY, HRANDFIELD, HSCAN, ...), Redis 7.0 semantics.

A hash is a plain ``dict`` of bytes fields to bytes values. Its insertion
order is the order Redis's listpack keeps for small hashes (an update keeps a
field's place, a delete closes the gap), so HGETALL, HKEYS, HVALS and HSCAN of
a small hash answer in the same order as Redis. A hash that becomes empty is
deleted.

Where Hush answers differently from Redis 7.0:

- OBJECT ENCODING judges by the hash's current size (:mod:`hush.data.types.hash`).
- Large hashes keep insertion order where Redis's hashtable order is random,
  and their HSCAN cursors are snapshot cursors (:mod:`hush.data.cursors`).
"""

from __future__ import annotations

import random
from fractions import Fraction
from itertools import islice
from typing import Any

from hush.commands.args import INT64_MAX, INT64_MIN, parse_int
from hush.commands.keys import parse_scan_options
from hush.commands.strings import _ld_round, format_long_double, parse_long_double
from hush.commands.table import command, effects, range_spec
from hush.core.errors import OVERFLOW, SYNTAX, CommandError, wrong_arity
from hush.core.glob import compile_glob
from hush.data.cursors import parse_cursor
from hush.data.store import Database
from hush.data.types.hash import is_listpack, note_write
from hush.wire.resp import OK

GROUP = "hash"

HASH_NOT_INTEGER = "ERR hash value is not an integer"
HASH_NOT_FLOAT = "ERR hash value is not a float"
NAN_OR_INFINITY = "ERR value is NaN or Infinity"
WOULD_BE_NAN = "ERR increment would produce NaN or Infinity"
OUT_OF_RANGE = "ERR value is out of range"
# Redis's getRangeLong bounds HRANDFIELD's count to +-LONG_MAX.
RANGE_ERROR = f"ERR value is out of range, value must between {-INT64_MAX} and {INT64_MAX}"

def _spec(*flags: str) -> tuple[dict[str, Any], ...]:
    return (range_spec(*flags),)


_RO = _spec("RO")
_RO_ACCESS = _spec("RO", "access")
_READ_FAST = ("@read", "@hash", "@fast")
_READ_SLOW = ("@read", "@hash", "@slow")
_WRITE_FAST = ("@write", "@hash", "@fast")
_ORDER_TIP = ("nondeterministic_output_order",)


# -- lookups ----------------------------------------------------------------


def _read(db: Database, key: bytes) -> dict | None:
    """Redis's lookupKeyRead for a hash: counts a keyspace hit or miss."""
    return db.read_typed(key, dict)


def _write(db: Database, key: bytes) -> dict | None:
    """Redis's lookupKeyWrite for a hash (no hit/miss counting)."""
    return db.get_typed(key, dict)


def _store(db: Database, key: bytes, value: dict, created: bool) -> None:
    """Publish a change: a new hash enters the keyspace, an old one is marked modified."""
    if created:
        db.set(key, value)
    else:
        db.modified(key)


# -- setting and getting ------------------------------------------------------


def _set_pairs(ctx, name: str, key: bytes, pairs: tuple[bytes, ...]) -> int:
    if len(pairs) % 2:
        raise wrong_arity(name)
    db = ctx.db
    value = _write(db, key)
    created = value is None
    if created:
        value = {}
    before = len(value)
    for index in range(0, len(pairs), 2):
        value[pairs[index]] = pairs[index + 1]
    _store(db, key, value, created)
    note_write(db, key, value, pairs)
    return len(value) - before


@command("hset", arity=-4, flags=("write", "denyoom", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Set the string value of a hash field", since="2.0.0", acl=_WRITE_FAST,
         key_specs=_spec("RW", "update"))
def hset(ctx, key: bytes, *pairs: bytes) -> int:
    """Set fields; the number of fields that were new."""
    return _set_pairs(ctx, "hset", key, pairs)


@command("hmset", arity=-4, flags=("write", "denyoom", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Set multiple hash fields to multiple values", since="2.0.0",
         acl=_WRITE_FAST, key_specs=_spec("RW", "update"))
def hmset(ctx, key: bytes, *pairs: bytes):
    """HSET's older spelling that answers OK."""
    _set_pairs(ctx, "hmset", key, pairs)
    return OK


@command("hsetnx", arity=4, flags=("write", "denyoom", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Set the value of a hash field, only if the field does not exist",
         since="2.0.0", acl=_WRITE_FAST, key_specs=_spec("RW", "insert"))
def hsetnx(ctx, key: bytes, field: bytes, value: bytes) -> int:
    """Set ``field`` only if it is absent: 1 if set, else 0."""
    db = ctx.db
    hash_ = _write(db, key)
    if hash_ is None:
        hash_ = {field: value}
        db.set(key, hash_)
    elif field in hash_:
        return 0
    else:
        hash_[field] = value
        db.modified(key)
    note_write(db, key, hash_, (field, value))
    return 1


@command("hget", arity=3, flags=("readonly", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Get the value of a hash field", since="2.0.0", acl=_READ_FAST,
         key_specs=_RO_ACCESS)
def hget(ctx, key: bytes, field: bytes) -> bytes | None:
    """The value of ``field``, or null."""
    hash_ = _read(ctx.db, key)
    return None if hash_ is None else hash_.get(field)


@command("hmget", arity=-3, flags=("readonly", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Get the values of all the given hash fields", since="2.0.0",
         acl=_READ_FAST, key_specs=_RO_ACCESS)
def hmget(ctx, key: bytes, *fields: bytes) -> list[bytes | None]:
    """The value of each field (null where absent)."""
    hash_ = _read(ctx.db, key)
    if hash_ is None:
        return [None] * len(fields)
    get = hash_.get
    return [get(field) for field in fields]


@command("hgetall", arity=2, flags=("readonly",), keys=(1, 1, 1), group=GROUP,
         summary="Get all the fields and values in a hash", since="2.0.0", acl=_READ_SLOW,
         tips=_ORDER_TIP, key_specs=_RO_ACCESS)
def hgetall(ctx, key: bytes) -> dict[bytes, bytes]:
    """Every field and value: a map in RESP3, a flat array in RESP2."""
    hash_ = _read(ctx.db, key)
    # A copy: a reply may be encoded after later commands ran (MULTI, pipelines).
    return {} if hash_ is None else dict(hash_)


@command("hkeys", arity=2, flags=("readonly",), keys=(1, 1, 1), group=GROUP,
         summary="Get all the fields in a hash", since="2.0.0", acl=_READ_SLOW,
         tips=_ORDER_TIP, key_specs=_RO_ACCESS)
def hkeys(ctx, key: bytes) -> list[bytes]:
    """Every field."""
    hash_ = _read(ctx.db, key)
    return [] if hash_ is None else list(hash_)


@command("hvals", arity=2, flags=("readonly",), keys=(1, 1, 1), group=GROUP,
         summary="Get all the values in a hash", since="2.0.0", acl=_READ_SLOW,
         tips=_ORDER_TIP, key_specs=_RO_ACCESS)
def hvals(ctx, key: bytes) -> list[bytes]:
    """Every value."""
    hash_ = _read(ctx.db, key)
    return [] if hash_ is None else list(hash_.values())


@command("hdel", arity=-3, flags=("write", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Delete one or more hash fields", since="2.0.0", acl=_WRITE_FAST,
         key_specs=_spec("RW", "delete"))
def hdel(ctx, key: bytes, *fields: bytes) -> int:
    """Remove fields; the number removed. An emptied hash is deleted."""
    db = ctx.db
    hash_ = _write(db, key)
    if hash_ is None:
        return 0
    removed = 0
    for field in fields:
        if hash_.pop(field, None) is not None:
            removed += 1
            if not hash_:
                break
    if removed:
        if hash_:
            db.modified(key)
        else:
            db.delete(key)
    return removed


@command("hexists", arity=3, flags=("readonly", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Determine if a hash field exists", since="2.0.0", acl=_READ_FAST,
         key_specs=_RO)
def hexists(ctx, key: bytes, field: bytes) -> int:
    """1 if ``field`` exists, else 0."""
    hash_ = _read(ctx.db, key)
    return int(hash_ is not None and field in hash_)


@command("hlen", arity=2, flags=("readonly", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Get the number of fields in a hash", since="2.0.0", acl=_READ_FAST,
         key_specs=_RO)
def hlen(ctx, key: bytes) -> int:
    """The number of fields (0 for a missing key)."""
    hash_ = _read(ctx.db, key)
    return 0 if hash_ is None else len(hash_)


@command("hstrlen", arity=3, flags=("readonly", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Get the length of the value of a hash field", since="3.2.0",
         acl=_READ_FAST, key_specs=_RO)
def hstrlen(ctx, key: bytes, field: bytes) -> int:
    """The length of the value of ``field`` (0 when absent)."""
    hash_ = _read(ctx.db, key)
    if hash_ is None:
        return 0
    value = hash_.get(field)
    return 0 if value is None else len(value)


# -- counters -------------------------------------------------------------------


@command("hincrby", arity=4, flags=("write", "denyoom", "fast"), keys=(1, 1, 1),
         group=GROUP, summary="Increment the integer value of a hash field by the given number",
         since="2.0.0", acl=_WRITE_FAST, key_specs=_spec("RW", "access", "update"))
def hincrby(ctx, key: bytes, field: bytes, increment: bytes) -> int:
    """Add an integer to ``field`` (missing counts as 0); the new value."""
    amount = parse_int(increment)
    db = ctx.db
    hash_ = _write(db, key)
    current = 0
    if hash_ is not None:
        raw = hash_.get(field)
        if raw is not None:
            current = parse_int(raw, HASH_NOT_INTEGER)
    result = current + amount
    if not INT64_MIN <= result <= INT64_MAX:
        raise CommandError(OVERFLOW)
    _put(db, key, hash_, field, b"%d" % result)
    return result


@command("hincrbyfloat", arity=4, flags=("write", "denyoom", "fast"), keys=(1, 1, 1),
         group=GROUP, summary="Increment the float value of a hash field by the given amount",
         since="2.6.0", acl=_WRITE_FAST, key_specs=_spec("RW", "access", "update"))
def hincrbyfloat(ctx, key: bytes, field: bytes, increment: bytes) -> bytes:
    """Add a number to ``field`` in long double arithmetic, as INCRBYFLOAT does."""
    amount = parse_long_double(increment)
    if amount.__class__ is not Fraction:
        raise CommandError(NAN_OR_INFINITY)
    db = ctx.db
    hash_ = _write(db, key)
    current: Fraction | float = Fraction(0)
    if hash_ is not None:
        raw = hash_.get(field)
        if raw is not None:
            try:
                current = parse_long_double(raw)
            except CommandError:
                raise CommandError(HASH_NOT_FLOAT) from None
    # An infinite stored value ("inf" parses) makes the sum infinite.
    if current.__class__ is not Fraction:
        raise CommandError(WOULD_BE_NAN)
    # INCRBYFLOAT's emulated x87 long double arithmetic, shared rather than repeated.
    result = _ld_round(current + amount)
    if result is None:
        raise CommandError(WOULD_BE_NAN)
    text = format_long_double(result)
    _put(db, key, hash_, field, text)
    return text


def _put(db: Database, key: bytes, hash_: dict | None, field: bytes, value: bytes) -> None:
    if hash_ is None:
        hash_ = {field: value}
        db.set(key, hash_)
    else:
        hash_[field] = value
        db.modified(key)
    note_write(db, key, hash_, (field, value))


# -- HRANDFIELD -------------------------------------------------------------------


def _parse_count(raw: bytes) -> int:
    """Redis's getRangeLong(-LONG_MAX, LONG_MAX) with its two messages."""
    count = parse_int(raw)
    if count < -INT64_MAX:
        raise CommandError(RANGE_ERROR)
    return count



@effects("hincrbyfloat")
def _hincrbyfloat_effects(ctx, argv: list[bytes], reply: Any) -> list[list[bytes]]:
    # Replayed, the float arithmetic could round differently: store the result.
    return [[b"HSET", argv[1], argv[2], reply]]

@command("hrandfield", arity=-2, flags=("readonly",), keys=(1, 1, 1), group=GROUP,
         summary="Get one or multiple random fields from a hash", since="6.2.0",
         acl=_READ_SLOW, tips=("nondeterministic_output",), key_specs=_RO_ACCESS)
def hrandfield(ctx, key: bytes, *options: bytes) -> Any:
    """A random field, or COUNT distinct ones (negative: with repeats), maybe WITHVALUES."""
    if not options:
        hash_ = _read(ctx.db, key)
        if hash_ is None:
            return None
        return next(islice(hash_, random.randrange(len(hash_)), None))
    count = _parse_count(options[0])
    with_values = False
    if len(options) > 2 or (len(options) == 2 and options[1].upper() != b"WITHVALUES"):
        raise CommandError(SYNTAX)
    if len(options) == 2:
        with_values = True
        # Redis doubles the count for the reply length and refuses what would overflow.
        if not -(INT64_MAX // 2) <= count <= INT64_MAX // 2:
            raise CommandError(OUT_OF_RANGE)
    hash_ = _read(ctx.db, key)
    if hash_ is None or count == 0:
        return []
    if count < 0:
        fields = list(hash_)
        picked = random.choices(fields, k=-count)
    elif count >= len(hash_):
        picked = list(hash_)
    else:
        # Distinct fields in the hash's own order, as Redis samples a listpack.
        fields = list(hash_)
        picked = [fields[i] for i in sorted(random.sample(range(len(fields)), count))]
    if not with_values:
        return picked
    if ctx.resp3:
        return [[field, hash_[field]] for field in picked]
    out: list[bytes] = []
    for field in picked:
        out.append(field)
        out.append(hash_[field])
    return out


# -- HSCAN ---------------------------------------------------------------------------


@command("hscan", arity=-3, flags=("readonly",), keys=(1, 1, 1), group=GROUP,
         summary="Incrementally iterate hash fields and associated values", since="2.8.0",
         acl=_READ_SLOW, tips=("nondeterministic_output",), key_specs=_RO_ACCESS)
def hscan(ctx, key: bytes, raw_cursor: bytes, *options: bytes) -> list[Any]:
    """[next cursor, [field, value, ...]]: one step of an iteration over a hash."""
    cursor = parse_cursor(raw_cursor)
    hash_ = _read(ctx.db, key)
    # Redis parses the options only once it found a hash to scan.
    if hash_ is None:
        return [b"0", []]
    count, pattern, _kind = parse_scan_options(options, allow_type=False)
    if is_listpack(ctx.db, key, hash_):
        # A listpack has no buckets: Redis returns all of it, whatever the cursor.
        next_cursor, fields = 0, list(hash_)
    else:
        next_cursor, fields = ctx.store.cursors.page(
            hash_, cursor, count, lambda: hash_, hash_.__contains__)
    match = compile_glob(pattern) if pattern is not None else None
    out: list[bytes] = []
    for field in fields:
        value = hash_.get(field)
        if value is None or (match is not None and not match(field)):
            continue
        out.append(field)
        out.append(value)
    return [b"%d" % next_cursor, out]
