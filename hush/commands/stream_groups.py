# -*- test-case-name: tests.commands.test_streams -*-
"""Stream consumer groups (XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM),
as Redis 7.0.

A group delivers a stream's entries to its consumers and remembers each
delivery in its pending entries list (PEL) until XACK; XCLAIM and XAUTOCLAIM
move pending entries between consumers (:class:`hush.data.types.stream.Group`).
XGROUP DESTROY calls ``db.pushed`` so the group's blocked XREADGROUP clients
get Redis's NOGROUP error; a blocked XREADGROUP whose key is deleted or
overwritten is woken by the store (it signals blocked keys on removal) and
gets Redis's UNBLOCKED error. Deliveries and claims depend on the clock, so
they propagate as forced claims with their state, as Redis's do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hush.commands.args import parse_int
from hush.commands.stream_args import (
    group_of,
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
from hush.core.errors import SYNTAX, CommandError, c_text
from hush.data.blocking import SKIP, Block
from hush.data.store import Database
from hush.data.types.stream import (
    INVALID_ENTRIES_READ,
    MAX_ID,
    MIN_ID,
    Group,
    Nack,
    Stream,
    StreamID,
    format_id,
    incr_id,
)
from hush.wire.resp import NULL_ARRAY, OK

GROUP = "stream"

_UNBLOCKED_GONE = "UNBLOCKED the stream key no longer exists"
_UNBLOCKED_NOGROUP = "NOGROUP the consumer group this client was blocked on no longer exists"


# -- XREADGROUP ---------------------------------------------------------------------------


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
        return streams_reply(ctx, [(key, items)])

    return serve


@command("xreadgroup", arity=-7, flags=("write", "blocking", "movablekeys"), group=GROUP,
         summary="Return new entries from a stream using a consumer group, or access the "
                 "history of the pending entries for a given consumer. Can block.",
         since="5.0.0", acl=("write", "stream", "slow", "blocking"),
         key_specs=(streams_key_spec(4),))
def xreadgroup(ctx, *args: bytes) -> Any:
    parsed = parse_read(ctx, args, xreadgroup=True)
    keys = parsed.keys
    group_name = parsed.group
    consumer_name = parsed.consumer
    count = parsed.count
    db = ctx.db
    ids: list[StreamID] = []
    for key, raw in zip(keys, parsed.raw_ids, strict=True):
        stream = stream_at(db, key)
        if stream is None or group_name not in stream.groups:
            raise CommandError(
                f"NOGROUP No such key '{c_text(key)}' or consumer group "
                f"'{c_text(group_name)}' in XREADGROUP with GROUP option")
        if raw == b"$":
            raise CommandError(
                "ERR The $ ID is meaningless in the context of XREADGROUP: you want to "
                "read the history of this consumer by specifying a proper ID, or use the "
                "> ID to get new messages. The $ ID would just return an empty result set.")
        ids.append(_GREATER if raw == b">" else strict_id(raw))
    now = ctx.store.now_ms()
    served: list[tuple[bytes, list[Any]]] = []
    for key, gt in zip(keys, ids, strict=True):
        stream = db.get(key)
        if stream is None:
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
            items = _read_group_range(stream, group, consumer, start, count, parsed.noack, now)
            served.append((key, items))
    if served:
        ctx.store.dirty += 1
        return streams_reply(ctx, served)
    if parsed.timeout is None or ctx.in_multi:
        return NULL_ARRAY
    serve = _xreadgroup_serve(ctx, db, group_name, consumer_name, count, parsed.noack)
    return Block(keys, parsed.timeout, serve, NULL_ARRAY)


# -- XACK, XPENDING, XCLAIM, XAUTOCLAIM -------------------------------------------------------


@command("xack", arity=-4, flags=("write", "fast"), keys=(1, 1, 1), group=GROUP,
         summary="Marks a pending message as correctly processed, effectively removing it from "
                 "the pending entries list of the consumer group. Return value of the command "
                 "is the number of messages successfully acknowledged, that is, the IDs we "
                 "were actually able to resolve in the PEL.",
         since="5.0.0", acl=("write", "stream", "fast"), key_specs=(key_spec(("RW", "update")),))
def xack(ctx, key: bytes, group_name: bytes, *raw_ids: bytes) -> int:
    db = ctx.db
    stream = stream_at(db, key)
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
         key_specs=(key_spec(("RO", "access")),))
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
        start = interval_start(args[at])
        end = interval_end(args[at + 1])
        if at + 3 < len(args):
            consumer_name = args[at + 3]
    _, group = group_of(ctx.db, key, group_name)
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
         key_specs=(key_spec(("RW", "update")),))
def xclaim(ctx, key: bytes, group_name: bytes, consumer_name: bytes, raw_idle: bytes,
           *args: bytes) -> list[Any]:
    db = ctx.db
    stream, group = group_of(db, key, group_name)
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
            raise CommandError(f"ERR Unrecognized XCLAIM option '{c_text(args[j])}'")
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
        group.claim(sid, nack, consumer)
        nack.delivery_time = delivery
        if retrycount >= 0:
            nack.delivery_count = retrycount
        elif not justid:
            nack.delivery_count += 1
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
         key_specs=(key_spec(("RW", "delete")),))
def xautoclaim(ctx, key: bytes, group_name: bytes, consumer_name: bytes, raw_idle: bytes,
               raw_start: bytes, *args: bytes) -> list[Any]:
    minidle = max(parse_int(raw_idle, "ERR Invalid min-idle-time argument for XAUTOCLAIM"), 0)
    start = interval_start(raw_start)
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
    stream, group = group_of(db, key, group_name)
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
        group.claim(sid, nack, consumer)
        nack.delivery_time = now
        if not justid:
            nack.delivery_count += 1
        claimed.append(_claimed(stream, sid, justid))
        count -= 1
    cursor = format_id(pending[index]) if index < len(pending) else b"0-0"
    if claimed or deleted:
        db.modified(key)
        ctx.store.dirty += 1
    return [cursor, claimed, deleted]


# -- XGROUP -------------------------------------------------------------------------------

container("xgroup", group=GROUP, summary="A container for consumer groups commands",
          since="5.0.0")

_NEEDS_KEY = ("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you "
              "may want to use the MKSTREAM option to create an empty stream automatically.")


def _xgroup_target(ctx, key: bytes, group_name: bytes, need_group: bool,
                   mkstream: bool = False) -> tuple[Stream | None, Group | None]:
    stream = stream_at(ctx.db, key)
    if stream is None and not mkstream:
        raise CommandError(_NEEDS_KEY)
    group = stream.groups.get(group_name) if stream is not None else None
    if group is None and need_group:
        raise CommandError(f"NOGROUP No such consumer group '{c_text(group_name)}' "
                           f"for key name '{c_text(key)}'")
    return stream, group


def _entries_read(raw: bytes) -> int:
    value = parse_int(raw)
    if value < 0 and value != INVALID_ENTRIES_READ:
        raise CommandError("ERR value for ENTRIESREAD must be positive or -1")
    return value


_XGROUP_SPEC = (key_spec(("RW", "insert"), index=2),)


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
            raise subcommand_syntax(b"CREATE", "XGROUP")
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
         acl=("write", "stream", "slow"), key_specs=(key_spec(("RW", "update"), index=2),))
def xgroup_setid(ctx, key: bytes, group_name: bytes, raw_id: bytes, *args: bytes) -> Any:
    # Redis checks the shape and ENTRIESREAD before it looks the key up.
    if len(args) not in (0, 2) or (args and args[0].upper() != b"ENTRIESREAD"):
        raise subcommand_syntax(b"SETID", "XGROUP")
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
         key_specs=(key_spec(("RW", "delete"), index=2),))
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
         acl=("write", "stream", "slow"), key_specs=(key_spec(("RW", "delete"), index=2),))
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


help_command("xgroup", _XGROUP_HELP, group=GROUP, since="5.0.0", acl=("stream", "slow"))


# -- what group commands propagate ------------------------------------------------------


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
