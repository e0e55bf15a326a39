"""HyperLogLog strings (hush.formats.hyperloglog) against Redis 7.0's hyperloglog.c.

The unit tests pin the pieces (hash, register packing, the estimator, the
sparse opcodes); the differential ones replay random PFADD/PFCOUNT/PFMERGE/
PFDEBUG scripts on a real redis-server and on a small model of the
commands built on this module's API, and compare replies and the bytes of
every key.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator

import pytest

from hush.core.errors import CommandError
from hush.formats import hyperloglog as hll
from tests.differential.harness import ParsedConnection

# -- the commands, as the command layer will build them on the module ---------------


class Model:
    """PFADD, PFCOUNT, PFMERGE and PFDEBUG over a dict of string values."""

    def __init__(self, sparse_max_bytes: int = hll.SPARSE_MAX_BYTES) -> None:
        self.keys: dict[bytes, bytes] = {}
        self.sparse_max_bytes = sparse_max_bytes

    def run(self, *args: bytes):
        name = args[0].lower()
        try:
            return getattr(self, name.decode())(*args[1:])
        except hll.CorruptHll as err:
            if err.value is not None:
                self.keys[args[1]] = err.value
            return ("error", err.message)
        except CommandError as err:
            return ("error", err.message)

    def pfadd(self, key: bytes, *elements: bytes) -> int:
        value, changed = hll.pfadd(self.keys.get(key), elements, self.sparse_max_bytes)
        if changed:
            self.keys[key] = value
        return int(changed)

    def pfcount(self, *keys: bytes) -> int:
        if len(keys) == 1:
            if keys[0] not in self.keys:
                return 0
            card, write_back = hll.pfcount(self.keys[keys[0]])
            if write_back is not None:
                self.keys[keys[0]] = write_back
            return card
        return hll.pfcount_union(self.keys[k] for k in keys if k in self.keys)

    def pfmerge(self, dest: bytes, *sources: bytes) -> bytes:
        self.keys[dest] = hll.pfmerge(
            self.keys.get(dest), (self.keys[k] for k in sources if k in self.keys),
            self.sparse_max_bytes)
        return b"OK"

    def pfdebug(self, sub: bytes, key: bytes):
        value = self.keys.get(key)
        if value is None:
            raise CommandError("ERR The specified key does not exist")
        sub = sub.lower()
        if sub == b"getreg":
            registers, converted = hll.pfdebug_getreg(value)
            if converted is not None:
                self.keys[key] = converted
            return registers
        if sub == b"decode":
            return hll.pfdebug_decode(value)
        if sub == b"encoding":
            return hll.pfdebug_encoding(value)
        converted, self.keys[key] = hll.pfdebug_todense(value)
        return int(converted)


@pytest.fixture
def real(real: ParsedConnection) -> Iterator[ParsedConnection]:
    """The formats' redis-server, its HLL setting put back for the next test."""
    yield real
    real.run(b"CONFIG", b"SET", b"hll-sparse-max-bytes", b"3000")


def _same(real: ParsedConnection, model: Model, *args: bytes):
    """Run a command on both; assert equal replies and equal keys."""
    ours, theirs = model.run(*args), real.run(*args)
    assert ours == theirs, (args[:3], ours, theirs)
    for key in {k for k in args[1:] if isinstance(k, bytes)} & set(model.keys):
        assert real.run(b"GET", key) == model.keys[key], (args[:3], key)
    return ours


def _elements(rng: random.Random, n: int) -> list[bytes]:
    return [rng.randbytes(rng.randint(0, 20)) for _ in range(n)]


# -- unit tests ---------------------------------------------------------------------


# Register and run length Redis 7.0.15 reports for these elements
# (PFADD on a new key, then PFDEBUG DECODE: "Z:<index> v:<run>,1 Z:..."):
# every tail length of MurmurHash64A, one and two 8-byte blocks.
KNOWN_PATTERNS = [
    (b"", 5938, 2), (b"a", 12711, 2), (b"ab", 719, 1), (b"abc", 9474, 1),
    (b"abcd", 11070, 8), (b"abcde", 3726, 4), (b"abcdef", 13647, 2),
    (b"abcdefg", 5634, 2), (b"abcdefgh", 1383, 1), (b"abcdefghijklmnopq", 4271, 1),
]


@pytest.mark.parametrize("element,index,run", KNOWN_PATTERNS)
def test_pattern_length_of_known_elements(element, index, run):
    assert hll.pattern_length(element) == (index, run)


def test_new_value_is_one_xzero_of_all_registers():
    value = hll.new()
    assert len(value) == 18
    assert value[:5] == b"HYLL\x01"
    assert hll.pfdebug_decode(value) == b"Z:16384"
    assert hll.cached_cardinality(value) == 0


def test_pack_and_unpack_agree_with_register_by_register_access():
    rng = random.Random(7)
    raw = bytes(rng.randrange(64) for _ in range(hll.REGISTERS))
    packed = hll.pack_dense(raw)
    assert len(packed) == hll.DENSE_SIZE - hll.HEADER_SIZE
    buf = bytearray(hll.HEADER_SIZE) + packed
    assert [hll._dense_get(buf, i) for i in range(hll.REGISTERS)] == list(raw)
    assert hll.unpack_dense(packed) == raw
    slow = bytearray(hll.DENSE_SIZE)
    for i, value in enumerate(raw):
        hll._dense_set(slow, i, value)
    assert bytes(slow[hll.HEADER_SIZE:]) == packed


def test_histogram_counts_every_value():
    rng = random.Random(3)
    raw = bytes(rng.choice([0, 0, 0, 1, 2, 5, 17, 63]) for _ in range(hll.REGISTERS))
    counts = Counter(raw)
    assert hll.histogram(raw) == [counts.get(v, 0) for v in range(64)]


def test_estimate_of_empty_and_full_registers():
    assert hll.count_registers(bytes(hll.REGISTERS)) == 0
    hist = [0] * 64
    hist[1] = hll.REGISTERS
    assert hll.estimate(hist) == 23637  # every register at 1, as Redis computes it


def test_estimate_out_of_range_as_redis_replies_it():
    # Registers of 50 and more (only a corrupt dense value holds them) make
    # Redis's llroundl overflow: LLONG_MIN, cached as 2**63 (stale bit set).
    hist = [0] * 64
    hist[63] = hll.REGISTERS
    assert hll.estimate(hist) == 1 << 63
    value = b"HYLL\x00" + bytes(10) + b"\x80" + hll.pack_dense(bytes([63]) * hll.REGISTERS)
    card, write_back = hll.pfcount(value)
    assert card == -(1 << 63)
    assert write_back[8:16] == b"\x00" * 7 + b"\x80"


def test_max_registers_is_bytewise():
    rng = random.Random(5)
    a = bytes(rng.randrange(64) for _ in range(hll.REGISTERS))
    b = bytes(rng.randrange(64) for _ in range(hll.REGISTERS))
    best = hll._max_registers(int.from_bytes(a, "little"), int.from_bytes(b, "little"))
    assert best.to_bytes(hll.REGISTERS, "little") == bytes(map(max, a, b))


@pytest.mark.parametrize("value", [
    b"", b"HYLL", b"HYLL\x01\x00\x00", b"HYLX" + bytes(14), b"HYLL\x02" + bytes(13),
    b"HYLL\x00" + bytes(100), b"hello world, not an hll",
])
def test_not_a_hyperloglog(value):
    with pytest.raises(CommandError) as err:
        hll.pfadd(value, [b"x"])
    assert err.value.message == "WRONGTYPE Key is not a valid HyperLogLog string value."
    assert not hll.is_valid(value)


def test_sparse_promotes_to_dense_past_the_limit():
    rng = random.Random(11)
    value, _ = hll.pfadd(None, _elements(rng, 50), sparse_max_bytes=40)
    assert hll.pfdebug_encoding(value) == b"dense"
    assert len(value) == hll.DENSE_SIZE
    small, _ = hll.pfadd(None, _elements(rng, 50))
    assert hll.pfdebug_encoding(small) == b"sparse"


def test_a_run_longer_than_32_promotes_to_dense(monkeypatch):
    # No element found by chance hashes to a run over 32 (one in 2**32), so
    # the hash is replaced: VAL opcodes hold at most 32.
    value, _ = hll.pfadd(None, [b"a", b"b", b"c"])
    before, _ = hll.pfdebug_getreg(value)
    monkeypatch.setattr(hll, "pattern_length", lambda element: (5, 40))
    dense, changed = hll.pfadd(value, [b"anything"])
    assert changed and hll.pfdebug_encoding(dense) == b"dense"
    registers, _ = hll.pfdebug_getreg(dense)
    assert registers[5] == 40
    assert registers[:5] + registers[6:] == before[:5] + before[6:]
    assert dense[15] & 0x80  # the cached cardinality is stale


def test_pfadd_unchanged_returns_the_same_value():
    value, changed = hll.pfadd(None, [b"a", b"b"])
    assert changed
    again, changed = hll.pfadd(value, [b"a", b"b"])
    assert not changed and again is value
    created, changed = hll.pfadd(None, [])
    assert changed and created[15] & 0x80


def test_pfcount_caches_and_reuses_the_cardinality():
    value, _ = hll.pfadd(None, [b"%d" % i for i in range(1000)])
    card, write_back = hll.pfcount(value)
    assert 950 < card < 1050
    assert write_back is not None and hll.cached_cardinality(write_back) == card
    assert hll.pfcount(write_back) == (card, None)


def test_corrupt_sparse_value_is_reported():
    value, _ = hll.pfadd(None, [b"a"])
    short = value[:-1]  # the opcodes now cover fewer than 16384 registers
    with pytest.raises(hll.CorruptHll) as err:
        hll.pfcount(short)
    assert err.value.message == "INVALIDOBJ Corrupted HLL object detected"
    with pytest.raises(hll.CorruptHll):
        hll.pfcount_union([value, short])


def test_pfadd_keeps_changes_made_before_meeting_corruption():
    # Redis updates in place: with the last opcode missing, an element whose
    # register is covered changes the value before another one fails.
    value, _ = hll.pfadd(None, [b"a"])
    cut = value[:-2]  # drop the last XZERO: the registers at the end are gone
    rng = random.Random(1)
    covered = uncovered = None
    while covered is None or uncovered is None:
        element = rng.randbytes(8)
        index, _ = hll.pattern_length(element)
        if index < 4000 and covered is None:
            covered = element
        if index > 16000 and uncovered is None:
            uncovered = element
    with pytest.raises(hll.CorruptHll) as err:
        hll.pfadd(cut, [covered, uncovered])
    assert err.value.value is not None and err.value.value != cut
    with pytest.raises(hll.CorruptHll) as err:
        hll.pfadd(cut, [uncovered])
    assert err.value.value is None


def test_pfdebug_decode_of_a_dense_value():
    value, _ = hll.pfadd(None, [b"a"], sparse_max_bytes=0)
    with pytest.raises(CommandError) as err:
        hll.pfdebug_decode(value)
    assert err.value.message == "ERR HLL encoding is not sparse"


def test_selftest_passes():
    hll.selftest(cycles=1, max_elements=2000, rng=random.Random(1))


def test_selftest_reports_a_broken_estimate(monkeypatch):
    monkeypatch.setattr(hll, "estimate", lambda hist: 12345)
    with pytest.raises(CommandError) as err:
        hll.selftest(cycles=0, max_elements=10, rng=random.Random(1))
    assert err.value.message.startswith("ERR TESTFAILED")


# -- differential -------------------------------------------------------------------


@pytest.mark.differential
@pytest.mark.parametrize("seed,sizes", [
    (1, [0, 1, 2, 5, 20]),
    (2, [100, 300, 700]),
    (3, [1200, 1500, 1800, 2100]),       # around the promotion at 3000 bytes
    (4, [2500, 3000, 4000]),
    (5, [20000, 60000]),
])
def test_pfadd_pfcount_bytes_as_redis(real, seed, sizes):
    rng = random.Random(seed)
    model = Model()
    for n in sizes:
        key = b"k%d" % n
        elements = _elements(rng, n)
        _same(real, model, b"PFADD", key)
        while elements:
            cut = rng.randint(1, 200)
            batch, elements = elements[:cut], elements[cut:]
            _same(real, model, b"PFADD", key, *batch)
            if rng.random() < 0.1:
                _same(real, model, b"PFCOUNT", key)
        _same(real, model, b"PFCOUNT", key)
        _same(real, model, b"PFCOUNT", key)  # now from the cache
        _same(real, model, b"PFDEBUG", b"ENCODING", key)
    keys = list(model.keys)
    for _ in range(5):
        _same(real, model, b"PFCOUNT", *rng.sample(keys, rng.randint(2, len(keys))), b"nokey")


@pytest.mark.differential
@pytest.mark.parametrize("max_bytes", [3000, 0, 100, 700, 10000])
def test_pfmerge_as_redis(real, max_bytes):
    real.run(b"CONFIG", b"SET", b"hll-sparse-max-bytes", b"%d" % max_bytes)
    rng = random.Random(max_bytes)
    model = Model(max_bytes)
    keys = [b"a", b"b", b"c", b"d", b"e"]
    for key in keys[:4]:
        elements = _elements(rng, rng.choice([1, 10, 200, 800, 3000]))
        _same(real, model, b"PFADD", key, *elements)
        if rng.random() < 0.5:
            _same(real, model, b"PFCOUNT", key)
    for _ in range(12):
        dest = rng.choice(keys + [b"new%d" % rng.randrange(3)])
        sources = rng.sample(keys, rng.randint(0, 3))
        _same(real, model, b"PFMERGE", dest, *sources)
        _same(real, model, b"PFCOUNT", dest)
        if rng.random() < 0.3:
            _same(real, model, b"PFADD", dest, *_elements(rng, 50))


@pytest.mark.differential
def test_pattern_length_as_redis(real):
    rng = random.Random(31)
    for _ in range(200):
        element = rng.randbytes(rng.randint(0, 40))
        real.run(b"DEL", b"p")
        real.run(b"PFADD", b"p", element)
        index, run = hll.pattern_length(element)
        left = b"Z:%d " % index if index > 64 else (b"z:%d " % index if index else b"")
        assert real.run(b"PFDEBUG", b"DECODE", b"p").startswith(left + b"v:%d,1" % run)


@pytest.mark.differential
def test_pfdebug_as_redis(real):
    model = Model()
    rng = random.Random(9)
    _same(real, model, b"PFADD", b"h", *_elements(rng, 30))
    _same(real, model, b"PFDEBUG", b"DECODE", b"h")
    _same(real, model, b"PFDEBUG", b"ENCODING", b"h")
    _same(real, model, b"PFDEBUG", b"GETREG", b"h")  # converts to dense
    _same(real, model, b"PFDEBUG", b"ENCODING", b"h")
    _same(real, model, b"PFDEBUG", b"DECODE", b"h")
    _same(real, model, b"PFDEBUG", b"TODENSE", b"h")
    _same(real, model, b"PFADD", b"s", *_elements(rng, 30))
    _same(real, model, b"PFDEBUG", b"TODENSE", b"s")
    _same(real, model, b"PFCOUNT", b"s")


@pytest.mark.differential
def test_values_copied_from_hush_work_in_redis(real):
    rng = random.Random(12)
    model = Model()
    for n in [0, 3, 500, 5000]:
        value, _ = hll.pfadd(None, _elements(rng, n))
        real.run(b"SET", b"copy", value)
        assert real.run(b"PFCOUNT", b"copy") == hll.pfcount(value)[0]
        extra = _elements(rng, 40)
        model.keys[b"copy"] = real.run(b"GET", b"copy")
        _same(real, model, b"PFADD", b"copy", *extra)


def _corruptions(rng: random.Random) -> list[bytes]:
    """Valid values with bytes changed, cut or added, and a few by hand."""
    sparse, _ = hll.pfadd(None, _elements(rng, 200))
    small, _ = hll.pfadd(None, [b"x"])
    dense, _ = hll.pfadd(None, _elements(rng, 5000))
    full = hll.pack_dense(bytes([1]) * hll.REGISTERS)
    out = [
        small[:-1], small[:-2], small + b"\x80", small + b"\x00", small + b"\x40",
        small[:-2] + b"\x7f", sparse[:16] + b"\xff" * 5000,
        # 16384 registers, then more: unpatched Redis merged the first two.
        hll.new()[:16] + b"\x7f\xff\x84",
        hll.new()[:16] + b"\x7f\xfe\x84\x84",
        hll.new()[:16] + b"\x7f\xff\x00",
        b"HYLL\x00" + bytes(11) + full,
        dense[:20] + b"\xff" * (hll.DENSE_SIZE - 20),
    ]
    for _ in range(80):
        body = bytearray(rng.choice([sparse, small]))
        for _ in range(rng.randint(1, 3)):
            pos = rng.randrange(hll.HEADER_SIZE, len(body))
            action = rng.random()
            if action < 0.6:
                body[pos] = rng.randrange(256)
            elif action < 0.8:
                del body[pos]
            else:
                body.insert(pos, rng.randrange(256))
        out.append(bytes(body))
    return out


@pytest.mark.differential
def test_corrupt_values_are_detected_as_redis_detects_them(real):
    rng = random.Random(2024)
    for value in _corruptions(rng):
        for script in (
            [(b"PFCOUNT", b"c")],
            [(b"PFCOUNT", b"c", b"ok")],
            [(b"PFADD", b"c", *_elements(rng, 20))],
            [(b"PFADD", b"c", *_elements(rng, 500))],
            [(b"PFMERGE", b"ok", b"c")],
            [(b"PFMERGE", b"c", b"ok")],
            [(b"PFDEBUG", b"GETREG", b"c")],
            [(b"PFDEBUG", b"DECODE", b"c")],
            [(b"PFDEBUG", b"TODENSE", b"c")],
        ):
            model = Model()
            real.run(b"FLUSHALL")
            for key, val in ((b"c", value), (b"ok", hll.pfadd(None, [b"1", b"2"])[0])):
                real.run(b"SET", key, val)
                model.keys[key] = val
            for args in script:
                _same(real, model, *args)
            assert real.run(b"GET", b"c") == model.keys[b"c"]
            assert real.run(b"GET", b"ok") == model.keys[b"ok"]


@pytest.mark.differential
def test_dense_values_with_any_registers_count_as_redis(real):
    rng = random.Random(77)
    model = Model()
    fills = [bytes([v]) * hll.REGISTERS for v in (0, 1, 20, 49, 50, 51, 52, 63)]
    fills += [bytes(rng.randrange(lo, 64) for _ in range(hll.REGISTERS)) for lo in (0, 30, 45)]
    fills += [bytes(rng.choice([0, 0, 0, 1, 2, 3, 9]) for _ in range(hll.REGISTERS))]
    for raw in fills:
        value = b"HYLL\x00" + bytes(10) + b"\x80" + hll.pack_dense(raw)
        for key in (b"d", b"e"):
            real.run(b"SET", key, value)
            model.keys[key] = value
        _same(real, model, b"PFCOUNT", b"d")
        _same(real, model, b"PFCOUNT", b"d")
        _same(real, model, b"PFCOUNT", b"d", b"e")
        _same(real, model, b"PFMERGE", b"m", b"d")
        _same(real, model, b"PFADD", b"e", *_elements(rng, 30))
        _same(real, model, b"PFDEBUG", b"GETREG", b"e")


@pytest.mark.differential
def test_not_hyperloglog_strings_as_redis(real):
    model = Model()
    for value in [b"", b"plain", b"HYLL", b"HYLL\x02" + bytes(20), b"HYLL\x00" + bytes(20)]:
        real.run(b"SET", b"s", value)
        model.keys[b"s"] = value
        for args in [(b"PFADD", b"s", b"a"), (b"PFCOUNT", b"s"), (b"PFCOUNT", b"s", b"t"),
                     (b"PFMERGE", b"s"), (b"PFMERGE", b"t", b"s"), (b"PFDEBUG", b"ENCODING", b"s")]:
            _same(real, model, *args)
