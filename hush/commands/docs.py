# -*- test-case-name: tests.commands.test_docs -*-
"""Redis's command documentation, as COMMAND DOCS answers it.

The documentation is data, kept in two files beside this module:

- ``redis_command_docs.json``: every command of Redis 7.0.15 as its COMMAND
  DOCS answers it, written by ``tools/generate_command_docs.py`` from a real
  redis-server (Redis's data, under its BSD license: see the file's notice);
  never edited by hand;
- ``hush_command_docs.json``: commands Hush has and Redis 7.0.15 has not
  (later Redis versions', Hush's own), written by hand in the same
  structure; the differential tests leave exactly these out when they
  compare COMMAND INFO and DOCS with redis-server.

Giving a new command its documentation is therefore nothing when Redis 7.0
has the command (the generated file has it already), else one entry in
``hush_command_docs.json``; ``tests/commands/test_docs.py`` fails while a
registered command has none. Both files are read the first time COMMAND
DOCS (or redis-cli's help) asks.

The structure is the reply's: a command is an object of ``summary``,
``since``, ``group``, ``complexity``, ``doc_flags``, ``deprecated_since``,
``replaced_by``, ``history`` ([version, text] pairs), ``arguments`` and
``subcommands`` (full name -> command), in Redis's order; an argument has
``name``, ``type``, ``key_spec_index``, ``token``, ``summary``, ``since``,
``deprecated_since``, ``flags`` and ``arguments``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
GENERATED = _HERE / "redis_command_docs.json"
OWN = _HERE / "hush_command_docs.json"


@cache
def _generated() -> dict[str, Any]:
    return json.loads(GENERATED.read_text(encoding="utf-8"))["commands"]


@cache
def _own() -> dict[str, Any]:
    return json.loads(OWN.read_text(encoding="utf-8"))["commands"]


def documentation(full_name: str) -> dict[str, Any] | None:
    """The documentation of a command or subcommand (``container|sub``), or None.

    A subcommand's comes from its container's ``subcommands``; the own file
    outranks the generated one. The result is shared: do not change it.
    """
    own = _own().get(full_name)
    if own is not None:
        return own
    container, bar, _sub = full_name.partition("|")
    if not bar:
        return _generated().get(full_name)
    parent = _generated().get(container)
    if parent is None:
        return None
    return parent.get("subcommands", {}).get(full_name)
