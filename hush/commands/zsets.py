# -*- test-case-name: tests.commands.test_zsets -*-
"""Sorted-set commands (ZADD ... ZSCAN, BZPOPMIN, BZMPOP), with Redis 7.0's replies.

Scores are returned as Python floats: the encoder writes them as bulk strings
(``%.17g``) in RESP2 and as doubles in RESP3. Replies WITH SCORES are flat
member/score arrays in RESP2 and arrays of [member, score] pairs in RESP3,
as Redis does. Argument errors are checked in Redis's order (options, then
numbers, then the key's type), because clients see which error comes first.
"""

from __future__ import annotations

import math
import random
from typing import Any

from hush.commands.args import parse_int, parse_timeout, syntax_error
from hush.commands.keys import read_key
from hush.commands.table import command, effects, keynum_spec, range_spec
from hush.core.errors import NOT_FLOAT, NOT_INTEGER, NOT_POSITIVE, CommandError, WrongType
from hush.core.glob import compile_glob
from hush.data.blocking import NOT_READY, Block
from hush.data.types.registry import LIMITS
from hush.data.types.set import SET
from hush.data.types.zset import (
    Source,
    ZSet,
    combine,
    parse_lex_range,
    parse_score,
    parse_score_range,
    scan_score,
)
from hush.wire.resp import NULL_ARRAY

GROUP = "sorted-set"
NAN_SCORE = "ERR resulting score is not a number (NaN)"
NOT_FLOAT_RANGE = "ERR min or max is not a float"
NOT_LEX_RANGE = "ERR min or max not valid string range item"
LONG_MAX = 2**63 - 1


# -- key specs, as COMMAND INFO reports them --------------------------------

def _range_spec(flags: tuple[str, ...], index: int = 1, lastkey: int = 0) -> dict[str, Any]:
    return range_spec(*flags, index=index, lastkey=lastkey)


def _keynum_spec(flags: tuple[str, ...], index: int) -> dict[str, Any]:
    return keynum_spec(*flags, index=index)


_RO_ACCESS = ("RO", "access")
_READ_FAST = dict(flags=("readonly", "fast"), acl=("read", "sortedset", "fast"))
_READ_SLOW = dict(flags=("readonly",), acl=("read", "sortedset", "slow"))
_WRITE_SLOW = dict(flags=("write",), acl=("write", "sortedset", "slow"))


# -- helpers ---------------------------------------------------------------

def _get(ctx, key: bytes) -> ZSet | None:
    return ctx.db.get_typed(key, ZSet)


def _read(ctx, key: bytes) -> ZSet | None:
    """Redis's lookupKeyRead for a sorted set: counts a keyspace hit or miss."""
    return ctx.db.read_typed(key, ZSet)


def _float(raw: bytes, error: str = NOT_FLOAT) -> float:
    value = parse_score(raw)
    if value is None:
        raise CommandError(error)
    return value


def _positive(raw: bytes, error: str = NOT_POSITIVE) -> int:
    """getPositiveLongFromObjectOrReply: one error for bad and for negative."""
    try:
        value = parse_int(raw)
    except CommandError:
        raise CommandError(error) from None
    if value < 0:
        raise CommandError(error)
    return value


def _ranged(raw: bytes, low: int, high: int, error: str) -> int:
    """getRangeLongFromObjectOrReply with a message: one error for bad and out of range."""
    try:
        value = parse_int(raw)
    except CommandError:
        raise CommandError(error) from None
    if not low <= value <= high:
        raise CommandError(error)
    return value


def _with_scores(ctx, pairs: list[tuple[bytes, float]], withscores: bool) -> list:
    """Members, or members with scores in the protocol's shape."""
    if not withscores:
        return [member for member, _score in pairs]
    if ctx.resp3:
        return [[member, score] for member, score in pairs]
    out: list = []
    for member, score in pairs:
        out.append(member)
        out.append(score)
    return out


def _after_removal(ctx, key: bytes, zset: ZSet) -> None:
    if zset:
        ctx.db.modified(key)
    else:
        ctx.db.delete(key)


def _store(ctx, key: bytes, zset: ZSet) -> int:
    """Store a result set at ``key`` (deleting ``key`` if empty); its size."""
    if zset:
        ctx.db.set(key, zset)
    else:
        ctx.db.delete(key)
    return len(zset)


def _sanitize_ranks(start: int, end: int, size: int) -> tuple[int, int] | None:
    """Redis's index normalisation: inclusive [start, end] or None if empty."""
    if start < 0:
        start += size
    if end < 0:
        end += size
    if start < 0:
        start = 0
    if start > end or start >= size:
        return None
    return start, min(end, size - 1)


# -- adding ----------------------------------------------------------------

def _zadd(ctx, key: bytes, pairs: list[tuple[float, bytes]], nx: bool = False,
          xx: bool = False, gt: bool = False, lt: bool = False, ch: bool = False,
          incr: bool = False) -> Any:
    zset = _get(ctx, key)
    created = False
    if zset is None:
        if xx:
            return None if incr else 0
        zset = ZSet()
        created = True
    added = updated = 0
    processed = False
    result = 0.0
    for score, member in pairs:
        current = zset.score(member)
        if current is None:
            if xx:
                continue
            zset.add(member, score)
            added += 1
            processed = True
            result = score
            continue
        if nx:
            continue
        new = current + score if incr else score
        if math.isnan(new):
            raise CommandError(NAN_SCORE)
        if (lt and new >= current) or (gt and new <= current):
            continue
        processed = True
        result = new
        if new != current:
            zset.add(member, new)
            updated += 1
    if created:
        ctx.db.set(key, zset)
    elif added:
        ctx.db.pushed(key)
    elif updated:
        ctx.db.modified(key)
    if incr:
        return result if processed else None
    return added + updated if ch else added


#: First letters of ZADD's options (NX XX GT LT CH INCR): a score starts otherwise
#: unless it is "inf"/"infinity", which the full parse below handles.
_OPTION_INITIALS = frozenset(b"nNxXgGlLcCiI"[i:i + 1] for i in range(12))


@command("zadd", arity=-4, flags=("write", "denyoom", "fast"), keys=(1, 1, 1), group=GROUP,
         since="1.2.0", acl=("write", "sortedset", "fast"),
         key_specs=[_range_spec(("RW", "update"))],
         summary="Add one or more members to a sorted set, or update its score if it already exists")
def zadd(ctx, key: bytes, *args: bytes):
    if len(args) == 2 and args[0][:1] not in _OPTION_INITIALS:
        # One score-member pair and no options: what queues and leaderboards send.
        return _zadd(ctx, key, [(_float(args[0]), args[1])])
    options = {"nx": False, "xx": False, "gt": False, "lt": False, "ch": False, "incr": False}
    index = 0
    while index < len(args):
        name = args[index].lower().decode("latin-1")
        if name not in options:
            break
        options[name] = True
        index += 1
    rest = args[index:]
    if not rest or len(rest) % 2:
        raise syntax_error()
    if options["nx"] and options["xx"]:
        raise CommandError("ERR XX and NX options at the same time are not compatible")
    if (options["gt"] or options["lt"]) and options["nx"] or (options["gt"] and options["lt"]):
        raise CommandError("ERR GT, LT, and/or NX options at the same time are not compatible")
    if options["incr"] and len(rest) > 2:
        raise CommandError("ERR INCR option supports a single increment-element pair")
    pairs = [(_float(rest[i]), rest[i + 1]) for i in range(0, len(rest), 2)]
    return _zadd(ctx, key, pairs, **options)


@command("zincrby", arity=4, flags=("write", "denyoom", "fast"), keys=(1, 1, 1), group=GROUP,
         since="1.2.0", acl=("write", "sortedset", "fast"),
         key_specs=[_range_spec(("RW", "access", "update"))],
         summary="Increment the score of a member in a sorted set")
def zincrby(ctx, key: bytes, increment: bytes, member: bytes):
    return _zadd(ctx, key, [(_float(increment), member)], incr=True)


# -- removing --------------------------------------------------------------

@command("zrem", arity=-3, flags=("write", "fast"), keys=(1, 1, 1), group=GROUP, since="1.2.0",
         acl=("write", "sortedset", "fast"), key_specs=[_range_spec(("RW", "delete"))],
         summary="Remove one or more members from a sorted set")
def zrem(ctx, key: bytes, *members: bytes):
    zset = _get(ctx, key)
    if zset is None:
        return 0
    removed = 0
    for member in members:
        removed += zset.remove(member)
        if not zset:
            break
    if removed:
        _after_removal(ctx, key, zset)
    return removed


def _zremrange(ctx, key: bytes, kind: str, low: bytes, high: bytes) -> int:
    if kind == "rank":
        start, end = parse_int(low), parse_int(high)
    elif kind == "score":
        spec = parse_score_range(low, high)
        if spec is None:
            raise CommandError(NOT_FLOAT_RANGE)
    else:
        lex = parse_lex_range(low, high)
        if lex is None:
            raise CommandError(NOT_LEX_RANGE)
    zset = _get(ctx, key)
    if zset is None:
        return 0
    if kind == "rank":
        ranks = _sanitize_ranks(start, end, len(zset))
        if ranks is None:
            return 0
        span = (ranks[0], ranks[1] + 1)
    elif kind == "score":
        span = zset.score_span(spec)
    else:
        span = zset.lex_span(lex)
    removed = zset.remove_span(*span)
    if removed:
        _after_removal(ctx, key, zset)
    return removed


@command("zremrangebyrank", arity=4, keys=(1, 1, 1), group=GROUP, since="2.0.0",
         key_specs=[_range_spec(("RW", "delete"))], **_WRITE_SLOW,
         summary="Remove all members in a sorted set within the given indexes")
def zremrangebyrank(ctx, key: bytes, start: bytes, stop: bytes):
    return _zremrange(ctx, key, "rank", start, stop)


@command("zremrangebyscore", arity=4, keys=(1, 1, 1), group=GROUP, since="1.2.0",
         key_specs=[_range_spec(("RW", "delete"))], **_WRITE_SLOW,
         summary="Remove all members in a sorted set within the given scores")
def zremrangebyscore(ctx, key: bytes, low: bytes, high: bytes):
    return _zremrange(ctx, key, "score", low, high)


@command("zremrangebylex", arity=4, keys=(1, 1, 1), group=GROUP, since="2.8.9",
         key_specs=[_range_spec(("RW", "delete"))], **_WRITE_SLOW,
         summary="Remove all members in a sorted set between the given lexicographical range")
def zremrangebylex(ctx, key: bytes, low: bytes, high: bytes):
    return _zremrange(ctx, key, "lex", low, high)


# -- reading ---------------------------------------------------------------

@command("zscore", arity=3, keys=(1, 1, 1), group=GROUP, since="1.2.0",
         key_specs=[_range_spec(_RO_ACCESS)], **_READ_FAST,
         summary="Get the score associated with the given member in a sorted set")
def zscore(ctx, key: bytes, member: bytes):
    zset = _read(ctx, key)
    return None if zset is None else zset.score(member)


@command("zmscore", arity=-3, keys=(1, 1, 1), group=GROUP, since="6.2.0",
         key_specs=[_range_spec(_RO_ACCESS)], **_READ_FAST,
         summary="Get the score associated with the given members in a sorted set")
def zmscore(ctx, key: bytes, *members: bytes):
    zset = _read(ctx, key)
    if zset is None:
        return [None] * len(members)
    return [zset.score(member) for member in members]


@command("zcard", arity=2, keys=(1, 1, 1), group=GROUP, since="1.2.0",
         key_specs=[_range_spec(("RO",))], **_READ_FAST,
         summary="Get the number of members in a sorted set")
def zcard(ctx, key: bytes):
    zset = _read(ctx, key)
    return 0 if zset is None else len(zset)


@command("zcount", arity=4, keys=(1, 1, 1), group=GROUP, since="2.0.0",
         key_specs=[_range_spec(_RO_ACCESS)], **_READ_FAST,
         summary="Count the members in a sorted set with scores within the given values")
def zcount(ctx, key: bytes, low: bytes, high: bytes):
    spec = parse_score_range(low, high)
    if spec is None:
        raise CommandError(NOT_FLOAT_RANGE)
    zset = _read(ctx, key)
    if zset is None:
        return 0
    start, stop = zset.score_span(spec)
    return stop - start


@command("zlexcount", arity=4, keys=(1, 1, 1), group=GROUP, since="2.8.9",
         key_specs=[_range_spec(_RO_ACCESS)], **_READ_FAST,
         summary="Count the number of members in a sorted set between a given lexicographical range")
def zlexcount(ctx, key: bytes, low: bytes, high: bytes):
    spec = parse_lex_range(low, high)
    if spec is None:
        raise CommandError(NOT_LEX_RANGE)
    zset = _read(ctx, key)
    if zset is None:
        return 0
    start, stop = zset.lex_span(spec)
    return stop - start


def _rank(ctx, key: bytes, member: bytes, reverse: bool) -> int | None:
    zset = _read(ctx, key)
    if zset is None:
        return None
    rank = zset.rank(member)
    if rank is None or not reverse:
        return rank
    return len(zset) - 1 - rank


@command("zrank", arity=3, keys=(1, 1, 1), group=GROUP, since="2.0.0",
         key_specs=[_range_spec(_RO_ACCESS)], **_READ_FAST,
         summary="Determine the index of a member in a sorted set")
def zrank(ctx, key: bytes, member: bytes):
    return _rank(ctx, key, member, reverse=False)


@command("zrevrank", arity=3, keys=(1, 1, 1), group=GROUP, since="2.0.0",
         key_specs=[_range_spec(_RO_ACCESS)], **_READ_FAST,
         summary="Determine the index of a member in a sorted set, with scores ordered from high to low")
def zrevrank(ctx, key: bytes, member: bytes):
    return _rank(ctx, key, member, reverse=True)


# -- ranges (zrangeGenericCommand) -----------------------------------------

def _zrange(ctx, args: tuple[bytes, ...], store: bytes | None = None, kind: str | None = None,
            reverse: bool | None = None) -> Any:
    """ZRANGE and its older forms; ``args`` is (src, min, max, options...)."""
    key, low, high = args[0], args[1], args[2]
    withscores = False
    offset, limit = 0, -1
    index = 3
    while index < len(args):
        option = args[index].upper()
        left = len(args) - index - 1
        if store is None and option == b"WITHSCORES":
            withscores = True
        elif option == b"LIMIT" and left >= 2:
            offset = parse_int(args[index + 1])
            limit = parse_int(args[index + 2])
            index += 2
        elif reverse is None and option == b"REV":
            reverse = True
        elif kind is None and option == b"BYLEX":
            kind = "lex"
        elif kind is None and option == b"BYSCORE":
            kind = "score"
        else:
            raise syntax_error()
        index += 1
    reverse = bool(reverse)
    kind = kind or "rank"
    if limit != -1 and kind == "rank":
        raise CommandError("ERR syntax error, LIMIT is only supported in combination with "
                           "either BYSCORE or BYLEX")
    if withscores and kind == "lex":
        raise CommandError("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
    if reverse and kind != "rank":
        low, high = high, low
    if kind == "rank":
        start, end = parse_int(low), parse_int(high)
    elif kind == "score":
        spec = parse_score_range(low, high)
        if spec is None:
            raise CommandError(NOT_FLOAT_RANGE)
    else:
        lex = parse_lex_range(low, high)
        if lex is None:
            raise CommandError(NOT_LEX_RANGE)

    zset = _read(ctx, key)
    if zset is None:
        return [] if store is None else _store(ctx, store, ZSet())
    size = len(zset)
    if kind == "rank":
        ranks = _sanitize_ranks(start, end, size)
        if ranks is None:
            pairs = []
        elif reverse:
            pairs = zset.items(size - 1 - ranks[1], size - ranks[0], reverse=True)
        else:
            pairs = zset.items(ranks[0], ranks[1] + 1)
    else:
        if kind == "score":
            first, stop = zset.score_span(spec)
        elif reverse:
            first, stop = zset.lex_span_reverse(lex)
        else:
            first, stop = zset.lex_span(lex)
        if offset < 0 or (offset > 0 and offset >= size):
            pairs = []
        elif reverse:
            top = stop - offset
            bottom = first if limit < 0 else max(first, top - limit)
            pairs = zset.items(bottom, top, reverse=True) if bottom < top else []
        else:
            bottom = first + offset
            top = stop if limit < 0 else min(stop, bottom + limit)
            pairs = zset.items(bottom, top) if bottom < top else []
    if store is not None:
        result = ZSet()
        # Redis sizes the destination by a rank range's length: a long one is
        # a skiplist from the start and keeps -0 scores.
        result.listpack = not (kind == "rank" and len(pairs) > LIMITS.zset_max_listpack_entries)
        for member, score in pairs:
            result.add(member, score)
        return _store(ctx, store, result)
    return _with_scores(ctx, pairs, withscores)


@command("zrange", arity=-4, keys=(1, 1, 1), group=GROUP, since="1.2.0",
         key_specs=[_range_spec(_RO_ACCESS)], **_READ_SLOW,
         summary="Return a range of members in a sorted set")
def zrange(ctx, *args: bytes):
    return _zrange(ctx, args)


@command("zrangestore", arity=-5, flags=("write", "denyoom"), keys=(1, 2, 1), group=GROUP,
         since="6.2.0", acl=("write", "sortedset", "slow"),
         key_specs=[_range_spec(("OW", "update")), _range_spec(_RO_ACCESS, index=2)],
         summary="Store a range of members from sorted set into another key")
def zrangestore(ctx, dst: bytes, *args: bytes):
    return _zrange(ctx, args, store=dst)


@command("zrangebyscore", arity=-4, keys=(1, 1, 1), group=GROUP, since="1.0.5",
         key_specs=[_range_spec(_RO_ACCESS)], **_READ_SLOW,
         summary="Return a range of members in a sorted set, by score")
def zrangebyscore(ctx, *args: bytes):
    return _zrange(ctx, args, kind="score", reverse=False)


@command("zrevrangebyscore", arity=-4, keys=(1, 1, 1), group=GROUP, since="2.2.0",
         key_specs=[_range_spec(_RO_ACCESS)], **_READ_SLOW,
         summary="Return a range of members in a sorted set, by score, with scores ordered "
                 "from high to low")
def zrevrangebyscore(ctx, *args: bytes):
    return _zrange(ctx, args, kind="score", reverse=True)


@command("zrangebylex", arity=-4, keys=(1, 1, 1), group=GROUP, since="2.8.9",
         key_specs=[_range_spec(_RO_ACCESS)], **_READ_SLOW,
         summary="Return a range of members in a sorted set, by lexicographical range")
def zrangebylex(ctx, *args: bytes):
    return _zrange(ctx, args, kind="lex", reverse=False)


@command("zrevrangebylex", arity=-4, keys=(1, 1, 1), group=GROUP, since="2.8.9",
         key_specs=[_range_spec(_RO_ACCESS)], **_READ_SLOW,
         summary="Return a range of members in a sorted set, by lexicographical range, "
                 "ordered from higher to lower strings.")
def zrevrangebylex(ctx, *args: bytes):
    return _zrange(ctx, args, kind="lex", reverse=True)


@command("zrevrange", arity=-4, keys=(1, 1, 1), group=GROUP, since="1.2.0",
         key_specs=[_range_spec(_RO_ACCESS)], **_READ_SLOW,
         summary="Return a range of members in a sorted set, by index, with scores ordered "
                 "from high to low")
def zrevrange(ctx, *args: bytes):
    return _zrange(ctx, args, kind="rank", reverse=True)


# -- popping ---------------------------------------------------------------

def _pop(ctx, keys: list[bytes] | tuple[bytes, ...], highest: bool, count: int, emit_key: bool,
         nested: bool, nil_when_empty: bool) -> Any:
    """genericZpopCommand: pop from the first non-empty key."""
    zset = None
    for key in keys:
        zset = _get(ctx, key)
        if zset is not None:
            break
    if zset is None:
        return NULL_ARRAY if nil_when_empty else []
    if count == 0:
        return []
    popped = zset.pop(1 if count == -1 else count, highest)
    _after_removal(ctx, key, zset)
    if nested:
        pairs = [[member, score] for member, score in popped]
        return [key, pairs] if emit_key else pairs
    flat: list = [key] if emit_key else []
    for member, score in popped:
        flat.append(member)
        flat.append(score)
    return flat


def _zpop(ctx, args: tuple[bytes, ...], highest: bool) -> Any:
    if len(args) > 2:
        raise syntax_error()
    count = _positive(args[1]) if len(args) == 2 else -1
    return _pop(ctx, args[:1], highest, count, emit_key=False,
                nested=ctx.resp3 and count != -1, nil_when_empty=False)


@command("zpopmin", arity=-2, flags=("write", "fast"), keys=(1, 1, 1), group=GROUP,
         since="5.0.0", acl=("write", "sortedset", "fast"),
         key_specs=[_range_spec(("RW", "access", "delete"))],
         summary="Remove and return members with the lowest scores in a sorted set")
def zpopmin(ctx, *args: bytes):
    return _zpop(ctx, args, highest=False)


@command("zpopmax", arity=-2, flags=("write", "fast"), keys=(1, 1, 1), group=GROUP,
         since="5.0.0", acl=("write", "sortedset", "fast"),
         key_specs=[_range_spec(("RW", "access", "delete"))],
         summary="Remove and return members with the highest scores in a sorted set")
def zpopmax(ctx, *args: bytes):
    return _zpop(ctx, args, highest=True)


def _block(ctx, keys: list[bytes] | tuple[bytes, ...], timeout: float, highest: bool,
           count: int, nested: bool) -> Any:
    """Pop now if any key has members; otherwise block (or time out at once in MULTI)."""
    reply = _pop(ctx, keys, highest, count, emit_key=True, nested=nested, nil_when_empty=True)
    if reply is not NULL_ARRAY:
        return reply
    if ctx.in_multi:
        return NULL_ARRAY

    def serve(key: bytes) -> Any:
        # The client is blocked, so it cannot SELECT: ctx.db is its database.
        if ctx.db.get(key).__class__ is not ZSet:
            return NOT_READY
        return _pop(ctx, (key,), highest, count, emit_key=True, nested=nested,
                    nil_when_empty=True)

    return Block(keys, timeout, serve, NULL_ARRAY)


def _bzpop(ctx, args: tuple[bytes, ...], highest: bool) -> Any:
    timeout = parse_timeout(args[-1])
    return _block(ctx, args[:-1], timeout, highest, -1, nested=False)


@command("bzpopmin", arity=-3, flags=("write", "noscript", "blocking", "fast"), keys=(1, -2, 1),
         group=GROUP, since="5.0.0", acl=("write", "sortedset", "fast", "blocking"),
         key_specs=[_range_spec(("RW", "access", "delete"), lastkey=-2)],
         summary="Remove and return the member with the lowest score from one or more sorted "
                 "sets, or block until one is available")
def bzpopmin(ctx, *args: bytes):
    return _bzpop(ctx, args, highest=False)


@command("bzpopmax", arity=-3, flags=("write", "noscript", "blocking", "fast"), keys=(1, -2, 1),
         group=GROUP, since="5.0.0", acl=("write", "sortedset", "fast", "blocking"),
         key_specs=[_range_spec(("RW", "access", "delete"), lastkey=-2)],
         summary="Remove and return the member with the highest score from one or more sorted "
                 "sets, or block until one is available")
def bzpopmax(ctx, *args: bytes):
    return _bzpop(ctx, args, highest=True)


def _parse_mpop(args: tuple[bytes, ...]) -> tuple[tuple[bytes, ...], bool, int]:
    """numkeys key... MIN|MAX [COUNT n] -> (keys, highest, count)."""
    numkeys = _ranged(args[0], 1, LONG_MAX, "ERR numkeys should be greater than 0")
    where = numkeys + 1
    if where >= len(args):
        raise syntax_error()
    side = args[where].upper()
    if side not in (b"MIN", b"MAX"):
        raise syntax_error()
    count = -1
    index = where + 1
    while index < len(args):
        if count == -1 and args[index].upper() == b"COUNT" and index + 1 < len(args):
            count = _ranged(args[index + 1], 1, LONG_MAX, "ERR count should be greater than 0")
            index += 2
        else:
            raise syntax_error()
    return args[1:where], side == b"MAX", 1 if count == -1 else count


@command("zmpop", arity=-4, flags=("write", "movablekeys"), group=GROUP, since="7.0.0",
         acl=("write", "sortedset", "slow"),
         key_specs=[_keynum_spec(("RW", "access", "delete"), 1)],
         summary="Remove and return members with scores in a sorted set")
def zmpop(ctx, *args: bytes):
    keys, highest, count = _parse_mpop(args)
    return _pop(ctx, keys, highest, count, emit_key=True, nested=True, nil_when_empty=True)


@command("bzmpop", arity=-5, flags=("write", "blocking", "movablekeys"), group=GROUP,
         since="7.0.0", acl=("write", "sortedset", "slow", "blocking"),
         key_specs=[_keynum_spec(("RW", "access", "delete"), 2)],
         summary="Remove and return members with scores in a sorted set or block until one "
                 "is available")
def bzmpop(ctx, timeout_raw: bytes, *args: bytes):
    keys, highest, count = _parse_mpop(args)
    timeout = parse_timeout(timeout_raw)
    return _block(ctx, keys, timeout, highest, count, nested=True)


# A blocking pop propagates as the pop it did, without blocking (BZPOPMIN -> ZPOPMIN).


@effects("bzpopmin", "bzpopmax")
def _bzpop_effects(ctx, argv: list[bytes], reply: Any) -> list[list[bytes]]:
    if not isinstance(reply, list) or not reply:
        return []
    return [[b"ZPOPMIN" if argv[0].lower() == b"bzpopmin" else b"ZPOPMAX", reply[0]]]


@effects("bzmpop")
def _bzmpop_effects(ctx, argv: list[bytes], reply: Any) -> list[list[bytes]]:
    if not isinstance(reply, list) or not reply:
        return []
    _, highest, _ = _parse_mpop(argv[2:])
    return [[b"ZPOPMAX" if highest else b"ZPOPMIN", reply[0], b"%d" % len(reply[1])]]


# -- set operations (zunionInterDiffGenericCommand) ------------------------

def _setop(ctx, name: str, op: str, args: tuple[bytes, ...], store: bool = False,
           card_only: bool = False) -> Any:
    numkeys = parse_int(args[0])
    if numkeys < 1:
        raise CommandError(f"ERR at least 1 input key is needed for '{name}' command")
    if numkeys > len(args) - 1:
        raise syntax_error()
    sources = []
    for key in args[1:numkeys + 1]:
        value = read_key(ctx.db, key)
        if value is not None and value.__class__ is not ZSet and value.__class__ is not SET.cls:
            raise WrongType()
        sources.append(Source(value))
    how = b"SUM"
    withscores = False
    limit = 0
    index = numkeys + 1
    while index < len(args):
        option = args[index].upper()
        remaining = len(args) - index
        if op != "diff" and not card_only and remaining >= numkeys + 1 and option == b"WEIGHTS":
            for source, raw in zip(sources, args[index + 1:index + 1 + numkeys], strict=True):
                source.weight = _float(raw, "ERR weight value is not a float")
            index += numkeys + 1
        elif op != "diff" and not card_only and remaining >= 2 and option == b"AGGREGATE":
            how = args[index + 1].upper()
            if how not in (b"SUM", b"MIN", b"MAX"):
                raise syntax_error()
            index += 2
        elif not store and not card_only and option == b"WITHSCORES":
            withscores = True
            index += 1
        elif card_only and remaining >= 2 and option == b"LIMIT":
            limit = _positive(args[index + 1], "ERR LIMIT can't be negative")
            index += 2
        else:
            raise syntax_error()

    result = combine(op, sources, how, limit)
    if card_only:
        return len(result)
    # Redis builds the result as a skiplist, which keeps a -0 score (a
    # negative score weighted 0); only a stored result small enough becomes
    # a listpack, where -0 turns into 0.
    zset = ZSet()
    zset.listpack = False
    for member, score in result.items():
        zset.add(member, score)
    if store:
        zset.compact_if_small()
        return zset
    return _with_scores(ctx, zset.items(), withscores)


def _setop_store(ctx, name: str, op: str, dst: bytes, args: tuple[bytes, ...]) -> int:
    return _store(ctx, dst, _setop(ctx, name, op, args, store=True))


@command("zunion", arity=-3, flags=("readonly", "movablekeys"), group=GROUP, since="6.2.0",
         acl=("read", "sortedset", "slow"), key_specs=[_keynum_spec(_RO_ACCESS, 1)],
         summary="Add multiple sorted sets")
def zunion(ctx, *args: bytes):
    return _setop(ctx, "zunion", "union", args)


@command("zinter", arity=-3, flags=("readonly", "movablekeys"), group=GROUP, since="6.2.0",
         acl=("read", "sortedset", "slow"), key_specs=[_keynum_spec(_RO_ACCESS, 1)],
         summary="Intersect multiple sorted sets")
def zinter(ctx, *args: bytes):
    return _setop(ctx, "zinter", "inter", args)


@command("zdiff", arity=-3, flags=("readonly", "movablekeys"), group=GROUP, since="6.2.0",
         acl=("read", "sortedset", "slow"), key_specs=[_keynum_spec(_RO_ACCESS, 1)],
         summary="Subtract multiple sorted sets")
def zdiff(ctx, *args: bytes):
    return _setop(ctx, "zdiff", "diff", args)


@command("zintercard", arity=-3, flags=("readonly", "movablekeys"), group=GROUP, since="7.0.0",
         acl=("read", "sortedset", "slow"), key_specs=[_keynum_spec(_RO_ACCESS, 1)],
         summary="Intersect multiple sorted sets and return the cardinality of the result")
def zintercard(ctx, *args: bytes):
    return _setop(ctx, "zintercard", "inter", args, card_only=True)


_STORE_SPECS = [_range_spec(("OW", "update")), _keynum_spec(_RO_ACCESS, 2)]


@command("zunionstore", arity=-4, flags=("write", "denyoom", "movablekeys"), keys=(1, 1, 1),
         group=GROUP, since="2.0.0", acl=("write", "sortedset", "slow"), key_specs=_STORE_SPECS,
         summary="Add multiple sorted sets and store the resulting sorted set in a new key")
def zunionstore(ctx, dst: bytes, *args: bytes):
    return _setop_store(ctx, "zunionstore", "union", dst, args)


@command("zinterstore", arity=-4, flags=("write", "denyoom", "movablekeys"), keys=(1, 1, 1),
         group=GROUP, since="2.0.0", acl=("write", "sortedset", "slow"), key_specs=_STORE_SPECS,
         summary="Intersect multiple sorted sets and store the resulting sorted set in a new key")
def zinterstore(ctx, dst: bytes, *args: bytes):
    return _setop_store(ctx, "zinterstore", "inter", dst, args)


@command("zdiffstore", arity=-4, flags=("write", "denyoom", "movablekeys"), keys=(1, 1, 1),
         group=GROUP, since="6.2.0", acl=("write", "sortedset", "slow"), key_specs=_STORE_SPECS,
         summary="Subtract multiple sorted sets and store the resulting sorted set in a new key")
def zdiffstore(ctx, dst: bytes, *args: bytes):
    return _setop_store(ctx, "zdiffstore", "diff", dst, args)


# -- random members and scanning -------------------------------------------

@command("zrandmember", arity=-2, keys=(1, 1, 1), group=GROUP, since="6.2.0",
         tips=("nondeterministic_output",), key_specs=[_range_spec(_RO_ACCESS)], **_READ_SLOW,
         summary="Get one or multiple random elements from a sorted set")
def zrandmember(ctx, key: bytes, *args: bytes):
    if not args:
        zset = _read(ctx, key)
        if zset is None:
            return None
        return zset.order[random.randrange(len(zset))][1]
    count = parse_int(args[0])
    if count < -LONG_MAX:
        raise CommandError("ERR value is out of range, value must between "
                           f"{-LONG_MAX} and {LONG_MAX}")
    withscores = False
    if len(args) > 2 or (len(args) == 2 and args[1].upper() != b"WITHSCORES"):
        raise syntax_error()
    if len(args) == 2:
        withscores = True
        if not -(LONG_MAX // 2) <= count <= LONG_MAX // 2:
            raise CommandError("ERR value is out of range")
    zset = _read(ctx, key)
    if zset is None or count == 0:
        return []
    size = len(zset)
    order = zset.order
    if count < 0 or count == 1:
        picks = [order[random.randrange(size)] for _ in range(abs(count))]
    elif count >= size:
        # Redis returns the whole set, walking it from the top.
        picks = list(reversed(order))
    else:
        picks = random.sample(list(order), count)
    return _with_scores(ctx, [(member, score) for score, member in picks], withscores)


def _parse_cursor(raw: bytes) -> int:
    """strtoul as Redis uses it for SCAN cursors."""
    text = raw.split(b"\x00", 1)[0]
    if text[:1].isspace():
        raise CommandError("ERR invalid cursor")
    sign = text[:1] if text[:1] in (b"+", b"-") else b""
    digits = text[len(sign):]
    if not text:
        return 0
    if not digits.isdigit():
        raise CommandError("ERR invalid cursor")
    value = int(digits)
    if value >= 2**64:
        raise CommandError("ERR invalid cursor")
    return (-value) % 2**64 if sign == b"-" else value


@command("zscan", arity=-3, keys=(1, 1, 1), group=GROUP, since="2.8.0",
         tips=("nondeterministic_output",), key_specs=[_range_spec(_RO_ACCESS)], **_READ_SLOW,
         summary="Incrementally iterate sorted sets elements and associated scores")
def zscan(ctx, key: bytes, cursor_raw: bytes, *args: bytes):
    cursor = _parse_cursor(cursor_raw)
    zset = _read(ctx, key)
    if zset is None:
        return [b"0", []]
    count = 10
    match = None
    index = 0
    while index < len(args):
        option = args[index].upper()
        if option == b"COUNT" and index + 1 < len(args):
            count = parse_int(args[index + 1], NOT_INTEGER)
            if count < 1:
                raise syntax_error()
        elif option == b"MATCH" and index + 1 < len(args):
            pattern = args[index + 1]
            match = None if pattern == b"*" else compile_glob(pattern)
        else:
            raise syntax_error()
        index += 2
    if zset.listpack:
        # A listpack is returned whole in one call, as Redis does.
        members = list(zset)
        cursor = 0
    else:
        cursor, members = zset.scan(cursor, count)
    out: list[bytes] = []
    for member in members:
        if match is None or match(member):
            out.append(member)
            out.append(scan_score(zset.scores[member], zset.listpack))
    return [b"%d" % cursor, out]
