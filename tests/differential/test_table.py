"""Differential tests: the HELP subcommand of every container, Hush vs redis-server."""

from __future__ import annotations

import pytest

#: The containers whose HELP has Redis 7.0's text to the letter.
SAME_TEXT = ["acl", "command", "config", "function", "latency", "memory", "object", "pubsub",
             "script", "slowlog", "xgroup", "xinfo"]
#: Those whose HELP lists only the subcommands Hush has.
OWN_TEXT = ["client"]


@pytest.mark.differential
@pytest.mark.parametrize("name", SAME_TEXT + OWN_TEXT)
def test_help_subcommand(pair, name):
    pair.check("COMMAND", "INFO", f"{name}|help")
    pair.check(name.upper(), "HELP", "extra")
    if name in SAME_TEXT:
        pair.check(name.upper(), "help")
