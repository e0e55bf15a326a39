"""COMMAND INFO, COMMAND DOCS, COMMAND LIST and COMMAND GETKEYS(ANDFLAGS) vs redis-server.

Every command Hush has must be described as Redis 7.0.15 describes it: its
COMMAND INFO (arity, flags, key positions, ACL categories, tips, key specs)
comes from Hush's command table, its COMMAND DOCS from Redis's documentation
data (hush/commands/redis_command_docs.json). A container is compared on
the subcommands Hush has; Redis lists subcommands in an order of its own.
"""

from __future__ import annotations

import json
import random

import pytest

from hush.commands import docs
from hush.commands.introspect import unique_subcommands
from hush.commands.table import all_commands, every_command
from tests.differential.harness import Pair, parse_reply

pytestmark = pytest.mark.differential

#: Commands of Hush that Redis 7.0.15 has not (newer Redis versions', Hush's
#: own): those documented in hush_command_docs.json, by definition.
NOT_IN_REDIS_7_0 = set(json.loads(docs.OWN.read_text())["commands"])


def _names() -> list[str]:
    return [cmd.full_name for cmd in every_command() if cmd.full_name not in NOT_IN_REDIS_7_0]


def _normal_info(entry: list, wanted: set[bytes]) -> list:
    """A COMMAND INFO entry with its subcommands limited to ``wanted`` and sorted."""
    entry = list(entry)
    subs = entry[9] or []
    entry[9] = sorted((_normal_info(sub, wanted) for sub in subs if sub[0] in wanted),
                      key=lambda sub: sub[0])
    return entry


def _normal_docs(docs: dict | list, wanted: set[bytes]) -> dict:
    if isinstance(docs, list):
        docs = dict(zip(docs[::2], docs[1::2], strict=True))
    docs = dict(docs)
    subs = docs.get(b"subcommands")
    if subs is not None:
        if isinstance(subs, list):
            subs = dict(zip(subs[::2], subs[1::2], strict=True))
        docs[b"subcommands"] = {name: _normal_docs(sub, wanted)
                                for name, sub in sorted(subs.items()) if name in wanted}
    return docs


def _hush_names() -> set[bytes]:
    """The commands of Hush, as Redis 7.0.15 would name them, that Redis has too."""
    return {cmd.full_name.encode() for cmd in every_command()
            if cmd.full_name not in NOT_IN_REDIS_7_0}


@pytest.mark.parametrize("name", _names())
def test_command_info_of_every_command(pair: Pair, name: str):
    wanted = _hush_names()
    ours, theirs = (parse_reply(raw) for raw in pair.both("COMMAND", "INFO", name))
    assert _normal_info(ours[0], wanted) == _normal_info(theirs[0], wanted)


@pytest.mark.parametrize("name", _names())
def test_command_docs_of_every_command(pair: Pair, name: str):
    wanted = _hush_names()
    ours, theirs = (parse_reply(raw) for raw in pair.both("COMMAND", "DOCS", name))
    if isinstance(ours, list):
        ours = dict(zip(ours[::2], ours[1::2], strict=True))
        theirs = dict(zip(theirs[::2], theirs[1::2], strict=True))
    key = name.encode()
    assert _normal_docs(ours[key], wanted) == _normal_docs(theirs[key], wanted)


def test_command_docs_bytes_of_commands_without_subcommands(pair: Pair):
    """Byte for byte: the reply shapes (maps, sets, statuses) in RESP2 and RESP3."""
    names = [cmd.name for cmd in all_commands()
             if not cmd.subcommands and cmd.full_name not in NOT_IN_REDIS_7_0]
    for start in range(0, len(names), 20):
        pair.check("COMMAND", "DOCS", *names[start:start + 20])
    pair.check("COMMAND", "DOCS", "nosuchcommand", "get", "config|get", "client|nope")


def test_command_list_filters(pair: Pair):
    known = _hush_names()
    newer = {name.encode() for name in NOT_IN_REDIS_7_0}
    every = set(parse_reply(pair.redis.call("COMMAND", "LIST")))
    assert known <= every
    for args in [(), ("FILTERBY", "ACLCAT", "read"), ("FILTERBY", "ACLCAT", "dangerous"),
                 ("FILTERBY", "ACLCAT", "pubsub"), ("FILTERBY", "ACLCAT", "nosuchcategory"),
                 ("FILTERBY", "PATTERN", "x*"), ("FILTERBY", "PATTERN", "config|*"),
                 ("FILTERBY", "PATTERN", "*GET*"), ("FILTERBY", "MODULE", "nosuchmodule")]:
        ours, theirs = (parse_reply(raw) for raw in pair.both("COMMAND", "LIST", *args))
        # What Redis lists, of the commands Hush has; plus Hush's newer ones.
        assert len(ours) == len(set(ours)), args
        assert set(ours) - newer == {name for name in theirs if name in known}, args
    for args in [("FILTERBY",), ("FILTERBY", "ACLCAT"), ("FILTERBY", "NOPE", "x"),
                 ("FILTERBY", "PATTERN", "a", "b"), ("x",)]:
        pair.check("COMMAND", "LIST", *args)


GETKEYS = [
    ("GET", "k"), ("SET", "k", "v", "EX", "10"), ("MSET", "a", "1", "b", "2"),
    ("SMOVE", "s", "d", "m"), ("RENAME", "a", "a"), ("COPY", "a", "b", "DB", "1"),
    ("LMOVE", "a", "b", "LEFT", "RIGHT"), ("BLMPOP", "0", "2", "a", "b", "LEFT"),
    ("ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"), ("ZUNIONSTORE", "d", "x", "a"),
    ("XREAD", "COUNT", "1", "STREAMS", "a", "b", "0", "0"),
    ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"), ("EVAL", "return 1", "2", "a", "b"),
    ("EVAL", "return 1", "0"), ("OBJECT", "ENCODING", "k"), ("XINFO", "STREAM", "s"),
    ("PING",), ("ECHO", "x"), ("GET",), ("NOSUCH", "k"), ("CONFIG", "GET", "x"),
    ("SPUBLISH", "c", "m"), ("SSUBSCRIBE", "c"), ("MEMORY", "USAGE", "k"), ("CLIENT",),
    ("DEL", "a", "b", "c"), ("SINTERCARD", "2", "a", "b", "LIMIT", "1"),
    ("GETEX", "k", "PERSIST"), ("SET", "k", "v", "GET"), ("LCS", "a", "b"),
]


@pytest.mark.parametrize("sub", ["GETKEYS", "GETKEYSANDFLAGS"])
def test_getkeys(pair: Pair, sub: str):
    for argv in GETKEYS:
        pair.check("COMMAND", sub, *argv)
    pair.check("COMMAND", sub)


def test_help_count_and_errors(pair: Pair):
    for args in [("HELP",), ("GETKEYSANDFLAGS",), ("INFO", "nosuch"), ("NOPE",)]:
        pair.check("COMMAND", *args)


def test_random_command_info_requests(pair: Pair):
    """Seeded COMMAND INFO / DOCS requests naming several commands, some unknown, at once."""
    rng = random.Random(7)
    names = _names() + ["nosuch", "get|x", "CONFIG|GET", "Get"]
    wanted = _hush_names()
    for _ in range(30):
        chosen = rng.sample(names, rng.randint(1, 6))
        ours, theirs = (parse_reply(raw) for raw in pair.both("COMMAND", "INFO", *chosen))
        assert [None if entry is None else _normal_info(entry, wanted) for entry in ours] == [
            None if entry is None else _normal_info(entry, wanted) for entry in theirs], chosen


def test_every_container_is_compared_on_its_own_subcommands():
    for cmd in all_commands():
        for sub in unique_subcommands(cmd):
            assert sub.parent is cmd
