"""The documentation site stays true: its generated references cover the code, its text the options.

The command and settings references are generated from the tables by
docs/_ext/hush_reference.py when Sphinx builds (``sphinx-build -W -b html
docs OUT``, run by .ci/run); these tests read what it generates without
Sphinx. The docs' examples are run in tests/e2e/test_docs_examples.py.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from types import ModuleType

import pytest

from hush.commands.docs import documentation
from hush.commands.table import every_command
from hush.config.settings import Settings
from hush.config.table import ALL, BY_NAME, TABLE
from hush.tap import Options
from tests.support import REPO

DOCS = REPO / "docs"


def load_extension() -> ModuleType:
    """docs/_ext/hush_reference.py, imported as Sphinx imports it."""
    path = DOCS / "_ext" / "hush_reference.py"
    spec = importlib.util.spec_from_file_location("hush_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("hush_reference", module)
    spec.loader.exec_module(module)
    return module


ref = load_extension()


def page_text(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def written_pages() -> list[str]:
    """The hand-written pages (the generated ones are not in the repository)."""
    generated = set(ref.pages())
    return sorted(str(path.relative_to(DOCS)) for path in DOCS.rglob("*.rst")
                  if str(path.relative_to(DOCS)) not in generated)


# -- the command reference ------------------------------------------------------------


def test_every_registered_command_has_an_entry_on_its_groups_page():
    pages = ref.pages()
    missing = []
    for cmd in every_command():
        group = (cmd.parent or cmd).group
        text = pages[f"commands/{group}.rst"]
        entry = f".. _{ref.label(cmd)}:\n\n{ref.display_name(cmd)}\n"
        if entry not in text:
            missing.append(cmd.full_name)
    assert missing == []


def test_every_command_is_in_the_index_and_every_group_in_its_toctree():
    index = ref.pages()["commands/index.rst"]
    for cmd in every_command():
        assert f":ref:`{ref.display_name(cmd)} <{ref.label(cmd)}>`" in index, cmd.full_name
    for group in ref.command_groups():
        assert f"\n   {group}\n" in index
    runnable = [cmd for cmd in every_command() if cmd.handler or not cmd.subcommands]
    assert f"Hush has {len(runnable)} commands and subcommands" in index


def test_labels_are_unique():
    labels = [ref.label(cmd) for cmd in every_command()]
    assert len(labels) == len(set(labels))


def test_an_entry_shows_what_command_info_says():
    (set_,) = [cmd for cmd in every_command() if cmd.full_name == "set"]
    text = "\n".join(ref.command_section(set_, "-"))
    assert ":Arity: -3 (at least 3 words, the name included)" in text
    assert ":Flags: ``write``, ``denyoom``" in text
    assert ":ACL categories: ``@write``, ``@string``, ``@slow``" in text
    assert "1. from argument 1, one key; flags RW, access, update" in text
    (client,) = [cmd for cmd in every_command() if cmd.full_name == "client"]
    text = "\n".join(ref.command_section(client, "-"))
    assert "A container: CLIENT runs one of its" in text
    assert ".. _command-client-list:\n\nCLIENT LIST\n~~~~~~~~~~~\n" in text


def test_every_entry_shows_what_command_docs_says():
    """Syntax, complexity and history of every command come from COMMAND DOCS's data."""
    pages = ref.pages()
    missing = []
    for cmd in ref.runnable_commands():
        doc = documentation(cmd.full_name)
        assert doc is not None, cmd.full_name  # tests/commands/test_docs.py names the gap
        text = "\n".join(ref.command_section(cmd, "~" if cmd.parent else "-"))
        wanted = [f"::\n\n    {ref.syntax(cmd, doc)}\n"]
        if doc.get("complexity"):
            wanted.append(f":Complexity: {ref.markdown_text(doc['complexity'])}\n")
        wanted += [f"    - {ref.escape(version)}: {ref.markdown_text(change)}\n"
                   for version, change in doc.get("history", ())]
        missing += [(cmd.full_name, line) for line in wanted if line not in text]
        group = (cmd.parent or cmd).group
        assert text in pages[f"commands/{group}.rst"], cmd.full_name
    assert missing == []


def test_cluster_memory_and_latency_commands_have_their_syntax():
    pages = ref.pages()
    assert ("    CLUSTER SETSLOT slot <IMPORTING node-id | MIGRATING node-id | NODE node-id"
            " | STABLE>\n") in pages["commands/cluster.rst"]
    assert "    MEMORY USAGE key [SAMPLES count]\n" in pages["commands/server.rst"]
    assert "    LATENCY HISTOGRAM [command [command ...]]\n" in pages["commands/server.rst"]
    assert ":Complexity: O(N) where N is the number of samples.\n" in pages["commands/server.rst"]
    assert "    - 6.0.0: Added the ``KEEPTTL`` option.\n" in pages["commands/string.rst"]


def test_since_names_redis_versions_and_hush_own_commands():
    by_name = {cmd.full_name: cmd for cmd in every_command()}
    assert ":Since: Redis 3.0.0" in "\n".join(ref.command_section(by_name["cluster|setslot"], "~"))
    assert ":Since: Redis 7.2.0" in "\n".join(ref.command_section(by_name["client|setinfo"], "~"))
    advance = "\n".join(ref.command_section(by_name["hush.clock|advance"], "~"))
    assert ":Since: Hush's own command (not in Redis)" in advance


def test_syntax_from_redis_documentation():
    # The argument shapes of Redis's COMMAND DOCS (SET, ZUNIONSTORE, MIGRATE, ZADD).
    set_doc = {"arguments": [
        {"name": "key", "type": "key", "key_spec_index": 0},
        {"name": "value", "type": "string"},
        {"name": "condition", "type": "oneof", "flags": ["optional"], "arguments": [
            {"name": "nx", "type": "pure-token", "token": "NX"},
            {"name": "xx", "type": "pure-token", "token": "XX"}]},
        {"name": "get", "type": "pure-token", "token": "GET", "flags": ["optional"]},
        {"name": "expiration", "type": "oneof", "flags": ["optional"], "arguments": [
            {"name": "seconds", "type": "integer", "token": "EX"},
            {"name": "keepttl", "type": "pure-token", "token": "KEEPTTL"}]},
    ]}
    (set_,) = [cmd for cmd in every_command() if cmd.full_name == "set"]
    assert ref.syntax(set_, set_doc) == "SET key value [NX | XX] [GET] [EX seconds | KEEPTTL]"
    assert ref.syntax(set_, None) == "SET"
    aggregate = {"name": "aggregate", "type": "oneof", "token": "AGGREGATE",
                 "flags": ["optional"], "arguments": [
                     {"name": "sum", "type": "pure-token", "token": "SUM"},
                     {"name": "max", "type": "pure-token", "token": "MAX"}]}
    assert ref._argument(aggregate) == "[AGGREGATE <SUM | MAX>]"
    weights = {"name": "weight", "type": "integer", "token": "WEIGHTS",
               "flags": ["optional", "multiple"]}
    assert ref._argument(weights) == "[WEIGHTS weight [weight ...]]"
    get = {"name": "pattern", "type": "pattern", "token": "GET",
           "flags": ["optional", "multiple", "multiple_token"]}
    assert ref._argument(get) == "[GET pattern [GET pattern ...]]"
    key_or_empty = {"name": "key_or_empty_string", "type": "oneof", "arguments": [
        {"name": "key", "type": "key"}, {"name": "empty_string", "type": "pure-token",
                                         "token": ""}]}
    assert ref._argument(key_or_empty) == '<key | "">'
    pairs = {"name": "score_member", "type": "block", "flags": ["multiple"], "arguments": [
        {"name": "score", "type": "double"}, {"name": "member", "type": "string"}]}
    assert ref._argument(pairs) == "score member [score member ...]"


def test_redis_documentation_texts_become_rst():
    assert ref.markdown_text("Added the `EX` option.") == "Added the ``EX`` option."
    assert ref.escape("a*b_c|d`e") == r"a\*b\_c\|d\`e"
    assert ref.prose("run twistd without -n, or --port x") == (
        "run twistd without ``-n``, or ``--port`` x")
    assert ref.prose("the in-memory non-blocking way") == "the in-memory non-blocking way"


# -- the settings reference -----------------------------------------------------------


def test_every_setting_has_an_entry_with_its_default_and_config_set():
    text = ref.pages()["settings.rst"]
    settings = Settings()
    for setting in ALL:
        start = text.index(f".. _setting-{setting.name}:\n\n``{setting.name}``")
        entry = text[start:text.index("\n.. _setting-", start + 1)
                     if "\n.. _setting-" in text[start + 1:] else len(text)]
        assert f":Default: {ref.literal(settings.render(setting.name))}" in entry, setting.name
        assert f":CONFIG SET: {ref.config_set_text(setting)}" in entry, setting.name
        for alias in setting.aliases:
            assert f"``{alias}``" in entry, alias


def test_config_set_column_follows_the_table():
    assert ref.config_set_text(BY_NAME["maxclients"]) == "yes"
    assert ref.config_set_text(BY_NAME["databases"]) == "no (read at start)"
    assert ref.config_set_text(BY_NAME["dir"]) == "no (protected, as in Redis)"


def test_what_hush_does_differently_is_said():
    text = ref.pages()["settings.rst"]
    for setting in ALL:
        if setting.note:
            assert ref.prose(setting.note) in text, setting.name


def test_extra_notes_name_settings_hush_has():
    assert set(ref.MORE) <= {setting.name for setting in TABLE}


# -- the hand-written pages -----------------------------------------------------------


def test_every_option_is_documented():
    text = page_text("configuration.rst")
    options = Options()
    names = {"--help", "--version", "--port", "-p"}
    names |= {"--" + param[0] for param in options.optParameters}
    names |= {"--" + flag[0] for flag in getattr(options, "optFlags", [])}
    for name in sorted(names):
        assert f"``{name}" in text, f"option {name} is not described in docs/configuration.rst"


def test_refused_config_lines_are_named():
    text = page_text("configuration.rst")
    for name in ("rename-command", "sentinel", "loadmodule"):
        assert f"``{name}``" in text, name


@pytest.mark.parametrize("page", written_pages())
def test_contrib_files_named_in_the_docs_exist(page):
    for path in re.findall(r"contrib/[\w/.@-]+", page_text(page)):
        assert (REPO / path.rstrip(".")).exists(), path


def test_module_map_names_every_module():
    """The architecture page's module map names every module of hush/, under its package."""
    text = page_text("architecture.rst")
    section = text.split("The module map, from the top:", 1)[1].split("\nTests\n-----\n")[0]
    entries = re.split(r"\n(?=``hush\.)", section)
    missing = []
    for path in sorted((REPO / "hush").rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        if parts[-1] == "__init__":
            continue
        if len(parts) == 2:  # hush/tap.py: named whole
            if f"``hush.{parts[1]}``" not in section:
                missing.append(".".join(parts))
            continue
        package = f"``hush.{parts[1]}``"
        entry = next((e for e in entries if e.startswith(package)), "")
        if f"``{parts[-1]}``" not in entry:
            missing.append(".".join(parts))
    assert not missing, f"docs/architecture.rst's module map does not name: {missing}"


def test_every_page_is_in_a_toctree():
    index = page_text("index.rst")
    for page in written_pages():
        if page == "index.rst":
            continue
        assert f"\n   {page.removesuffix('.rst')}\n" in index, page


def test_write_pages_removes_a_group_that_is_gone(tmp_path):
    (tmp_path / "commands").mkdir()
    (tmp_path / "commands" / "gone.rst").write_text("old\n")
    written = ref.write_pages(tmp_path)
    assert not (tmp_path / "commands" / "gone.rst").exists()
    assert (tmp_path / "settings.rst").read_text() == ref.pages()["settings.rst"]
    assert len(written) == len(ref.pages())
    assert ref.write_pages(tmp_path) == []  # unchanged pages are not touched
