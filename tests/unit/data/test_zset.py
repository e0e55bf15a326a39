"""Unit tests of the sorted-set data structure and its range parsing."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hush.data.types import zset as zmod
from hush.data.types.registry import LIMITS, type_name
from hush.data.types.zset import (
    LEX_MAX,
    LEX_MIN,
    LexRange,
    ScoreRange,
    ZSet,
    parse_lex_range,
    parse_score,
    parse_score_range,
    scan_score,
    strtod,
)


def make(*pairs) -> ZSet:
    z = ZSet()
    for member, score in pairs:
        z.add(member, score)
    return z


def test_type_is_registered():
    assert type_name(ZSet()) == b"zset"


def test_add_update_remove_keep_order():
    z = make((b"b", 2.0), (b"a", 1.0), (b"c", 2.0))
    assert z.items() == [(b"a", 1.0), (b"b", 2.0), (b"c", 2.0)]
    assert z.add(b"a", 5.0) is False
    assert z.add(b"d", 0.0) is True
    assert list(z) == [b"d", b"b", b"c", b"a"]
    assert z.remove(b"b") is True
    assert z.remove(b"b") is False
    assert len(z) == 3 and b"b" not in z and b"c" in z
    assert z.score(b"a") == 5.0 and z.score(b"zz") is None


def test_rank_and_items_window():
    z = make(*[(b"m%d" % i, float(i)) for i in range(10)])
    assert z.rank(b"m0") == 0 and z.rank(b"m9") == 9 and z.rank(b"x") is None
    assert z.items(2, 5) == [(b"m2", 2.0), (b"m3", 3.0), (b"m4", 4.0)]
    assert z.items(2, 5, reverse=True) == [(b"m4", 4.0), (b"m3", 3.0), (b"m2", 2.0)]


def test_equal_scores_order_by_member_bytes():
    z = make((b"b", 1.0), (b"B", 1.0), (b"a\x00", 1.0), (b"a", 1.0))
    assert list(z) == [b"B", b"a", b"a\x00", b"b"]


@pytest.mark.parametrize("spec, expected", [
    (ScoreRange(2, 4), [b"b", b"b2", b"c", b"d"]),
    (ScoreRange(2, 4, min_ex=True), [b"c", b"d"]),
    (ScoreRange(2, 4, max_ex=True), [b"b", b"b2", b"c"]),
    (ScoreRange(-math.inf, math.inf), [b"lo", b"a", b"b", b"b2", b"c", b"d", b"hi"]),
    (ScoreRange(math.inf, math.inf), [b"hi"]),
    (ScoreRange(math.inf, math.inf, min_ex=True), []),
    (ScoreRange(-math.inf, -math.inf), [b"lo"]),
    (ScoreRange(-math.inf, 1, min_ex=True, max_ex=True), []),
    (ScoreRange(5, 1), []),
    (ScoreRange(2, 2), [b"b", b"b2"]),
    (ScoreRange(2, 2, max_ex=True), []),
])
def test_score_span(spec, expected):
    z = make((b"lo", -math.inf), (b"a", 1), (b"b", 2), (b"b2", 2), (b"c", 3), (b"d", 4),
             (b"hi", math.inf))
    start, stop = z.score_span(spec)
    assert [m for m, _ in z.items(start, stop)] == expected


def test_lex_span_with_one_score_is_a_binary_search():
    z = make(*[(bytes([c]), 0.0) for c in b"abcdef"])
    span = z.lex_span(parse_lex_range(b"[b", b"(e"))
    assert [m for m, _ in z.items(*span)] == [b"b", b"c", b"d"]
    assert z.lex_span(parse_lex_range(b"-", b"+")) == (0, 6)
    assert z.lex_span(parse_lex_range(b"(f", b"+")) == (0, 0)
    assert z.lex_span(parse_lex_range(b"+", b"-")) == (0, 0)
    assert z.lex_span(parse_lex_range(b"[c", b"(c")) == (0, 0)
    assert z.lex_span(parse_lex_range(b"[c", b"[c")) == (2, 3)
    assert z.lex_span_reverse(parse_lex_range(b"[b", b"(e")) == (1, 4)


def test_lex_span_with_mixed_scores_walks_like_a_listpack():
    # Order by score: d a b c e. Redis starts at the first member >= min in
    # that order and stops at the first one > max.
    z = make((b"d", 0), (b"a", 1), (b"b", 2), (b"c", 3), (b"e", 5))
    assert z.lex_span(parse_lex_range(b"[a", b"[c")) == (0, 0)
    assert z.lex_span(parse_lex_range(b"(a", b"+")) == (0, 5)
    assert z.lex_span(parse_lex_range(b"[b", b"[d")) == (0, 4)
    # Walking down from the top: skip e (> d), then take c, b; a < b stops it.
    assert z.lex_span_reverse(parse_lex_range(b"[b", b"[d")) == (2, 4)


def test_pop_and_remove_span():
    z = make(*[(b"m%d" % i, float(i)) for i in range(6)])
    assert z.pop(2) == [(b"m0", 0.0), (b"m1", 1.0)]
    assert z.pop(1, highest=True) == [(b"m5", 5.0)]
    assert z.pop(10) == [(b"m2", 2.0), (b"m3", 3.0), (b"m4", 4.0)]
    assert len(z) == 0 and z.pop(1) == []
    z = make(*[(b"m%d" % i, float(i)) for i in range(6)])
    assert z.remove_span(1, 4) == 3
    assert list(z) == [b"m0", b"m4", b"m5"] and b"m2" not in z.scores
    assert z.remove_span(2, 2) == 0


def test_encoding_is_listpack_until_a_limit_then_stays_skiplist():
    z = make(*[(b"m%d" % i, float(i)) for i in range(LIMITS.zset_max_listpack_entries)])
    assert z.encoding() == b"listpack"
    z.add(b"m0", 99.0)  # an update does not grow the set
    assert z.encoding() == b"listpack"
    z.add(b"one-more", 1.0)
    assert z.encoding() == b"skiplist"
    z.pop(100)
    assert z.encoding() == b"skiplist"
    wide = make((b"x" * LIMITS.zset_max_listpack_value, 1.0))
    assert wide.encoding() == b"listpack"
    wide.add(b"y" * (LIMITS.zset_max_listpack_value + 1), 1.0)
    assert zmod.ZSET.encoding(wide, LIMITS) == b"skiplist"


def test_negative_zero_reads_back_as_zero_only_in_a_listpack():
    small = make((b"a", -0.0))
    assert math.copysign(1, small.score(b"a")) == 1
    big = make(*[(b"m%d" % i, 1.0) for i in range(200)])
    big.add(b"neg", -0.0)
    assert math.copysign(1, big.score(b"neg")) == -1


def test_copy_is_independent_and_keeps_the_encoding():
    z = make(*[(b"m%d" % i, float(i)) for i in range(200)])
    dup = zmod.ZSET.copy(z)
    dup.add(b"new", 1.5)
    dup.remove(b"m0")
    assert b"new" not in z and b"m0" in z
    assert dup.encoding() == z.encoding() == b"skiplist"
    assert dup.items() == sorted(((m, s) for m, s in dup.scores.items()),
                                 key=lambda p: (p[1], p[0]))


def test_scan_returns_every_member_present_throughout():
    z = make(*[(b"m%d" % i, float(i % 7)) for i in range(300)])
    seen: set[bytes] = set()
    cursor, steps = 0, 0
    while True:
        cursor, members = z.scan(cursor, 10)
        seen.update(members)
        steps += 1
        # Churn between calls: drop some members already seen, add new ones.
        for member in members[:2]:
            z.remove(member)
        z.add(b"new%d" % steps, 0.5)
        if cursor == 0:
            break
    assert steps > 10
    assert {b"m%d" % i for i in range(300)} <= seen


def test_scan_count_bounds_each_step():
    z = make(*[(b"m%d" % i, 1.0) for i in range(50)])
    cursor, members = z.scan(0, 5)
    assert cursor != 0 and 5 <= len(members) <= 6


@pytest.mark.parametrize("raw, value", [
    (b"1", 1.0), (b"-2.5", -2.5), (b".5", 0.5), (b"5.", 5.0), (b"1e3", 1000.0),
    (b"+1", 1.0), (b"0x10", 16.0), (b"-0X1P-2", -0.25), (b"inf", math.inf),
    (b"-Infinity", -math.inf), (b"+INF", math.inf), (b"4.9e-324", 5e-324),
])
def test_parse_score_accepts_what_strtod_accepts(raw, value):
    assert parse_score(raw) == value


@pytest.mark.parametrize("raw", [
    b"", b" 1", b"1 ", b"1_0", b"nan", b"-nan", b"1e", b"0x", b".", b"1e400", b"-1e400",
    b"1e-400", b"0x1p99999", b"abc", b"1\x00", b"infinit",
])
def test_parse_score_rejects(raw):
    assert parse_score(raw) is None


def test_strtod_reports_range_errors():
    assert strtod(b"1e999") == (math.inf, True)
    assert strtod(b"0e999") == (0.0, False)
    assert strtod(b"1e-999") == (0.0, True)
    assert strtod(b"x") is None


@pytest.mark.parametrize("low, high, expected", [
    (b"1", b"2", ScoreRange(1, 2)),
    (b"(1", b"(2", ScoreRange(1, 2, True, True)),
    (b"-inf", b"+inf", ScoreRange(-math.inf, math.inf)),
    (b" 1", b"2", ScoreRange(1, 2)),
    (b"", b"(", ScoreRange(0, 0, False, True)),
    (b"1e400", b"2", ScoreRange(math.inf, 2)),
    (b"3\x00junk", b"4", ScoreRange(3, 4)),
])
def test_parse_score_range(low, high, expected):
    assert parse_score_range(low, high) == expected


@pytest.mark.parametrize("low, high", [
    (b"nan", b"1"), (b"1", b"x"), (b"((1", b"2"), (b"1 ", b"2"), (b" ", b"2"), (b"[1", b"2"),
])
def test_parse_score_range_rejects(low, high):
    assert parse_score_range(low, high) is None


def test_parse_lex_range():
    assert parse_lex_range(b"-", b"+") == LexRange(LEX_MIN, LEX_MAX, True, True)
    assert parse_lex_range(b"[a", b"(b") == LexRange(b"a", b"b", False, True)
    assert parse_lex_range(b"[", b"(") == LexRange(b"", b"", False, True)
    for bad in (b"a", b"", b"+x", b"-x"):
        assert parse_lex_range(bad, b"+") is None
        assert parse_lex_range(b"-", bad) is None


def test_lex_range_emptiness():
    assert parse_lex_range(b"+", b"-").is_empty()
    assert parse_lex_range(b"-", b"-").is_empty()
    assert parse_lex_range(b"[b", b"[a").is_empty()
    assert not parse_lex_range(b"[a", b"[a").is_empty()
    assert parse_lex_range(b"(a", b"[a").is_empty()


def test_scan_score_prints_integers_from_a_listpack():
    assert scan_score(1e17, True) == b"100000000000000000"
    assert scan_score(1e17, False) == b"1e+17"
    assert scan_score(0.1, True) == b"0.10000000000000001"
    assert scan_score(-math.inf, True) == b"-inf"
    assert scan_score(2.0**63, True) == b"9.2233720368547758e+18"


ops = st.lists(st.tuples(
    st.sampled_from(["add", "remove", "pop", "popmax"]),
    st.binary(max_size=3),
    st.sampled_from([-math.inf, -1.5, 0.0, 1.0, 2.0, 1e300, math.inf]),
), max_size=60)


@settings(max_examples=150, deadline=None)
@given(ops)
def test_model(operations):
    """The sorted list, the dict and a naive model always agree."""
    z = ZSet()
    model: dict[bytes, float] = {}
    for op, member, score in operations:
        if op == "add":
            z.add(member, score)
            model[member] = score
        elif op == "remove":
            assert z.remove(member) == (model.pop(member, None) is not None)
        else:
            expected = sorted(model.items(), key=lambda p: (p[1], p[0]))
            if op == "popmax":
                expected.reverse()
            got = z.pop(2, highest=op == "popmax")
            assert got == expected[:2]
            for m, _ in got:
                del model[m]
        assert z.items() == sorted(model.items(), key=lambda p: (p[1], p[0]))
        for rank, (m, _s) in enumerate(z.items()):
            assert z.rank(m) == rank


# -- set operations ------------------------------------------------------------------


def weighted(value, weight=1.0):
    source = zmod.Source(value)
    source.weight = weight
    return source


def test_combine_union_weights_and_aggregates():
    a = make((b"x", 1.0), (b"y", 2.0))
    b = make((b"y", 10.0), (b"z", 3.0))
    assert zmod.combine("union", [weighted(a, 2), weighted(b)]) == {
        b"x": 2.0, b"y": 14.0, b"z": 3.0}
    assert zmod.combine("union", [weighted(a), weighted(b)], b"MIN")[b"y"] == 2.0
    assert zmod.combine("union", [weighted(a), weighted(b)], b"MAX")[b"y"] == 10.0
    # inf + -inf is 0 in Redis, and so is inf weighted 0.
    inf = make((b"m", math.inf))
    assert zmod.combine("union", [weighted(inf), weighted(make((b"m", -math.inf)))]) == {
        b"m": 0.0}
    assert zmod.combine("union", [weighted(inf, 0)]) == {b"m": 0.0}


def test_combine_inter_and_diff_with_plain_sets_and_missing_keys():
    z = make((b"a", 5.0), (b"b", 6.0), (b"c", 7.0))
    plain = {b"a", b"c", b"q"}
    assert zmod.combine("inter", [weighted(z), weighted(plain)]) == {b"a": 6.0, b"c": 8.0}
    assert len(zmod.combine("inter", [weighted(z), weighted(plain)], limit=1)) == 1
    assert zmod.combine("inter", [weighted(z), weighted(None)]) == {}
    assert zmod.combine("diff", [weighted(z), weighted(plain), weighted(None)]) == {b"b": 6.0}
    assert zmod.combine("diff", [weighted(plain), weighted(z)]) == {b"q": 1.0}
