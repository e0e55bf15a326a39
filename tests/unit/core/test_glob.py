"""Redis's glob semantics in hush.core.glob (KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET).

The expected answers in the tables were taken from a real Redis 7.0 (KEYS over
a fixed set of keys); the property test compares against a straightforward
model of Redis's matcher (util.c stringmatchlen) written out below.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hush.core.glob import compile_glob, glob_match

# (pattern, subject, matches) as Redis 7.0 answers.
CASES = [
    (b"*", b"abc", True),
    (b"a*", b"a", True),
    (b"a*", b"ba", False),
    (b"*b", b"aab", True),
    (b"a*c", b"abc", True),
    (b"a*c", b"abd", False),
    (b"*a*", b"ba", True),
    (b"**", b"ab", True),
    (b"?", b"a", True),
    (b"?", b"ab", False),
    (b"??", b"ab", True),
    (b"a?b", b"a\nb", True),      # ? matches any byte, newline included
    (b"?", b"\xff", True),
    (b"?", b"\xc3\xa9", False),   # bytes, not characters
    (b"??", b"\xc3\xa9", True),
    (b"[ab]", b"b", True),
    (b"[ab]", b"c", False),
    (b"[^ab]", b"c", True),
    (b"[^ab]", b"a", False),
    (b"[!a]", b"!", True),        # ! is not negation in Redis
    (b"[!a]", b"b", False),
    (b"[a-c]", b"b", True),
    (b"[c-a]", b"b", True),       # reversed ranges are swapped
    (b"[a-c]", b"d", False),
    (b"[^a-b]", b"z", True),
    (b"[-a]", b"-", True),
    (b"[a-]", b"]", True),        # "]" ends the range: "]" to "a"
    (b"[a-]", b"^", True),
    (b"[a-]", b"-", False),
    (b"[a-c-e]", b"-", True),
    (b"[a-c-e]", b"d", False),
    (b"[]", b"]", False),         # an empty class matches nothing
    (b"[]]", b"]", False),
    (b"[^]", b"z", True),         # ... and negated, any one byte
    (b"[\\]]", b"]", True),
    (b"[\\-]", b"-", True),
    (b"[a\\-c]", b"b", False),
    (b"[a-\\]]", b"]]", True),      # the range takes the backslash; "]" closes
    (b"[a-\\]]", b"]", False),
    (b"[[]", b"[", True),
    (b"[*]", b"*", True),
    (b"[*]", b"a", False),
    (b"[?]", b"?", True),
    (b"[\xff]", b"\xff", True),
    (b"a[b", b"ab", True),        # an unterminated class ends with the pattern
    (b"a[b", b"a[b", False),
    (b"[a", b"a", True),
    (b"[^a", b"b", True),
    (b"[a-", b"a", True),
    (b"[a-", b"-", True),
    (b"a[", b"a", False),
    (b"a[", b"a[", False),
    (b"a[]b", b"ab", False),
    (b"\\*", b"*", True),
    (b"\\*", b"a", False),
    (b"\\?", b"?", True),
    (b"\\a", b"a", True),
    (b"\\[", b"[", True),
    (b"\\", b"\\", True),         # a lone trailing backslash is literal
    (b"a\\", b"a\\", True),
    (b"?\xa9", b"\xc3\xa9", True),
    (b"h*llo", b"heeeello", True),
    (b"h*llo", b"hllo", True),
    (b"h?llo", b"hllo", False),
    # An empty subject matches only the empty pattern.
    (b"", b"", True),
    (b"", b"a", False),
    (b"*", b"", False),
    (b"**", b"", False),
    (b"?", b"", False),
    (b"[^a]", b"", False),
]


@pytest.mark.parametrize("pattern,subject,expected", CASES)
def test_redis_answers(pattern, subject, expected):
    assert glob_match(pattern, subject) is expected


def test_compiled_predicates_are_cached():
    assert compile_glob(b"user:*") is compile_glob(b"user:*")


def test_regex_metacharacters_are_literal():
    for meta in (b".", b"+", b"(", b")", b"{", b"}", b"|", b"$", b"^"):
        assert glob_match(meta, meta)
        assert not glob_match(meta, b"x")
    assert glob_match(b"a.c", b"a.c")
    assert not glob_match(b"a.c", b"abc")


@pytest.mark.timeout(10)
def test_many_stars_do_not_backtrack_exponentially():
    # Redis's CVE-2022-36021: naive backtracking takes exponential time here.
    assert not glob_match(b"a*" * 60 + b"b", b"a" * 2000)
    assert glob_match(b"a*" * 60, b"a" * 2000)
    assert glob_match(b"*a*b*c*", b"x" * 1000 + b"abc")
    assert not glob_match(b"*a*b*c*d", b"abc" * 1000)


# -- a model of Redis's stringmatchlen ------------------------------------------------


def redis_match(pattern: bytes, subject: bytes) -> bool:
    """Redis's glob algorithm, step by step, for the property test."""
    p, s = 0, 0
    np, ns = len(pattern), len(subject)
    while p < np and s < ns:
        c = pattern[p]
        if c == ord("*"):
            while p + 1 < np and pattern[p + 1] == ord("*"):
                p += 1
            if p + 1 == np:
                return True
            rest = pattern[p + 1:]
            return any(redis_match(rest, subject[i:]) for i in range(s, ns))
        if c == ord("?"):
            s += 1
        elif c == ord("["):
            p += 1
            negate = p < np and pattern[p] == ord("^")
            if negate:
                p += 1
            matched = False
            while True:
                if p < np and pattern[p] == ord("\\") and np - p >= 2:
                    p += 1
                    matched |= pattern[p] == subject[s]
                elif p < np and pattern[p] == ord("]"):
                    break
                elif p >= np:
                    p -= 1
                    break
                elif np - p >= 3 and pattern[p + 1] == ord("-"):
                    lo, hi = sorted((pattern[p], pattern[p + 2]))
                    matched |= lo <= subject[s] <= hi
                    p += 2
                else:
                    matched |= pattern[p] == subject[s]
                p += 1
            if matched == negate:
                return False
            s += 1
        else:
            if c == ord("\\") and np - p >= 2:
                p += 1
            if pattern[p] != subject[s]:
                return False
            s += 1
        p += 1
        if s == ns:
            while p < np and pattern[p] == ord("*"):
                p += 1
            break
    return p >= np and s == ns


ALPHABET = b"ab-]^\\[*?"


@settings(max_examples=600, deadline=None)
@given(
    st.binary(max_size=8).map(lambda b: bytes(ALPHABET[x % len(ALPHABET)] for x in b)),
    st.binary(max_size=6).map(lambda b: bytes(b"ab-]^\\["[x % 7] for x in b)),
)
def test_matches_redis_algorithm(pattern, subject):
    assert glob_match(pattern, subject) == redis_match(pattern, subject)


@pytest.mark.parametrize("pattern,subject,expected", CASES)
def test_model_agrees_with_redis_table(pattern, subject, expected):
    # Keeps the model honest: it must give Redis's recorded answers too.
    assert redis_match(pattern, subject) is expected
