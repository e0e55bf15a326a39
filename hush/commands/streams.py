# -*- test-case-name: tests.commands.test_streams -*-
"""Stream commands (XADD, XRANGE, XREAD, consumer groups, XINFO, ...), as Redis 7.0.

Values are :class:`hush.data.types.stream.Stream`. Unlike other containers a stream is
not deleted when it becomes empty. XADD and XGROUP DESTROY call ``db.pushed``
so blocked XREAD/XREADGROUP clients are served after the command replies; a
blocked XREADGROUP whose key is deleted or overwritten is woken by the store
(it signals blocked keys on removal) and gets Redis's UNBLOCKED error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hush.commands.args import parse_int
from hush.commands.table import command, container, effects
from hush.core.errors import (
    NO_SUCH_KEY,
    SYNTAX,
    CommandError,
    SubcommandSyntax,
    WrongType,
    c_text,
    wrong_arity,
)
from hush.data.blocking import SKIP, Block
from hush.data.store import Database
from hush.data.types.stream import (
    INVALID_ENTRIES_READ,
    MAX_ID,
    MIN_ID,
    NODE_MAX_ENTRIES,
    UINT64_MAX,
    Group,
    Nack,
    Stream,
    StreamID,
    decr_id,
    format_id,
    incr_id,
)
from hush.wire.resp import NULL_ARRAY, OK, RespMap, SimpleString

GROUP = "stream"

INVALID_ID = "ERR Invalid stream ID specified as stream command argument"
_TOP_ITEM = "ERR The ID specified in XADD is equal or smaller than the target stream top item"
_UNBLOCKED_GONE = "UNBLOCKED the stream key no longer exists"
_UNBLOCKED_NOGROUP = "NOGROUP the consumer group this client was blocked on no longer exists"


def _spec(flags: tuple[str, ...], index: int = 1, notes: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if notes:
        spec["notes"] = notes
    spec.update({
        "flags": list(flags),
        "begin_search": {"type": "index", "spec": {"index": index}},
        "find_keys": {"type": "range", "spec": {"lastkey": 0, "keystep": 1, "limit": 0}},
    })
    return spec


def _streams_spec(startfrom: int) -> dict[str, Any]:
    return {
        "flags": ["RO", "access"],
        "begin_search": {"type": "keyword", "spec": {"keyword": "STREAMS", "startfrom": startfrom}},
        "find_keys": {"type": "range", "spec": {"lastkey": -1, "keystep": 1, "limit": 2}},
    }


# -- IDs ------------------------------------------------------------------------------


def _parse_u64(raw: bytes) -> int | None:
    """Redis's string2ull: strict integers first, then what strtoull accepts."""
    if raw[:1].isdigit() and (raw[:1] != b"0" or len(raw) == 1) and raw.isdigit():
        value = int(raw)
        return value if value <= UINT64_MAX else None
    text = raw.lstrip(b" \t\n\v\f\r")
    negative = False
    if text[:1] in (b"+", b"-"):
        negative = text[:1] == b"-"
        text = text[1:]
    if not text or not text.isdigit():
        return None
    value = int(text)
    if value > UINT64_MAX:
        return None
    if negative:
        if raw == b"-" + text and text[:1] != b"0":
            return None  # string2ll parses it: a negative number is out of range.
        value = (-value) % (UINT64_MAX + 1)
    return value


def parse_id(raw: bytes, missing_seq: int = 0, strict: bool = False,
             auto_seq: bool = False) -> tuple[StreamID, bool]:
    """Redis's streamGenericParseIDOrReply: an ID and whether its sequence was given.

    ``strict`` refuses ``-`` and ``+``; ``auto_seq`` allows ``ms-*``.
    """
    if len(raw) > 127:
        raise CommandError(INVALID_ID)
    raw = raw.split(b"\0", 1)[0]
    if raw == b"-" or raw == b"+":
        if strict:
            raise CommandError(INVALID_ID)
        return (MIN_ID if raw == b"-" else MAX_ID), True
    ms_part, dash, seq_part = raw.partition(b"-")
    ms = _parse_u64(ms_part)
    if ms is None:
        raise CommandError(INVALID_ID)
    if not dash:
        return (ms, missing_seq), True
    if auto_seq and seq_part == b"*":
        return (ms, 0), False
    seq = _parse_u64(seq_part)
    if seq is None:
        raise CommandError(INVALID_ID)
    return (ms, seq), True


def strict_id(raw: bytes) -> StreamID:
    """An exact ID (no ``-``/``+``, missing sequence 0)."""
    return parse_id(raw, strict=True)[0]


def _interval_start(raw: bytes) -> StreamID:
    if len(raw) > 1 and raw[:1] == b"(":
        sid = incr_id(parse_id(raw[1:], 0, strict=True)[0])
        if sid is None:
            raise CommandError("ERR invalid start ID for the interval")
        return sid
    return parse_id(raw, 0)[0]


def _interval_end(raw: bytes) -> StreamID:
    if len(raw) > 1 and raw[:1] == b"(":
        sid = decr_id(parse_id(raw[1:], UINT64_MAX, strict=True)[0])
        if sid is None:
            raise CommandError("ERR invalid end ID for the interval")
        return sid
    return parse_id(raw, UINT64_MAX)[0]


# -- helpers -----------------------------------------------------------------------------


def _stream(db: Database, key: bytes) -> Stream | None:
    value = db.get(key)
    if value is not None and value.__class__ is not Stream:
        raise WrongType()
    return value


def _entries(items: list[tuple[StreamID, list[bytes]]]) -> list[Any]:
    return [[format_id(sid), list(fields)] for sid, fields in items]


def _nogroup(key: bytes, group: bytes) -> CommandError:
    return CommandError(
        f"NOGROUP No such key '{_text(key)}' or consumer group '{_text(group)}'")


def _text(raw: bytes) -> str:
    # Redis prints keys, group names and options into its stream errors with %s.
    return c_text(raw)


def _group_of(db: Database, key: bytes, name: bytes) -> tuple[Stream, Group]:
    stream = _stream(db, key)
    group = stream.groups.get(name) if stream is not None else None
    if group is None:
        raise _nogroup(key, name)
    return stream, group


# -- XADD, XTRIM ------------------------------------------------------------------------


class _TrimArgs:
    __slots__ = ("maxlen", "minid", "approx", "limit", "nomkstream", "sid", "seq_given",
                 "id_given")

    def __init__(self) -> None:
        self.maxlen: int | None = None
        self.minid: StreamID | None = None
        self.approx = False
        self.limit = 0
        self.nomkstream = False
        self.sid: StreamID = MIN_ID
        self.seq_given = True
        self.id_given = False


_BOTH_STRATEGIES = "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"


def _parse_add_or_trim(args: tuple[bytes, ...], start: int, xadd: bool) -> tuple[_TrimArgs, int]:
    """Redis's streamParseAddOrTrimArgsOrReply: the options and where they end."""
    parsed = _TrimArgs()
    limit_given = False
    strategy = False
    i = start
    n = len(args)
    while i < n:
        moreargs = n - 1 - i
        opt = args[i]
        word = opt.upper()
        if xadd and opt == b"*":
            break
        if word in (b"MAXLEN", b"MINID") and moreargs:
            if strategy:
                raise CommandError(_BOTH_STRATEGIES)
            parsed.approx = False
            following = args[i + 1]
            if moreargs >= 2 and following in (b"~", b"="):
                parsed.approx = following == b"~"
                i += 1
            if word == b"MAXLEN":
                parsed.maxlen = parse_int(args[i + 1])
                if parsed.maxlen < 0:
                    raise CommandError("ERR The MAXLEN argument must be >= 0.")
            else:
                parsed.minid = strict_id(args[i + 1])
            strategy = True
            i += 1
        elif word == b"LIMIT" and moreargs:
            parsed.limit = parse_int(args[i + 1])
            if parsed.limit < 0:
                raise CommandError("ERR The LIMIT argument must be >= 0.")
            limit_given = True
            i += 1
        elif xadd and word == b"NOMKSTREAM":
            parsed.nomkstream = True
        elif xadd:
            parsed.sid, parsed.seq_given = parse_id(opt, strict=True, auto_seq=True)
            parsed.id_given = True
            break
        else:
            raise CommandError(SYNTAX)
        i += 1
    if parsed.limit and not strategy:
        raise CommandError(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
    if not xadd and not strategy:
        raise CommandError("ERR syntax error, XTRIM must be called with a trimming strategy")
    if limit_given:
        if not parsed.approx:
            raise CommandError(
                "ERR syntax error, LIMIT cannot be used without the special ~ option")
    elif parsed.approx:
        parsed.limit = 100 * NODE_MAX_ENTRIES
    else:
        parsed.limit = 0
    return parsed, i


def _trim(stream: Stream, parsed: _TrimArgs) -> int:
    if parsed.maxlen is None and parsed.minid is None:
        return 0
    return stream.trim(parsed.maxlen, parsed.minid, parsed.approx, parsed.limit)


@command("xadd", arity=-5, flags=("write", "denyoom", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Appends a new entry to a stream", since="5.0.0",
         acl=("write", "stream", "fast"), tips=("nondeterministic_output",),
         key_specs=(_spec(("RW", "update"), notes="UPDATE instead of INSERT because of the "
                          "optional trimming feature"),))
def xadd(ctx, key: bytes, *args: bytes) -> Any:
    parsed, i = _parse_add_or_trim(args, 0, True)
    fields = args[i + 1:]
    if len(fields) < 2 or len(fields) % 2:
        raise wrong_arity("xadd")
    if parsed.id_given and parsed.seq_given and parsed.sid == MIN_ID:
        raise CommandError("ERR The ID specified in XADD must be greater than 0-0")
    db = ctx.db
    stream = _stream(db, key)
    created = stream is None
    if created:
        if parsed.nomkstream:
            return None
        stream = Stream()
    if stream.last_id == MAX_ID:
        raise CommandError(
            "ERR The stream has exhausted the last possible ID, unable to add more items")
    if not parsed.id_given:
        sid = stream.next_auto_id(ctx.store.now_ms())
    elif not parsed.seq_given:
        ms = parsed.sid[0]
        last_ms, last_seq = stream.last_id
        if ms < last_ms or (ms == last_ms and last_seq == UINT64_MAX):
            raise CommandError(_TOP_ITEM)
        sid = (ms, last_seq + 1) if ms == last_ms else (ms, 0)
    else:
        sid = parsed.sid
        if sid <= stream.last_id:
            raise CommandError(_TOP_ITEM)
    stream.add(sid, list(fields))
    _trim(stream, parsed)
    if created:
        db.set(key, stream)
    else:
        db.pushed(key)
    ctx.store.dirty += 1
    return format_id(sid)


@command("xtrim", arity=-4, flags=("write",), keys=(1, 1, 1), group=GROUP,
         summary="Trims the stream to (approximately if '~' is passed) a certain size",
         since="5.0.0", acl=("write", "stream", "slow"), tips=("nondeterministic_output",),
         key_specs=(_spec(("RW", "delete")),))
def xtrim(ctx, key: bytes, *args: bytes) -> int:
    parsed, _ = _parse_add_or_trim(args, 0, False)
    db = ctx.db
    stream = _stream(db, key)
    if stream is None:
        return 0
    deleted = _trim(stream, parsed)
    if deleted:
        db.modified(key)
        ctx.store.dirty += deleted
    return deleted


# -- XLEN, XRANGE, XREVRANGE, XDEL ----------------------------------------------------------


@command("xlen", arity=2, flags=("readonly", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Return the number of entries in a stream", since="5.0.0",
         acl=("read", "stream", "fast"), key_specs=(_spec(("RO",)),))
def xlen(ctx, key: bytes) -> int:
    stream = _stream(ctx.db, key)
    return 0 if stream is None else len(stream)


def _range(ctx, key: bytes, low: bytes, high: bytes, args: tuple[bytes, ...],
           reverse: bool) -> Any:
    start = _interval_start(low)
    end = _interval_end(high)
    count = -1
    i = 0
    while i < len(args):
        if args[i].upper() == b"COUNT" and i + 1 < len(args):
            count = max(parse_int(args[i + 1]), 0)
            i += 2
        else:
            raise CommandError(SYNTAX)
    stream = _stream(ctx.db, key)
    if stream is None:
        return []
    if count == 0:
        return NULL_ARRAY
    if reverse:
        items = stream.range(start, end, max(count, 0), reverse=True)
    else:
        items = stream.range(start, end, max(count, 0))
    return _entries(items)


@command("xrange", arity=-4, flags=("readonly",), keys=(1, 1, 1), group=GROUP,
         summary="Return a range of elements in a stream, with IDs matching the specified "
                 "IDs interval",
         since="5.0.0", acl=("read", "stream", "slow"), key_specs=(_spec(("RO", "access")),))
def xrange(ctx, key: bytes, start: bytes, end: bytes, *args: bytes) -> Any:
    return _range(ctx, key, start, end, args, False)


@command("xrevrange", arity=-4, flags=("readonly",), keys=(1, 1, 1), group=GROUP,
         summary="Return a range of elements in a stream, with IDs matching the specified "
                 "IDs interval, in reverse order (from greater to smaller IDs) compared to "
                 "XRANGE",
         since="5.0.0", acl=("read", "stream", "slow"), key_specs=(_spec(("RO", "access")),))
def xrevrange(ctx, key: bytes, end: bytes, start: bytes, *args: bytes) -> Any:
    return _range(ctx, key, start, end, args, True)


@command("xdel", arity=-3, flags=("write", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Removes the specified entries from the stream. Returns the number of items "
                 "actually deleted, that may be different from the number of IDs passed in "
                 "case certain IDs do not exist.",
         since="5.0.0", acl=("write", "stream", "fast"), key_specs=(_spec(("RW", "delete")),))
def xdel(ctx, key: bytes, *raw_ids: bytes) -> int:
    db = ctx.db
    stream = _stream(db, key)
    if stream is None:
        return 0
    # All IDs are checked before any entry goes (and only for a stream).
    ids = [strict_id(raw) for raw in raw_ids]
    deleted = sum(1 for sid in ids if stream.delete(sid))
    if deleted:
        db.modified(key)
        ctx.store.dirty += deleted
    return deleted


# -- XREAD, XREADGROUP ---------------------------------------------------------------------


_GREATER = MAX_ID  # ">" is kept as the largest ID, as Redis does.


def _read_group_range(stream: Stream, group: Group, consumer: Any, start: StreamID,
                      count: int, noack: bool, now: int) -> list[Any]:
    """Deliver new entries from ``start`` to a consumer (streamReplyWithRange with a group)."""
    out = []
    for sid, fields in stream.range(start, MAX_ID, count):
        stream.deliver(group, sid)
        out.append([format_id(sid), list(fields)])
        if not noack:
            group.add_pending(sid, consumer, now)
    return out


def _read_history(stream: Stream, consumer: Any, start: StreamID, count: int,
                  now: int) -> list[Any]:
    """A consumer's own pending entries from ``start`` (deleted ones as [id, nil])."""
    out: list[Any] = []
    for sid in consumer.pel.irange(start, MAX_ID):
        if count and len(out) == count:
            break
        fields = stream.entries.get(sid)
        if fields is None:
            out.append([format_id(sid), NULL_ARRAY])
        else:
            nack = consumer.pel[sid]
            nack.delivery_time = now
            nack.delivery_count += 1
            out.append([format_id(sid), list(fields)])
    return out


def _xread(ctx, args: tuple[bytes, ...], xreadgroup: bool) -> Any:
    timeout: float | None = None
    count = 0
    group_name = consumer_name = None
    noack = False
    streams_at = 0
    n = len(args)
    i = 0
    while i < n:
        moreargs = n - 1 - i
        word = args[i].upper()
        if word == b"BLOCK" and moreargs:
            if getattr(ctx, "is_script", False):
                raise CommandError(f"ERR {_text(ctx.typed_name)} command is not allowed with "
                                   "BLOCK option from scripts")
            i += 1
            timeout = _block_timeout(args[i])
        elif word == b"COUNT" and moreargs:
            i += 1
            count = max(parse_int(args[i]), 0)
        elif word == b"STREAMS" and moreargs:
            streams_at = i + 1
            if (n - streams_at) % 2:
                # XREADGROUP's text says XREAD too, as Redis's does.
                raise CommandError(
                    "ERR Unbalanced XREAD list of streams: for each stream key "
                    "an ID or '$' must be specified.")
            break
        elif word == b"GROUP" and moreargs >= 2:
            if not xreadgroup:
                raise CommandError("ERR The GROUP option is only supported by XREADGROUP. "
                                   "You called XREAD instead.")
            group_name, consumer_name = args[i + 1], args[i + 2]
            i += 2
        elif word == b"NOACK":
            if not xreadgroup:
                raise CommandError("ERR The NOACK option is only supported by XREADGROUP. "
                                   "You called XREAD instead.")
            noack = True
        else:
            raise CommandError(SYNTAX)
        i += 1
    if not streams_at:
        raise CommandError(SYNTAX)
    if xreadgroup and group_name is None:
        raise CommandError("ERR Missing GROUP option for XREADGROUP")
    nstreams = (n - streams_at) // 2
    keys = args[streams_at:streams_at + nstreams]
    raw_ids = args[streams_at + nstreams:]
    db = ctx.db
    ids: list[StreamID] = []
    for key, raw in zip(keys, raw_ids, strict=True):
        stream = _stream(db, key)
        if group_name is not None:
            if stream is None or group_name not in stream.groups:
                raise CommandError(
                    f"NOGROUP No such key '{_text(key)}' or consumer group "
                    f"'{_text(group_name)}' in XREADGROUP with GROUP option")
        if raw == b"$":
            if xreadgroup:
                raise CommandError(
                    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to "
                    "read the history of this consumer by specifying a proper ID, or use the "
                    "> ID to get new messages. The $ ID would just return an empty result set.")
            ids.append(stream.last_id if stream is not None else MIN_ID)
        elif raw == b">":
            if not xreadgroup:
                raise CommandError(
                    "ERR The > ID can be specified only when calling XREADGROUP using the "
                    "GROUP <group> <consumer> option.")
            ids.append(_GREATER)
        else:
            ids.append(strict_id(raw))
    now = ctx.store.now_ms()
    served: list[tuple[bytes, list[Any]]] = []
    for key, gt in zip(keys, ids, strict=True):
        stream = db.get(key)
        if stream is None:
            continue
        if group_name is None:
            if stream.entries and stream.last_entry_id() > gt:
                served.append((key, _entries(stream.range(incr_id(gt), MAX_ID, count))))
            continue
        group = stream.groups[group_name]
        # Redis creates the consumer only when it serves it.
        if gt != _GREATER:
            consumer = group.consumer(consumer_name, now)
            start = incr_id(gt) or MAX_ID
            served.append((key, _read_history(stream, consumer, start, count, now)))
        elif stream.entries and stream.last_entry_id() > group.last_id:
            consumer = group.consumer(consumer_name, now)
            start = incr_id(group.last_id)
            items = _read_group_range(stream, group, consumer, start, count, noack, now)
            served.append((key, items))
    if group_name is not None and served:
        ctx.store.dirty += 1
    if served:
        return _streams_reply(ctx, served)
    if timeout is None or ctx.in_multi:
        return NULL_ARRAY
    waits = dict(zip(keys, ids, strict=True))
    if group_name is None:
        serve = _xread_serve(ctx, db, waits, count)
    else:
        serve = _xreadgroup_serve(ctx, db, group_name, consumer_name, count, noack)
    return Block(keys, timeout, serve, NULL_ARRAY)


def _block_timeout(raw: bytes) -> float:
    """BLOCK's milliseconds (Redis's getTimeoutFromObjectOrReply in ms: integers only)."""
    ms = parse_int(raw, "ERR timeout is not an integer or out of range")
    if ms < 0:
        raise CommandError("ERR timeout is negative")
    return ms / 1000


def _streams_reply(ctx, served: list[tuple[bytes, list[Any]]]) -> Any:
    if ctx.resp3:
        # A map, though a stream named twice appears twice, as in Redis.
        return RespMap(served)
    return [[key, items] for key, items in served]


def _xread_serve(ctx, db: Database, waits: dict[bytes, StreamID],
                 count: int) -> Callable[[bytes], Any]:
    def serve(key: bytes) -> Any:
        stream = db.get(key)
        if stream is None or stream.__class__ is not Stream:
            return SKIP
        gt = waits[key]
        if stream.last_id <= gt:
            return SKIP
        items = _entries(stream.range(incr_id(gt), MAX_ID, count))
        return _streams_reply(ctx, [(key, items)])

    return serve


def _xreadgroup_serve(ctx, db: Database, group_name: bytes, consumer_name: bytes, count: int,
                      noack: bool) -> Callable[[bytes], Any]:
    def serve(key: bytes) -> Any:
        stream = db.get(key)
        if stream is None or stream.__class__ is not Stream:
            return CommandError(_UNBLOCKED_GONE)
        group = stream.groups.get(group_name)
        if group is None:
            return CommandError(_UNBLOCKED_NOGROUP)
        if stream.last_id <= group.last_id:
            return SKIP
        now = ctx.store.now_ms()
        consumer = group.consumer(consumer_name, now)
        items = _read_group_range(stream, group, consumer, incr_id(group.last_id), count,
                                  noack, now)
        ctx.store.dirty += 1
        return _streams_reply(ctx, [(key, items)])

    return serve


@command("xread", arity=-4, flags=("readonly", "blocking", "movablekeys"), group=GROUP,
         summary="Return never seen elements in multiple streams, with IDs greater than the "
                 "ones reported by the caller for each stream. Can block.",
         since="5.0.0", acl=("read", "stream", "slow", "blocking"),
         key_specs=(_streams_spec(1),))
def xread(ctx, *args: bytes) -> Any:
    return _xread(ctx, args, False)


@command("xreadgroup", arity=-7, flags=("write", "blocking", "movablekeys"), group=GROUP,
         summary="Return new entries from a stream using a consumer group, or access the "
                 "history of the pending entries for a given consumer. Can block.",
         since="5.0.0", acl=("write", "stream", "slow", "blocking"),
         key_specs=(_streams_spec(4),))
def xreadgroup(ctx, *args: bytes) -> Any:
    return _xread(ctx, args, True)


# -- XACK, XPENDING, XCLAIM, XAUTOCLAIM -------------------------------------------------------


@command("xack", arity=-4, flags=("write", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Marks a pending message as correctly processed, effectively removing it from "
                 "the pending entries list of the consumer group. Return value of the command "
                 "is the number of messages successfully acknowledged, that is, the IDs we "
                 "were actually able to resolve in the PEL.",
         since="5.0.0", acl=("write", "stream", "fast"), key_specs=(_spec(("RW", "update")),))
def xack(ctx, key: bytes, group_name: bytes, *raw_ids: bytes) -> int:
    db = ctx.db
    stream = _stream(db, key)
    group = stream.groups.get(group_name) if stream is not None else None
    if group is None:
        return 0
    ids = [strict_id(raw) for raw in raw_ids]
    acked = sum(1 for sid in ids if group.ack(sid))
    if acked:
        db.modified(key)
        ctx.store.dirty += acked
    return acked


@command("xpending", arity=-3, flags=("readonly",), keys=(1, 1, 1), group=GROUP,
         summary="Return information and entries from a stream consumer group pending entries "
                 "list, that are messages fetched but never acknowledged.",
         since="5.0.0", acl=("read", "stream", "slow"), tips=("nondeterministic_output",),
         key_specs=(_spec(("RO", "access")),))
def xpending(ctx, key: bytes, group_name: bytes, *args: bytes) -> Any:
    nargs = len(args) + 3
    if nargs != 3 and (nargs < 6 or nargs > 9):
        raise CommandError(SYNTAX)
    minidle = 0
    consumer_name = None
    if args:
        at = 0
        if args[0].upper() == b"IDLE":
            minidle = parse_int(args[1])
            if nargs < 8:
                raise CommandError(SYNTAX)
            at = 2
        count = max(parse_int(args[at + 2]), 0)
        start = _interval_start(args[at])
        end = _interval_end(args[at + 1])
        if at + 3 < len(args):
            consumer_name = args[at + 3]
    _, group = _group_of(ctx.db, key, group_name)
    if not args:
        if not group.pel:
            return [0, None, None, NULL_ARRAY]
        owners = [[c.name, b"%d" % len(c.pel)] for c in group.sorted_consumers() if c.pel]
        pel = group.pel
        return [len(pel), format_id(pel.keys()[0]), format_id(pel.keys()[-1]), owners]
    if consumer_name is not None:
        consumer = group.consumers.get(consumer_name)
        if consumer is None:
            return []
        pel = consumer.pel
    else:
        pel = group.pel
    now = ctx.store.now_ms()
    out = []
    for sid in pel.irange(start, end):
        if not count:
            break
        nack = pel[sid]
        idle = now - nack.delivery_time
        if minidle and idle < minidle:
            continue
        count -= 1
        out.append([format_id(sid), nack.consumer.name, max(idle, 0), nack.delivery_count])
    return out


def _claimed(stream: Stream, sid: StreamID, justid: bool) -> Any:
    if justid:
        return format_id(sid)
    fields = stream.entries.get(sid)
    return None if fields is None else [format_id(sid), list(fields)]


@command("xclaim", arity=-6, flags=("write", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Changes (or acquires) ownership of a message in a consumer group, as if the "
                 "message was delivered to the specified consumer.",
         since="5.0.0", acl=("write", "stream", "fast"), tips=("nondeterministic_output",),
         key_specs=(_spec(("RW", "update")),))
def xclaim(ctx, key: bytes, group_name: bytes, consumer_name: bytes, raw_idle: bytes,
           *args: bytes) -> list[Any]:
    db = ctx.db
    stream, group = _group_of(db, key, group_name)
    minidle = max(parse_int(raw_idle, "ERR Invalid min-idle-time argument for XCLAIM"), 0)
    ids: list[StreamID] = []
    j = 0
    while j < len(args):
        try:
            ids.append(strict_id(args[j]))
        except CommandError:
            break
        j += 1
    now = ctx.store.now_ms()
    delivery: int | None = None
    retrycount = -1
    force = justid = False
    last_id = MIN_ID
    while j < len(args):
        moreargs = len(args) - 1 - j
        word = args[j].upper()
        if word == b"FORCE":
            force = True
        elif word == b"JUSTID":
            justid = True
        elif word == b"IDLE" and moreargs:
            j += 1
            delivery = now - parse_int(args[j], "ERR Invalid IDLE option argument for XCLAIM")
        elif word == b"TIME" and moreargs:
            j += 1
            delivery = parse_int(args[j], "ERR Invalid TIME option argument for XCLAIM")
        elif word == b"RETRYCOUNT" and moreargs:
            j += 1
            retrycount = parse_int(args[j], "ERR Invalid RETRYCOUNT option argument for XCLAIM")
        elif word == b"LASTID" and moreargs:
            j += 1
            last_id = strict_id(args[j])
        else:
            raise CommandError(f"ERR Unrecognized XCLAIM option '{_text(args[j])}'")
        j += 1
    changed = False
    if last_id > group.last_id:
        group.last_id = last_id
        changed = True
    if delivery is None or delivery < 0 or delivery > now:
        delivery = now
    consumer = None
    out = []
    for sid in ids:
        nack = group.pel.get(sid)
        if sid not in stream.entries:
            if nack is not None:
                group.ack(sid)
                changed = True
            continue
        if force and nack is None:
            nack = group.pel[sid] = Nack(None, now)
        if nack is None:
            continue
        if nack.consumer is not None and minidle and now - nack.delivery_time < minidle:
            continue
        if consumer is None:
            consumer = group.consumer(consumer_name, now)
        if nack.consumer is not consumer and nack.consumer is not None:
            nack.consumer.pel.pop(sid, None)
        nack.delivery_time = delivery
        if retrycount >= 0:
            nack.delivery_count = retrycount
        elif not justid:
            nack.delivery_count += 1
        if nack.consumer is not consumer:
            consumer.pel[sid] = nack
            nack.consumer = consumer
        out.append(_claimed(stream, sid, justid))
        changed = True
    if changed:
        db.modified(key)
        ctx.store.dirty += 1
    return out


@command("xautoclaim", arity=-6, flags=("write", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Changes (or acquires) ownership of messages in a consumer group, as if the "
                 "messages were delivered to the specified consumer.",
         since="6.2.0", acl=("write", "stream", "fast"), tips=("nondeterministic_output",),
         key_specs=(_spec(("RW", "delete")),))
def xautoclaim(ctx, key: bytes, group_name: bytes, consumer_name: bytes, raw_idle: bytes,
               raw_start: bytes, *args: bytes) -> list[Any]:
    minidle = max(parse_int(raw_idle, "ERR Invalid min-idle-time argument for XAUTOCLAIM"), 0)
    start = _interval_start(raw_start)
    count = 100
    justid = False
    j = 0
    while j < len(args):
        word = args[j].upper()
        if word == b"COUNT" and j + 1 < len(args):
            count = parse_int(args[j + 1], "ERR COUNT must be > 0")
            if not 1 <= count <= (2**63 - 1) // 16:
                raise CommandError("ERR COUNT must be > 0")
            j += 1
        elif word == b"JUSTID":
            justid = True
        else:
            raise CommandError(SYNTAX)
        j += 1
    db = ctx.db
    stream, group = _group_of(db, key, group_name)
    attempts = count * 10
    now = ctx.store.now_ms()
    consumer = None
    claimed: list[Any] = []
    deleted: list[bytes] = []
    pending = list(group.pel.irange(start, MAX_ID))
    index = 0
    while attempts and count and index < len(pending):
        attempts -= 1
        sid = pending[index]
        index += 1
        if sid not in stream.entries:
            group.ack(sid)
            deleted.append(format_id(sid))
            count -= 1
            continue
        nack = group.pel[sid]
        if minidle and now - nack.delivery_time < minidle:
            continue
        if consumer is None:
            consumer = group.consumer(consumer_name, now)
        if nack.consumer is not consumer and nack.consumer is not None:
            nack.consumer.pel.pop(sid, None)
        nack.delivery_time = now
        if not justid:
            nack.delivery_count += 1
        if nack.consumer is not consumer:
            consumer.pel[sid] = nack
            nack.consumer = consumer
        claimed.append(_claimed(stream, sid, justid))
        count -= 1
    cursor = format_id(pending[index]) if index < len(pending) else b"0-0"
    if claimed or deleted:
        db.modified(key)
        ctx.store.dirty += 1
    return [cursor, claimed, deleted]


# -- XSETID -------------------------------------------------------------------------------


@command("xsetid", arity=-3, flags=("write", "denyoom", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="An internal command for replicating stream values", since="5.0.0",
         acl=("write", "stream", "fast"), key_specs=(_spec(("RW", "update")),))
def xsetid(ctx, key: bytes, raw_id: bytes, *args: bytes) -> Any:
    sid = strict_id(raw_id)
    entries_added = -1
    max_deleted = MIN_ID
    i = 0
    while i < len(args):
        moreargs = len(args) - 1 - i
        word = args[i].upper()
        if word == b"ENTRIESADDED" and moreargs:
            entries_added = parse_int(args[i + 1])
            if entries_added < 0:
                raise CommandError("ERR entries_added must be positive")
        elif word == b"MAXDELETEDID" and moreargs:
            max_deleted = strict_id(args[i + 1])
            if sid < max_deleted:
                raise CommandError("ERR The ID specified in XSETID is smaller than the "
                                   "provided max_deleted_entry_id")
        else:
            raise CommandError(SYNTAX)
        i += 2
    db = ctx.db
    stream = _stream(db, key)
    if stream is None:
        raise CommandError(NO_SUCH_KEY)
    if stream.entries:
        if sid < stream.last_entry_id():
            raise CommandError(
                "ERR The ID specified in XSETID is smaller than the target stream top item")
        if entries_added != -1 and len(stream) > entries_added:
            raise CommandError("ERR The entries_added specified in XSETID is smaller than the "
                               "target stream length")
    stream.last_id = sid
    if entries_added != -1:
        stream.entries_added = entries_added
    if max_deleted != MIN_ID:
        stream.max_deleted_id = max_deleted
    db.modified(key)
    ctx.store.dirty += 1
    return OK


# -- XGROUP -------------------------------------------------------------------------------

container("xgroup", group=GROUP, summary="A container for consumer groups commands",
          since="5.0.0")

_NEEDS_KEY = ("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you "
              "may want to use the MKSTREAM option to create an empty stream automatically.")


def _subcommand_syntax(name: bytes, container_name: str) -> CommandError:
    return SubcommandSyntax(container_name, c_text(name, 128))


def _xgroup_target(ctx, key: bytes, group_name: bytes, need_group: bool,
                   mkstream: bool = False) -> tuple[Stream | None, Group | None]:
    stream = _stream(ctx.db, key)
    if stream is None and not mkstream:
        raise CommandError(_NEEDS_KEY)
    group = stream.groups.get(group_name) if stream is not None else None
    if group is None and need_group:
        raise CommandError(f"NOGROUP No such consumer group '{_text(group_name)}' "
                           f"for key name '{_text(key)}'")
    return stream, group


def _entries_read(raw: bytes) -> int:
    value = parse_int(raw)
    if value < 0 and value != INVALID_ENTRIES_READ:
        raise CommandError("ERR value for ENTRIESREAD must be positive or -1")
    return value


_XGROUP_SPEC = (_spec(("RW", "insert"), index=2),)


@command("xgroup|create", arity=-5, flags=("write", "denyoom"), keys=(2, 2, 1), group=GROUP,
         summary="Create a consumer group.", since="5.0.0", acl=("write", "stream", "slow"),
         key_specs=_XGROUP_SPEC)
def xgroup_create(ctx, key: bytes, group_name: bytes, raw_id: bytes, *args: bytes) -> Any:
    mkstream = False
    entries_read = INVALID_ENTRIES_READ
    i = 0
    while i < len(args):
        word = args[i].upper()
        if word == b"MKSTREAM":
            mkstream = True
            i += 1
        elif word == b"ENTRIESREAD" and i + 1 < len(args):
            entries_read = _entries_read(args[i + 1])
            i += 2
        else:
            raise _subcommand_syntax(b"CREATE", "XGROUP")
    stream, group = _xgroup_target(ctx, key, group_name, False, mkstream)
    if raw_id == b"$":
        sid = stream.last_id if stream is not None else MIN_ID
    else:
        sid = strict_id(raw_id)
    db = ctx.db
    if stream is None:
        stream = Stream()
        db.set(key, stream)
    if group is not None:
        raise CommandError("BUSYGROUP Consumer Group name already exists")
    stream.groups[group_name] = Group(group_name, sid, entries_read)
    db.modified(key)
    ctx.store.dirty += 1
    return OK



@command("xgroup|setid", arity=-5, flags=("write",), keys=(2, 2, 1), group=GROUP,
         summary="Set a consumer group to an arbitrary last delivered ID value.", since="5.0.0",
         acl=("write", "stream", "slow"), key_specs=(_spec(("RW", "update"), index=2),))
def xgroup_setid(ctx, key: bytes, group_name: bytes, raw_id: bytes, *args: bytes) -> Any:
    # Redis checks the shape and ENTRIESREAD before it looks the key up.
    if len(args) not in (0, 2) or (args and args[0].upper() != b"ENTRIESREAD"):
        raise _subcommand_syntax(b"SETID", "XGROUP")
    entries_read = _entries_read(args[1]) if args else INVALID_ENTRIES_READ
    stream, group = _xgroup_target(ctx, key, group_name, True)
    assert stream is not None and group is not None
    sid = stream.last_id if raw_id == b"$" else parse_id(raw_id)[0]
    group.last_id = sid
    group.entries_read = entries_read
    ctx.db.modified(key)
    ctx.store.dirty += 1
    return OK


@command("xgroup|destroy", arity=4, flags=("write",), keys=(2, 2, 1), group=GROUP,
         summary="Destroy a consumer group.", since="5.0.0", acl=("write", "stream", "slow"),
         key_specs=(_spec(("RW", "delete"), index=2),))
def xgroup_destroy(ctx, key: bytes, group_name: bytes) -> int:
    stream, group = _xgroup_target(ctx, key, group_name, False)
    if group is None:
        return 0
    assert stream is not None
    del stream.groups[group_name]
    # Wakes the group's blocked readers, who get the NOGROUP error.
    ctx.db.pushed(key)
    ctx.store.dirty += 1
    return 1


@command("xgroup|createconsumer", arity=5, flags=("write", "denyoom"), keys=(2, 2, 1),
         group=GROUP, summary="Create a consumer in a consumer group.", since="6.2.0",
         acl=("write", "stream", "slow"), key_specs=_XGROUP_SPEC)
def xgroup_createconsumer(ctx, key: bytes, group_name: bytes, consumer_name: bytes) -> int:
    _, group = _xgroup_target(ctx, key, group_name, True)
    assert group is not None
    if consumer_name in group.consumers:
        return 0
    group.consumer(consumer_name, ctx.store.now_ms())
    ctx.db.modified(key)
    ctx.store.dirty += 1
    return 1


@command("xgroup|delconsumer", arity=5, flags=("write",), keys=(2, 2, 1), group=GROUP,
         summary="Delete a consumer from a consumer group.", since="5.0.0",
         acl=("write", "stream", "slow"), key_specs=(_spec(("RW", "delete"), index=2),))
def xgroup_delconsumer(ctx, key: bytes, group_name: bytes, consumer_name: bytes) -> int:
    _, group = _xgroup_target(ctx, key, group_name, True)
    assert group is not None
    consumer = group.consumers.pop(consumer_name, None)
    if consumer is None:
        return 0
    pending = len(consumer.pel)
    for sid in list(consumer.pel):
        del group.pel[sid]
    ctx.db.modified(key)
    ctx.store.dirty += 1
    return pending


_XGROUP_HELP = (
    "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
    "HELP",
    "    Prints this help.",
)


@command("xgroup|help", arity=2, flags=("loading", "stale"), group=GROUP, since="5.0.0",
         summary="Show helpful text about the different subcommands", acl=("stream", "slow"))
def xgroup_help(ctx) -> list[SimpleString]:
    """The subcommands of XGROUP, one status line each."""
    return [SimpleString(line.encode()) for line in _XGROUP_HELP]


# -- XINFO --------------------------------------------------------------------------------

container("xinfo", group=GROUP, summary="A container for stream introspection commands",
          since="5.0.0")

_XINFO_SPEC = (_spec(("RO", "access"), index=2),)


def _info_stream(ctx, key: bytes) -> Stream:
    stream = _stream(ctx.db, key)
    if stream is None:
        raise CommandError(NO_SUCH_KEY)
    return stream


def _entry_or_none(stream: Stream, sid: StreamID | None) -> Any:
    if sid is None:
        return None
    return [format_id(sid), list(stream.entries[sid])]


@command("xinfo|stream", arity=-3, flags=("readonly",), keys=(2, 2, 1), group=GROUP,
         summary="Get information about a stream", since="5.0.0",
         acl=("read", "stream", "slow"), key_specs=_XINFO_SPEC)
def xinfo_stream(ctx, key: bytes, *args: bytes) -> dict[bytes, Any]:
    stream = _info_stream(ctx, key)
    full = True
    count = 10
    if not args:
        full = False
    elif len(args) in (1, 3) and args[0].upper() == b"FULL":
        if len(args) == 3:
            if args[1].upper() != b"COUNT":
                raise _subcommand_syntax(b"STREAM", "XINFO")
            count = max(parse_int(args[2]), 0)
    else:
        raise _subcommand_syntax(b"STREAM", "XINFO")
    reply: dict[bytes, Any] = {
        b"length": len(stream),
        b"radix-tree-keys": stream.radix_tree_keys(),
        b"radix-tree-nodes": stream.radix_tree_nodes(),
        b"last-generated-id": format_id(stream.last_id),
        b"max-deleted-entry-id": format_id(stream.max_deleted_id),
        b"entries-added": stream.entries_added,
        b"recorded-first-entry-id": format_id(stream.first_id),
    }
    if not full:
        reply[b"groups"] = len(stream.groups)
        entries = stream.entries
        reply[b"first-entry"] = _entry_or_none(stream, entries.keys()[0] if entries else None)
        reply[b"last-entry"] = _entry_or_none(stream, entries.keys()[-1] if entries else None)
        return reply
    reply[b"entries"] = _entries(stream.range(MIN_ID, MAX_ID, count))
    groups = []
    for name in sorted(stream.groups):
        group = stream.groups[name]
        pel = list(group.pel.items())
        if count:
            pel = pel[:count]
        consumers = []
        for consumer in group.sorted_consumers():
            cpel = list(consumer.pel.items())
            if count:
                cpel = cpel[:count]
            consumers.append({
                b"name": consumer.name,
                b"seen-time": consumer.seen_time,
                b"pel-count": len(consumer.pel),
                b"pending": [[format_id(sid), n.delivery_time, n.delivery_count]
                             for sid, n in cpel],
            })
        groups.append({
            b"name": name,
            b"last-delivered-id": format_id(group.last_id),
            b"entries-read": None if group.entries_read == INVALID_ENTRIES_READ
            else group.entries_read,
            b"lag": stream.lag(group),
            b"pel-count": len(group.pel),
            b"pending": [[format_id(sid), n.consumer.name if n.consumer else b"",
                          n.delivery_time, n.delivery_count] for sid, n in pel],
            b"consumers": consumers,
        })
    reply[b"groups"] = groups
    return reply


@command("xinfo|groups", arity=3, flags=("readonly",), keys=(2, 2, 1), group=GROUP,
         summary="List the consumer groups of a stream", since="5.0.0",
         acl=("read", "stream", "slow"), key_specs=_XINFO_SPEC)
def xinfo_groups(ctx, key: bytes) -> list[dict[bytes, Any]]:
    stream = _info_stream(ctx, key)
    out = []
    for name in sorted(stream.groups):
        group = stream.groups[name]
        out.append({
            b"name": name,
            b"consumers": len(group.consumers),
            b"pending": len(group.pel),
            b"last-delivered-id": format_id(group.last_id),
            b"entries-read": None if group.entries_read == INVALID_ENTRIES_READ
            else group.entries_read,
            b"lag": stream.lag(group),
        })
    return out


@command("xinfo|consumers", arity=4, flags=("readonly",), keys=(2, 2, 1), group=GROUP,
         summary="List the consumers in a consumer group", since="5.0.0",
         acl=("read", "stream", "slow"), tips=("nondeterministic_output",),
         key_specs=_XINFO_SPEC)
def xinfo_consumers(ctx, key: bytes, group_name: bytes) -> list[dict[bytes, Any]]:
    stream = _info_stream(ctx, key)
    group = stream.groups.get(group_name)
    if group is None:
        raise CommandError(f"NOGROUP No such consumer group '{_text(group_name)}' "
                           f"for key name '{_text(key)}'")
    now = ctx.store.now_ms()
    return [{b"name": c.name, b"pending": len(c.pel), b"idle": max(now - c.seen_time, 0)}
            for c in group.sorted_consumers()]


_XINFO_HELP = (
    "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
    "HELP",
    "    Prints this help.",
)


@command("xinfo|help", arity=2, flags=("loading", "stale"), group=GROUP, since="5.0.0",
         summary="Show helpful text about the different subcommands", acl=("stream", "slow"))
def xinfo_help(ctx) -> list[SimpleString]:
    """The subcommands of XINFO, one status line each."""
    return [SimpleString(line.encode()) for line in _XINFO_HELP]


# -- persistence: what the AOF logs ---------------------------------------------------


def _xadd_id_index(argv: list[bytes]) -> int:
    """The position of XADD's ID argument, after NOMKSTREAM and the trim options."""
    index = 2
    while index < len(argv):
        word = argv[index].upper()
        if word == b"NOMKSTREAM":
            index += 1
        elif word in (b"MAXLEN", b"MINID"):
            index += 2 if argv[index + 1] in (b"=", b"~") else 1
            index += 1
        elif word == b"LIMIT":
            index += 2
        else:
            return index
    return index


@effects("xadd")
def _propagate_xadd(ctx: Any, argv: list[bytes], reply: Any) -> list[list[bytes]]:
    # An auto ID (* or ms-*) depends on the clock: log the ID it became, as Redis does.
    if not isinstance(reply, bytes):
        return [argv]
    index = _xadd_id_index(argv)
    return [argv[:index] + [reply] + argv[index + 1:]]


def _claim_effects(db: Database, key: bytes, group_name: bytes, consumer: bytes,
                   ids: list[bytes]) -> list[list[bytes]]:
    """Redis's streamPropagateXCLAIM: each pending entry as a forced claim with its state."""
    stream = db.peek(key)
    group = stream.groups.get(group_name) if isinstance(stream, Stream) else None
    if group is None:
        return []
    effects = []
    if consumer in group.consumers:
        # A consumer the command created: XCLAIM FORCE would create it too, but
        # one that ended up with nothing pending would be lost.
        effects.append([b"XGROUP", b"CREATECONSUMER", key, group_name, consumer])
    last_id = format_id(group.last_id)
    for raw in ids:
        nack = group.pel.get(strict_id(raw))
        if nack is None:
            continue
        effects.append([
            b"XCLAIM", key, group_name, consumer, b"0", raw,
            b"TIME", b"%d" % nack.delivery_time, b"RETRYCOUNT", b"%d" % nack.delivery_count,
            b"FORCE", b"JUSTID", b"LASTID", last_id])
    return effects


def _group_position(db: Database, key: bytes, group_name: bytes) -> list[list[bytes]]:
    stream = db.peek(key)
    group = stream.groups.get(group_name) if isinstance(stream, Stream) else None
    if group is None:
        return []
    return [[b"XGROUP", b"SETID", key, group_name, format_id(group.last_id),
             b"ENTRIESREAD", b"%d" % group.entries_read]]


def _entry_ids(entries: Any) -> list[bytes]:
    return [entry[0] for entry in entries or () if isinstance(entry, list) and entry]


@effects("xreadgroup")
def _propagate_xreadgroup(ctx: Any, argv: list[bytes], reply: Any) -> list[list[bytes]]:
    # The deliveries depend on the clock (delivery times) and, for history
    # reads, on the PEL: log their effects as forced claims and the group's
    # new position, as Redis does, so a replay rebuilds the same PELs.
    group_name, consumer = argv[2], argv[3]
    if isinstance(reply, dict):
        streams = list(reply.items())
    elif isinstance(reply, list):
        streams = [(item[0], item[1]) for item in reply]
    else:
        streams = []
    effects: list[list[bytes]] = []
    for key, entries in streams:
        effects += _claim_effects(ctx.db, key, group_name, consumer, _entry_ids(entries))
        effects += _group_position(ctx.db, key, group_name)
    return effects


@effects("xclaim")
def _propagate_xclaim(ctx: Any, argv: list[bytes], reply: Any) -> list[list[bytes]]:
    key, group_name, consumer = argv[1], argv[2], argv[3]
    ids = [item if isinstance(item, bytes) else item[0] for item in reply or ()
           if isinstance(item, bytes) or (isinstance(item, list) and item)]
    return _claim_effects(ctx.db, key, group_name, consumer, ids) + _group_position(
        ctx.db, key, group_name)


@effects("xautoclaim")
def _propagate_xautoclaim(ctx: Any, argv: list[bytes], reply: Any) -> list[list[bytes]]:
    key, group_name, consumer = argv[1], argv[2], argv[3]
    claimed = reply[1] if isinstance(reply, list) and len(reply) > 1 else []
    ids = [item if isinstance(item, bytes) else item[0] for item in claimed
           if isinstance(item, bytes) or (isinstance(item, list) and item)]
    effects = _claim_effects(ctx.db, key, group_name, consumer, ids)
    deleted = reply[2] if isinstance(reply, list) and len(reply) > 2 else []
    if deleted:
        # Entries deleted from the stream left the PEL as well.
        effects.append([b"XACK", key, group_name, *deleted])
    return effects
