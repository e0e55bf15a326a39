# -*- test-case-name: tests.test_glob -*-
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
    if pattern == b"*":
        return lambda _s: True
    out = bytearray()
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == 42:  # *
            while i + 1 < n and pattern[i + 1] == 42:
                i += 1
            out += b".*"
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
                elif i + 2 < n and pattern[i + 1] == 45 and pattern[i + 2] != 93:
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
    regex = re.compile(bytes(out) + b"\\Z", re.DOTALL)
    return lambda s: regex.match(s) is not None


def glob_match(pattern: bytes, subject: bytes) -> bool:
    """True if ``subject`` matches the glob ``pattern``."""
    return compile_glob(pattern)(subject)
