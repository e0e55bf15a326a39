# -*- test-case-name: tests.commands.test_streams -*-
"""Stream commands on entries (XADD, XTRIM, XRANGE, XDEL, XREAD, XSETID) and XINFO,
as Redis 7.0.

Values are :class:`hush.data.types.stream.Stream`. Unlike other containers a stream is
not deleted when it becomes empty. XADD calls ``db.pushed`` so blocked XREAD and
XREADGROUP clients are served after the command replies. Consumer groups are
:mod:`hush.commands.stream_groups`; ID arguments and reply shapes are
:mod:`hush.commands.stream_args`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hush.commands.args import parse_int
from hush.commands.stream_args import (
    entries_reply,
    interval_end,
    interval_start,
    key_spec,
    parse_id,
    parse_read,
    stream_at,
    streams_key_spec,
    streams_reply,
    strict_id,
    subcommand_syntax,
)
from hush.commands.table import command, container, effects, help_command
from hush.core.errors import NO_SUCH_KEY, SYNTAX, CommandError, c_text, wrong_arity
from hush.data.blocking import SKIP, Block
from hush.data.store import Database
from hush.data.types.registry import LIMITS
from hush.data.types.stream import (
    INVALID_ENTRIES_READ,
    MAX_ID,
    MIN_ID,
    UINT64_MAX,
    Stream,
    StreamID,
    format_id,
    incr_id,
)
from hush.wire.resp import NULL_ARRAY, OK

GROUP = "stream"

_TOP_ITEM = "ERR The ID specified in XADD is equal or smaller than the target stream top item"


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
        # At most 100 nodes' worth, within Redis's bounds.
        parsed.limit = 100 * LIMITS.stream_node_max_entries
        if parsed.limit <= 0:
            parsed.limit = 10000
        elif parsed.limit > 1000000:
            parsed.limit = 1000000
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
         key_specs=(key_spec(("RW", "update"), notes="UPDATE instead of INSERT because of the "
                          "optional trimming feature"),))
def xadd(ctx, key: bytes, *args: bytes) -> Any:
    parsed, i = _parse_add_or_trim(args, 0, True)
    fields = args[i + 1:]
    if len(fields) < 2 or len(fields) % 2:
        raise wrong_arity("xadd")
    if parsed.id_given and parsed.seq_given and parsed.sid == MIN_ID:
        raise CommandError("ERR The ID specified in XADD must be greater than 0-0")
    db = ctx.db
    stream = stream_at(db, key)
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
         key_specs=(key_spec(("RW", "delete")),))
def xtrim(ctx, key: bytes, *args: bytes) -> int:
    parsed, _ = _parse_add_or_trim(args, 0, False)
    db = ctx.db
    stream = stream_at(db, key)
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
         acl=("read", "stream", "fast"), key_specs=(key_spec(("RO",)),))
def xlen(ctx, key: bytes) -> int:
    stream = stream_at(ctx.db, key)
    return 0 if stream is None else len(stream)


def _range(ctx, key: bytes, low: bytes, high: bytes, args: tuple[bytes, ...],
           reverse: bool) -> Any:
    start = interval_start(low)
    end = interval_end(high)
    count = -1
    i = 0
    while i < len(args):
        if args[i].upper() == b"COUNT" and i + 1 < len(args):
            count = max(parse_int(args[i + 1]), 0)
            i += 2
        else:
            raise CommandError(SYNTAX)
    stream = stream_at(ctx.db, key)
    if stream is None:
        return []
    if count == 0:
        return NULL_ARRAY
    if reverse:
        items = stream.range(start, end, max(count, 0), reverse=True)
    else:
        items = stream.range(start, end, max(count, 0))
    return entries_reply(items)


@command("xrange", arity=-4, flags=("readonly",), keys=(1, 1, 1), group=GROUP,
         summary="Return a range of elements in a stream, with IDs matching the specified "
                 "IDs interval",
         since="5.0.0", acl=("read", "stream", "slow"), key_specs=(key_spec(("RO", "access")),))
def xrange(ctx, key: bytes, start: bytes, end: bytes, *args: bytes) -> Any:
    return _range(ctx, key, start, end, args, False)


@command("xrevrange", arity=-4, flags=("readonly",), keys=(1, 1, 1), group=GROUP,
         summary="Return a range of elements in a stream, with IDs matching the specified "
                 "IDs interval, in reverse order (from greater to smaller IDs) compared to "
                 "XRANGE",
         since="5.0.0", acl=("read", "stream", "slow"), key_specs=(key_spec(("RO", "access")),))
def xrevrange(ctx, key: bytes, end: bytes, start: bytes, *args: bytes) -> Any:
    return _range(ctx, key, start, end, args, True)


@command("xdel", arity=-3, flags=("write", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Removes the specified entries from the stream. Returns the number of items "
                 "actually deleted, that may be different from the number of IDs passed in "
                 "case certain IDs do not exist.",
         since="5.0.0", acl=("write", "stream", "fast"), key_specs=(key_spec(("RW", "delete")),))
def xdel(ctx, key: bytes, *raw_ids: bytes) -> int:
    db = ctx.db
    stream = stream_at(db, key)
    if stream is None:
        return 0
    # All IDs are checked before any entry goes (and only for a stream).
    ids = [strict_id(raw) for raw in raw_ids]
    deleted = sum(1 for sid in ids if stream.delete(sid))
    if deleted:
        db.modified(key)
        ctx.store.dirty += deleted
    return deleted


# -- XREAD ----------------------------------------------------------------------------------


@command("xread", arity=-4, flags=("readonly", "blocking", "movablekeys"), group=GROUP,
         summary="Return never seen elements in multiple streams, with IDs greater than the "
                 "ones reported by the caller for each stream. Can block.",
         since="5.0.0", acl=("read", "stream", "slow", "blocking"),
         key_specs=(streams_key_spec(1),))
def xread(ctx, *args: bytes) -> Any:
    parsed = parse_read(ctx, args, xreadgroup=False)
    keys = parsed.keys
    count = parsed.count
    db = ctx.db
    ids: list[StreamID] = []
    for key, raw in zip(keys, parsed.raw_ids, strict=True):
        stream = stream_at(db, key)
        if raw == b"$":
            ids.append(stream.last_id if stream is not None else MIN_ID)
        elif raw == b">":
            raise CommandError(
                "ERR The > ID can be specified only when calling XREADGROUP using the "
                "GROUP <group> <consumer> option.")
        else:
            ids.append(strict_id(raw))
    served: list[tuple[bytes, list[Any]]] = []
    for key, gt in zip(keys, ids, strict=True):
        stream = db.get(key)
        if stream is not None and stream.entries and stream.last_entry_id() > gt:
            served.append((key, entries_reply(stream.range(incr_id(gt), MAX_ID, count))))
    if served:
        return streams_reply(ctx, served)
    if parsed.timeout is None or ctx.in_multi:
        return NULL_ARRAY
    serve = _xread_serve(ctx, db, dict(zip(keys, ids, strict=True)), count)
    return Block(keys, parsed.timeout, serve, NULL_ARRAY)


def _xread_serve(ctx, db: Database, waits: dict[bytes, StreamID],
                 count: int) -> Callable[[bytes], Any]:
    def serve(key: bytes) -> Any:
        stream = db.get(key)
        if stream is None or stream.__class__ is not Stream:
            return SKIP
        gt = waits[key]
        if stream.last_id <= gt:
            return SKIP
        items = entries_reply(stream.range(incr_id(gt), MAX_ID, count))
        return streams_reply(ctx, [(key, items)])

    return serve


# -- XSETID -------------------------------------------------------------------------------


@command("xsetid", arity=-3, flags=("write", "denyoom", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="An internal command for replicating stream values", since="5.0.0",
         acl=("write", "stream", "fast"), key_specs=(key_spec(("RW", "update")),))
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
    stream = stream_at(db, key)
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


# -- XINFO --------------------------------------------------------------------------------

container("xinfo", group=GROUP, summary="A container for stream introspection commands",
          since="5.0.0")

_XINFO_SPEC = (key_spec(("RO", "access"), index=2),)


def _info_stream(ctx, key: bytes) -> Stream:
    stream = stream_at(ctx.db, key)
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
                raise subcommand_syntax(b"STREAM", "XINFO")
            count = max(parse_int(args[2]), 0)
    else:
        raise subcommand_syntax(b"STREAM", "XINFO")
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
    reply[b"entries"] = entries_reply(stream.range(MIN_ID, MAX_ID, count))
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
        raise CommandError(f"NOGROUP No such consumer group '{c_text(group_name)}' "
                           f"for key name '{c_text(key)}'")
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


help_command("xinfo", _XINFO_HELP, group=GROUP, since="5.0.0", acl=("stream", "slow"))


# -- what XADD propagates ------------------------------------------------------------


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
