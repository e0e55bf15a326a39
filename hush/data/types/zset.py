# -*- test-case-name: tests.unit.data.test_zset -*-
"""The sorted set: members with scores, ordered by (score, member).

:class:`ZSet` keeps a dict member -> score for O(1) lookups and a
``sortedcontainers.SortedList`` of ``(score, member)`` pairs for rank and
range queries in O(log n + m). It also remembers which encoding Redis would
use (``listpack`` while small, ``skiplist`` once it grew past the limits;
Redis never converts back), because that is visible to clients: OBJECT
ENCODING, ZSCAN paging, and how a ``-0`` score is printed.

Score and lexicographic ranges are parsed here too, with Redis 7.0's rules
(``zslParseRange``/``zslParseLexRange``), and ZUNION, ZINTER and ZDIFF
combine their inputs here (:func:`combine`).
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from sys import getsizeof

from sortedcontainers import SortedList

from hush.data.types import alloc
from hush.data.types.registry import LIMITS, SAMPLE, ValueType, chunked, register


class _Above:
    """Sorts after every member, so ``(score, ABOVE)`` ends a score's run."""

    __slots__ = ()

    def __lt__(self, other: object) -> bool:
        return False

    def __gt__(self, other: object) -> bool:
        return True


ABOVE = _Above()


class ZSet:
    """A Redis sorted set.

    @ivar scores: member -> score.
    @ivar order: ``(score, member)`` pairs in ascending order.
    @ivar listpack: True while Redis would still use its compact encoding.
    """

    __slots__ = ("scores", "order", "listpack", "_by_hash")

    def __init__(self) -> None:
        self.scores: dict[bytes, float] = {}
        self.order: SortedList = SortedList()
        self.listpack = True
        # Members ordered by CRC32, built on the first ZSCAN that pages: a
        # cursor into a fixed hash order survives inserts and deletes.
        self._by_hash: SortedList | None = None

    def __len__(self) -> int:
        return len(self.scores)

    def __contains__(self, member: object) -> bool:
        return member in self.scores

    def __iter__(self) -> Iterator[bytes]:
        """Members in ascending (score, member) order."""
        return (member for _score, member in self.order)

    def __repr__(self) -> str:
        return f"ZSet({[(m, s) for s, m in self.order]!r})"

    # -- updates -----------------------------------------------------------

    def add(self, member: bytes, score: float) -> bool:
        """Set ``member``'s score; True if the member is new."""
        if self.listpack:
            if len(member) > LIMITS.zset_max_listpack_value or len(self.scores) + (
                member not in self.scores
            ) > LIMITS.zset_max_listpack_entries:
                self.listpack = False
            elif score == 0:
                # A listpack stores integral scores as integers, so -0 reads back as 0.
                score = 0.0
        old = self.scores.get(member)
        if old is not None:
            self.order.remove((old, member))
        self.scores[member] = score
        self.order.add((score, member))
        if old is None and self._by_hash is not None:
            self._by_hash.add((zlib.crc32(member), member))
        return old is None

    def remove(self, member: bytes) -> bool:
        """Remove ``member``; True if it was there."""
        score = self.scores.pop(member, None)
        if score is None:
            return False
        self.order.remove((score, member))
        if self._by_hash is not None:
            self._by_hash.remove((zlib.crc32(member), member))
        return True

    def pop(self, count: int, highest: bool = False) -> list[tuple[bytes, float]]:
        """Remove and return up to ``count`` members from the low (or high) end."""
        out = []
        for _ in range(min(count, len(self.scores))):
            score, member = self.order.pop(-1 if highest else 0)
            del self.scores[member]
            if self._by_hash is not None:
                self._by_hash.remove((zlib.crc32(member), member))
            out.append((member, score))
        return out

    def remove_span(self, start: int, stop: int) -> int:
        """Remove the members at ranks ``start`` to ``stop - 1``; return how many."""
        if start >= stop:
            return 0
        doomed = list(self.order.islice(start, stop))
        del self.order[start:stop]
        for _score, member in doomed:
            del self.scores[member]
            if self._by_hash is not None:
                self._by_hash.remove((zlib.crc32(member), member))
        return len(doomed)

    # -- queries -----------------------------------------------------------

    def score(self, member: bytes) -> float | None:
        """The score of ``member``, None if absent."""
        return self.scores.get(member)

    def rank(self, member: bytes) -> int | None:
        """The 0-based ascending rank of ``member``, None if absent."""
        score = self.scores.get(member)
        if score is None:
            return None
        return self.order.index((score, member))

    def items(self, start: int = 0, stop: int | None = None,
              reverse: bool = False) -> list[tuple[bytes, float]]:
        """``(member, score)`` pairs at ranks ``start`` to ``stop - 1`` (ascending ranks).

        With ``reverse``, the same span is returned from the highest rank down.
        """
        return [(m, s) for s, m in self.order.islice(start, stop, reverse=reverse)]

    def score_span(self, spec: ScoreRange) -> tuple[int, int]:
        """Ranks ``[start, stop)`` of the members whose scores fall in ``spec``."""
        if spec.is_empty() or not self.scores:
            return 0, 0
        order = self.order
        if spec.min_ex:
            start = order.bisect_right((spec.min, ABOVE))
        else:
            start = order.bisect_left((spec.min,))
        if spec.max_ex:
            stop = order.bisect_left((spec.max,))
        else:
            stop = order.bisect_right((spec.max, ABOVE))
        return start, max(start, stop)

    def lex_span(self, spec: LexRange) -> tuple[int, int]:
        """Ranks ``[start, stop)`` of the members in the lexicographic range ``spec``.

        Redis defines lex ranges only for members sharing one score; then this
        is a binary search. Otherwise it walks the set as Redis does for a
        listpack: from the first member >= min, while members are <= max.
        """
        order = self.order
        if spec.is_empty() or not order:
            return 0, 0
        if not (spec.gte_min(order[-1][1]) and spec.lte_max(order[0][1])):
            return 0, 0
        if order[0][0] == order[-1][0]:
            score = order[0][0]
            start = self._lex_bisect(score, spec.min, spec.min_ex, low=True)
            stop = self._lex_bisect(score, spec.max, spec.max_ex, low=False)
            return start, max(start, stop)
        size = len(order)
        start = 0
        while start < size and not spec.gte_min(order[start][1]):
            start += 1
        if start == size or not spec.lte_max(order[start][1]):
            return 0, 0
        stop = start + 1
        while stop < size and spec.lte_max(order[stop][1]):
            stop += 1
        return start, stop

    def lex_span_reverse(self, spec: LexRange) -> tuple[int, int]:
        """Like :meth:`lex_span`, walking down from the top as ZREVRANGEBYLEX does."""
        order = self.order
        if spec.is_empty() or not order:
            return 0, 0
        if not (spec.gte_min(order[-1][1]) and spec.lte_max(order[0][1])):
            return 0, 0
        if order[0][0] == order[-1][0]:
            return self.lex_span(spec)
        stop = len(order)
        while stop > 0 and not spec.lte_max(order[stop - 1][1]):
            stop -= 1
        if stop == 0 or not spec.gte_min(order[stop - 1][1]):
            return 0, 0
        start = stop - 1
        while start > 0 and spec.gte_min(order[start - 1][1]):
            start -= 1
        return start, stop

    def _lex_bisect(self, score: float, bound: bytes | int, exclusive: bool, low: bool) -> int:
        order = self.order
        if type(bound) is int:
            return 0 if bound == LEX_MIN else len(order)
        if low:
            return order.bisect_right((score, bound)) if exclusive else order.bisect_left(
                (score, bound))
        return order.bisect_left((score, bound)) if exclusive else order.bisect_right(
            (score, bound))

    def scan(self, cursor: int, count: int) -> tuple[int, list[bytes]]:
        """One ZSCAN step over a large set: (next cursor, members).

        The cursor is a position in CRC32 order of the members, so every
        member present for the whole scan is returned, whatever else changes.
        """
        if self._by_hash is None:
            self._by_hash = SortedList((zlib.crc32(m), m) for m in self.scores)
        by_hash = self._by_hash
        index = by_hash.bisect_left((cursor,))
        out: list[bytes] = []
        last = -1
        size = len(by_hash)
        while index < size:
            crc, member = by_hash[index]
            # Members sharing a hash are returned together, so the cursor
            # (the next hash value) never splits them.
            if len(out) >= count and crc != last:
                return crc, out
            out.append(member)
            last = crc
            index += 1
        return 0, out

    # -- encoding ----------------------------------------------------------

    def encoding(self) -> bytes:
        """Redis's OBJECT ENCODING name for this set."""
        return b"listpack" if self.listpack else b"skiplist"

    def compact_if_small(self) -> None:
        """Redis's zsetConvertToListpackIfNeeded, for a set built as a skiplist.

        A set small enough becomes a listpack, which keeps integral scores as
        integers: its -0 scores read back as 0 from then on.
        """
        limits = LIMITS
        if self.listpack or len(self.scores) > limits.zset_max_listpack_entries or any(
                len(member) > limits.zset_max_listpack_value for member in self.scores):
            return
        self.listpack = True
        for member in [m for m, score in self.scores.items() if score == 0]:
            self.order.remove((0.0, member))
            self.scores[member] = 0.0
            self.order.add((0.0, member))

    def copy(self) -> ZSet:
        """An independent copy (COPY), keeping the encoding."""
        dup = ZSet()
        dup.scores = dict(self.scores)
        dup.order = SortedList(self.order)
        dup.listpack = self.listpack
        return dup


# -- set operations (zunionInterDiffGenericCommand) -------------------------


class Source:
    """One input of ZUNION, ZINTER or ZDIFF: a sorted set, a plain set
    (members score 1), or nothing (a missing key), and its weight."""

    __slots__ = ("value", "weight")

    def __init__(self, value: ZSet | set | None) -> None:
        self.value = value
        self.weight = 1.0

    def __len__(self) -> int:
        return 0 if self.value is None else len(self.value)

    def pairs(self) -> Iterator[tuple[bytes, float]]:
        """(member, score) pairs; plain-set members score 1."""
        value = self.value
        if value is None:
            return iter(())
        if value.__class__ is ZSet:
            return ((member, score) for score, member in value.order)
        return ((member, 1.0) for member in value)

    def find(self, member: bytes) -> float | None:
        """The score of ``member`` in this input, None if it is not there."""
        value = self.value
        if value.__class__ is ZSet:
            return value.scores.get(member)
        return 1.0 if member in value else None


def aggregate(target: float, value: float, how: bytes) -> float:
    """Combine two weighted scores of a member by AGGREGATE SUM, MIN or MAX."""
    if how == b"SUM":
        total = target + value
        # inf + -inf: Redis keeps 0 rather than NaN.
        return 0.0 if math.isnan(total) else total
    if how == b"MIN":
        return value if value < target else target
    return value if value > target else target


def combine(op: str, sources: list[Source], how: bytes = b"SUM",
            limit: int = 0) -> dict[bytes, float]:
    """member -> score of the ``union``, ``inter`` or ``diff`` of the inputs, as
    Redis computes it (same order of float operations); ``limit`` stops an
    intersection once it has that many members (ZINTERCARD)."""
    result: dict[bytes, float] = {}
    if op == "inter":
        # Smallest input first, as Redis does: it bounds the work, and the
        # order of a float sum is visible in the result.
        sources = sorted(sources, key=len)
        if len(sources[0]):
            first, others = sources[0], sources[1:]
            for member, score in first.pairs():
                total = first.weight * score
                if math.isnan(total):
                    total = 0.0
                for other in others:
                    found = other.find(member)
                    if found is None:
                        break
                    total = aggregate(total, found * other.weight, how)
                else:
                    result[member] = total
                    if limit and len(result) >= limit:
                        break
    elif op == "union":
        for source in sorted(sources, key=len):
            for member, score in source.pairs():
                value = source.weight * score
                if math.isnan(value):
                    value = 0.0
                current = result.get(member)
                result[member] = value if current is None else aggregate(current, value, how)
    else:
        others = [source for source in sources[1:] if len(source)]
        for member, score in sources[0].pairs():
            if not any(other.find(member) is not None for other in others):
                result[member] = score
    return result


# -- ranges ---------------------------------------------------------------

#: Lex bounds "-" and "+": below and above every member.
LEX_MIN = -1
LEX_MAX = 1


@dataclass(frozen=True)
class ScoreRange:
    """``min``..``max`` with exclusive flags (``(`` in Redis syntax)."""

    min: float
    max: float
    min_ex: bool = False
    max_ex: bool = False

    def is_empty(self) -> bool:
        """True if no score can be in the range."""
        return self.min > self.max or (self.min == self.max and (self.min_ex or self.max_ex))

    def contains(self, score: float) -> bool:
        """True if ``score`` is within the range."""
        above = score > self.min if self.min_ex else score >= self.min
        below = score < self.max if self.max_ex else score <= self.max
        return above and below


@dataclass(frozen=True)
class LexRange:
    """A range of members: each bound is bytes, LEX_MIN or LEX_MAX."""

    min: bytes | int
    max: bytes | int
    min_ex: bool
    max_ex: bool

    def is_empty(self) -> bool:
        """True if no member can be in the range."""
        cmp = _lex_cmp(self.min, self.max)
        return cmp > 0 or (cmp == 0 and (self.min_ex or self.max_ex))

    def gte_min(self, member: bytes) -> bool:
        """True if ``member`` is at or above the lower bound."""
        cmp = _lex_cmp(member, self.min)
        return cmp > 0 if self.min_ex else cmp >= 0

    def lte_max(self, member: bytes) -> bool:
        """True if ``member`` is at or below the upper bound."""
        cmp = _lex_cmp(member, self.max)
        return cmp < 0 if self.max_ex else cmp <= 0


def _lex_cmp(a: bytes | int, b: bytes | int) -> int:
    if type(a) is int or type(b) is int:
        # The open bounds: members rank 0, between LEX_MIN and LEX_MAX.
        a = a if type(a) is int else 0
        b = b if type(b) is int else 0
    return (a > b) - (a < b)


# strtod's grammar: decimal, hexadecimal, and inf/infinity (nan is refused
# by every caller).
_DECIMAL = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_HEX = re.compile(
    rb"([+-]?)0[xX]((?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?)\Z")
_INFINITY = re.compile(rb"([+-]?)(?:inf|infinity)\Z", re.IGNORECASE)
_SPACE = b" \t\n\v\f\r"


def strtod(text: bytes) -> tuple[float, bool] | None:
    """C's strtod on all of ``text``: (value, out_of_range), or None if not a number."""
    if _DECIMAL.match(text):
        value = float(text)
        mantissa = text.split(b"e")[0].split(b"E")[0]
        if math.isinf(value):
            return value, True
        if value == 0 and mantissa.strip(b"+-.0"):
            return value, True
        return value, False
    match = _HEX.match(text)
    if match:
        try:
            value = float.fromhex(match.group(2).decode())
        except OverflowError:
            return (-math.inf if match.group(1) == b"-" else math.inf), True
        if match.group(1) == b"-":
            value = -value
        digits = match.group(2).split(b"p")[0].split(b"P")[0]
        return value, value == 0 and bool(digits.strip(b".0"))
    match = _INFINITY.match(text)
    if match:
        return (-math.inf if match.group(1) == b"-" else math.inf), False
    return None


def parse_score(raw: bytes) -> float | None:
    """A score as ZADD/ZINCRBY/WEIGHTS accept it, or None (getDoubleFromObject)."""
    if raw.isdigit() and len(raw) < 16:
        # The common case (plain integers, exact in a double) needs no strtod.
        return float(raw)
    if not raw or raw[0] in _SPACE:
        return None
    parsed = strtod(raw)
    if parsed is None or parsed[1]:
        return None
    return parsed[0]


def _parse_bound(raw: bytes) -> float | None:
    # zslParseRange: strtod on a C string, so leading spaces are fine, an
    # empty string is 0, and an overflow is simply infinite.
    raw = raw.split(b"\x00", 1)[0]
    if not raw:
        return 0.0
    parsed = strtod(raw.lstrip(_SPACE))
    return None if parsed is None else parsed[0]


def parse_score_range(low: bytes, high: bytes) -> ScoreRange | None:
    """A score range from ZRANGEBYSCORE-style bounds, or None if invalid."""
    bounds = []
    for raw in (low, high):
        exclusive = raw[:1] == b"("
        value = _parse_bound(raw[1:] if exclusive else raw)
        if value is None:
            return None
        bounds.append((value, exclusive))
    (lo, lo_ex), (hi, hi_ex) = bounds
    return ScoreRange(lo, hi, lo_ex, hi_ex)


def _parse_lex_item(raw: bytes) -> tuple[bytes | int, bool] | None:
    head = raw[:1]
    if head in (b"+", b"-"):
        if raw[1:2] not in (b"", b"\x00"):
            return None
        return (LEX_MAX if head == b"+" else LEX_MIN), True
    if head == b"(":
        return raw[1:], True
    if head == b"[":
        return raw[1:], False
    return None


def parse_lex_range(low: bytes, high: bytes) -> LexRange | None:
    """A lex range from ZRANGEBYLEX-style bounds, or None if invalid."""
    lo = _parse_lex_item(low)
    hi = _parse_lex_item(high)
    if lo is None or hi is None:
        return None
    return LexRange(lo[0], hi[0], lo[1], hi[1])


def scan_score(score: float, listpack: bool) -> bytes:
    """A score as ZSCAN prints it.

    A listpack keeps integral scores (within +-2^62) as integers, so ZSCAN
    shows them without an exponent; otherwise it is ``%.17g``.
    """
    if math.isinf(score):
        return b"inf" if score > 0 else b"-inf"
    if listpack and abs(score) <= 4611686018427387904.0 and score == int(score):
        return b"%d" % int(score)
    return b"%.17g" % score


# -- the registry's record: COPY, memory estimate, AOF rewrite -----------------------


def _usage(value: ZSet, encoding: bytes, samples: int) -> int:
    if encoding == b"listpack":
        return alloc.ROBJ + alloc.jemalloc_size(alloc.listpack_bytes(
            part for score, member in value.order for part in (member, scan_score(score, True))))
    # A node's levels are random in Redis: the mean stands for them.
    header = alloc.ZSKIPLIST_NODE + alloc.ZSKIPLIST_MAXLEVEL * alloc.ZSKIPLIST_LEVEL
    node = alloc.SKIPLIST_NODE_AVERAGE
    sample = [member for _score, member in value.order.islice(0, samples)]
    each = alloc.sampled_average(
        sample, lambda member: alloc.sds_size(member) + alloc.DICT_ENTRY + node)
    return (alloc.ROBJ + alloc.ZSET + alloc.ZSKIPLIST + alloc.dict_overhead(len(value))
            + alloc.jemalloc_size(header) + int(each * len(value)))

_FLOAT_SIZE = getsizeof(0.0)
_PAIR_SIZE = getsizeof((0.0, b""))


def _size(value: ZSet) -> int:
    scores = value.scores
    if not scores:
        return getsizeof(scores)
    sample = list(islice(scores, SAMPLE))
    # Each member: its bytes, its float score, and the (score, member) pair
    # in the sorted order with that list's slot.
    each = sum(map(getsizeof, sample)) / len(sample) + _FLOAT_SIZE + _PAIR_SIZE + 8
    return getsizeof(scores) + int(len(scores) * each)


def _to_neutral(value: ZSet) -> list[tuple[bytes, float]]:
    return [(member, score) for score, member in value.order]


def _from_neutral(pairs: list[tuple[bytes, float]]) -> ZSet:
    """A loaded set, in the encoding Redis's loader gives it: by its size and members."""
    zset = ZSet()
    zset.listpack = False
    zset.scores = {member: score for member, score in pairs}
    zset.order = SortedList((score, member) for member, score in pairs)
    zset.compact_if_small()
    return zset


def _rewrite(key: bytes, value: ZSet) -> Iterator[list[bytes]]:
    flat: list[bytes] = []
    for score, member in value.order:
        flat += (b"%.17g" % score, member)
    return chunked(b"ZADD", key, flat, 2)


ZSET = register(ValueType(
    name=b"zset",
    cls=ZSet,
    encoding=lambda value, _limits: value.encoding(),
    usage=_usage,
    copy=ZSet.copy,
    size=_size,
    rewrite=_rewrite,
    to_neutral=_to_neutral,
    from_neutral=_from_neutral,
))
