# -*- test-case-name: tests.unit.core.test_glob -*-
"""Redis's glob-style patterns (KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET).

Supports ``*``, ``?``, ``[abc]``, ``[^abc]``, ``[a-z]`` and ``\\`` escapes,
compiled once to a regular expression over bytes and cached.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache


@lru_cache(maxsize=256)
def compile_glob(pattern: bytes) -> Callable[[bytes], bool]:
    """Return a predicate that tells whether a bytes string matches ``pattern``."""
    # Redis's stringmatchlen never matches an empty subject against a
    # non-empty pattern (KEYS and SCAN treat a lone "*" as "everything" first).
    if pattern == b"*":
        return lambda s: s != b""
    out = bytearray()
    segments: list[bytes] = []  # the pattern's fixed-length pieces between stars
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == 42:  # *
            while i + 1 < n and pattern[i + 1] == 42:
                i += 1
            segments.append(bytes(out))
            out = bytearray()
        elif c == 63:  # ?
            out += b"."
        elif c == 92 and i + 1 < n:  # backslash escapes the next byte
            i += 1
            out += re.escape(pattern[i : i + 1])
        elif c == 91:  # [
            i += 1
            negate = i < n and pattern[i] == 94
            if negate:
                i += 1
            members = bytearray()
            while i < n and pattern[i] != 93:
                if pattern[i] == 92 and i + 1 < n:
                    i += 1
                    members += re.escape(pattern[i : i + 1])
                elif i + 2 < n and pattern[i + 1] == 45:
                    # As in Redis, "]" can end a range ("[a-]" is "]" to "a").
                    lo, hi = sorted((pattern[i], pattern[i + 2]))
                    members += b"%s-%s" % (re.escape(bytes([lo])), re.escape(bytes([hi])))
                    i += 2
                else:
                    members += re.escape(pattern[i : i + 1])
                i += 1
            if not members:
                # An empty class matches nothing (or anything, negated).
                out += b"[\\s\\S]" if negate else b"(?!)"
            else:
                out += b"[%s%s]" % (b"^" if negate else b"", bytes(members))
        else:
            out += re.escape(pattern[i : i + 1])
        i += 1
    segments.append(bytes(out))
    regex = re.compile(_star_free(segments) + b"\\Z", re.DOTALL)
    if not pattern:
        return lambda s: s == b""
    return lambda s: s != b"" and regex.match(s) is not None


def _star_free(segments: list[bytes]) -> bytes:
    """A regex for the segments joined by stars that cannot backtrack exponentially.

    Naive ``.*`` joins make patterns like ``a*a*a*a*b`` take exponential time
    (Redis's CVE-2022-36021). Each middle segment has a fixed length, so taking
    its leftmost occurrence is always right: an atomic group commits to it.
    """
    if len(segments) == 1:
        return segments[0]
    middle = b"".join(b"(?>.*?%s)" % segment for segment in segments[1:-1])
    return segments[0] + middle + b".*" + segments[-1]


def glob_match(pattern: bytes, subject: bytes) -> bool:
    """True if ``subject`` matches the glob ``pattern``."""
    return compile_glob(pattern)(subject)
