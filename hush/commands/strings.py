# -*- test-case-name: tests.commands.test_strings -*-
"""String commands: GET, SET and its variants, counters, ranges, LCS.

Behaviour follows Redis 7.0's ``t_string.c``: option parsing order (syntax
errors before value errors before WRONGTYPE, where Redis does it that way),
error texts, and which lookups count as keyspace hits and misses (reads do,
the lookups of writing commands such as INCR or APPEND do not).

INCRBYFLOAT works in Redis's ``long double``, which on x86-64 is the x87
80-bit format (64-bit significand). Python has no such type, so values are
kept as exact fractions and rounded to that format after every parse and
addition; replies are printed as ``%.17Lf`` with trailing zeros removed, as
Redis does. Plain doubles would print ``0.1 + 0.2`` as ``0.30000000000000004``
where Redis prints ``0.3``.
"""

from __future__ import annotations

import re
from fractions import Fraction
from itertools import repeat
from operator import itemgetter
from typing import Any

from hush.commands.args import INT64_MAX, INT64_MIN, parse_int, syntax_error
from hush.commands.keys import deadline_effect
from hush.commands.table import batch, command, effects, key_flags, range_spec
from hush.core.errors import (
    INVALID_EXPIRE,
    NOT_FLOAT,
    NOT_INTEGER,
    OVERFLOW,
    CommandError,
    WrongType,
    wrong_arity,
)
from hush.data.store import Database
from hush.data.types import string
from hush.wire.resp import OK, OK_REPLY, RespMap, encode_each_into, encode_ints_into

GROUP = "string"

# An argv's key and its value (a batch's columns).
_key = itemgetter(1)
_value = itemgetter(2)
#: What a GET finds that needs no conversion.
_PLAIN_STRING = {bytes, type(None)}

TOO_BIG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"


def _spec(*flags: str, lastkey: int = 0, keystep: int = 1, notes: str = "") -> tuple[dict, ...]:
    return (range_spec(*flags, lastkey=lastkey, keystep=keystep, notes=notes),)


_RO = _spec("RO")
_RO_ACCESS = _spec("RO", "access")
_RW_ACCESS_UPDATE = _spec("RW", "access", "update")
_OW_UPDATE = _spec("OW", "update")


# -- shared helpers ------------------------------------------------------------


def _read(db: Database, key: bytes) -> bytes | None:
    """A read lookup as Redis's lookupKeyRead: counts a hit or a miss."""
    return db.read_typed(key, bytes)


def _set_raw(db: Database, key: bytes, value: bytes, keep_ttl: bool = False) -> None:
    """Store a string that Redis builds in place (APPEND, SETRANGE): encoding raw."""
    db.set(key, value, keep_ttl=keep_ttl)
    string.note_built_in_place(db, key)


def _check_length(ctx, size: int, append: int) -> None:
    """Refuse to build a string longer than proto-max-bulk-len."""
    if size + append > ctx.server.settings.proto_max_bulk_len:
        raise CommandError(TOO_BIG)


# -- SET and GETEX options -----------------------------------------------------

_NX, _XX, _GET, _KEEPTTL, _PERSIST = 1, 2, 4, 8, 16
_EX, _PX, _EXAT, _PXAT = 32, 64, 128, 256
_EXPIRES = _EX | _PX | _EXAT | _PXAT
_EXPIRE_FLAG = {b"EX": _EX, b"PX": _PX, b"EXAT": _EXAT, b"PXAT": _PXAT}


def _parse_options(options: tuple[bytes, ...], for_set: bool) -> tuple[int, bytes | None]:
    """Parse SET's (``for_set``) or GETEX's options into flags and the raw expire value.

    A repeated option is accepted (the last expire value wins), a conflicting
    one is a syntax error, exactly as Redis's single left-to-right pass.
    """
    flags = 0
    expire = None
    index = 0
    count = len(options)
    while index < count:
        opt = options[index].upper()
        flag = _EXPIRE_FLAG.get(opt)
        if flag is not None:
            if flags & (_KEEPTTL | _PERSIST | (_EXPIRES & ~flag)) or index + 1 == count:
                raise syntax_error()
            flags |= flag
            index += 1
            expire = options[index]
        elif for_set and opt == b"NX" and not flags & _XX:
            flags |= _NX
        elif for_set and opt == b"XX" and not flags & _NX:
            flags |= _XX
        elif for_set and opt == b"GET":
            flags |= _GET
        elif for_set and opt == b"KEEPTTL" and not flags & _EXPIRES:
            flags |= _KEEPTTL
        elif not for_set and opt == b"PERSIST" and not flags & _EXPIRES:
            flags |= _PERSIST
        else:
            raise syntax_error()
        index += 1
    return flags, expire


def _deadline(ctx, raw: bytes, flags: int, name: str) -> int:
    """The absolute deadline in ms for an EX/PX/EXAT/PXAT value, validated as Redis does."""
    amount = parse_int(raw)
    seconds = flags & (_EX | _EXAT)
    if amount <= 0 or (seconds and amount > INT64_MAX // 1000):
        raise CommandError(INVALID_EXPIRE.format(name))
    if seconds:
        amount *= 1000
    if flags & (_EX | _PX):
        amount += ctx.store.now_ms()
        # Redis adds in signed 64 bits and refuses the wrapped result.
        if amount > INT64_MAX:
            raise CommandError(INVALID_EXPIRE.format(name))
    return amount


# -- GET / SET family ----------------------------------------------------------


@command("get", arity=2, flags=("readonly", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Get the value of a key", acl=("@read", "@string", "@fast"),
         key_specs=_RO_ACCESS)
def get(ctx, key: bytes):
    db = ctx.db
    value = db.get(key)
    stats = db.store.stats
    if value is None:
        stats.keyspace_misses += 1
        return None
    stats.keyspace_hits += 1
    if value.__class__ is not bytes:
        return db.frozen_string(key, value)
    return value


@batch("get")
def _get_batch(ctx, argvs: list[list[bytes]], out: list[bytes]) -> bool:
    # A run of GETs finding strings and nothing (a bit command's bytearray,
    # or a WRONGTYPE that the error statistics must count, go one by one).
    db = ctx.db
    keys = list(map(_key, argvs))
    values = db.get_run(keys)
    if not _PLAIN_STRING.issuperset(map(type, values)):
        return False
    stats = db.store.stats
    misses = values.count(None)
    stats.keyspace_misses += misses
    stats.keyspace_hits += len(values) - misses
    encode_each_into(out, values, ctx.resp3)
    return True


@command("set", arity=-3, flags=("write", "denyoom"), keys=(1, 1, 1), group=GROUP,
         summary="Set the string value of a key", acl=("@write", "@string", "@slow"),
         key_specs=_spec("RW", "access", "update", "variable_flags",
                         notes="RW and ACCESS due to the optional `GET` argument"))
def set_(ctx, key: bytes, value: bytes, *options: bytes):
    if not options:
        ctx.db.set(key, value)
        return OK
    return _set_with_options(ctx, key, value, options)


@batch("set")
def _set_batch(ctx, argvs: list[list[bytes]], out: list[bytes]) -> bool:
    if len(argvs[0]) != 3:
        return False
    ctx.db.set_run(list(map(_key, argvs)), list(map(_value, argvs)))
    out += repeat(OK_REPLY, len(argvs))
    return True


@key_flags("set")
def _set_key_flags(argv: list[bytes]) -> list[tuple[int, list[str]]]:
    # Redis's setGetKeys: with GET the key is read too.
    if any(arg.lower() == b"get" for arg in argv[3:]):
        return [(1, ["RW", "access", "update"])]
    return [(1, ["OW", "update"])]


def _set_with_options(ctx, key: bytes, value: bytes, options: tuple[bytes, ...]):
    flags, expire = _parse_options(options, for_set=True)
    deadline = _deadline(ctx, expire, flags, "set") if expire is not None else None
    db = ctx.db
    old = _read(db, key) if flags & _GET else None
    if flags & (_NX | _XX):
        found = db.exists(key)
        if (flags & _NX and found) or (flags & _XX and not found):
            return old
    db.set(key, value, keep_ttl=bool(flags & _KEEPTTL))
    if deadline is not None:
        # A deadline already past is stored too: Redis 7.0 lets the key
        # expire on its next access (and counts it in expired_keys).
        db.set_expire(key, deadline)
    return old if flags & _GET else OK


@command("setnx", arity=3, flags=("write", "denyoom", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Set the value of a key, only if the key does not exist",
         acl=("@write", "@string", "@fast"),
         key_specs=_spec("OW", "insert"))
def setnx(ctx, key: bytes, value: bytes):
    db = ctx.db
    if db.exists(key):
        return 0
    db.set(key, value)
    return 1


def _set_expiring(ctx, key: bytes, raw: bytes, value: bytes, flag: int, name: str):
    deadline = _deadline(ctx, raw, flag, name)
    ctx.db.set(key, value)
    ctx.db.set_expire(key, deadline)
    return OK


@command("setex", arity=4, flags=("write", "denyoom"), keys=(1, 1, 1), group=GROUP,
         summary="Set the value and expiration of a key", since="2.0.0",
         acl=("@write", "@string", "@slow"),
         key_specs=_OW_UPDATE)
def setex(ctx, key: bytes, seconds: bytes, value: bytes):
    return _set_expiring(ctx, key, seconds, value, _EX, "setex")


@command("psetex", arity=4, flags=("write", "denyoom"), keys=(1, 1, 1), group=GROUP,
         summary="Set the value and expiration in milliseconds of a key", since="2.6.0",
         acl=("@write", "@string", "@slow"),
         key_specs=_OW_UPDATE)
def psetex(ctx, key: bytes, milliseconds: bytes, value: bytes):
    return _set_expiring(ctx, key, milliseconds, value, _PX, "psetex")


@effects("setex", "psetex")
def _setex_effects(ctx, argv: list[bytes], reply: Any) -> list[list[bytes]]:
    return deadline_effect(ctx, argv[1], [b"SET", argv[1], argv[3]])


_TTL_OPTIONS = frozenset([b"ex", b"px", b"exat", b"pxat"])


@effects("set")
def _set_effects(ctx, argv: list[bytes], reply: Any) -> list[list[bytes]]:
    # A relative TTL depends on the clock: replay an absolute deadline.
    if not any(arg.lower() in _TTL_OPTIONS for arg in argv[3:]):
        return [argv]
    return deadline_effect(ctx, argv[1], [b"SET", argv[1], argv[2]])


@command("getset", arity=3, flags=("write", "denyoom", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Set the string value of a key and return its old value",
         acl=("@write", "@string", "@fast"),
         key_specs=_RW_ACCESS_UPDATE)
def getset(ctx, key: bytes, value: bytes):
    db = ctx.db
    old = _read(db, key)
    db.set(key, value)
    return old


@command("getdel", arity=2, flags=("write", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Get the value of a key and delete the key", since="6.2.0",
         acl=("@write", "@string", "@fast"),
         key_specs=_spec("RW", "access", "delete"))
def getdel(ctx, key: bytes):
    db = ctx.db
    value = _read(db, key)
    if value is not None:
        db.delete(key)
    return value


@command("getex", arity=-2, flags=("write", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Get the value of a key and optionally set its expiration", since="6.2.0",
         acl=("@write", "@string", "@fast"),
         key_specs=_spec("RW", "access", "update",
                         notes="RW and UPDATE because it changes the TTL"))
def getex(ctx, key: bytes, *options: bytes):
    flags, expire = _parse_options(options, for_set=False)
    db = ctx.db
    value = _read(db, key)
    if value is None:
        return None
    if expire is not None:
        deadline = _deadline(ctx, expire, flags, "getex")
        if flags & (_EXAT | _PXAT) and deadline <= ctx.store.now_ms() and not ctx.store.loading:
            db.delete(key)
        else:
            db.set_expire(key, deadline)
            db.modified(key)
    elif flags & _PERSIST and db.persist(key):
        db.modified(key)
    return value


@effects("getex")
def _getex_effects(ctx, argv: list[bytes], reply: Any) -> list[list[bytes]]:
    return deadline_effect(ctx, argv[1], None)


@command("mget", arity=-2, flags=("readonly", "fast"), keys=(1, -1, 1), group=GROUP,
         summary="Get the values of all the given keys", acl=("@read", "@string", "@fast"),
         tips=("request_policy:multi_shard",), key_specs=_spec("RO", "access", lastkey=-1))
def mget(ctx, *keys: bytes):
    db = ctx.db
    stats = db.store.stats
    replies = []
    for key in keys:
        value = db.get(key)
        if value is None:
            stats.keyspace_misses += 1
        else:
            stats.keyspace_hits += 1
            if value.__class__ is not bytes:
                value = db.frozen_string(key, value) if value.__class__ is bytearray else None
        replies.append(value)
    return replies


@command("mset", arity=-3, flags=("write", "denyoom"), keys=(1, -1, 2), group=GROUP,
         summary="Set multiple keys to multiple values", since="1.0.1",
         acl=("@write", "@string", "@slow"),
         tips=("request_policy:multi_shard", "response_policy:all_succeeded"),
         key_specs=_spec("OW", "update", lastkey=-1, keystep=2))
def mset(ctx, *pairs: bytes):
    if len(pairs) % 2:
        raise wrong_arity("mset")
    ctx.db.set_run(list(pairs[0::2]), list(pairs[1::2]))
    return OK


@command("msetnx", arity=-3, flags=("write", "denyoom"), keys=(1, -1, 2), group=GROUP,
         summary="Set multiple keys to multiple values, only if none of the keys exist",
         since="1.0.1", acl=("@write", "@string", "@slow"),
         tips=("request_policy:multi_shard", "response_policy:agg_min"),
         key_specs=_spec("OW", "insert", lastkey=-1, keystep=2))
def msetnx(ctx, *pairs: bytes):
    if len(pairs) % 2:
        raise wrong_arity("msetnx")
    db = ctx.db
    if any(db.exists(pairs[index]) for index in range(0, len(pairs), 2)):
        return 0
    for index in range(0, len(pairs), 2):
        db.set(pairs[index], pairs[index + 1])
    return 1


# -- APPEND, STRLEN, ranges ----------------------------------------------------


@command("append", arity=3, flags=("write", "denyoom", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Append a value to a key", since="2.0.0", acl=("@write", "@string", "@fast"),
         key_specs=_spec("RW", "insert"))
def append(ctx, key: bytes, suffix: bytes):
    db = ctx.db
    value = db.get_string(key)
    if value is None:
        db.set(key, suffix)
        return len(suffix)
    _check_length(ctx, len(value), len(suffix))
    value += suffix
    _set_raw(db, key, value, keep_ttl=True)
    return len(value)


@command("strlen", arity=2, flags=("readonly", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Get the length of the value stored in a key", since="2.2.0",
         acl=("@read", "@string", "@fast"),
         key_specs=_RO)
def strlen(ctx, key: bytes):
    value = _read(ctx.db, key)
    return 0 if value is None else len(value)


@command("getrange", arity=4, flags=("readonly",), keys=(1, 1, 1), group=GROUP,
         summary="Get a substring of the string stored at a key", since="2.4.0",
         acl=("@read", "@string", "@slow"),
         key_specs=_RO_ACCESS)
def getrange(ctx, key: bytes, start: bytes, end: bytes):
    first = parse_int(start)
    last = parse_int(end)
    value = _read(ctx.db, key)
    if value is None:
        return b""
    size = len(value)
    if first < 0 and last < 0 and first > last:
        return b""
    if first < 0:
        first = max(size + first, 0)
    if last < 0:
        last = max(size + last, 0)
    if last >= size:
        last = size - 1
    if first > last or size == 0:
        return b""
    return value[first : last + 1]


@command("substr", arity=4, flags=("readonly",), keys=(1, 1, 1), group=GROUP,
         summary="Get a substring of the string stored at a key",
         acl=("@read", "@string", "@slow"),
         key_specs=_RO_ACCESS)
def substr(ctx, key: bytes, start: bytes, end: bytes):
    return getrange(ctx, key, start, end)


@command("setrange", arity=4, flags=("write", "denyoom"), keys=(1, 1, 1), group=GROUP,
         summary="Overwrite part of a string at key starting at the specified offset",
         since="2.2.0", acl=("@write", "@string", "@slow"),
         key_specs=_spec("RW", "update"))
def setrange(ctx, key: bytes, offset: bytes, patch: bytes):
    start = parse_int(offset)
    if start < 0:
        raise CommandError("ERR offset is out of range")
    db = ctx.db
    value = db.get_string(key)
    if value is None:
        if not patch:
            return 0
        _check_length(ctx, start, len(patch))
        value = bytes(start) + patch
        _set_raw(db, key, value)
        return len(value)
    if not patch:
        return len(value)
    _check_length(ctx, start, len(patch))
    if start > len(value):
        value = value + bytes(start - len(value)) + patch
    else:
        value = value[:start] + patch + value[start + len(patch):]
    _set_raw(db, key, value, keep_ttl=True)
    return len(value)


# -- integer counters ----------------------------------------------------------


def _add(ctx, key: bytes, delta: int) -> int:
    db = ctx.db
    value = db.get(key)
    if value is None:
        current = 0
    else:
        if value.__class__ is not bytes:
            value = db.frozen_string(key, value)
        # INCR is on the benchmark path: int() plus a round trip is cheaper than
        # a regex, and the round trip refuses what Redis's string2ll refuses
        # ("+1", " 1", "01", "-0", "1_0").
        try:
            current = int(value) if len(value) <= 20 else None
        except ValueError:
            current = None
        if current is None or b"%d" % current != value or not INT64_MIN <= current <= INT64_MAX:
            raise CommandError(NOT_INTEGER)
    result = current + delta
    if not INT64_MIN <= result <= INT64_MAX:
        raise CommandError(OVERFLOW)
    db.set(key, b"%d" % result, keep_ttl=True)
    return result


def _add_batch(ctx, argvs: list[list[bytes]], out: list[bytes], delta: int) -> bool:
    """INCR or DECR of distinct keys holding integers (or nothing): read all,
    then write all. Anything else (a key twice, a non-integer, an overflow)
    goes one by one, the reads having changed nothing but the LRU order
    that the one-by-one run sets again."""
    db = ctx.db
    keys = list(map(_key, argvs))
    if len(set(keys)) != len(keys):
        return False
    results = []
    for value in db.get_run(keys):
        if value is None:
            results.append(delta)
            continue
        if value.__class__ is not bytes or len(value) > 20:
            return False
        try:
            current = int(value)
        except ValueError:
            return False
        result = current + delta
        if b"%d" % current != value or not INT64_MIN <= result <= INT64_MAX:
            return False
        results.append(result)
    db.set_run(keys, list(map(b"%d".__mod__, results)), keep_ttl=True)
    encode_ints_into(out, results)
    return True


@command("incr", arity=2, flags=("write", "denyoom", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Increment the integer value of a key by one",
         acl=("@write", "@string", "@fast"),
         key_specs=_RW_ACCESS_UPDATE)
def incr(ctx, key: bytes):
    return _add(ctx, key, 1)


@command("decr", arity=2, flags=("write", "denyoom", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Decrement the integer value of a key by one",
         acl=("@write", "@string", "@fast"),
         key_specs=_RW_ACCESS_UPDATE)
def decr(ctx, key: bytes):
    return _add(ctx, key, -1)


@batch("incr")
def _incr_batch(ctx, argvs: list[list[bytes]], out: list[bytes]) -> bool:
    return _add_batch(ctx, argvs, out, 1)


@batch("decr")
def _decr_batch(ctx, argvs: list[list[bytes]], out: list[bytes]) -> bool:
    return _add_batch(ctx, argvs, out, -1)


@command("incrby", arity=3, flags=("write", "denyoom", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Increment the integer value of a key by the given amount",
         acl=("@write", "@string", "@fast"),
         key_specs=_RW_ACCESS_UPDATE)
def incrby(ctx, key: bytes, increment: bytes):
    return _add(ctx, key, parse_int(increment))


@command("decrby", arity=3, flags=("write", "denyoom", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Decrement the integer value of a key by the given number",
         acl=("@write", "@string", "@fast"),
         key_specs=_RW_ACCESS_UPDATE)
def decrby(ctx, key: bytes, decrement: bytes):
    amount = parse_int(decrement)
    if amount == INT64_MIN:
        raise CommandError("ERR decrement would overflow")
    return _add(ctx, key, -amount)


# -- INCRBYFLOAT and x87 long doubles ------------------------------------------

#: Longest text Redis's string2ld accepts (MAX_LONG_DOUBLE_CHARS - 1).
_LD_MAX_CHARS = 5 * 1024 - 1
#: Exponent of the smallest normal long double (2**-16382); 64-bit significand.
_LD_MIN_EXP = -16382
_LD_MANT_BITS = 64
_LD_MAX = Fraction(((1 << 64) - 1) << (16383 - 63))

_DECIMAL = re.compile(rb"([+-]?)(?:([0-9]+)\.?([0-9]*)|\.([0-9]+))(?:[eE]([+-]?)([0-9]+))?\Z")
_HEX = re.compile(
    rb"([+-]?)0[xX](?:([0-9a-fA-F]+)\.?([0-9a-fA-F]*)|\.([0-9a-fA-F]+))(?:[pP]([+-]?)([0-9]+))?\Z"
)
_INFINITY = re.compile(rb"([+-]?)inf(?:inity)?\Z", re.IGNORECASE)

LongDouble = Fraction | float  # an exact finite value, or float('inf') / -inf


def _ld_round(value: Fraction) -> Fraction | None:
    """Round an exact value to the nearest long double (ties to even); None on overflow."""
    if not value:
        return value
    num, den = abs(value.numerator), value.denominator
    exp = num.bit_length() - den.bit_length()
    if (num < den << exp) if exp >= 0 else (num << -exp < den):
        exp -= 1
    shift = max(exp, _LD_MIN_EXP) - (_LD_MANT_BITS - 1)
    if shift >= 0:
        den <<= shift
    else:
        num <<= -shift
    quotient, remainder = divmod(num, den)
    if 2 * remainder > den or (2 * remainder == den and quotient & 1):
        quotient += 1
    result = Fraction(quotient << shift) if shift >= 0 else Fraction(quotient, 1 << -shift)
    if result > _LD_MAX:
        return None
    return -result if value < 0 else result


def _exponent(sign: bytes, digits: bytes | None) -> int:
    if not digits:
        return 0
    digits = digits.lstrip(b"0") or b"0"
    # Beyond any long double's range either way; keeps the arithmetic small.
    value = 10**7 if len(digits) > 7 else int(digits)
    return -value if sign == b"-" else value


def _big_int(digits: bytes, base: int) -> int:
    """int(digits, base) without Python's 4300-digit guard on long inputs."""
    result = 0
    for start in range(0, len(digits), 1000):
        chunk = digits[start : start + 1000]
        result = result * base ** len(chunk) + int(chunk, base)
    return result


def parse_long_double(raw: bytes) -> LongDouble:
    """A value as Redis's string2ld reads it (strtold on the whole string)."""
    if not raw or len(raw) > _LD_MAX_CHARS:
        raise CommandError(NOT_FLOAT)
    match = _DECIMAL.match(raw)
    if match:
        sign, whole, frac, only_frac, exp_sign, exp_digits = match.groups()
        frac = only_frac if only_frac is not None else frac
        digits = ((whole or b"") + frac).lstrip(b"0")
        if not digits:
            return Fraction(0)
        power = _exponent(exp_sign, exp_digits) - len(frac)
        magnitude = len(digits) + power  # value < 10**magnitude
        if magnitude > 4934:
            raise CommandError(NOT_FLOAT)
        if magnitude < -4952:
            raise CommandError(NOT_FLOAT)
        mantissa = _big_int(digits, 10)
        exact = Fraction(mantissa * 10**power) if power >= 0 else Fraction(mantissa, 10**-power)
    else:
        match = _HEX.match(raw)
        if match:
            sign, whole, frac, only_frac, exp_sign, exp_digits = match.groups()
            frac = only_frac if only_frac is not None else frac
            mantissa = _big_int((whole or b"") + frac, 16)
            if not mantissa:
                return Fraction(0)
            power = _exponent(exp_sign, exp_digits) - 4 * len(frac)
            bits = mantissa.bit_length() + power
            if bits > 16385 or bits < -16446:
                raise CommandError(NOT_FLOAT)
            exact = Fraction(mantissa << power) if power >= 0 else Fraction(mantissa, 1 << -power)
        else:
            match = _INFINITY.match(raw)
            if not match:
                raise CommandError(NOT_FLOAT)
            return float("-inf") if match.group(1) == b"-" else float("inf")
    rounded = _ld_round(exact)
    # strtold reports ERANGE on overflow and on underflow to zero: Redis refuses both.
    if rounded is None or not rounded:
        raise CommandError(NOT_FLOAT)
    return -rounded if sign == b"-" else rounded


def _decimal_text(number: int) -> bytes:
    """Digits of a non-negative int, however long."""
    if number < 10**4000:
        return b"%d" % number
    high, low = divmod(number, 10**4000)
    return _decimal_text(high) + (b"%d" % low).rjust(4000, b"0")


def format_long_double(value: Fraction) -> bytes:
    """Redis's human-friendly long double: ``%.17Lf`` without trailing zeros."""
    scaled = abs(value) * 10**17
    quotient, remainder = divmod(scaled.numerator, scaled.denominator)
    if 2 * remainder > scaled.denominator or (
        2 * remainder == scaled.denominator and quotient & 1
    ):
        quotient += 1
    digits = _decimal_text(quotient).rjust(18, b"0")
    whole, frac = digits[:-17], digits[-17:].rstrip(b"0")
    text = whole + b"." + frac if frac else whole
    if value < 0 and text != b"0":
        text = b"-" + text
    return text


@command("incrbyfloat", arity=3, flags=("write", "denyoom", "fast"), keys=(1, 1, 1),
         group=GROUP, summary="Increment the float value of a key by the given amount",
         since="2.6.0", acl=("@write", "@string", "@fast"),
         key_specs=_RW_ACCESS_UPDATE)
def incrbyfloat(ctx, key: bytes, increment: bytes):
    db = ctx.db
    value = db.get_string(key)
    current = Fraction(0) if value is None else parse_long_double(value)
    amount = parse_long_double(increment)
    result = None
    if current.__class__ is Fraction and amount.__class__ is Fraction:
        result = _ld_round(current + amount)
    if result is None:
        raise CommandError("ERR increment would produce NaN or Infinity")
    text = format_long_double(result)
    db.set(key, text, keep_ttl=True)
    string.note_printed_number(db, key, text)
    return text


@effects("incrbyfloat")
def _incrbyfloat_effects(ctx, argv: list[bytes], reply: Any) -> list[list[bytes]]:
    # Replayed, the float arithmetic could round differently: store the result.
    return [[b"SET", argv[1], reply, b"KEEPTTL"]]


# -- LCS -----------------------------------------------------------------------


@command("lcs", arity=-3, flags=("readonly",), keys=(1, 2, 1), group=GROUP,
         summary="Find longest common substring", since="7.0.0",
         acl=("@read", "@string", "@slow"),
         key_specs=_spec("RO", "access", lastkey=1))
def lcs(ctx, key1: bytes, key2: bytes, *options: bytes):
    db = ctx.db
    values = []
    for key in (key1, key2):
        try:
            values.append(_read(db, key) or b"")
        except WrongType:
            values.append(None)
    if None in values:
        raise CommandError("ERR The specified keys must contain string values")
    a, b = values
    want_idx = want_len = with_len = False
    min_len = 0
    index = 0
    while index < len(options):
        opt = options[index].upper()
        if opt == b"IDX":
            want_idx = True
        elif opt == b"LEN":
            want_len = True
        elif opt == b"WITHMATCHLEN":
            with_len = True
        elif opt == b"MINMATCHLEN" and index + 1 < len(options):
            index += 1
            min_len = max(parse_int(options[index]), 0)
        else:
            raise syntax_error()
        index += 1
    if want_idx and want_len:
        raise CommandError("ERR If you want both the length and indexes, please just use IDX.")
    if (len(a) + 1) * (len(b) + 1) * 4 > ctx.server.settings.proto_max_bulk_len:
        raise CommandError(
            "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
        )
    table = _LcsTable(a, b)
    total = table.length(len(a), len(b))
    if want_len:
        return total
    text, matches = _lcs_walk(a, b, table, total)
    if not want_idx:
        return text
    ranges = []
    for (a_start, a_end, b_start, b_end) in matches:
        length = a_end - a_start + 1
        if min_len == 0 or length >= min_len:
            entry = [[a_start, a_end], [b_start, b_end]]
            if with_len:
                entry.append(length)
            ranges.append(entry)
    return RespMap([(b"matches", ranges), (b"len", total)])


class _LcsTable:
    """LCS lengths of every prefix pair, computed bit-parallel (Hyyrö's algorithm).

    Row ``i`` is one int whose bit ``j`` is 0 where the LCS of ``a[:i]`` and
    ``b[:j+1]`` grows, so ``length(i, j)`` is a popcount: the whole table costs
    len(a) big-int operations instead of len(a) * len(b) Python steps.
    """

    def __init__(self, a: bytes, b: bytes) -> None:
        masks: dict[int, int] = {}
        for j, char in enumerate(b):
            masks[char] = masks.get(char, 0) | (1 << j)
        full = (1 << len(b)) - 1
        row = full
        self.rows = [row]
        for char in a:
            matched = row & masks.get(char, 0)
            row = ((row + matched) | (row - matched)) & full
            self.rows.append(row)

    def length(self, i: int, j: int) -> int:
        """The LCS length of ``a[:i]`` and ``b[:j]``."""
        return j - (self.rows[i] & ((1 << j) - 1)).bit_count()


def _lcs_walk(a: bytes, b: bytes, table: _LcsTable, total: int):
    """Walk back from the end as Redis does: the LCS and its matching ranges, last first."""
    out = bytearray(total)
    matches = []
    i, j = len(a), len(b)
    pos = total
    current: list[int] | None = None  # [a_start, a_end, b_start, b_end]
    while i > 0 and j > 0:
        emit = False
        if a[i - 1] == b[j - 1]:
            pos -= 1
            out[pos] = a[i - 1]
            if current is None:
                current = [i - 1, i - 1, j - 1, j - 1]
            else:
                current[0] -= 1
                current[2] -= 1
            if current[0] == 0 or current[2] == 0:
                emit = True
            i -= 1
            j -= 1
        else:
            if table.length(i - 1, j) > table.length(i, j - 1):
                i -= 1
            else:
                j -= 1
            emit = current is not None
        if emit and current is not None:
            matches.append(tuple(current))
            current = None
    return bytes(out), matches
