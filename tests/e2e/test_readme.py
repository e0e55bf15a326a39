"""README.rst stays true: its command list, options and CI command match the code.

The "Supported commands" list is generated from the command table::

    python -m tests.e2e.test_readme --write

rewrites it between the ``.. commands-start`` and ``.. commands-end`` markers.
"""

from __future__ import annotations

import re
import sys

from hush.commands import all_commands
from hush.tap import Options
from tests.support import REPO

README_PATH = REPO / "README.rst"
START = ".. commands-start\n"
END = ".. commands-end\n"

#: Section titles for Redis's command groups, in the order shown.
GROUP_TITLES = {
    "string": "Strings",
    "list": "Lists",
    "hash": "Hashes",
    "set": "Sets",
    "sorted-set": "Sorted sets",
    "stream": "Streams",
    "bitmap": "Bitmaps",
    "hyperloglog": "HyperLogLog",
    "geo": "Geo (sorted sets)",
    "generic": "Keys",
    "transactions": "Transactions",
    "pubsub": "Pub/sub",
    "connection": "Connection",
    "server": "Server",
}


def command_names() -> dict[str, list[str]]:
    """Group -> every registered command and subcommand, as Redis writes them."""
    groups: dict[str, list[str]] = {}
    for cmd in all_commands():
        names = groups.setdefault(cmd.group, [])
        if cmd.handler is not None or not cmd.subcommands:
            names.append(cmd.name.upper())
        subs = {sub.name for sub in cmd.subcommands.values()}
        names.extend(f"{cmd.name.upper()} {sub.upper()}" for sub in sorted(subs))
    return groups


def render() -> str:
    """The generated list: a definition list, one entry per command group."""
    groups = command_names()
    order = [g for g in GROUP_TITLES if g in groups] + sorted(set(groups) - set(GROUP_TITLES))
    total = sum(len(names) for names in groups.values())
    lines = ["", f"{total} commands and subcommands.", ""]
    for group in order:
        lines.append(GROUP_TITLES.get(group, group.title()))
        lines.append("    " + ", ".join(f"``{name}``" for name in groups[group]))
        lines.append("")
    return "\n".join(lines) + "\n"


def current_section(text: str) -> str:
    start = text.index(START) + len(START)
    return text[start : text.index(END, start)]


def write() -> None:
    text = README_PATH.read_text(encoding="utf-8")
    start = text.index(START) + len(START)
    end = text.index(END, start)
    README_PATH.write_text(text[:start] + render() + text[end:], encoding="utf-8")


def test_every_registered_command_is_listed():
    section = current_section(README_PATH.read_text(encoding="utf-8"))
    listed = set(re.findall(r"``([A-Z][A-Z0-9 ._-]*)``", section))
    registered = {name for names in command_names().values() for name in names}
    missing = sorted(registered - listed)
    unknown = sorted(listed - registered)
    hint = "run: python -m tests.e2e.test_readme --write"
    assert not missing, f"README.rst does not list {missing}; {hint}"
    assert not unknown, f"README.rst lists commands Hush does not have: {unknown}; {hint}"
    assert section == render(), hint


def test_readme_test_command_is_what_ci_runs():
    readme = README_PATH.read_text(encoding="utf-8")
    command = "python3 -m venv .venv && .venv/bin/pip install '.[tests]' && .venv/bin/python -m pytest"
    assert f"    {command}\n" in readme
    ci_lines = (REPO / ".ci" / "run").read_text().splitlines()
    assert any(line.startswith(command + " ") or line == command for line in ci_lines)


def test_every_option_is_documented():
    readme = README_PATH.read_text(encoding="utf-8")
    options = Options()
    names = {"--help", "--version", "--port", "-p"}
    names |= {"--" + param[0] for param in options.optParameters}
    names |= {"--" + flag[0] for flag in getattr(options, "optFlags", [])}
    for name in sorted(names):
        assert f"``{name}" in readme, f"option {name} is not described in README.rst"


def test_contrib_files_named_in_the_readme_exist():
    readme = README_PATH.read_text(encoding="utf-8")
    for path in re.findall(r"contrib/[\w/.@-]+", readme):
        assert (REPO / path.rstrip(".")).exists(), path


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write()
    else:
        sys.stdout.write(render())
