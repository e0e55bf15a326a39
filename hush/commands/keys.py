# -*- test-case-name: tests.commands.test_keys -*-
"""Generic keyspace commands: DEL, EXISTS, TYPE, the EXPIRE/TTL family, KEYS,
SCAN, RANDOMKEY, RENAME, COPY, MOVE, OBJECT, DUMP, RESTORE and MIGRATE, with
Redis 7.0's semantics.

Lookups follow Redis's three kinds: a *read* lookup (TOUCH, COPY's source)
counts a keyspace hit or miss and marks the key used; a *no-touch* read
(EXISTS, TYPE, TTL, OBJECT) counts but leaves the LRU order and idle time
alone; a *write* lookup (EXPIRE, PERSIST, RENAME, MOVE) marks the key used
without counting. All of them expire a key whose deadline has passed.

What TYPE, COPY and OBJECT ENCODING say of a value comes from its type's
record (:mod:`hush.data.types`). :func:`parse_scan_options` serves HSCAN,
SSCAN and ZSCAN too.

Where Hush answers differently from Redis 7.0:

- Lists are "quicklist" for OBJECT ENCODING, as in 7.0 (listpack lists came
  in 7.2).
- OBJECT REFCOUNT says 2147483647 (shared) for every integer string below
  10000, including one that COPY made, which Redis 7.0 unshares (refcount 1).
- OBJECT FREQ always answers the error for a non-LFU policy: Hush keeps no
  access-frequency counters (and cannot be switched to an LFU policy).
- OBJECT IDLETIME counts from the second of the client read that last used
  the key (the store's cached clock, like Redis's 100 ms LRU clock); it does
  not reproduce Redis's quirk of shared integers sharing one access time.
- KEYS deletes the expired keys it passes over (counted in expired_keys);
  Redis 7.0 only hides them until something else expires them.
- SCAN's cursors are snapshot cursors (see :mod:`hush.data.cursors`); their
  numbers mean nothing to Redis, and keys come in least-recently-used order.
- RESTORE's FREQ is checked and ignored (no access frequencies are kept).
"""

from __future__ import annotations

from typing import Any

from hush.commands.args import INT64_MAX, parse_int
from hush.commands.migration import migrate_keys
from hush.commands.table import command, container, effects, help_command, range_spec
from hush.core.errors import (
    DB_INDEX_OUT_OF_RANGE,
    INVALID_EXPIRE,
    NO_SUCH_KEY,
    SYNTAX,
    CommandError,
    c_text,
)
from hush.core.glob import compile_glob
from hush.data.cursors import parse_cursor
from hush.data.store import Database
from hush.data.types import registry, string
from hush.data.types.registry import copy_value, from_neutral, to_neutral, type_name
from hush.formats.rdb_payload import dump_payload, load_payload
from hush.wire.resp import OK, SimpleString

GROUP = "generic"

SAME_OBJECT = "ERR source and destination objects are the same"
EXPIRE_NX_CONFLICT = "ERR NX and XX, GT or LT options at the same time are not compatible"
EXPIRE_GT_LT_CONFLICT = "ERR GT and LT options at the same time are not compatible"
NO_LFU = ("ERR An LFU maxmemory policy is not selected, access frequency not tracked. "
          "Please note that when switching between policies at runtime LRU and LFU data "
          "will take some time to adjust.")
NO_LRU = ("ERR An LRU maxmemory policy is not selected, access time not tracked. "
          "Please note that when switching between policies at runtime LRU and LFU data "
          "will take some time to adjust.")
INT_RANGE = "ERR value is out of range, value must between -2147483648 and 2147483647"

_INT32_MIN = -(2**31)
_INT32_MAX = 2**31 - 1
# C's LLONG_MAX / 1000 and LLONG_MIN / 1000 (division truncates toward zero).
_MAX_SECONDS = INT64_MAX // 1000
_MIN_SECONDS = -_MAX_SECONDS

#: Redis shares one object for each integer below this (OBJ_SHARED_INTEGERS).
SHARED_INTEGERS = 10000
#: The refcount Redis reports for a shared object (OBJ_SHARED_REFCOUNT).
SHARED_REFCOUNT = 2**31 - 1

_MULTI_KEY_TIPS = ("request_policy:multi_shard", "response_policy:agg_sum")


_spec = range_spec


# -- lookups as Redis counts them -----------------------------------------------


def read_key(db: Database, key: bytes) -> Any:
    """Redis's lookupKeyRead: the live value or None; counts a hit or a miss."""
    value = db.get(key)
    _count(db, value)
    return value


def peek_key(db: Database, key: bytes) -> Any:
    """lookupKeyRead with LOOKUP_NOTOUCH: counts, but leaves LRU and idle time alone."""
    value = db.peek(key)
    _count(db, value)
    return value


def _count(db: Database, value: Any) -> None:
    stats = db.store.stats
    if value is None:
        stats.keyspace_misses += 1
    else:
        stats.keyspace_hits += 1


# -- OBJECT ENCODING, and the notes RENAME, MOVE and COPY carry ---------------------------


def encoding_of(db: Database, key: bytes, value: Any) -> bytes:
    """OBJECT ENCODING of the live ``value`` at ``key``."""
    return registry.object_encoding(value, db.encodings.get(key))


def _carry_encoding(target_db: Database, target: bytes, forced: bytes | None) -> None:
    # RENAME, MOVE and COPY keep the object (or duplicate it with its
    # encoding), so a raw string stays raw under its new name.
    if forced is not None:
        target_db.encodings[target] = forced


# -- DEL, UNLINK, EXISTS, TOUCH, TYPE ------------------------------------------------


def _delete_keys(ctx, keys: tuple[bytes, ...]) -> int:
    db = ctx.db
    deleted = 0
    for key in keys:
        if db.delete(key):
            deleted += 1
    return deleted


@command("del", arity=-2, flags=("write",), keys=(1, -1, 1), group=GROUP,
         summary="Delete a key", acl=("keyspace", "write", "slow"), tips=_MULTI_KEY_TIPS,
         key_specs=(_spec("RM", "delete", lastkey=-1),))
def del_(ctx, *keys: bytes) -> int:
    """Delete the keys; the number that existed."""
    return _delete_keys(ctx, keys)


@command("unlink", arity=-2, flags=("write", "fast"), keys=(1, -1, 1), group=GROUP,
         since="4.0.0",
         summary="Delete a key asynchronously in another thread. Otherwise it is just as DEL, "
                 "but non blocking.",
         acl=("keyspace", "write", "fast"), tips=_MULTI_KEY_TIPS,
         key_specs=(_spec("RM", "delete", lastkey=-1),))
def unlink(ctx, *keys: bytes) -> int:
    """DEL: dropping the references already frees the values without blocking."""
    return _delete_keys(ctx, keys)


@command("exists", arity=-2, flags=("readonly", "fast"), keys=(1, -1, 1), group=GROUP,
         summary="Determine if a key exists", acl=("keyspace", "read", "fast"),
         tips=_MULTI_KEY_TIPS, key_specs=(_spec("RO", lastkey=-1),))
def exists(ctx, *keys: bytes) -> int:
    """How many of the keys exist; a key named twice counts twice."""
    db = ctx.db
    return sum(1 for key in keys if peek_key(db, key) is not None)


@command("touch", arity=-2, flags=("readonly", "fast"), keys=(1, -1, 1), group=GROUP,
         since="3.2.1",
         summary="Alters the last access time of a key(s). Returns the number of existing "
                 "keys specified.",
         acl=("keyspace", "read", "fast"), tips=_MULTI_KEY_TIPS,
         key_specs=(_spec("RO", lastkey=-1),))
def touch(ctx, *keys: bytes) -> int:
    """Mark the keys used; how many exist."""
    db = ctx.db
    return sum(1 for key in keys if read_key(db, key) is not None)


@command("type", arity=2, flags=("readonly", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Determine the type stored at key", acl=("keyspace", "read", "fast"),
         key_specs=(_spec("RO"),))
def type_(ctx, key: bytes) -> SimpleString:
    """The type name of the value at ``key``, or ``none``."""
    value = peek_key(ctx.db, key)
    return SimpleString(b"none" if value is None else type_name(value))


# -- EXPIRE family -------------------------------------------------------------------

_NX, _XX, _GT, _LT = 1, 2, 4, 8
_EXPIRE_OPTIONS = {b"NX": _NX, b"XX": _XX, b"GT": _GT, b"LT": _LT}


def _expire_flags(options: tuple[bytes, ...]) -> int:
    flags = 0
    for option in options:
        flag = _EXPIRE_OPTIONS.get(option.upper())
        if flag is None:
            raise CommandError(f"ERR Unsupported option {c_text(option)}")
        flags |= flag
    if flags & _NX and flags & (_XX | _GT | _LT):
        raise CommandError(EXPIRE_NX_CONFLICT)
    if flags & _GT and flags & _LT:
        raise CommandError(EXPIRE_GT_LT_CONFLICT)
    return flags


def _expire(ctx, name: str, key: bytes, raw: bytes, options: tuple[bytes, ...],
            relative: bool, seconds: bool) -> int:
    """Redis's expireGenericCommand: 1 if the deadline was set (or the key deleted)."""
    flags = _expire_flags(options)
    when = parse_int(raw)
    # Redis refuses what would overflow a signed 64-bit deadline in ms, but
    # takes any other value, negative ones included.
    if seconds:
        if not _MIN_SECONDS <= when <= _MAX_SECONDS:
            raise CommandError(INVALID_EXPIRE.format(name))
        when *= 1000
    now = ctx.store.now_ms()
    if relative:
        if when > INT64_MAX - now:
            raise CommandError(INVALID_EXPIRE.format(name))
        when += now
    db = ctx.db
    if db.get(key) is None:
        return 0
    if flags:
        current = db.get_expire(key)
        if flags & _NX and current is not None:
            return 0
        if flags & _XX and current is None:
            return 0
        # No TTL counts as an infinite one: never exceeded, always undercut.
        if flags & _GT and (current is None or when <= current):
            return 0
        if flags & _LT and current is not None and when >= current:
            return 0
    ctx.store.dirty += 1
    if when <= now and not ctx.store.loading:
        # A deadline already past deletes the key at once: a DEL, not an expiry.
        # Not while the AOF loads: the replayed deadline was future when logged.
        db.delete(key)
    else:
        db.set_expire(key, when)
        db.modified(key)
    return 1


_EXPIRE_SPECS = (_spec("RW", "update"),)
_WRITE_FAST_ACL = ("keyspace", "write", "fast")


@command("expire", arity=-3, flags=("write", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Set a key's time to live in seconds", acl=_WRITE_FAST_ACL,
         key_specs=_EXPIRE_SPECS)
def expire(ctx, key: bytes, seconds: bytes, *options: bytes) -> int:
    """Give ``key`` a time to live in seconds."""
    return _expire(ctx, "expire", key, seconds, options, relative=True, seconds=True)


@command("pexpire", arity=-3, flags=("write", "fast"), keys=(1, 1, 1), group=GROUP,
         since="2.6.0", summary="Set a key's time to live in milliseconds",
         acl=_WRITE_FAST_ACL, key_specs=_EXPIRE_SPECS)
def pexpire(ctx, key: bytes, ms: bytes, *options: bytes) -> int:
    """Give ``key`` a time to live in milliseconds."""
    return _expire(ctx, "pexpire", key, ms, options, relative=True, seconds=False)


@command("expireat", arity=-3, flags=("write", "fast"), keys=(1, 1, 1), group=GROUP,
         since="1.2.0", summary="Set the expiration for a key as a UNIX timestamp",
         acl=_WRITE_FAST_ACL, key_specs=_EXPIRE_SPECS)
def expireat(ctx, key: bytes, timestamp: bytes, *options: bytes) -> int:
    """Make ``key`` expire at a unix time in seconds."""
    return _expire(ctx, "expireat", key, timestamp, options, relative=False, seconds=True)


@command("pexpireat", arity=-3, flags=("write", "fast"), keys=(1, 1, 1), group=GROUP,
         since="2.6.0",
         summary="Set the expiration for a key as a UNIX timestamp specified in milliseconds",
         acl=_WRITE_FAST_ACL, key_specs=_EXPIRE_SPECS)
def pexpireat(ctx, key: bytes, timestamp: bytes, *options: bytes) -> int:
    """Make ``key`` expire at a unix time in milliseconds."""
    return _expire(ctx, "pexpireat", key, timestamp, options, relative=False, seconds=False)


def deadline_effect(ctx, key: bytes, value_effect: list[bytes] | None) -> list[list[bytes]]:
    """The key's state after a command that set its deadline, as one command
    that replays the same at any time: SET..PXAT, PEXPIREAT, PERSIST, or DEL."""
    db = ctx.db
    if not db.exists(key):
        return [[b"DEL", key]]
    deadline = db.get_expire(key)
    if value_effect is not None:
        return [value_effect + ([b"PXAT", b"%d" % deadline] if deadline is not None else [])]
    if deadline is None:
        return [[b"PERSIST", key]]
    return [[b"PEXPIREAT", key, b"%d" % deadline]]


@effects("expire", "pexpire", "expireat", "pexpireat")
def _expire_effects(ctx, argv: list[bytes], reply: Any) -> list[list[bytes]]:
    return deadline_effect(ctx, argv[1], None)


def _ttl(ctx, key: bytes, ms: bool, absolute: bool) -> int:
    """Redis's ttlGenericCommand: -2 without the key, -1 without a deadline."""
    db = ctx.db
    if peek_key(db, key) is None:
        return -2
    deadline = db.get_expire(key)
    if deadline is None:
        return -1
    ttl = max(0, deadline if absolute else deadline - ctx.store.now_ms())
    return ttl if ms else (ttl + 500) // 1000


_TTL_SPECS = (_spec("RO", "access"),)
_READ_FAST_ACL = ("keyspace", "read", "fast")


@command("ttl", arity=2, flags=("readonly", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Get the time to live for a key in seconds", acl=_READ_FAST_ACL,
         tips=("nondeterministic_output",), key_specs=_TTL_SPECS)
def ttl(ctx, key: bytes) -> int:
    """Seconds left before ``key`` expires (rounded)."""
    return _ttl(ctx, key, ms=False, absolute=False)


@command("pttl", arity=2, flags=("readonly", "fast"), keys=(1, 1, 1), group=GROUP,
         since="2.6.0", summary="Get the time to live for a key in milliseconds",
         acl=_READ_FAST_ACL, tips=("nondeterministic_output",), key_specs=_TTL_SPECS)
def pttl(ctx, key: bytes) -> int:
    """Milliseconds left before ``key`` expires."""
    return _ttl(ctx, key, ms=True, absolute=False)


@command("expiretime", arity=2, flags=("readonly", "fast"), keys=(1, 1, 1), group=GROUP,
         since="7.0.0", summary="Get the expiration Unix timestamp for a key",
         acl=_READ_FAST_ACL, key_specs=_TTL_SPECS)
def expiretime(ctx, key: bytes) -> int:
    """The unix time in seconds (rounded) at which ``key`` expires."""
    return _ttl(ctx, key, ms=False, absolute=True)


@command("pexpiretime", arity=2, flags=("readonly", "fast"), keys=(1, 1, 1), group=GROUP,
         since="7.0.0", summary="Get the expiration Unix timestamp for a key in milliseconds",
         acl=_READ_FAST_ACL, key_specs=_TTL_SPECS)
def pexpiretime(ctx, key: bytes) -> int:
    """The unix time in milliseconds at which ``key`` expires."""
    return _ttl(ctx, key, ms=True, absolute=True)


@command("persist", arity=2, flags=("write", "fast"), keys=(1, 1, 1), group=GROUP,
         since="2.2.0", summary="Remove the expiration from a key", acl=_WRITE_FAST_ACL,
         key_specs=(_spec("RW", "update"),))
def persist(ctx, key: bytes) -> int:
    """Drop the deadline of ``key``: 1 if it had one."""
    db = ctx.db
    if db.get(key) is None or not db.persist(key):
        return 0
    db.modified(key)
    ctx.store.dirty += 1
    return 1


# -- KEYS, SCAN, RANDOMKEY -------------------------------------------------------------


@command("keys", arity=2, flags=("readonly",), group=GROUP,
         summary="Find all keys matching the given pattern",
         acl=("keyspace", "read", "slow", "dangerous"),
         tips=("request_policy:all_shards", "nondeterministic_output_order"))
def keys(ctx, pattern: bytes) -> list[bytes]:
    """Every live key matching the glob ``pattern``."""
    return ctx.db.keys(pattern)


def parse_scan_options(options: tuple[bytes, ...], allow_type: bool
                       ) -> tuple[int, bytes | None, bytes | None]:
    """COUNT, MATCH (and for SCAN, TYPE) as Redis parses them; later ones win.

    @return: (count, pattern or None when it matches everything, type or None).
    """
    count = 10
    pattern: bytes | None = None
    kind: bytes | None = None
    index = 0
    while index < len(options):
        option = options[index].upper()
        has_value = index + 1 < len(options)
        if option == b"COUNT" and has_value:
            count = parse_int(options[index + 1])
            if count < 1:
                raise CommandError(SYNTAX)
        elif option == b"MATCH" and has_value:
            pattern = None if options[index + 1] == b"*" else options[index + 1]
        elif option == b"TYPE" and allow_type and has_value:
            kind = options[index + 1]
        else:
            raise CommandError(SYNTAX)
        index += 2
    return count, pattern, kind


@command("scan", arity=-2, flags=("readonly",), group=GROUP, since="2.8.0",
         summary="Incrementally iterate the keys space", acl=("keyspace", "read", "slow"),
         tips=("nondeterministic_output", "request_policy:special"))
def scan(ctx, raw_cursor: bytes, *options: bytes) -> list[Any]:
    """[next cursor, keys]: one step of an iteration over the selected database."""
    cursor = parse_cursor(raw_cursor)
    count, pattern, kind = parse_scan_options(options, allow_type=True)
    db = ctx.db
    next_cursor, batch = ctx.store.cursors.page(
        db, cursor, count, db.key_list, lambda key: key in db.data)
    # Redis filters after choosing the step's keys, so a step may return none.
    match = compile_glob(pattern) if pattern is not None else None
    wanted = kind.lower() if kind is not None else None
    found = []
    for key in batch:
        if match is not None and not match(key):
            continue
        if wanted is not None:
            value = peek_key(db, key)
            if (b"none" if value is None else type_name(value)) != wanted:
                continue
        if db.exists(key):
            found.append(key)
    return [b"%d" % next_cursor, found]


@command("randomkey", arity=1, flags=("readonly",), group=GROUP,
         summary="Return a random key from the keyspace", acl=("keyspace", "read", "slow"),
         tips=("request_policy:all_shards", "nondeterministic_output"))
def randomkey(ctx) -> bytes | None:
    """A random live key, or null when the database is empty."""
    return ctx.db.random_key()


# -- RENAME, RENAMENX, COPY, MOVE ------------------------------------------------------


def _rename(ctx, source: bytes, target: bytes, nx: bool) -> bool:
    """Redis's renameGenericCommand; True if the key moved (or was renamed to itself)."""
    db = ctx.db
    if db.get(source) is None:
        raise CommandError(NO_SUCH_KEY)
    if source == target:
        return not nx
    if db.exists(target):
        if nx:
            return False
        db.delete(target)
    deadline = db.get_expire(source)
    forced = db.encodings.get(source)
    value = db.pop_value(source)
    db.set(target, value)
    _carry_encoding(db, target, forced)
    if deadline is not None:
        db.set_expire(target, deadline)
    ctx.store.dirty += 1
    return True


@command("rename", arity=3, flags=("write",), keys=(1, 2, 1), group=GROUP,
         summary="Rename a key", acl=("keyspace", "write", "slow"),
         key_specs=(_spec("RW", "access", "delete"), _spec("OW", "update", index=2)))
def rename(ctx, source: bytes, target: bytes):
    """Move the value (and deadline) of ``source`` to ``target``, replacing it."""
    _rename(ctx, source, target, nx=False)
    return OK


@command("renamenx", arity=3, flags=("write", "fast"), keys=(1, 2, 1), group=GROUP,
         summary="Rename a key, only if the new key does not exist",
         acl=("keyspace", "write", "fast"),
         key_specs=(_spec("RW", "access", "delete"), _spec("OW", "insert", index=2)))
def renamenx(ctx, source: bytes, target: bytes) -> int:
    """RENAME unless ``target`` exists: 1 if renamed."""
    return int(_rename(ctx, source, target, nx=True))


def _db_index(ctx, raw: bytes) -> Database:
    """A database named by a command argument, as getIntFromObjectOrReply + selectDb."""
    index = parse_int(raw)
    if not _INT32_MIN <= index <= _INT32_MAX:
        raise CommandError(INT_RANGE)
    if not 0 <= index < len(ctx.store.dbs):
        raise CommandError(DB_INDEX_OUT_OF_RANGE)
    return ctx.store.dbs[index]


@command("copy", arity=-3, flags=("write", "denyoom"), keys=(1, 2, 1), group=GROUP,
         since="6.2.0", summary="Copy a key", acl=("keyspace", "write", "slow"),
         key_specs=(_spec("RO", "access"), _spec("OW", "update", index=2)))
def copy_(ctx, source: bytes, target: bytes, *options: bytes) -> int:
    """Copy the value and deadline of ``source`` to ``target`` (DB n, REPLACE): 1 if copied."""
    db = ctx.db
    destination = db
    replace = False
    index = 0
    while index < len(options):
        option = options[index].upper()
        if option == b"REPLACE":
            replace = True
        elif option == b"DB" and index + 1 < len(options):
            destination = _db_index(ctx, options[index + 1])
            index += 1
        else:
            raise CommandError(SYNTAX)
        index += 1
    if ctx.server.cluster is not None and (db.index or destination.index):
        raise CommandError("ERR Copying to another database is not allowed in cluster mode")
    if destination is db and source == target:
        raise CommandError(SAME_OBJECT)
    value = read_key(db, source)
    if value is None:
        return 0
    deadline = db.get_expire(source)
    if destination.exists(target):
        if not replace:
            return 0
        destination.delete(target)
    destination.set(target, copy_value(value))
    _carry_encoding(destination, target, db.encodings.get(source))
    if deadline is not None:
        destination.set_expire(target, deadline)
    ctx.store.dirty += 1
    return 1


@command("move", arity=3, flags=("write", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Move a key to another database", acl=("keyspace", "write", "fast"),
         key_specs=(_spec("RW", "access", "update"),))
def move(ctx, key: bytes, raw_db: bytes) -> int:
    """Move ``key`` (with its deadline) to another database unless it exists there."""
    if ctx.server.cluster is not None:
        raise CommandError("ERR MOVE is not allowed in cluster mode")
    db = ctx.db
    destination = _db_index(ctx, raw_db)
    if destination is db:
        raise CommandError(SAME_OBJECT)
    if db.get(key) is None or destination.exists(key):
        return 0
    deadline = db.get_expire(key)
    forced = db.encodings.get(key)
    value = db.pop_value(key)
    destination.set(key, value)
    _carry_encoding(destination, key, forced)
    if deadline is not None:
        destination.set_expire(key, deadline)
    ctx.store.dirty += 1
    return 1


# -- OBJECT --------------------------------------------------------------------------------

container("object", group=GROUP, since="2.2.3",
          summary="A container for object introspection commands")

_OBJECT_FLAGS = ("readonly",)
_OBJECT_ACL = ("keyspace", "read", "slow")
_OBJECT_TIPS = ("nondeterministic_output",)
_OBJECT_SPECS = (_spec("RO", index=2),)


def _uses_lfu(ctx) -> bool:
    return "lfu" in ctx.server.settings.maxmemory_policy


@command("object|encoding", arity=3, flags=_OBJECT_FLAGS, keys=(2, 2, 1), group=GROUP,
         since="2.2.3", summary="Inspect the internal encoding of a Redis object",
         acl=_OBJECT_ACL, tips=_OBJECT_TIPS, key_specs=_OBJECT_SPECS)
def object_encoding(ctx, key: bytes) -> bytes | None:
    """The name Redis would give the internal representation of the value."""
    value = peek_key(ctx.db, key)
    if value is None:
        return None
    return encoding_of(ctx.db, key, value)


@command("object|freq", arity=3, flags=_OBJECT_FLAGS, keys=(2, 2, 1), group=GROUP,
         since="4.0.0", summary="Get the logarithmic access frequency counter of a Redis object",
         acl=_OBJECT_ACL, tips=_OBJECT_TIPS, key_specs=_OBJECT_SPECS)
def object_freq(ctx, key: bytes) -> None:
    """Null for a missing key; otherwise Redis's error for a non-LFU policy."""
    if peek_key(ctx.db, key) is None:
        return None
    raise CommandError(NO_LFU)


@command("object|idletime", arity=3, flags=_OBJECT_FLAGS, keys=(2, 2, 1), group=GROUP,
         since="2.2.3", summary="Get the time since a Redis object was last accessed",
         acl=_OBJECT_ACL, tips=_OBJECT_TIPS, key_specs=_OBJECT_SPECS)
def object_idletime(ctx, key: bytes) -> int | None:
    """Whole seconds since ``key`` was last read or written."""
    db = ctx.db
    if peek_key(db, key) is None:
        return None
    if _uses_lfu(ctx):
        raise CommandError(NO_LRU)
    now = int(ctx.store.clock.seconds())
    return max(0, now - db.last_used(key))


_OBJECT_HELP = (
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
)


help_command("object", _OBJECT_HELP, group=GROUP, since="6.2.0", acl=("keyspace", "slow"))


@command("object|refcount", arity=3, flags=_OBJECT_FLAGS, keys=(2, 2, 1), group=GROUP,
         since="2.2.3", summary="Get the number of references to the value of the key",
         acl=_OBJECT_ACL, tips=_OBJECT_TIPS, key_specs=_OBJECT_SPECS)
def object_refcount(ctx, key: bytes) -> int | None:
    """1, or Redis's shared-object count for the small integers it shares."""
    value = peek_key(ctx.db, key)
    if value is None:
        return None
    if value.__class__ is bytes and _shares_integers(ctx):
        number = string.as_long(value)
        if number is not None and 0 <= number < SHARED_INTEGERS:
            return SHARED_REFCOUNT
    return 1


def _shares_integers(ctx) -> bool:
    # Redis stops sharing integers under an LRU/LFU policy with a memory limit,
    # since a shared object cannot carry one key's access time.
    settings = ctx.server.settings
    policy = settings.maxmemory_policy
    return settings.maxmemory == 0 or not ("lru" in policy or "lfu" in policy)


# -- DUMP, RESTORE, MIGRATE ------------------------------------------------------------

BUSYKEY = "BUSYKEY Target key name already exists."
INVALID_TTL = "ERR Invalid TTL value, must be >= 0"
INVALID_IDLETIME = "ERR Invalid IDLETIME value, must be >= 0"
INVALID_FREQ = "ERR Invalid FREQ value, must be >= 0 and <= 255"
MIGRATE_KEYS_NEEDS_EMPTY_KEY = ("ERR When using MIGRATE KEYS option, the key argument must be "
                                "set to the empty string")


@command("dump", arity=2, flags=("readonly",), keys=(1, 1, 1), group=GROUP, since="2.6.0",
         summary="Return a serialized version of the value stored at the specified key.",
         acl=("keyspace", "read", "slow"), tips=("nondeterministic_output",),
         key_specs=(_spec("RO", "access"),))
def dump(ctx, key: bytes) -> bytes | None:
    """The value in Redis's DUMP format (RDB object, RDB version, CRC-64), or null."""
    value = read_key(ctx.db, key)
    if value is None:
        return None
    return dump_payload(*to_neutral(value), registry.rdb_thresholds(ctx.server.settings),
                        registry.written_encoding(value, ctx.db.encodings.get(key)))


@command("restore", arity=-4, flags=("write", "denyoom"), keys=(1, 1, 1), group=GROUP,
         since="2.6.0",
         summary="Create a key using the provided serialized value, previously obtained "
                 "using DUMP.",
         acl=("keyspace", "write", "slow", "dangerous"), key_specs=(_spec("OW", "update"),))
def restore(ctx, key: bytes, raw_ttl: bytes, payload: bytes, *options: bytes):
    """Create ``key`` from a DUMP payload (REPLACE, ABSTTL, IDLETIME s, FREQ n).

    A relative TTL is propagated as the absolute deadline it became (with
    ABSTTL); a deadline already past creates nothing, as in Redis.
    """
    replace = absttl = False
    idle: int | None = None
    freq: int | None = None
    index = 0
    while index < len(options):
        option = options[index].lower()
        more = len(options) - index - 1
        if option == b"replace":
            replace = True
        elif option == b"absttl":
            absttl = True
        elif option == b"idletime" and more and freq is None:
            index += 1
            idle = parse_int(options[index])
            if idle < 0:
                raise CommandError(INVALID_IDLETIME)
        elif option == b"freq" and more and idle is None:
            index += 1
            freq = parse_int(options[index])
            if not 0 <= freq <= 255:
                raise CommandError(INVALID_FREQ)
        else:
            raise CommandError(SYNTAX)
        index += 1
    db = ctx.db
    if not replace and db.exists(key):
        raise CommandError(BUSYKEY)
    ttl = parse_int(raw_ttl)
    if ttl < 0:
        raise CommandError(INVALID_TTL)
    value = from_neutral(*load_payload(payload))
    deleted = replace and db.delete(key)
    store = ctx.store
    now = store.now_ms()
    if ttl and not absttl:
        ttl += now
    if ttl and ttl <= now and not store.loading:
        if deleted:
            ctx.propagate_instead([b"DEL", key])
        return OK
    db.set(key, value)
    registry.stored(db, key, value)
    if ttl:
        db.set_expire(key, ttl)
        if not absttl:
            ctx.propagate_instead([b"RESTORE", key, b"%d" % ttl, payload, *options, b"ABSTTL"])
    if idle is not None:
        db.pin_use(key, now // 1000 - idle)
    return OK


@command("restore-asking", arity=-4, flags=("write", "denyoom", "asking"), keys=(1, 1, 1),
         group="server", since="3.0.0",
         summary="An internal command for migrating keys in a cluster",
         acl=("keyspace", "write", "slow", "dangerous"), key_specs=(_spec("OW", "update"),))
def restore_asking(ctx, key: bytes, raw_ttl: bytes, payload: bytes, *options: bytes):
    """RESTORE as MIGRATE sends it in cluster mode: its ``asking`` flag lets a node
    importing the key's slot take it without a separate ASKING."""
    return restore(ctx, key, raw_ttl, payload, *options)


def _migrate_keys(argv: list[bytes]) -> list[int]:
    """Redis's migrateGetKeys: the key at 3, or what follows KEYS when that key is ""."""
    for index in range(6, len(argv)):
        if argv[index].lower() == b"keys":
            return list(range(index + 1, len(argv))) if not argv[3] else []
    return [3]


@command("migrate", arity=-6, flags=("write", "movablekeys"), keys=(3, 3, 1), group=GROUP,
         since="2.6.0", summary="Atomically transfer a key from a Redis instance to another one.",
         acl=("keyspace", "write", "slow", "dangerous"), tips=("nondeterministic_output",),
         key_specs=(_spec("RW", "access", "delete", index=3),
                    {"flags": ["RW", "access", "delete", "incomplete"],
                     "begin_search": {"type": "keyword",
                                      "spec": {"keyword": "KEYS", "startfrom": -2}},
                     "find_keys": {"type": "range",
                                   "spec": {"lastkey": -1, "keystep": 1, "limit": 0}}}),
         getkeys=_migrate_keys)
def migrate(ctx, host: bytes, port: bytes, key: bytes, raw_db: bytes, raw_timeout: bytes,
            *options: bytes):
    """Move ``key`` (or the KEYS) to another server's database, in a blocking exchange.

    Like Redis, the server waits for the target (at most ``timeout`` ms per
    step): the keys are deleted once the target has restored them.
    """
    copy = replace = False
    username = password = None
    keys = [key]
    index = 0
    while index < len(options):
        option = options[index].lower()
        more = len(options) - index - 1
        if option == b"copy":
            copy = True
        elif option == b"replace":
            replace = True
        elif option == b"auth":
            if not more:
                raise CommandError(SYNTAX)
            password = options[index + 1]
            index += 1
        elif option == b"auth2":
            if more < 2:
                raise CommandError(SYNTAX)
            username, password = options[index + 1], options[index + 2]
            index += 2
        elif option == b"keys":
            if key:
                raise CommandError(MIGRATE_KEYS_NEEDS_EMPTY_KEY)
            keys = list(options[index + 1:])
            break
        else:
            raise CommandError(SYNTAX)
        index += 1
    timeout = parse_int(raw_timeout)
    target_db = parse_int(raw_db)
    if timeout <= 0:
        timeout = 1000
    # A cluster node sends RESTORE-ASKING, which a target importing the slot accepts.
    restore_name = b"RESTORE" if ctx.server.cluster is None else b"RESTORE-ASKING"
    return migrate_keys(ctx, host, port, keys, target_db, timeout, copy=copy, replace=replace,
                        username=username, password=password, restore=restore_name)
