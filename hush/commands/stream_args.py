# -*- test-case-name: tests.commands.test_streams -*-
"""What the stream commands share: ID arguments, XREAD's options, lookups,
key specs and the shape of entry replies, with Redis 7.0's error texts.

The commands are in :mod:`hush.commands.streams` (entries, XREAD, XINFO) and
:mod:`hush.commands.stream_groups` (consumer groups); the value type is
:mod:`hush.data.types.stream`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hush.commands.args import parse_int
from hush.core.errors import SYNTAX, CommandError, SubcommandSyntax, WrongType, c_text
from hush.data.store import Database
from hush.data.types.stream import (
    MAX_ID,
    MIN_ID,
    UINT64_MAX,
    Group,
    Stream,
    StreamID,
    decr_id,
    format_id,
    incr_id,
)
from hush.wire.resp import RespMap

INVALID_ID = "ERR Invalid stream ID specified as stream command argument"


# -- key specs, as COMMAND INFO reports them ----------------------------------------------


def key_spec(flags: tuple[str, ...], index: int = 1, notes: str | None = None) -> dict[str, Any]:
    """One key at ``index``."""
    spec: dict[str, Any] = {}
    if notes:
        spec["notes"] = notes
    spec.update({
        "flags": list(flags),
        "begin_search": {"type": "index", "spec": {"index": index}},
        "find_keys": {"type": "range", "spec": {"lastkey": 0, "keystep": 1, "limit": 0}},
    })
    return spec


def streams_key_spec(startfrom: int) -> dict[str, Any]:
    """XREAD's keys: the first half of what follows STREAMS."""
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


def interval_start(raw: bytes) -> StreamID:
    """The start of a range: an ID (missing sequence 0), ``-``, or ``(ID`` exclusive."""
    if len(raw) > 1 and raw[:1] == b"(":
        sid = incr_id(parse_id(raw[1:], 0, strict=True)[0])
        if sid is None:
            raise CommandError("ERR invalid start ID for the interval")
        return sid
    return parse_id(raw, 0)[0]


def interval_end(raw: bytes) -> StreamID:
    """The end of a range: an ID (missing sequence the largest), ``+``, or ``(ID``."""
    if len(raw) > 1 and raw[:1] == b"(":
        sid = decr_id(parse_id(raw[1:], UINT64_MAX, strict=True)[0])
        if sid is None:
            raise CommandError("ERR invalid end ID for the interval")
        return sid
    return parse_id(raw, UINT64_MAX)[0]


# -- XREAD and XREADGROUP's options ---------------------------------------------------


@dataclass
class ReadArgs:
    """XREAD's or XREADGROUP's options and streams, as parsed (nothing looked up)."""

    timeout: float | None
    count: int
    group: bytes | None
    consumer: bytes | None
    noack: bool
    keys: tuple[bytes, ...]
    raw_ids: tuple[bytes, ...]


def parse_read(ctx, args: tuple[bytes, ...], xreadgroup: bool) -> ReadArgs:
    """Redis's xreadCommand option loop: BLOCK, COUNT, GROUP, NOACK, then STREAMS."""
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
                raise CommandError(f"ERR {c_text(ctx.typed_name)} command is not allowed with "
                                   "BLOCK option from scripts")
            i += 1
            timeout = block_timeout(args[i])
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
    return ReadArgs(timeout, count, group_name, consumer_name, noack,
                    args[streams_at:streams_at + nstreams], args[streams_at + nstreams:])


def block_timeout(raw: bytes) -> float:
    """BLOCK's milliseconds (Redis's getTimeoutFromObjectOrReply in ms: integers only)."""
    ms = parse_int(raw, "ERR timeout is not an integer or out of range")
    if ms < 0:
        raise CommandError("ERR timeout is negative")
    return ms / 1000


# -- lookups and errors ------------------------------------------------------------------


def stream_at(db: Database, key: bytes) -> Stream | None:
    """The stream at ``key``, None if absent; WRONGTYPE for other types."""
    value = db.get(key)
    if value is not None and value.__class__ is not Stream:
        raise WrongType()
    return value


def nogroup(key: bytes, group: bytes) -> CommandError:
    """Redis's NOGROUP error for a missing key or group."""
    return CommandError(
        f"NOGROUP No such key '{c_text(key)}' or consumer group '{c_text(group)}'")


def group_of(db: Database, key: bytes, name: bytes) -> tuple[Stream, Group]:
    """The stream at ``key`` and its group ``name``; NOGROUP if either is missing."""
    stream = stream_at(db, key)
    group = stream.groups.get(name) if stream is not None else None
    if group is None:
        raise nogroup(key, name)
    return stream, group


def subcommand_syntax(name: bytes, container_name: str) -> CommandError:
    """The error of a container's subcommand called with the wrong arguments."""
    return SubcommandSyntax(container_name, c_text(name, 128))


# -- replies ------------------------------------------------------------------------------


def entries_reply(items: list[tuple[StreamID, list[bytes]]]) -> list[Any]:
    """Entries as Redis replies with them: [[id, [field, value, ...]], ...]."""
    return [[format_id(sid), list(fields)] for sid, fields in items]


def streams_reply(ctx, served: list[tuple[bytes, list[Any]]]) -> Any:
    """XREAD's reply: per stream its key and its entries."""
    if ctx.resp3:
        # A map, though a stream named twice appears twice, as in Redis.
        return RespMap(served)
    return [[key, items] for key, items in served]
