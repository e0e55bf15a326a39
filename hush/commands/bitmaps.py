# -*- test-case-name: tests.commands.test_bitmaps -*-
"""Bit commands on strings: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD.

The bit arithmetic is :mod:`hush.formats.bits`, pinned byte for byte against
redis-server; this module reads the arguments in Redis 7.0's order (bitops.c:
which error a client sees first), looks the keys up as Redis does (reads
count keyspace hits and misses, SETBIT and BITFIELD's writes do not) and
stores the results. SETBIT and BITFIELD change a key's bytes in place: the
key holds a bytearray while bit commands work on it
(:mod:`hush.data.types.bitmap`). Everything they write, and BITOP's result,
is ``raw`` for OBJECT ENCODING, as in Redis.

Offsets are limited by proto-max-bulk-len (in bytes), except while the AOF
loads: Redis does not limit its AOF client either.
"""

from __future__ import annotations

from typing import Any

from hush.commands.args import parse_int, syntax_error
from hush.commands.table import command, range_spec
from hush.core.errors import CommandError
from hush.data.types import bitmap
from hush.formats import bits

GROUP = "bitmap"

_RO_ACCESS = (range_spec("RO", "access"),)


def _offset_limit(ctx) -> int | None:
    """The byte limit of bit offsets: proto-max-bulk-len, none for the AOF."""
    return None if ctx.store.loading else ctx.server.settings.proto_max_bulk_len


# -- single bits ------------------------------------------------------------------


@command("setbit", arity=4, flags=("write", "denyoom"), keys=(1, 1, 1), group=GROUP,
         since="2.2.0", acl=("@write", "@bitmap", "@slow"),
         summary="Sets or clears the bit at offset in the string value stored at key",
         key_specs=(range_spec("RW", "access", "update"),))
def setbit(ctx, key: bytes, offset: bytes, value: bytes) -> int:
    at = bits.parse_offset(offset, _offset_limit(ctx))
    on = bits.parse_bit_value(value)
    db = ctx.db
    buf = bitmap.buffer(db, key)
    if buf is None:
        buf = bytearray()
        old, _ = bits.setbit(buf, at, on)
        bitmap.store_new(db, key, buf)
        return old
    old, changed = bits.setbit(buf, at, on)
    if changed:
        db.modified(key)
    return old


@command("getbit", arity=3, flags=("readonly", "fast"), keys=(1, 1, 1), group=GROUP,
         since="2.2.0", acl=("@read", "@bitmap", "@fast"),
         summary="Returns the bit value at offset in the string value stored at key",
         key_specs=_RO_ACCESS)
def getbit(ctx, key: bytes, offset: bytes) -> int:
    at = bits.parse_offset(offset, _offset_limit(ctx))
    value = bitmap.read(ctx.db, key)
    return 0 if value is None else bits.getbit(value, at)


# -- counting and searching -------------------------------------------------------


@command("bitcount", arity=-2, flags=("readonly",), keys=(1, 1, 1), group=GROUP,
         since="2.6.0", acl=("@read", "@bitmap", "@slow"),
         summary="Count set bits in a string", key_specs=_RO_ACCESS)
def bitcount(ctx, key: bytes, *args: bytes) -> int:
    # The key comes first: a missing key counts 0 whatever the arguments.
    value = bitmap.read(ctx.db, key)
    if value is None:
        return 0
    if not args:
        return bits.bitcount(value)
    if len(args) not in (2, 3):
        raise syntax_error()
    start = parse_int(args[0])
    end = parse_int(args[1])
    return bits.bitcount(value, start, end, args[2] if len(args) == 3 else None)


@command("bitpos", arity=-3, flags=("readonly",), keys=(1, 1, 1), group=GROUP,
         since="2.8.7", acl=("@read", "@bitmap", "@slow"),
         summary="Find first bit set or clear in a string", key_specs=_RO_ACCESS)
def bitpos(ctx, key: bytes, bit_arg: bytes, *args: bytes) -> int:
    bit = bits.parse_bitpos_bit(bit_arg)
    value = bitmap.read(ctx.db, key)
    if value is None:
        # A missing key is an endless run of clear bits.
        return -1 if bit else 0
    if not args:
        return bits.bitpos(value, bit)
    if len(args) > 3:
        raise syntax_error()
    start = parse_int(args[0])
    unit = args[2] if len(args) == 3 else None
    if unit is not None:
        # Redis reads the unit before the end.
        bits.parse_unit(unit)
    end = parse_int(args[1]) if len(args) >= 2 else None
    return bits.bitpos(value, bit, start, end, unit)


# -- BITOP ------------------------------------------------------------------------


@command("bitop", arity=-4, flags=("write", "denyoom"), keys=(2, -1, 1), group=GROUP,
         since="2.6.0", acl=("@write", "@bitmap", "@slow"),
         summary="Perform bitwise operations between strings",
         key_specs=(range_spec("OW", "update", index=2),
                    range_spec("RO", "access", index=3, lastkey=-1)))
def bitop(ctx, operation: bytes, destination: bytes, *sources: bytes) -> int:
    op = bits.parse_bitop(operation)
    bits.check_bitop_sources(op, len(sources))
    db = ctx.db
    values = [bitmap.read(db, source) for source in sources]
    result = bits.bitop(op, values)
    if result:
        bitmap.store_new(db, destination, result)
    else:
        # Every source empty: the destination goes, as Redis's dbDelete.
        db.delete(destination)
    return len(result)


# -- BITFIELD ---------------------------------------------------------------------

#: Arguments after a BITFIELD subcommand's name.
_OPERANDS = {b"GET": 2, b"SET": 3, b"INCRBY": 3}


def _bitfield_ops(ctx, args: tuple[bytes, ...]) -> list[bits.BitfieldOp]:
    """BITFIELD's subcommands in order, checked as Redis reads them (all before any runs)."""
    ops = []
    overflow = "WRAP"
    limit = _offset_limit(ctx)
    index = 0
    while index < len(args):
        name = args[index].upper()
        left = len(args) - index - 1
        if name == b"OVERFLOW" and left >= 1:
            overflow = bits.parse_overflow(args[index + 1])
            index += 2
            continue
        needed = _OPERANDS.get(name)
        if needed is None or left < needed:
            raise syntax_error()
        signed, width = bits.parse_bitfield_type(args[index + 1])
        offset = bits.parse_offset(args[index + 2], limit, hash_bits=width)
        amount = parse_int(args[index + 3]) if needed == 3 else 0
        ops.append(bits.BitfieldOp(name.decode(), signed, width, offset, amount, overflow))
        index += needed + 1
    return ops


def _bitfield(ctx, key: bytes, args: tuple[bytes, ...], readonly: bool) -> list[int | None]:
    ops = _bitfield_ops(ctx, args)
    db = ctx.db
    if bits.bitfield_write_extent(ops) is None:
        _, replies, _ = bits.bitfield(bitmap.read(db, key), ops)
        return replies
    if readonly:
        raise CommandError(bits.BITFIELD_RO_GET_ONLY)
    buf = bitmap.buffer(db, key)
    value, replies, changes = bits.bitfield(buf, ops)
    if buf is None:
        # Redis creates the key before running the subcommands.
        bitmap.store_new(db, key, value)
    elif changes:
        db.modified(key)
    return replies


@command("bitfield", arity=-2, flags=("write", "denyoom"), keys=(1, 1, 1), group=GROUP,
         since="3.2.0", acl=("@write", "@bitmap", "@slow"),
         summary="Perform arbitrary bitfield integer operations on strings",
         key_specs=(range_spec("RW", "access", "update", "variable_flags",
                               notes="This command allows both access and modification "
                                     "of the key"),))
def bitfield(ctx, key: bytes, *args: bytes) -> list[Any]:
    return _bitfield(ctx, key, args, readonly=False)


@command("bitfield_ro", arity=-2, flags=("readonly", "fast"), keys=(1, 1, 1), group=GROUP,
         since="6.0.0", acl=("@read", "@bitmap", "@fast"),
         summary="Perform arbitrary bitfield integer operations on strings. "
                 "Read-only variant of BITFIELD",
         key_specs=_RO_ACCESS)
def bitfield_ro(ctx, key: bytes, *args: bytes) -> list[Any]:
    return _bitfield(ctx, key, args, readonly=True)
