"""Bit operations on strings (hush.formats.bits) against Redis 7.0's bitops.c.

The differential tests run random SETBIT/GETBIT/BITCOUNT/BITPOS/BITOP/
BITFIELD scripts (fixed seeds) on a real redis-server and on a small model
of the commands built on this module's API, comparing every reply and the
bytes of the keys.
"""

from __future__ import annotations

import random

import pytest

from hush.core.errors import NOT_INTEGER, SYNTAX, CommandError
from hush.formats import bits
from tests.differential.harness import ParsedConnection

LIMIT = 512 * 1024 * 1024  # proto-max-bulk-len


def _int(arg: bytes) -> int:
    value = bits._string2ll(arg)
    if value is None:
        raise CommandError(NOT_INTEGER)
    return value


class Model:
    """The bit commands over a dict of string values, as handlers will be."""

    def __init__(self) -> None:
        self.keys: dict[bytes, bytearray] = {}

    def run(self, *args: bytes):
        try:
            return getattr(self, args[0].decode().lower())(*args[1:])
        except CommandError as err:
            return ("error", err.message)

    def set(self, key: bytes, value: bytes):
        self.keys[key] = bytearray(value)
        return b"OK"

    def setbit(self, key: bytes, offset: bytes, value: bytes) -> int:
        position = bits.parse_offset(offset, LIMIT)
        on = bits.parse_bit_value(value)
        buf = self.keys.setdefault(key, bytearray())
        old, _ = bits.setbit(buf, position, on)
        return old

    def getbit(self, key: bytes, offset: bytes) -> int:
        position = bits.parse_offset(offset, LIMIT)
        return bits.getbit(self.keys[key], position) if key in self.keys else 0

    def bitcount(self, key: bytes, *rest: bytes) -> int:
        if key not in self.keys:
            return 0
        if len(rest) not in (0, 2, 3):
            raise CommandError(SYNTAX)
        if not rest:
            return bits.bitcount(self.keys[key])
        start, end = _int(rest[0]), _int(rest[1])
        return bits.bitcount(self.keys[key], start, end, rest[2] if len(rest) == 3 else None)

    def bitpos(self, key: bytes, bit: bytes, *rest: bytes) -> int:
        wanted = bits.parse_bitpos_bit(bit)
        if key not in self.keys:
            return -1 if wanted else 0
        if len(rest) > 3:
            raise CommandError(SYNTAX)
        start = _int(rest[0]) if rest else None
        unit = rest[2] if len(rest) == 3 else None
        if unit is not None:
            bits.parse_unit(unit)
        end = _int(rest[1]) if len(rest) >= 2 else None
        return bits.bitpos(self.keys[key], wanted, start, end, unit)

    def bitop(self, op: bytes, dest: bytes, *sources: bytes) -> int:
        name = bits.parse_bitop(op)
        bits.check_bitop_sources(name, len(sources))
        result = bits.bitop(name, [self.keys.get(k) for k in sources])
        if result:
            self.keys[dest] = bytearray(result)
        else:
            self.keys.pop(dest, None)
        return len(result)

    def bitfield(self, key: bytes, *args: bytes):
        return self._bitfield(key, args, read_only=False)

    def bitfield_ro(self, key: bytes, *args: bytes):
        return self._bitfield(key, args, read_only=True)

    def _bitfield(self, key: bytes, args, read_only: bool):
        ops = []
        overflow = "WRAP"
        i = 0
        while i < len(args):
            sub, left = args[i].lower(), len(args) - i - 1
            if sub == b"overflow" and left >= 1:
                overflow = bits.parse_overflow(args[i + 1])
                i += 2
                continue
            if not ((sub == b"get" and left >= 2) or (sub in (b"set", b"incrby") and left >= 3)):
                raise CommandError(SYNTAX)
            signed, width = bits.parse_bitfield_type(args[i + 1])
            offset = bits.parse_offset(args[i + 2], LIMIT, hash_bits=width)
            value = 0 if sub == b"get" else _int(args[i + 3])
            ops.append(bits.BitfieldOp(sub.decode().upper(), signed, width, offset, value, overflow))
            i += 3 if sub == b"get" else 4
        if read_only and bits.bitfield_write_extent(ops) is not None:
            raise CommandError(bits.BITFIELD_RO_GET_ONLY)
        value, replies, _ = bits.bitfield(self.keys.get(key), ops)
        if value is not None:
            self.keys[key] = value
        return replies


def _same(real: ParsedConnection, model: Model, *args):
    args = tuple(a if isinstance(a, bytes) else str(a).encode() for a in args)
    ours, theirs = model.run(*args), real.run(*args)
    assert ours == theirs, (args[:6], ours, theirs)
    return ours


def _check_keys(real: ParsedConnection, model: Model) -> None:
    for key, value in model.keys.items():
        assert real.run("GET", key) == bytes(value), key
    assert real.run("DBSIZE") == len(model.keys)


# -- unit tests ---------------------------------------------------------------------


def test_offsets_and_types():
    assert bits.parse_offset(b"0", LIMIT) == 0
    assert bits.parse_offset(b"4294967295", LIMIT) == 4294967295
    assert bits.parse_offset(b"#3", LIMIT, hash_bits=8) == 24
    for bad in (b"-1", b"01", b"+1", b" 1", b"1.0", b"", b"#3", b"4294967296"):
        with pytest.raises(CommandError) as err:
            bits.parse_offset(bad, LIMIT)
        assert err.value.message == "ERR bit offset is not an integer or out of range"
    assert bits.parse_offset(b"4294967296", None) == 4294967296  # master, AOF
    assert bits.parse_bitfield_type(b"i64") == (True, 64)
    assert bits.parse_bitfield_type(b"u63") == (False, 63)
    assert bits.parse_bitfield_type(b"u8\0junk") == (False, 8)
    for bad in (b"u64", b"i65", b"i0", b"x8", b"", b"I8", b"u08"):
        with pytest.raises(CommandError):
            bits.parse_bitfield_type(bad)


def test_setbit_grows_once_and_reports_changes():
    buf = bytearray()
    assert bits.setbit(buf, 17, 1) == (0, True)
    assert buf == b"\x00\x00\x40"
    assert bits.setbit(buf, 17, 1) == (1, False)
    assert bits.setbit(buf, 3, 0) == (0, False)
    assert bits.setbit(buf, 40, 0) == (0, True)  # grew: a change even with a 0
    assert len(buf) == 6
    assert bits.getbit(buf, 17) == 1 and bits.getbit(buf, 10**9) == 0


def test_bitcount_and_bitpos_of_long_strings():
    value = bytes(3 << 20) + b"\x01" + b"\xff" * (2 << 20)
    assert bits.bitcount(value) == 1 + 8 * (2 << 20)
    assert bits.bitpos(value, 1) == (3 << 20) * 8 + 7
    assert bits.bitpos(value, 0, 3 << 20) == (3 << 20) * 8
    assert bits.bitpos(b"\xff" * 100, 0) == 800  # past the end: zero padded
    assert bits.bitpos(b"\xff" * 100, 0, 0, -1) == -1  # not with an explicit end
    assert bits.bitpos(b"\x00" * 100, 1) == -1


def test_bitop_pads_short_sources():
    assert bits.bitop("AND", [b"\xff\xff", b"\x0f"]) == b"\x0f\x00"
    assert bits.bitop("OR", [b"\x01", None, b"\x00\x02"]) == b"\x01\x02"
    assert bits.bitop("XOR", [b"\xff", b"\xff\xff"]) == b"\x00\xff"
    assert bits.bitop("NOT", [b"\x0f\xf0"]) == b"\xf0\x0f"
    assert bits.bitop("AND", [None, None]) == b""


@pytest.mark.parametrize("signed,width,value,incr,overflow,expected", [
    (False, 8, 250, 10, "WRAP", (True, 4)),
    (False, 8, 250, 10, "SAT", (True, 255)),
    (False, 8, 5, -10, "SAT", (True, 0)),
    (False, 8, 5, -10, "WRAP", (True, 251)),
    (True, 8, 120, 10, "WRAP", (True, -126)),
    (True, 8, 120, 10, "SAT", (True, 127)),
    (True, 8, -120, -10, "SAT", (True, -128)),
    (True, 64, 2**63 - 1, 1, "WRAP", (True, -(2**63))),
    (True, 64, -(2**63), -1, "SAT", (True, -(2**63))),
    (True, 64, -5, 2**63 - 1, "WRAP", (False, 0)),
    (True, 4, 3, 4, "FAIL", (False, 0)),
])
def test_overflow_checks(signed, width, value, incr, overflow, expected):
    check = bits.check_signed if signed else bits.check_unsigned
    assert check(value, incr, width, overflow) == expected


def test_bitfield_at_unaligned_offsets():
    ops = [bits.BitfieldOp("SET", False, 5, 7, 23), bits.BitfieldOp("GET", False, 5, 7),
           bits.BitfieldOp("GET", True, 5, 7), bits.BitfieldOp("INCRBY", True, 64, 100, -1)]
    value, replies, changes = bits.bitfield(None, ops)
    assert bytes(value[:2]) == b"\x01\x70"  # the example in bitops.c
    assert replies == [0, 23, -9, -1]
    assert changes == 2
    assert bits.bitfield(b"\xff", [bits.BitfieldOp("GET", True, 8, 4)])[1] == [-16]


# -- differential -------------------------------------------------------------------


def _random_value(rng: random.Random) -> bytes:
    size = rng.choice([0, 1, 2, 7, 8, 9, 31, 64, 300])
    style = rng.random()
    if style < 0.3:
        return bytes(rng.choice([0, 255]) for _ in range(size))
    if style < 0.5:
        return b"\x00" * size
    if style < 0.6:
        return b"\xff" * size
    return rng.randbytes(size)


def _index(rng: random.Random, size: int) -> bytes:
    span = max(size, 1) * rng.choice([1, 8])
    return str(rng.randint(-span - 10, span + 10)).encode()


@pytest.mark.differential
@pytest.mark.parametrize("seed", range(6))
def test_bitcount_and_bitpos_as_redis(real, seed):
    rng = random.Random(seed)
    model = Model()
    for _ in range(60):
        value = _random_value(rng)
        if value:
            _same(real, model, "SET", "s", value)
        else:
            real.run("DEL", "s")
            model.keys.pop(b"s", None)
            if rng.random() < 0.5:
                _same(real, model, "SET", "s", b"")
        size = len(value)
        _same(real, model, "BITCOUNT", "s")
        for _ in range(8):
            args = ["BITCOUNT", "s", _index(rng, size), _index(rng, size)]
            if rng.random() < 0.6:
                args.append(rng.choice(["BIT", "byte", "bIt", "bits"]))
            _same(real, model, *args)
        for bit in (0, 1):
            _same(real, model, "BITPOS", "s", bit)
            for _ in range(8):
                args = ["BITPOS", "s", bit, _index(rng, size)]
                if rng.random() < 0.7:
                    args.append(_index(rng, size))
                    if rng.random() < 0.6:
                        args.append(rng.choice(["BIT", "BYTE", "bit", "nope"]))
                _same(real, model, *args)
    for args in [("BITCOUNT", "s", "1"), ("BITCOUNT", "s", "a", "1"), ("BITCOUNT", "s", "-1", "-5", "x"),
                 ("BITCOUNT", "nokey", "x"), ("BITPOS", "s", "2"), ("BITPOS", "s", "x"),
                 ("BITPOS", "nokey", "0"), ("BITPOS", "nokey", "1"), ("BITPOS", "s", "1", "0", "x", "y"),
                 ("BITPOS", "s", "1", "0", "x", "bit"), ("BITPOS", "s", "0", "x")]:
        _same(real, model, *args)


@pytest.mark.differential
@pytest.mark.parametrize("seed", range(4))
def test_setbit_getbit_bitop_as_redis(real, seed):
    rng = random.Random(50 + seed)
    model = Model()
    keys = ["a", "b", "c", "d"]
    for _ in range(300):
        action = rng.random()
        key = rng.choice(keys)
        if action < 0.45:
            offset = rng.choice([rng.randrange(64), rng.randrange(5000), rng.randrange(2**20)])
            _same(real, model, "SETBIT", key, offset, rng.choice([0, 1, 1]))
        elif action < 0.65:
            _same(real, model, "GETBIT", key, rng.randrange(-2, 3000))
        elif action < 0.9:
            op = rng.choice(["AND", "or", "XOR", "not", "Not"])
            sources = rng.sample(keys + ["missing"], 1 if op.upper() == "NOT" else rng.randint(1, 4))
            _same(real, model, "BITOP", op, rng.choice(keys), *sources)
        else:
            _same(real, model, "BITCOUNT", key)
    _check_keys(real, model)
    for args in [("SETBIT", "a", "-1", "1"), ("SETBIT", "a", "1", "2"), ("SETBIT", "a", "1", "-1"),
                 ("SETBIT", "a", "4294967296", "1"), ("SETBIT", "a", "1", "01"),
                 ("GETBIT", "a", "x"), ("BITOP", "NAND", "d", "a"), ("BITOP", "NOT", "d", "a", "b"),
                 ("BITOP", "AND", "d", "missing", "missing2")]:
        _same(real, model, *args)
    _check_keys(real, model)


def _bitfield_args(rng: random.Random) -> list:
    args: list = []
    for _ in range(rng.randint(1, 5)):
        kind = rng.choice(["GET", "SET", "INCRBY", "OVERFLOW", "get", "incrby"])
        if kind == "OVERFLOW":
            args += ["OVERFLOW", rng.choice(["WRAP", "SAT", "FAIL", "sat"])]
            continue
        signed = rng.random() < 0.5
        width = rng.choice([1, 2, 5, 8, 13, 31, 32, 33, 63] + ([64] if signed else []))
        offset = rng.choice([str(rng.randrange(200)), "#%d" % rng.randrange(20)])
        args += [kind, ("i" if signed else "u") + str(width), offset]
        if kind.upper() != "GET":
            limit = 1 << width
            args.append(str(rng.choice([
                rng.randrange(-limit, limit), rng.randrange(-3, 4), 2**63 - 1, -(2**63),
                limit // 2, limit // 2 - 1, -(limit // 2) - 1, limit - 1, limit])))
    return args


@pytest.mark.differential
@pytest.mark.parametrize("seed", range(6))
def test_bitfield_as_redis(real, seed):
    rng = random.Random(200 + seed)
    model = Model()
    for _ in range(150):
        key = rng.choice(["f", "g"])
        if rng.random() < 0.1:
            _same(real, model, "SET", key, _random_value(rng))
        name = "BITFIELD_RO" if rng.random() < 0.1 else "BITFIELD"
        _same(real, model, name, key, *_bitfield_args(rng))
        if rng.random() < 0.2:
            _same(real, model, "BITFIELD_RO", key, "GET", "u8", "#%d" % rng.randrange(40),
                  "GET", "i64", rng.randrange(300))
    _check_keys(real, model)
    for args in [("BITFIELD", "f", "GET", "u64", "0"), ("BITFIELD", "f", "GET", "i65", "0"),
                 ("BITFIELD", "f", "SET", "u8", "0"), ("BITFIELD", "f", "OVERFLOW", "NOPE"),
                 ("BITFIELD", "f", "INCRBY", "u8", "-1", "1"), ("BITFIELD", "f", "GET", "u8", "#-1"),
                 ("BITFIELD", "f", "SET", "u8", "0", "x"), ("BITFIELD", "f", "FOO"),
                 ("BITFIELD_RO", "f", "SET", "u8", "0", "1"), ("BITFIELD", "nokey", "GET", "i8", "9"),
                 ("BITFIELD", "f", "GET", "u8", "#9223372036854775807"),
                 ("BITFIELD", "f", "GET", "i64", "#144115188075855872"),
                 ("BITFIELD", "f", "GET", "u8", "4294967295"), ("BITFIELD", "f", "GET", "u8", "4294967296"),
                 ("BITFIELD", "f", "GET", b"u8\0x", "0"), ("BITFIELD", "f", "GET", b"\0", "0"),
                 ("BITFIELD", "f", "SET", "i8", "0", "9223372036854775808"),
                 ("BITFIELD", "f", "SET", "u8", "0", "-9223372036854775808"),
                 ("BITFIELD", "f", "GET", "u8", "#"), ("BITFIELD", "f", "GET", "u8", "##1"),
                 ("BITFIELD", "f")]:
        _same(real, model, *args)
    _check_keys(real, model)


@pytest.mark.differential
def test_big_offsets_as_redis(real):
    model = Model()
    for args in [("SETBIT", "big", "4294967295", "1"), ("GETBIT", "big", "4294967295"),
                 ("BITCOUNT", "big"), ("BITPOS", "big", "1"), ("BITPOS", "big", "0", "-1"),
                 ("BITCOUNT", "big", "-1", "-1"), ("BITCOUNT", "big", "-8", "-1", "BIT"),
                 ("BITFIELD", "big", "GET", "u8", "4294967288"),
                 ("BITFIELD", "big", "INCRBY", "i16", "4294967280", "-2")]:
        _same(real, model, *args)
    assert real.run("STRLEN", "big") == len(model.keys[b"big"]) == 512 * 1024 * 1024
    _same(real, model, "BITPOS", "big", "0", "536870911", "-1")
    real.run("DEL", "big")
