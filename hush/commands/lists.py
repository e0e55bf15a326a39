# -*- test-case-name: tests.commands.test_lists -*-
"""List commands (LPUSH, LPOP, LRANGE, ..., and the blocking BLPOP family).

Lists are ``collections.deque`` values. A list that becomes empty is deleted,
so a list found in the keyspace always has at least one element. Adding
elements to an existing list calls ``db.pushed`` so blocked clients wake up;
creating the key with ``db.set`` signals readiness by itself.

Blocking commands that find nothing return a :class:`hush.data.blocking.Block`
whose ``serve`` closure pops against the client's own database when a key
becomes ready; inside MULTI they behave as their timeout instead of blocking,
as Redis does.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from itertools import islice
from operator import itemgetter
from typing import Any

from hush.commands.args import parse_int, parse_timeout
from hush.commands.table import batch, command, effects, keynum_spec, range_spec
from hush.core.errors import (
    INDEX_OUT_OF_RANGE,
    NO_SUCH_KEY,
    NOT_POSITIVE,
    SYNTAX,
    CommandError,
    WrongType,
    wrong_arity,
)
from hush.data.blocking import NOT_READY, Block
from hush.data.store import Database
from hush.wire.resp import NULL_ARRAY, OK, Bulks, encode_each_into, encode_ints_into

GROUP = "list"

_RANK_ZERO = (
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
    "or use negative to start from the end of the list"
)
_NUMKEYS = "ERR numkeys should be greater than 0"
_COUNT_POSITIVE = "ERR count should be greater than 0"
_INT64_MIN = -(2**63)


def _range_spec(index: int, flags: Sequence[str], lastkey: int = 0) -> dict[str, Any]:
    return range_spec(*flags, index=index, lastkey=lastkey)


def _keynum_spec(index: int) -> dict[str, Any]:
    return keynum_spec("RW", "access", "delete", index=index)


_INSERT = (_range_spec(1, ("RW", "insert")),)
_POP = (_range_spec(1, ("RW", "access", "delete")),)
_MOVE = (_range_spec(1, ("RW", "access", "delete")), _range_spec(2, ("RW", "insert")))


# -- helpers ----------------------------------------------------------------


def _list(db: Database, key: bytes) -> deque | None:
    value = db.get(key)
    if value is not None and value.__class__ is not deque:
        raise WrongType()
    return value


def _where(raw: bytes) -> bool:
    """LEFT/RIGHT as a flag: True for the head."""
    word = raw.upper()
    if word == b"LEFT":
        return True
    if word == b"RIGHT":
        return False
    raise CommandError(SYNTAX)


def _positive(raw: bytes, error: str) -> int:
    """Redis's getPositiveLong: one message for both non-numbers and negatives."""
    value = parse_int(raw, error)
    if value < 0:
        raise CommandError(error)
    return value


def _at_least_one(raw: bytes, error: str) -> int:
    value = parse_int(raw, error)
    if value < 1:
        raise CommandError(error)
    return value


def _pop_one(db: Database, key: bytes, lst: deque, left: bool) -> bytes:
    value = lst.popleft() if left else lst.pop()
    if lst:
        db.modified(key)
    else:
        db.delete(key)
    return value


def _pop_many(db: Database, key: bytes, lst: deque, left: bool, count: int) -> list[bytes]:
    if count >= len(lst):
        out = list(lst) if left else list(reversed(lst))
        db.delete(key)
        return out
    pop = lst.popleft if left else lst.pop
    out = [pop() for _ in range(count)]
    db.modified(key)
    return out


def _push(db: Database, key: bytes, lst: deque | None, values: Sequence[bytes], left: bool) -> int:
    if lst is None:
        db.set(key, deque(reversed(values)) if left else deque(values))
        return len(values)
    if left:
        lst.extendleft(values)
    else:
        lst.extend(values)
    db.pushed(key)
    return len(lst)


def _move(db: Database, src: bytes, lst: deque, dst: bytes, target: deque | None,
          left_from: bool, left_to: bool) -> bytes:
    """Pop from ``lst`` and push onto ``target`` (types already checked)."""
    value = lst.popleft() if left_from else lst.pop()
    if target is lst:
        # Rotating a list onto itself: it never empties on the way.
        if left_to:
            lst.appendleft(value)
        else:
            lst.append(value)
        db.pushed(src)
        return value
    if target is None:
        db.set(dst, deque((value,)))
    else:
        if left_to:
            target.appendleft(value)
        else:
            target.append(value)
        db.pushed(dst)
    if lst:
        db.modified(src)
    else:
        db.delete(src)
    return value


def _try_move(db: Database, src: bytes, dst: bytes, left_from: bool, left_to: bool) -> Any:
    lst = _list(db, src)
    if lst is None:
        return None
    return _move(db, src, lst, dst, _list(db, dst), left_from, left_to)


# -- push ---------------------------------------------------------------------


@command("lpush", arity=-3, flags=("write", "denyoom", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Prepend one or multiple elements to a list", since="1.0.0",
         acl=("write", "list", "fast"), key_specs=_INSERT)
def lpush(ctx, key: bytes, *values: bytes) -> int:
    db = ctx.db
    lst = db.get(key)
    if lst is None:
        db.set(key, deque(reversed(values)))
        return len(values)
    if lst.__class__ is not deque:
        raise WrongType()
    lst.extendleft(values)
    db.pushed(key)
    return len(lst)


@command("rpush", arity=-3, flags=("write", "denyoom", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Append one or multiple elements to a list", since="1.0.0",
         acl=("write", "list", "fast"), key_specs=_INSERT)
def rpush(ctx, key: bytes, *values: bytes) -> int:
    db = ctx.db
    lst = db.get(key)
    if lst is None:
        db.set(key, deque(values))
        return len(values)
    if lst.__class__ is not deque:
        raise WrongType()
    lst.extend(values)
    db.pushed(key)
    return len(lst)


@command("lpushx", arity=-3, flags=("write", "denyoom", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Prepend an element to a list, only if the list exists", since="2.2.0",
         acl=("write", "list", "fast"), key_specs=_INSERT)
def lpushx(ctx, key: bytes, *values: bytes) -> int:
    lst = _list(ctx.db, key)
    return 0 if lst is None else _push(ctx.db, key, lst, values, True)


@command("rpushx", arity=-3, flags=("write", "denyoom", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Append an element to a list, only if the list exists", since="2.2.0",
         acl=("write", "list", "fast"), key_specs=_INSERT)
def rpushx(ctx, key: bytes, *values: bytes) -> int:
    lst = _list(ctx.db, key)
    return 0 if lst is None else _push(ctx.db, key, lst, values, False)


_key = itemgetter(1)
_value = itemgetter(2)


def _one_list(ctx, argvs: list[list[bytes]], size: int) -> tuple[Database, bytes, deque] | None:
    """The database, key and list of a run of ``size``-argument commands all on
    one existing list (what benchmarks and queue producers send), else None."""
    first = argvs[0]
    if len(first) != size or len(set(map(_key, argvs))) != 1:
        return None
    db = ctx.db
    lst = db.get(first[1])
    if lst.__class__ is not deque:
        # A new list or another type: the handler's way, one by one.
        return None
    return db, first[1], lst


def _push_batch(ctx, argvs: list[list[bytes]], out: list[bytes], left: bool) -> bool:
    found = _one_list(ctx, argvs, 3)
    if found is None:
        return False
    db, key, lst = found
    base = len(lst)
    if left:
        lst.extendleft(map(_value, argvs))
    else:
        lst.extend(map(_value, argvs))
    db.pushed(key, len(argvs))
    encode_ints_into(out, range(base + 1, len(lst) + 1))
    return True


@batch("lpush")
def _lpush_batch(ctx, argvs: list[list[bytes]], out: list[bytes]) -> bool:
    return _push_batch(ctx, argvs, out, True)


@batch("rpush")
def _rpush_batch(ctx, argvs: list[list[bytes]], out: list[bytes]) -> bool:
    return _push_batch(ctx, argvs, out, False)


# -- pop ----------------------------------------------------------------------


def _pop_count(ctx, name: str, key: bytes, rest: tuple[bytes, ...], left: bool) -> Any:
    if len(rest) > 1:
        raise wrong_arity(name)
    count = _positive(rest[0], NOT_POSITIVE)
    db = ctx.db
    lst = _list(db, key)
    if lst is None:
        return NULL_ARRAY
    if count == 0:
        return []
    return _pop_many(db, key, lst, left, count)


@command("lpop", arity=-2, flags=("write", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Remove and get the first elements in a list", since="1.0.0",
         acl=("write", "list", "fast"), key_specs=_POP)
def lpop(ctx, key: bytes, *rest: bytes) -> Any:
    if rest:
        return _pop_count(ctx, "lpop", key, rest, True)
    db = ctx.db
    lst = db.get(key)
    if lst is None:
        return None
    if lst.__class__ is not deque:
        raise WrongType()
    value = lst.popleft()
    if lst:
        db.modified(key)
    else:
        db.delete(key)
    return value


@command("rpop", arity=-2, flags=("write", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Remove and get the last elements in a list", since="1.0.0",
         acl=("write", "list", "fast"), key_specs=_POP)
def rpop(ctx, key: bytes, *rest: bytes) -> Any:
    if rest:
        return _pop_count(ctx, "rpop", key, rest, False)
    db = ctx.db
    lst = db.get(key)
    if lst is None:
        return None
    if lst.__class__ is not deque:
        raise WrongType()
    value = lst.pop()
    if lst:
        db.modified(key)
    else:
        db.delete(key)
    return value


def _pop_batch(ctx, argvs: list[list[bytes]], out: list[bytes], left: bool) -> bool:
    found = _one_list(ctx, argvs, 2)
    # A run that would empty the list (deleting the key) goes one by one.
    if found is None or len(found[2]) <= len(argvs):
        return False
    db, key, lst = found
    pop = lst.popleft if left else lst.pop
    encode_each_into(out, [pop() for _ in argvs], ctx.resp3)
    db.modified(key, len(argvs))
    return True


@batch("lpop")
def _lpop_batch(ctx, argvs: list[list[bytes]], out: list[bytes]) -> bool:
    return _pop_batch(ctx, argvs, out, True)


@batch("rpop")
def _rpop_batch(ctx, argvs: list[list[bytes]], out: list[bytes]) -> bool:
    return _pop_batch(ctx, argvs, out, False)


# -- read ---------------------------------------------------------------------


@command("llen", arity=2, flags=("readonly", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Get the length of a list", since="1.0.0",
         acl=("read", "list", "fast"), key_specs=(_range_spec(1, ("RO",)),))
def llen(ctx, key: bytes) -> int:
    lst = _list(ctx.db, key)
    return 0 if lst is None else len(lst)


@command("lrange", arity=4, flags=("readonly",), keys=(1, 1, 1), group=GROUP,
         summary="Get a range of elements from a list", since="1.0.0",
         acl=("read", "list", "slow"), key_specs=(_range_spec(1, ("RO", "access")),))
def lrange(ctx, key: bytes, start: bytes, stop: bytes) -> list[bytes]:
    first = parse_int(start)
    last = parse_int(stop)
    lst = ctx.db.get(key)
    if lst is None:
        return []
    if lst.__class__ is not deque:
        raise WrongType()
    size = len(lst)
    if first < 0:
        first += size
        if first < 0:
            first = 0
    if last < 0:
        last += size
    elif last >= size:
        last = size - 1
    if first > last:
        return []
    # A list's elements are exact bytes: Bulks skips the encoder's type check.
    if first == 0 and last == size - 1:
        return Bulks(lst)
    if first > size - last:
        # Nearer the tail: deque iteration from the far end is cheaper.
        out = Bulks(islice(reversed(lst), size - 1 - last, size - first))
        out.reverse()
        return out
    return Bulks(islice(lst, first, last + 1))


@command("lindex", arity=3, flags=("readonly",), keys=(1, 1, 1), group=GROUP,
         summary="Get an element from a list by its index", since="1.0.0",
         acl=("read", "list", "slow"), key_specs=(_range_spec(1, ("RO", "access")),))
def lindex(ctx, key: bytes, index: bytes) -> bytes | None:
    lst = _list(ctx.db, key)
    if lst is None:
        return None
    position = parse_int(index)
    if position < 0:
        position += len(lst)
    if 0 <= position < len(lst):
        return lst[position]
    return None


@command("lpos", arity=-3, flags=("readonly",), keys=(1, 1, 1), group=GROUP,
         summary="Return the index of matching elements on a list", since="6.0.6",
         acl=("read", "list", "slow"), key_specs=(_range_spec(1, ("RO", "access")),))
def lpos(ctx, key: bytes, element: bytes, *options: bytes) -> Any:
    rank, count, maxlen = 1, -1, 0
    i = 0
    while i < len(options):
        option = options[i].upper()
        more = i + 1 < len(options)
        if option == b"RANK" and more:
            rank = parse_int(options[i + 1])
            if rank == 0:
                raise CommandError(_RANK_ZERO)
        elif option == b"COUNT" and more:
            count = _positive(options[i + 1], "ERR COUNT can't be negative")
        elif option == b"MAXLEN" and more:
            maxlen = _positive(options[i + 1], "ERR MAXLEN can't be negative")
        else:
            raise CommandError(SYNTAX)
        i += 2
    lst = _list(ctx.db, key)
    if lst is None:
        return [] if count != -1 else None
    size = len(lst)
    from_head = rank > 0
    if rank == _INT64_MIN:
        # Redis negates the rank in a C long; LLONG_MIN stays negative, so
        # every match qualifies and COUNT's arithmetic never reaches its limit.
        skip, limit = 0, 0
    else:
        skip = abs(rank) - 1
        limit = count
    scan = lst if from_head else reversed(lst)
    if maxlen:
        scan = islice(scan, maxlen)
    found: list[int] = []
    for index, item in enumerate(scan):
        if item == element:
            if skip:
                skip -= 1
                continue
            found.append(index if from_head else size - 1 - index)
            if count == -1 or (limit and len(found) >= limit):
                break
    if count == -1:
        return found[0] if found else None
    return found


# -- modify in place ------------------------------------------------------------


@command("lset", arity=4, flags=("write", "denyoom"), keys=(1, 1, 1), group=GROUP,
         summary="Set the value of an element in a list by its index", since="1.0.0",
         acl=("write", "list", "slow"), key_specs=(_range_spec(1, ("RW", "update")),))
def lset(ctx, key: bytes, index: bytes, element: bytes) -> Any:
    db = ctx.db
    lst = _list(db, key)
    if lst is None:
        raise CommandError(NO_SUCH_KEY)
    position = parse_int(index)
    if position < 0:
        position += len(lst)
    if not 0 <= position < len(lst):
        raise CommandError(INDEX_OUT_OF_RANGE)
    lst[position] = element
    db.modified(key)
    return OK


@command("lrem", arity=4, flags=("write",), keys=(1, 1, 1), group=GROUP,
         summary="Remove elements from a list", since="1.0.0",
         acl=("write", "list", "slow"), key_specs=(_range_spec(1, ("RW", "delete")),))
def lrem(ctx, key: bytes, count: bytes, element: bytes) -> int:
    limit = parse_int(count)
    db = ctx.db
    lst = _list(db, key)
    if lst is None:
        return 0
    size = len(lst)
    if limit == 0:
        kept = [item for item in lst if item != element]
    else:
        kept = []
        budget = abs(limit)
        items = lst if limit > 0 else reversed(lst)
        for item in items:
            if budget and item == element:
                budget -= 1
            else:
                kept.append(item)
        if limit < 0:
            kept.reverse()
    removed = size - len(kept)
    if removed:
        if kept:
            lst.clear()
            lst.extend(kept)
            db.modified(key)
        else:
            db.delete(key)
    return removed


@command("ltrim", arity=4, flags=("write",), keys=(1, 1, 1), group=GROUP,
         summary="Trim a list to the specified range", since="1.0.0",
         acl=("write", "list", "slow"), key_specs=(_range_spec(1, ("RW", "delete")),))
def ltrim(ctx, key: bytes, start: bytes, stop: bytes) -> Any:
    first = parse_int(start)
    last = parse_int(stop)
    db = ctx.db
    lst = _list(db, key)
    if lst is None:
        return OK
    size = len(lst)
    if first < 0:
        first = max(first + size, 0)
    if last < 0:
        last += size
    if first > last or first >= size:
        db.delete(key)
        return OK
    if last >= size:
        last = size - 1
    for _ in range(size - 1 - last):
        lst.pop()
    for _ in range(first):
        lst.popleft()
    db.modified(key)
    return OK


@command("linsert", arity=5, flags=("write", "denyoom"), keys=(1, 1, 1), group=GROUP,
         summary="Insert an element before or after another element in a list", since="2.2.0",
         acl=("write", "list", "slow"), key_specs=_INSERT)
def linsert(ctx, key: bytes, where: bytes, pivot: bytes, element: bytes) -> int:
    word = where.upper()
    if word == b"BEFORE":
        after = 0
    elif word == b"AFTER":
        after = 1
    else:
        raise CommandError(SYNTAX)
    db = ctx.db
    lst = _list(db, key)
    if lst is None:
        return 0
    try:
        position = lst.index(pivot)
    except ValueError:
        return -1
    lst.insert(position + after, element)
    db.pushed(key)
    return len(lst)


# -- move ---------------------------------------------------------------------


@command("lmove", arity=5, flags=("write", "denyoom"), keys=(1, 2, 1), group=GROUP,
         summary="Pop an element from a list, push it to another list and return it",
         since="6.2.0", acl=("write", "list", "slow"), key_specs=_MOVE)
def lmove(ctx, source: bytes, destination: bytes, wherefrom: bytes, whereto: bytes) -> Any:
    left_from = _where(wherefrom)
    left_to = _where(whereto)
    return _try_move(ctx.db, source, destination, left_from, left_to)


@command("rpoplpush", arity=3, flags=("write", "denyoom"), keys=(1, 2, 1), group=GROUP,
         summary="Remove the last element in a list, prepend it to another list and return it",
         since="1.2.0", acl=("write", "list", "slow"), key_specs=_MOVE)
def rpoplpush(ctx, source: bytes, destination: bytes) -> Any:
    return _try_move(ctx.db, source, destination, False, True)


# -- multi-key pop --------------------------------------------------------------


def _parse_mpop(args: Sequence[bytes]) -> tuple[list[bytes], bool, int]:
    """``numkeys key... LEFT|RIGHT [COUNT n]`` as (keys, from_head, count)."""
    numkeys = _at_least_one(args[0], _NUMKEYS)
    where_at = numkeys + 1
    if where_at >= len(args):
        raise CommandError(SYNTAX)
    left = _where(args[where_at])
    count = -1
    i = where_at + 1
    while i < len(args):
        if count == -1 and args[i].upper() == b"COUNT" and i + 1 < len(args):
            count = _at_least_one(args[i + 1], _COUNT_POSITIVE)
            i += 2
        else:
            raise CommandError(SYNTAX)
    return list(args[1:where_at]), left, 1 if count == -1 else count


def _mpop_first(db: Database, keys: Sequence[bytes], left: bool, count: int) -> Any:
    for key in keys:
        lst = _list(db, key)
        if lst is not None:
            return [key, _pop_many(db, key, lst, left, count)]
    return None


@command("lmpop", arity=-4, flags=("write", "movablekeys"), group=GROUP,
         summary="Pop elements from a list", since="7.0.0",
         acl=("write", "list", "slow"), key_specs=(_keynum_spec(1),))
def lmpop(ctx, *args: bytes) -> Any:
    keys, left, count = _parse_mpop(args)
    reply = _mpop_first(ctx.db, keys, left, count)
    return NULL_ARRAY if reply is None else reply


# -- blocking -------------------------------------------------------------------


def _list_serve(db: Database, pop: Callable[[bytes, deque], Any]) -> Callable[[bytes], Any]:
    """A serve function: ``pop(key, list)`` once ``key`` holds a list."""

    def serve(key: bytes) -> Any:
        lst = db.get(key)
        if lst is None or lst.__class__ is not deque:
            # Redis 7.0 leaves list waiters blocked when the key holds another type.
            return NOT_READY
        return pop(key, lst)

    return serve


def _bpop(ctx, args: tuple[bytes, ...], left: bool) -> Any:
    keys = args[:-1]
    timeout = parse_timeout(args[-1])
    db = ctx.db
    for key in keys:
        lst = _list(db, key)
        if lst is not None:
            return [key, _pop_one(db, key, lst, left)]
    if ctx.in_multi:
        return NULL_ARRAY
    serve = _list_serve(db, lambda key, lst: [key, _pop_one(db, key, lst, left)])
    return Block(keys, timeout, serve, NULL_ARRAY)


_BLOCKING_FLAGS = ("write", "noscript", "blocking")
_BLOCKING_ACL = ("write", "list", "slow", "blocking")


@command("blpop", arity=-3, flags=_BLOCKING_FLAGS, keys=(1, -2, 1), group=GROUP,
         summary="Remove and get the first element in a list, or block until one is available",
         since="2.0.0", acl=_BLOCKING_ACL,
         key_specs=(_range_spec(1, ("RW", "access", "delete"), lastkey=-2),))
def blpop(ctx, *args: bytes) -> Any:
    return _bpop(ctx, args, True)


@command("brpop", arity=-3, flags=_BLOCKING_FLAGS, keys=(1, -2, 1), group=GROUP,
         summary="Remove and get the last element in a list, or block until one is available",
         since="2.0.0", acl=_BLOCKING_ACL,
         key_specs=(_range_spec(1, ("RW", "access", "delete"), lastkey=-2),))
def brpop(ctx, *args: bytes) -> Any:
    return _bpop(ctx, args, False)


# A blocking command propagates the pop it did, without blocking (BLPOP -> LPOP):
# a replay must not wait, and a timed-out one did nothing.


@effects("blpop", "brpop")
def _bpop_effects(ctx, argv: list[bytes], reply: Any) -> list[list[bytes]]:
    if not isinstance(reply, list) or not reply:
        return []
    return [[b"LPOP" if argv[0].lower() == b"blpop" else b"RPOP", reply[0]]]


def _bmove(ctx, source: bytes, destination: bytes, left_from: bool, left_to: bool,
           raw_timeout: bytes) -> Any:
    timeout = parse_timeout(raw_timeout)
    db = ctx.db
    reply = _try_move(db, source, destination, left_from, left_to)
    if reply is not None or ctx.in_multi:
        return reply

    def pop(key: bytes, lst: deque) -> Any:
        target = db.get(destination)
        if target is not None and target.__class__ is not deque:
            # Redis 7.0 unblocks the client with the error, leaving the element.
            return WrongType()
        return _move(db, key, lst, destination, target, left_from, left_to)

    # Redis 7.0 times every list waiter out with a null array, BLMOVE included.
    return Block((source,), timeout, _list_serve(db, pop), NULL_ARRAY)


@command("blmove", arity=6, flags=("write", "denyoom", "noscript", "blocking"), keys=(1, 2, 1),
         group=GROUP,
         summary="Pop an element from a list, push it to another list and return it; "
                 "or block until one is available",
         since="6.2.0", acl=_BLOCKING_ACL, key_specs=_MOVE)
def blmove(ctx, source: bytes, destination: bytes, wherefrom: bytes, whereto: bytes,
           timeout: bytes) -> Any:
    left_from = _where(wherefrom)
    left_to = _where(whereto)
    return _bmove(ctx, source, destination, left_from, left_to, timeout)


@command("brpoplpush", arity=4, flags=("write", "denyoom", "noscript", "blocking"),
         keys=(1, 2, 1), group=GROUP,
         summary="Pop an element from a list, push it to another list and return it; "
                 "or block until one is available",
         since="2.2.0", acl=_BLOCKING_ACL, key_specs=_MOVE)
def brpoplpush(ctx, source: bytes, destination: bytes, timeout: bytes) -> Any:
    return _bmove(ctx, source, destination, False, True, timeout)


@effects("blmove")
def _blmove_effects(ctx, argv: list[bytes], reply: Any) -> list[list[bytes]]:
    return [[b"LMOVE", *argv[1:5]]] if reply.__class__ is bytes else []


@effects("brpoplpush")
def _brpoplpush_effects(ctx, argv: list[bytes], reply: Any) -> list[list[bytes]]:
    return [[b"RPOPLPUSH", argv[1], argv[2]]] if reply.__class__ is bytes else []


@command("blmpop", arity=-5, flags=("write", "blocking", "movablekeys"), group=GROUP,
         summary="Pop elements from a list, or block until one is available", since="7.0.0",
         acl=_BLOCKING_ACL, key_specs=(_keynum_spec(2),))
def blmpop(ctx, raw_timeout: bytes, *args: bytes) -> Any:
    keys, left, count = _parse_mpop(args)
    timeout = parse_timeout(raw_timeout)
    db = ctx.db
    reply = _mpop_first(db, keys, left, count)
    if reply is not None:
        return reply
    if ctx.in_multi:
        return NULL_ARRAY
    serve = _list_serve(db, lambda key, lst: [key, _pop_many(db, key, lst, left, count)])
    return Block(keys, timeout, serve, NULL_ARRAY)


@effects("blmpop")
def _blmpop_effects(ctx, argv: list[bytes], reply: Any) -> list[list[bytes]]:
    if not isinstance(reply, list) or not reply:
        return []
    _, left, _ = _parse_mpop(argv[2:])
    return [[b"LPOP" if left else b"RPOP", reply[0], b"%d" % len(reply[1])]]
