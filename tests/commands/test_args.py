"""Argument parsing helpers (hush.commands.args)."""

from __future__ import annotations

import pytest

from hush.commands.args import parse_int
from hush.core.errors import CommandError


@pytest.mark.parametrize("raw", [b"0", b"-1", b"99", b"-1024", b"-1025", b"10000", b"10001",
                                 b"9223372036854775807", b"-9223372036854775808"])
def test_parse_int_reads_canonical_integers(raw):
    assert parse_int(raw) == int(raw)


@pytest.mark.parametrize("raw", [b"-0", b"007", b"+1", b" 1", b"1 ", b"1_0", b"", b"1.0",
                                 b"9223372036854775808", b"-9223372036854775809"])
def test_parse_int_refuses_what_redis_refuses(raw):
    with pytest.raises(CommandError, match="ERR value is not an integer or out of range"):
        parse_int(raw)
