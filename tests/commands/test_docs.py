"""COMMAND DOCS from Redis's documentation data (hush.commands.docs)."""

from __future__ import annotations

import json

from hush.commands import docs
from hush.commands.table import every_command
from tests.support import raw_reply


def test_every_command_has_its_documentation():
    # Adding a command Redis 7.0.15 lacks means adding its entry to
    # hush/commands/hush_command_docs.json.
    missing = [cmd.full_name for cmd in every_command() if docs.documentation(cmd.full_name) is None]
    assert missing == []


def test_the_own_file_documents_only_commands_hush_has():
    names = {cmd.full_name for cmd in every_command()}
    own = json.loads(docs.OWN.read_text())["commands"]
    assert set(own) <= names


def test_the_generated_file_carries_redis_license_notice():
    about = json.loads(docs.GENERATED.read_text())["_about"]
    assert about["redis_version"] == "7.0.15"
    assert "BSD 3-clause" in about["notice"]


def test_docs_in_resp3_have_redis_shapes(resp3):
    raw = raw_reply(resp3, "COMMAND", "DOCS", "brpoplpush")
    assert raw.startswith(b"%1\r\n$10\r\nbrpoplpush\r\n%9\r\n$7\r\nsummary\r\n")
    assert b"$9\r\ndoc_flags\r\n~1\r\n+deprecated\r\n$16\r\ndeprecated_since\r\n" in raw
    raw = raw_reply(resp3, "COMMAND", "DOCS", "set")
    # History is a set of pairs, argument flags a set of statuses.
    assert b"$7\r\nhistory\r\n~4\r\n*2\r\n$6\r\n2.6.12\r\n" in raw
    assert b"$5\r\nflags\r\n~1\r\n+optional\r\n" in raw


def test_a_container_lists_the_subcommands_hush_has(client):
    reply = client.call("COMMAND", "DOCS", "client")
    docs_of = dict(zip(reply[1][::2], reply[1][1::2], strict=True))
    subs = dict(zip(docs_of[b"subcommands"][::2], docs_of[b"subcommands"][1::2], strict=True))
    assert b"client|tracking" in subs and b"client|setinfo" in subs
    assert b"client|caching" in subs
    assert docs_of[b"summary"] == b"A container for client connection commands"


def test_unknown_names_are_left_out(client):
    assert client.call("COMMAND", "DOCS", "nosuch", "config|nope") == []
