# -*- test-case-name: tests.commands.test_sets -*-
"""Set commands (SADD, SMEMBERS, SPOP, SINTER, SUNIONSTORE, SSCAN, ...), Redis 7.0 semantics.

A set is a plain Python ``set`` of bytes members (:mod:`hush.data.types.set`);
one that becomes empty is deleted. Redis 7.0 keeps a set of at most 512
integers in an *intset*, which it reads in ascending numeric order; every
other set is a hashtable in no useful order. Hush answers intset-like sets in
ascending order too (SMEMBERS, SINTER, SUNION, SDIFF, SSCAN, and
SPOP/SRANDMEMBER of the whole set), so clients see what Redis would show them.

Where Hush answers differently from Redis 7.0:

- Whether a set is an intset is judged by its current members; Redis keeps a
  set in a hashtable once it held a non-integer or more than 512 members,
  even after those are gone, and lists it in hash order.
- SSCAN of a large set uses snapshot cursors (:mod:`hush.data.cursors`).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from hush.commands.args import INT64_MAX, parse_int
from hush.commands.keys import parse_scan_options
from hush.commands.table import command, effects, range_spec
from hush.core.errors import NOT_POSITIVE, SYNTAX, CommandError, WrongType
from hush.core.glob import compile_glob
from hush.data.cursors import parse_cursor
from hush.data.store import Database
from hush.data.types.set import is_stored_intset, note_added, ordered, ordered_stored, rebuilt
from hush.wire.resp import RespSet

GROUP = "set"

NUMKEYS = "ERR numkeys should be greater than 0"
TOO_MANY_KEYS = "ERR Number of keys can't be greater than number of args"
LIMIT_NEGATIVE = "ERR LIMIT can't be negative"
RANGE_ERROR = f"ERR value is out of range, value must between {-INT64_MAX} and {INT64_MAX}"


def _spec(index: int, *flags: str, lastkey: int = 0) -> dict[str, Any]:
    return range_spec(*flags, index=index, lastkey=lastkey)


_RO = (_spec(1, "RO"),)
_RO_ACCESS = (_spec(1, "RO", "access"),)
_RO_ALL = (_spec(1, "RO", "access", lastkey=-1),)
_READ_FAST = ("@read", "@set", "@fast")
_READ_SLOW = ("@read", "@set", "@slow")
_WRITE_FAST = ("@write", "@set", "@fast")
_WRITE_SLOW = ("@write", "@set", "@slow")
_ORDER_TIP = ("nondeterministic_output_order",)


# -- lookups ----------------------------------------------------------------


def _read(db: Database, key: bytes) -> set | None:
    """Redis's lookupKeyRead for a set: counts a keyspace hit or miss."""
    return db.read_typed(key, set)


def _write(db: Database, key: bytes) -> set | None:
    """Redis's lookupKeyWrite for a set (no hit/miss counting)."""
    return db.get_typed(key, set)


def _read_all(db: Database, keys: Iterable[bytes]) -> list[set | None]:
    """Every key's set (None if missing); WRONGTYPE if any holds another type."""
    # Redis checks every key's type before it computes anything.
    return [_read(db, key) for key in keys]


class _MemberPool:
    """Random access to the members of the set SPOP/SRANDMEMBER used last.

    Python sets cannot pick a random member without walking the table
    (set.pop() takes members in table order, which is not random), so a loop
    of SPOPs on a big set would be O(n) each. The pool keeps a list of that
    one set's members: built in O(n) once, then each SPOP picks and removes in
    O(1). Every other in-place change to any set bumps ``generation``, which
    invalidates the pool; a new set object never matches ``value``.
    """

    __slots__ = ("value", "members", "generation", "built_at")

    def __init__(self) -> None:
        self.value: set | None = None
        self.members: list[bytes] = []
        self.generation = 0
        self.built_at = -1

    def changed(self) -> None:
        """A set was changed in place by something other than the pool."""
        self.generation += 1

    def members_of(self, value: set) -> list[bytes]:
        """A list of ``value``'s members (shared: change it only through pop)."""
        if self.value is not value or self.built_at != self.generation:
            self.value = value
            self.members = list(value)
            self.built_at = self.generation
        return self.members

    def random_member(self, value: set) -> bytes:
        """A random member of the non-empty ``value``, every member equally likely."""
        members = self.members_of(value)
        return members[random.randrange(len(members))]

    def pop(self, value: set) -> bytes:
        """Remove and return a random member of the non-empty ``value``."""
        members = self.members_of(value)
        index = random.randrange(len(members))
        member = members[index]
        # Swap-remove keeps the pick O(1); the list's order does not matter.
        members[index] = members[-1]
        members.pop()
        value.discard(member)
        return member


_POOL = _MemberPool()

#: SPOP with a count at least five times what stays rebuilds the set from the
#: members that stay (Redis's SPOP_MOVE_STRATEGY_MUL).
_SPOP_MOVE_STRATEGY_MUL = 5


# -- members ---------------------------------------------------------------------


@command("sadd", arity=-3, flags=("write", "denyoom", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Add one or more members to a set", since="1.0.0", acl=_WRITE_FAST,
         key_specs=(_spec(1, "RW", "insert"),))
def sadd(ctx, key: bytes, *members: bytes) -> int:
    """Add members; the number that were new."""
    db = ctx.db
    value = _write(db, key)
    if value is None:
        value = set(members)
        db.set(key, value)
        note_added(db, key, value, members)
        return len(value)
    before = len(value)
    value.update(members)
    added = len(value) - before
    if added:
        _POOL.changed()
        note_added(db, key, value, members)
        db.modified(key)
    return added


@command("srem", arity=-3, flags=("write", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Remove one or more members from a set", since="1.0.0", acl=_WRITE_FAST,
         key_specs=(_spec(1, "RW", "delete"),))
def srem(ctx, key: bytes, *members: bytes) -> int:
    """Remove members; the number removed. An emptied set is deleted."""
    db = ctx.db
    value = _write(db, key)
    if value is None:
        return 0
    before = len(value)
    value.difference_update(members)
    removed = before - len(value)
    if removed:
        _POOL.changed()
        if value:
            db.modified(key)
        else:
            db.delete(key)
    return removed


@command("smembers", arity=2, flags=("readonly",), keys=(1, 1, 1), group=GROUP,
         summary="Get all the members in a set", since="1.0.0", acl=_READ_SLOW,
         tips=_ORDER_TIP, key_specs=_RO_ACCESS)
def smembers(ctx, key: bytes) -> RespSet:
    """Every member: a set in RESP3, an array in RESP2."""
    db = ctx.db
    value = _read(db, key)
    if value is None:
        return RespSet()
    return RespSet(ordered_stored(db, key, value))


@command("sismember", arity=3, flags=("readonly", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Determine if a given value is a member of a set", since="1.0.0",
         acl=_READ_FAST, key_specs=_RO)
def sismember(ctx, key: bytes, member: bytes) -> int:
    """1 if ``member`` is in the set, else 0."""
    value = _read(ctx.db, key)
    return int(value is not None and member in value)


@command("smismember", arity=-3, flags=("readonly", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Returns the membership associated with the given elements for a set",
         since="6.2.0", acl=_READ_FAST, key_specs=_RO_ACCESS)
def smismember(ctx, key: bytes, *members: bytes) -> list[int]:
    """1 or 0 for each member (an array of integers in both protocols)."""
    value = _read(ctx.db, key)
    if value is None:
        return [0] * len(members)
    return [int(member in value) for member in members]


@command("scard", arity=2, flags=("readonly", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Get the number of members in a set", since="1.0.0", acl=_READ_FAST,
         key_specs=_RO)
def scard(ctx, key: bytes) -> int:
    """The number of members (0 for a missing key)."""
    value = _read(ctx.db, key)
    return 0 if value is None else len(value)


@command("smove", arity=4, flags=("write", "fast"), keys=(1, 2, 1), group=GROUP,
         summary="Move a member from one set to another", since="1.0.0", acl=_WRITE_FAST,
         key_specs=(_spec(1, "RW", "access", "delete"), _spec(2, "RW", "insert")))
def smove(ctx, source: bytes, destination: bytes, member: bytes) -> int:
    """Move ``member`` from one set to another: 1 if it was in the source, else 0."""
    db = ctx.db
    src = db.get(source)
    dst = db.get(destination)
    # Redis answers 0 for a missing source before it looks at the destination's type.
    if src is None:
        return 0
    if src.__class__ is not set or (dst is not None and dst.__class__ is not set):
        raise WrongType()
    if src is dst:
        return int(member in src)
    if member not in src:
        return 0
    src.discard(member)
    _POOL.changed()
    if src:
        db.modified(source)
    else:
        db.delete(source)
    if dst is None:
        dst = {member}
        db.set(destination, dst)
        note_added(db, destination, dst, dst)
    elif member not in dst:
        dst.add(member)
        note_added(db, destination, dst, (member,))
        db.modified(destination)
    return 1


# -- random members -------------------------------------------------------------------


@command("spop", arity=-2, flags=("write", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Remove and return one or multiple random members from a set",
         since="1.0.0", acl=_WRITE_FAST, tips=("nondeterministic_output",),
         key_specs=(_spec(1, "RW", "access", "delete"),))
def spop(ctx, key: bytes, *options: bytes) -> Any:
    """Remove a random member (null if none), or COUNT of them as a set."""
    if len(options) > 1:
        raise CommandError(SYNTAX)
    db = ctx.db
    if not options:
        value = _write(db, key)
        if value is None:
            return None
        member = _POOL.pop(value)
        if value:
            db.modified(key)
        else:
            db.delete(key)
        return member
    count = parse_int(options[0], NOT_POSITIVE)
    if count < 0:
        raise CommandError(NOT_POSITIVE)
    value = _write(db, key)
    if value is None or count == 0:
        return RespSet()
    if count >= len(value):
        members = ordered_stored(db, key, value)
        db.delete(key)
        return RespSet(members)
    rebuild = (len(value) - count) * _SPOP_MOVE_STRATEGY_MUL <= count
    popped = random.sample(_POOL.members_of(value), count)
    value.difference_update(popped)
    _POOL.changed()
    if rebuild:
        # Redis builds a new set of the members that stay, under the
        # thresholds in effect: a hashtable of a few integers is an intset again.
        rebuilt(db, key, value)
    db.modified(key)
    return RespSet(popped)


@effects("spop")
def _spop_effects(ctx, argv: list[bytes], reply: Any) -> list[list[bytes]]:
    # The members popped were chosen at random: replay their removal.
    members = [reply] if reply.__class__ is bytes else list(reply)
    if not members:
        return []
    if len(argv) > 2 and not ctx.db.exists(argv[1]):
        # Redis propagates a count that took the whole set as a DEL.
        return [[b"DEL", argv[1]]]
    return [[b"SREM", argv[1], *members[i:i + 1024]] for i in range(0, len(members), 1024)]


@command("srandmember", arity=-2, flags=("readonly",), keys=(1, 1, 1), group=GROUP,
         summary="Get one or multiple random members from a set", since="1.0.0",
         acl=_READ_SLOW, tips=("nondeterministic_output",), key_specs=_RO_ACCESS)
def srandmember(ctx, key: bytes, *options: bytes) -> Any:
    """A random member, or COUNT distinct ones (negative COUNT: with repeats)."""
    if len(options) > 1:
        raise CommandError(SYNTAX)
    if not options:
        value = _read(ctx.db, key)
        return None if value is None else _POOL.random_member(value)
    count = parse_int(options[0])
    if count < -INT64_MAX:
        raise CommandError(RANGE_ERROR)
    value = _read(ctx.db, key)
    if value is None or count == 0:
        return []
    if count < 0:
        return random.choices(_POOL.members_of(value), k=-count)
    if count >= len(value):
        return ordered_stored(ctx.db, key, value)
    return random.sample(_POOL.members_of(value), count)


# -- algebra ------------------------------------------------------------------------------


def _intersection(sets: list[set | None]) -> set:
    if any(value is None for value in sets):
        return set()
    # Walk the smallest set and test the others, as Redis does.
    ordered_sets = sorted(sets, key=len)  # type: ignore[arg-type]
    return ordered_sets[0].intersection(*ordered_sets[1:])


def _union(sets: list[set | None]) -> set:
    return set().union(*(value for value in sets if value is not None))


def _difference(sets: list[set | None]) -> set:
    first = sets[0]
    if first is None:
        return set()
    return first.difference(*(value for value in sets[1:] if value is not None))


def _store(ctx, destination: bytes, result: set) -> int:
    """Replace ``destination`` with ``result`` (deleting it when empty); the size."""
    db = ctx.db
    if result:
        db.set(destination, result)
        # Built member by member from an empty intset, as Redis builds it.
        note_added(db, destination, result, result)
    else:
        db.delete(destination)
    return len(result)


@command("sinter", arity=-2, flags=("readonly",), keys=(1, -1, 1), group=GROUP,
         summary="Intersect multiple sets", since="1.0.0", acl=_READ_SLOW, tips=_ORDER_TIP,
         key_specs=_RO_ALL)
def sinter(ctx, *keys: bytes) -> RespSet:
    """The members present in every set (a missing key is an empty set)."""
    result = _intersection(_read_all(ctx.db, keys))
    return RespSet(ordered(result, len(result)))


@command("sintercard", arity=-3, flags=("readonly", "movablekeys"), group=GROUP,
         summary="Intersect multiple sets and return the cardinality of the result",
         since="7.0.0", acl=_READ_SLOW,
         key_specs=({
             "flags": ["RO", "access"],
             "begin_search": {"type": "index", "spec": {"index": 1}},
             "find_keys": {"type": "keynum",
                           "spec": {"keynumidx": 0, "firstkey": 1, "keystep": 1}},
         },))
def sintercard(ctx, raw_numkeys: bytes, *rest: bytes) -> int:
    """The size of the intersection, counting no further than LIMIT (0: no limit)."""
    numkeys = parse_int(raw_numkeys, NUMKEYS)
    if numkeys < 1:
        raise CommandError(NUMKEYS)
    if numkeys > len(rest):
        raise CommandError(TOO_MANY_KEYS)
    keys, options = rest[:numkeys], rest[numkeys:]
    limit = 0
    index = 0
    while index < len(options):
        if options[index].upper() == b"LIMIT" and index + 1 < len(options):
            limit = parse_int(options[index + 1], LIMIT_NEGATIVE)
            if limit < 0:
                raise CommandError(LIMIT_NEGATIVE)
            index += 2
        else:
            raise CommandError(SYNTAX)
    sets = _read_all(ctx.db, keys)
    if any(value is None for value in sets):
        return 0
    smallest, *others = sorted(sets, key=len)  # type: ignore[arg-type]
    if not limit:
        return len(smallest.intersection(*others))
    found = 0
    for member in smallest:
        if all(member in other for other in others):
            found += 1
            if found == limit:
                break
    return found


@command("sinterstore", arity=-3, flags=("write", "denyoom"), keys=(1, -1, 1), group=GROUP,
         summary="Intersect multiple sets and store the resulting set in a key",
         since="1.0.0", acl=_WRITE_SLOW,
         key_specs=(_spec(1, "RW", "update"), _spec(2, "RO", "access", lastkey=-1)))
def sinterstore(ctx, destination: bytes, *keys: bytes) -> int:
    """Store the intersection at ``destination``; its size."""
    return _store(ctx, destination, _intersection(_read_all(ctx.db, keys)))


@command("sunion", arity=-2, flags=("readonly",), keys=(1, -1, 1), group=GROUP,
         summary="Add multiple sets", since="1.0.0", acl=_READ_SLOW, tips=_ORDER_TIP,
         key_specs=_RO_ALL)
def sunion(ctx, *keys: bytes) -> RespSet:
    """The members of any of the sets."""
    result = _union(_read_all(ctx.db, keys))
    return RespSet(ordered(result, len(result)))


@command("sunionstore", arity=-3, flags=("write", "denyoom"), keys=(1, -1, 1), group=GROUP,
         summary="Add multiple sets and store the resulting set in a key", since="1.0.0",
         acl=_WRITE_SLOW,
         key_specs=(_spec(1, "OW", "update"), _spec(2, "RO", "access", lastkey=-1)))
def sunionstore(ctx, destination: bytes, *keys: bytes) -> int:
    """Store the union at ``destination``; its size."""
    return _store(ctx, destination, _union(_read_all(ctx.db, keys)))


@command("sdiff", arity=-2, flags=("readonly",), keys=(1, -1, 1), group=GROUP,
         summary="Subtract multiple sets", since="1.0.0", acl=_READ_SLOW, tips=_ORDER_TIP,
         key_specs=_RO_ALL)
def sdiff(ctx, *keys: bytes) -> RespSet:
    """The members of the first set that are in none of the others."""
    result = _difference(_read_all(ctx.db, keys))
    return RespSet(ordered(result, len(result)))


@command("sdiffstore", arity=-3, flags=("write", "denyoom"), keys=(1, -1, 1), group=GROUP,
         summary="Subtract multiple sets and store the resulting set in a key",
         since="1.0.0", acl=_WRITE_SLOW,
         key_specs=(_spec(1, "OW", "update"), _spec(2, "RO", "access", lastkey=-1)))
def sdiffstore(ctx, destination: bytes, *keys: bytes) -> int:
    """Store the difference at ``destination``; its size."""
    return _store(ctx, destination, _difference(_read_all(ctx.db, keys)))


# -- SSCAN ------------------------------------------------------------------------------


@command("sscan", arity=-3, flags=("readonly",), keys=(1, 1, 1), group=GROUP,
         summary="Incrementally iterate Set elements", since="2.8.0", acl=_READ_SLOW,
         tips=("nondeterministic_output",), key_specs=_RO_ACCESS)
def sscan(ctx, key: bytes, raw_cursor: bytes, *options: bytes) -> list[Any]:
    """[next cursor, members]: one step of an iteration over a set."""
    cursor = parse_cursor(raw_cursor)
    value = _read(ctx.db, key)
    # Redis parses the options only once it found a set to scan.
    if value is None:
        return [b"0", []]
    count, pattern, _kind = parse_scan_options(options, allow_type=False)
    if is_stored_intset(ctx.db, key, value):
        # An intset has no buckets: Redis returns all of it, whatever the cursor.
        next_cursor, members = 0, sorted(value, key=int)
    else:
        next_cursor, members = ctx.store.cursors.page(
            value, cursor, count, lambda: value, value.__contains__)
    match = compile_glob(pattern) if pattern is not None else None
    found = [m for m in members if m in value and (match is None or match(m))]
    return [b"%d" % next_cursor, found]
