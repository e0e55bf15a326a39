# -*- test-case-name: tests.commands.test_sort -*-
"""SORT and SORT_RO, as Redis 7.0's sort.c does them.

The options are read left to right (a later ASC/DESC, LIMIT, BY or STORE
wins; GETs add up), then the key is looked up: a list, a set or a sorted
set, a missing key being an empty list. Elements are compared as numbers
(strtod of the element, or of what ``BY`` points at: "One or more scores
can't be converted into double" when one is not a number, ties broken by
the elements' bytes) or with ALPHA as strings (C's strcoll without STORE,
which in the C and C.UTF-8 locales is byte order up to a NUL; byte order
with STORE). ``BY`` without a ``*`` sorts nothing: lists and sorted sets
keep their order (reversed by DESC), sets are sorted ALPHA when the result
is stored or a script asks, so that replicas and the AOF agree.

Patterns (``BY`` and ``GET``) replace their first ``*`` by the element and
read that key -- a string, or with ``key->field`` a hash field; ``GET #``
is the element itself. Redis refuses patterns in cluster mode, and to a
user that may not read every key (:func:`_unrestricted_key_access`).

With STORE the result is a list at the destination (an empty result
deletes it), which wakes clients blocked on it; the AOF records the
result (DEL and RPUSH) rather than the SORT, so that replaying it cannot
come out differently.
"""

from __future__ import annotations

import re
import sys
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from operator import itemgetter
from typing import Any

from hush.commands.args import parse_int, syntax_error
from hush.commands.keys import read_key
from hush.commands.table import command, effects, range_spec
from hush.core.errors import CommandError, WrongType, c_string
from hush.data.types.registry import chunked
from hush.data.types.set import ordered
from hush.data.types.zset import ZSet, strtod
from hush.formats.geohash import partial_sort

NOT_DOUBLE = "ERR One or more scores can't be converted into double"

_SPACE = b" \t\n\v\f\r"
_DBL_MIN = sys.float_info.min
_HEX_PARTS = re.compile(rb"([+-]?)0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)(?:[pP]([+-]?[0-9]+))?\Z")
_ACL = ("@set", "@sortedset", "@list", "@slow", "@dangerous")


# -- key specs and key extraction -------------------------------------------------

def _unknown_spec(flags: tuple[str, ...], notes: str) -> dict[str, Any]:
    return {"notes": notes, "flags": list(flags),
            "begin_search": {"type": "unknown", "spec": {}},
            "find_keys": {"type": "unknown", "spec": {}}}


_PATTERN_SPEC = _unknown_spec(
    ("RO", "access"), "For the optional BY/GET keyword. It is marked 'unknown' because the "
                      "key names derive from the content of the key we sort")
_STORE_SPEC = _unknown_spec(
    ("OW", "update"), "For the optional STORE keyword. It is marked 'unknown' because the "
                      "keyword can appear anywhere in the argument array")

#: Options whose arguments sortGetKeys skips.
_SKIPPED = {b"limit": 2, b"get": 1, b"by": 1}


def _sort_keys(argv: list[bytes]) -> list[int]:
    """Redis's sortGetKeys: the sorted key, and the argument after the last STORE.

    Like Redis it skips the arguments of LIMIT, GET and BY but not STORE's,
    so it may name a different key than SORT itself stores to.
    """
    store = None
    index = 2
    while index < len(argv):
        word = argv[index].lower()
        skip = _SKIPPED.get(word)
        if skip is not None:
            index += skip
        elif word == b"store" and index + 1 < len(argv):
            store = index + 1
        index += 1
    return [1] if store is None else [1, store]


def _sort_ro_keys(argv: list[bytes]) -> list[int]:
    return [1]


# -- options ----------------------------------------------------------------------

@dataclass
class _Options:
    desc: bool = False
    alpha: bool = False
    start: int = 0
    count: int = -1
    store: bytes | None = None
    by: bytes | None = None
    dontsort: bool = False
    gets: list[bytes] = field(default_factory=list)


def _unrestricted_key_access(ctx) -> bool:
    """Whether the client's user may read every key (Redis's
    ACLUserCheckCmdWithUnrestrictedKeyAccess): BY and GET read keys no
    argument names.

    Hush's one user, ``default``, may read every key; ACL users with key
    patterns (the functions-acl work) decide here.
    """
    return True


def _check_pattern_allowed(ctx, option: str) -> None:
    if ctx.server.cluster is not None:
        raise CommandError(f"ERR {option} option of SORT denied in Cluster mode.")
    if not _unrestricted_key_access(ctx):
        raise CommandError(
            f"ERR {option} option of SORT denied due to insufficient ACL permissions.")


def _parse(ctx, args: Sequence[bytes], readonly: bool) -> _Options:
    opts = _Options()
    index = 0
    while index < len(args):
        word = args[index].lower()
        left = len(args) - index - 1
        if word == b"asc":
            opts.desc = False
        elif word == b"desc":
            opts.desc = True
        elif word == b"alpha":
            opts.alpha = True
        elif word == b"limit" and left >= 2:
            opts.start = parse_int(args[index + 1])
            opts.count = parse_int(args[index + 2])
            index += 2
        elif word == b"store" and left >= 1 and not readonly:
            opts.store = args[index + 1]
            index += 1
        elif word == b"by" and left >= 1:
            opts.by = args[index + 1]
            # A pattern without '*' names one constant key: nothing to sort by.
            opts.dontsort = b"*" not in c_string(opts.by)
            if not opts.dontsort:
                _check_pattern_allowed(ctx, "BY")
            index += 1
        elif word == b"get" and left >= 1:
            _check_pattern_allowed(ctx, "GET")
            opts.gets.append(args[index + 1])
            index += 1
        else:
            raise syntax_error()
        index += 1
    return opts


# -- patterns ---------------------------------------------------------------------

def _lookup_pattern(db, pattern: bytes, element: bytes) -> bytes | None:
    """lookupKeyByPattern: the string (or hash field) a pattern names for an element."""
    text = c_string(pattern)
    if text[:1] == b"#" and len(text) == 1:
        return element
    star = text.find(b"*")
    if star < 0:
        return None
    arrow = text.find(b"->", star + 1)
    field_name = None
    end = len(pattern)
    if arrow >= 0 and arrow + 2 < len(text):
        field_name = pattern[arrow + 2:]
        end = arrow
    value = read_key(db, pattern[:star] + element + pattern[star + 1:end])
    if value is None:
        return None
    if field_name is not None:
        if value.__class__ is not dict:
            return None
        return value.get(field_name)
    if value.__class__ is bytes:
        return value
    if value.__class__ is bytearray:
        return bytes(value)
    return None


def _score(value: bytes) -> float | None:
    """strtod as SORT uses it: leading spaces allowed, the whole C string, no
    overflow or underflow (ERANGE), no NaN; None when it is not such a number."""
    # Plain integers (what SORT is mostly given) are exact doubles: no parse.
    if len(value) < 16 and (value.isdigit() or (value[:1] == b"-" and value[1:].isdigit())):
        return float(value)
    text = c_string(value)
    if not text:
        return 0.0
    if text[:1] in (b" ", b"\t", b"\n", b"\v", b"\f", b"\r"):
        text = text.lstrip(_SPACE)
        if not text:
            return None
    parsed = strtod(text)
    if parsed is None or parsed[1]:
        return None
    number = parsed[0]
    if number and abs(number) < _DBL_MIN and Fraction(number) != _exact(text):
        # glibc's strtod also reports ERANGE for a subnormal result that
        # had to be rounded (but not for one it holds exactly).
        return None
    return number


def _exact(text: bytes) -> Fraction:
    """The exact value a decimal or hexadecimal strtod literal names."""
    match = _HEX_PARTS.match(text)
    if match is None:
        return Fraction(Decimal(text.decode("ascii")))
    sign, whole, frac, exponent = match.groups()
    digits = int((whole + frac) or b"0", 16)
    power = int(exponent or b"0") - 4 * len(frac)
    exact = Fraction(digits) * (Fraction(2) ** power)
    return -exact if sign == b"-" else exact


# -- SORT ---------------------------------------------------------------------------

def _bounds(opts: _Options, size: int) -> tuple[int, int]:
    """LIMIT as Redis clamps it: inclusive [start, end] (end < start: nothing)."""
    start = min(max(opts.start, 0), size)
    count = min(max(opts.count, -1), size)
    end = size - 1 if count < 0 else start + count - 1
    if start >= size:
        start, end = size - 1, size - 2
    if end >= size:
        end = size - 1
    return start, end


def _load(value: Any, opts: _Options, start: int, end: int) -> tuple[list[bytes], int, int]:
    """The elements to sort, and the output range within them.

    Unsorted lists and sorted sets are read in their order (backwards for
    DESC) and only the LIMIT range of them, as Redis does.
    """
    size = len(value)
    if value.__class__ is deque:
        if not opts.dontsort:
            return list(value), start, end
        if end < start:
            return [], start, end
        if opts.desc:
            wanted = [value[i] for i in range(size - start - 1, size - end - 2, -1)]
        else:
            wanted = [value[i] for i in range(start, end + 1)]
        return wanted, 0, end - start
    if value.__class__ is set:
        return ordered(value, size), start, end
    if not opts.dontsort:
        return list(value.scores), start, end
    pairs = value.items(start, end + 1) if not opts.desc else value.items(
        size - end - 1, size - start, reverse=True)
    return [member for member, _score in pairs], 0, end - start


def _keys(db, elements: list[bytes], opts: _Options) -> list[Any]:
    """What each element is compared by (sortCompare as keys); NOT_DOUBLE when a
    score is not a number.

    Numbers: (score, element) -- ties by the element's bytes. ALPHA: the
    element, or what BY names with missing values first; compared as C
    strings (strcoll in the C locale) without STORE, as bytes with it.
    """
    as_text = (lambda raw: raw) if opts.store is not None else c_string
    by = opts.by
    if opts.alpha:
        if by is None:
            return [as_text(element) for element in elements]
        keys = []
        for element in elements:
            value = _lookup_pattern(db, by, element)
            keys.append((0, b"") if value is None else (1, as_text(value)))
        return keys
    keys = []
    bad = False
    for element in elements:
        value = element if by is None else _lookup_pattern(db, by, element)
        score = 0.0 if value is None else _score(value)
        if score is None:
            # Redis sorts on and answers the error after.
            bad, score = True, 0.0
        keys.append((score, element))
    if bad:
        raise CommandError(NOT_DOUBLE)
    return keys


def _sort(ctx, key: bytes, args: Sequence[bytes], readonly: bool) -> Any:
    opts = _parse(ctx, args, readonly)
    db = ctx.db
    value = read_key(db, key)
    if value is None:
        value = deque()
    elif value.__class__ not in (deque, set, ZSet):
        raise WrongType()
    if opts.dontsort and value.__class__ is set and (opts.store is not None or ctx.is_script):
        # A set's order is its own: sorted, what replicas and scripts see agrees.
        opts.dontsort, opts.alpha, opts.by = False, True, None
    if value.__class__ is ZSet:
        # Redis converts the set to its skiplist encoding for SORT, for good.
        value.listpack = False
    start, end = _bounds(opts, len(value))
    elements, start, end = _load(value, opts, start, end)
    if not opts.dontsort:
        pairs = list(zip(_keys(db, elements, opts), elements, strict=True))
        if opts.by is not None and (start != 0 or end != len(pairs) - 1):
            # Redis's pqsort, whose order of equal keys the result shows.
            sign = -1 if opts.desc else 1
            partial_sort(pairs, lambda a, b: sign * ((a[0] > b[0]) - (a[0] < b[0])), start, end)
        else:
            # Stable, as glibc's qsort (a merge sort): equal keys keep their order.
            pairs.sort(key=itemgetter(0), reverse=opts.desc)
        elements = [element for _key, element in pairs]
    chosen = elements[start:end + 1] if end >= start else []
    if opts.store is None:
        return _reply(db, chosen, opts.gets)
    return _store(db, opts.store, chosen, opts.gets)


def _reply(db, chosen: list[bytes], gets: list[bytes]) -> list[bytes | None]:
    if not gets:
        return chosen
    return [_lookup_pattern(db, pattern, element) for element in chosen for pattern in gets]


def _store(db, destination: bytes, chosen: list[bytes], gets: list[bytes]) -> int:
    if gets:
        values = [_lookup_pattern(db, pattern, element) or b""
                  for element in chosen for pattern in gets]
    else:
        values = chosen
    if values:
        db.set(destination, deque(values))
    else:
        db.delete(destination)
    return len(values)


@command("sort", arity=-2, flags=("write", "denyoom", "movablekeys"), keys=(1, 1, 1),
         group="generic", since="1.0.0", acl=("@write", *_ACL),
         summary="Sort the elements in a list, set or sorted set",
         key_specs=(range_spec("RO", "access"), _PATTERN_SPEC, _STORE_SPEC),
         getkeys=_sort_keys)
def sort(ctx, key: bytes, *args: bytes) -> Any:
    return _sort(ctx, key, args, readonly=False)


@command("sort_ro", arity=-2, flags=("readonly", "movablekeys"), keys=(1, 1, 1),
         group="generic", since="7.0.0", acl=("@read", *_ACL),
         summary="Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
         key_specs=(range_spec("RO", "access"), _PATTERN_SPEC), getkeys=_sort_ro_keys)
def sort_ro(ctx, key: bytes, *args: bytes) -> Any:
    return _sort(ctx, key, args, readonly=True)


@effects("sort")
def _sort_effects(ctx, argv: list[bytes], reply: Any) -> list[list[bytes]]:
    # Only SORT ... STORE writes: record the list it stored, or its deletion.
    destination = _parse(ctx, argv[2:], readonly=False).store
    assert destination is not None
    stored = ctx.db.peek(destination)
    if stored is None:
        return [[b"DEL", destination]]
    return [[b"DEL", destination], *chunked(b"RPUSH", destination, list(stored), 1)]
