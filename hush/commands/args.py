# -*- test-case-name: tests.commands.test_strings,tests.commands.test_lists -*-
"""Argument parsing shared by the families, with Redis's exact error texts.

Redis parses numbers strictly (``string2ll``: no spaces, no ``+``, no leading
zeros); these helpers do the same and raise :class:`CommandError` with the
message Redis sends.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

from hush.core.errors import (
    NOT_FLOAT,
    NOT_INTEGER,
    SYNTAX,
    TIMEOUT_NEGATIVE,
    TIMEOUT_NOT_FLOAT,
    CommandError,
)

_INT_RE = re.compile(rb"(?:0|-?[1-9][0-9]*)\Z")
_FLOAT_RE = re.compile(rb"[ \t\r\n\v\f]|\Z")

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


#: The canonical spelling of each small integer: LRANGE's indexes, counts and
#: timeouts are found here without a regex (any other spelling of a number,
#: "007" or "+1", is not a key and takes the full check).
_SMALL_INTS = {b"%d" % value: value for value in range(-1024, 10001)}


def parse_int(raw: bytes, error: str = NOT_INTEGER) -> int:
    """A signed 64-bit integer written as Redis accepts it."""
    value = _SMALL_INTS.get(raw)
    if value is not None:
        return value
    if len(raw) > 20 or not _INT_RE.match(raw):
        raise CommandError(error)
    value = int(raw)
    if not INT64_MIN <= value <= INT64_MAX:
        raise CommandError(error)
    return value


def parse_float(raw: bytes, error: str = NOT_FLOAT) -> float:
    """A double as Redis's strtod accepts it (inf, -inf; no spaces, no nan)."""
    if not raw or raw[:1].isspace() or raw[-1:].isspace():
        raise CommandError(error)
    try:
        value = float(raw)
    except ValueError:
        raise CommandError(error) from None
    if math.isnan(value):
        raise CommandError(error)
    return value


# What C's strtold accepts as a whole (Redis's string2ld): no spaces, no "_".
_TIMEOUT_RE = re.compile(
    rb"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?|inf(?:inity)?"
    rb"|0x(?:[0-9a-f]+\.?[0-9a-f]*|\.[0-9a-f]+)(?:p[+-]?[0-9]+)?)\Z",
    re.IGNORECASE,
)


def parse_timeout(raw: bytes) -> float:
    """A blocking timeout in seconds (fractions allowed; 0 means forever).

    Redis truncates the timeout to whole milliseconds in a C long long, so
    -0.0001 means "forever" and values that overflow (inf, 1e20) read as negative.
    """
    if len(raw) >= 5120 or not _TIMEOUT_RE.match(raw):
        raise CommandError(TIMEOUT_NOT_FLOAT)
    try:
        if b"x" in raw or b"X" in raw:
            value = Decimal(float.fromhex(raw.decode()))
        else:
            value = Decimal(raw.decode())
    except OverflowError:
        raise CommandError(TIMEOUT_NEGATIVE) from None
    if value.is_infinite():
        raise CommandError(TIMEOUT_NEGATIVE)
    # Outside long double's range strtold reports ERANGE.
    if value and not -4951 <= value.adjusted() <= 4931:
        raise CommandError(TIMEOUT_NOT_FLOAT)
    ms = int(value.scaleb(3))
    if ms < 0 or ms > INT64_MAX:
        raise CommandError(TIMEOUT_NEGATIVE)
    return ms / 1000


def upper(raw: bytes) -> bytes:
    """An option keyword in upper case, for case-insensitive matching."""
    return raw.upper()


def syntax_error() -> CommandError:
    """``ERR syntax error``."""
    return CommandError(SYNTAX)
