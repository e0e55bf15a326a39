"""The generated references: commands from the command table, settings from the settings table.

Sphinx runs :func:`write_pages` when a build starts (see :func:`setup`): it
writes ``docs/commands/<group>.rst`` (one page per command group, with every
command and subcommand Hush registers), ``docs/commands/index.rst`` and
``docs/settings.rst`` from the code, so the references cannot drift from
it. The pages are build products (``docs/.gitignore``); the functions here
are plain Python so that tests/e2e/test_docs.py can check them without
Sphinx.

A command's summary, syntax, complexity and history come from the
documentation ``COMMAND DOCS`` answers (``hush.commands.docs``: Redis's own
for the commands Redis 7.0 has, Hush's for the others); arity, flags, key
specs and ACL categories from the command table, as ``COMMAND INFO``'s.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hush.commands import introspect
from hush.commands.docs import documentation
from hush.commands.table import Command, all_commands, every_command
from hush.config.directives import ACCEPTED, NOTES
from hush.config.kinds import Setting
from hush.config.settings import Settings
from hush.config.table import TABLE

DOCS = Path(__file__).resolve().parent.parent

#: Titles of Redis's command groups, in the order the reference lists them.
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
    "cluster": "Cluster",
    "scripting": "Scripting and functions",
}


# -- rst helpers ---------------------------------------------------------------------

_SPECIAL = re.compile(r"([\\*`|_])")
_MARKDOWN_CODE = re.compile(r"`([^`]+)`")


def escape(text: str) -> str:
    """Plain text as rst shows it: inline markup characters escaped."""
    return _SPECIAL.sub(r"\\\1", text)


_OPTION = re.compile(r"(?<![\w-])(--?[a-z][\w-]*)")


def prose(text: str) -> str:
    """A table's plain description as rst: escaped, command-line options as literals.

    Without the literal, docutils would typeset ``--port`` with an en dash.
    """
    return "".join(literal(part) if index % 2 else escape(part)
                   for index, part in enumerate(_OPTION.split(text)))


def literal(text: str) -> str:
    """``text`` as an inline literal (rst has no escape inside literals)."""
    # An empty value is shown as the empty string CONFIG GET answers.
    return f"``{text}``" if text.strip() else '``""``'


def markdown_text(text: str) -> str:
    """Redis's documentation strings (Markdown code spans) as rst."""
    parts = _MARKDOWN_CODE.split(text)
    return "".join(literal(part) if index % 2 else escape(part)
                   for index, part in enumerate(parts))


def heading(text: str, underline: str, over: bool = False) -> list[str]:
    rule = underline * max(len(text), 3)
    return ([rule] if over else []) + [text, rule, ""]


def label(cmd: Command) -> str:
    """The cross-reference target of a command: ``command-client-list`` for CLIENT LIST."""
    return "command-" + cmd.full_name.replace("|", "-").replace("_", "-").lower()


def display_name(cmd: Command) -> str:
    """The name as Redis writes it: ``CLIENT LIST``."""
    return cmd.full_name.replace("|", " ").upper()


# -- commands ------------------------------------------------------------------------


def syntax(cmd: Command, doc: dict[str, Any] | None) -> str:
    """The command line a user types, as Redis's documentation writes it."""
    words = [display_name(cmd)]
    if doc is not None:
        words.extend(_argument(arg) for arg in doc.get("arguments", ()))
    return " ".join(words)


def _argument(arg: dict[str, Any]) -> str:
    """One argument of Redis's documentation as syntax (``[NX | XX]``, ``key [key ...]``)."""
    kind, flags = arg["type"], arg.get("flags", ())
    token = arg.get("token")
    if kind == "pure-token":
        # MIGRATE's empty key is the token "": shown as the empty string it is.
        text = token or '""'
    elif kind == "oneof":
        text = " | ".join(_argument(sub) for sub in arg["arguments"])
        if token:
            text = f"<{text}>"
    elif kind == "block":
        text = " ".join(_argument(sub) for sub in arg["arguments"])
    else:
        text = arg["name"]
    if token and kind != "pure-token":
        text = f"{token} {text}"
    else:
        token = None
    if "multiple" in flags:
        repeated = text if "multiple_token" in flags or not token else text[len(token) + 1:]
        text = f"{text} [{repeated} ...]"
    if "optional" in flags:
        return f"[{text}]"
    if kind == "oneof" and not token:
        return f"<{text}>"
    return text


def _arity(arity: int) -> str:
    if arity >= 0:
        return f"{arity} (exactly {arity} words, the name included)"
    return f"{arity} (at least {-arity} words, the name included)"


def _key_spec(spec: dict[str, Any]) -> str:
    """One key spec in words: where the search begins, which keys it finds, its flags."""
    begin, find = spec["begin_search"], spec["find_keys"]
    if begin["type"] == "index":
        where = f"from argument {begin['spec']['index']}"
    elif begin["type"] == "keyword":
        where = (f"after the keyword {begin['spec']['keyword']} "
                 f"(searched from {begin['spec']['startfrom']})")
    else:
        where = "from a place only the command knows"
    params = find["spec"]
    if find["type"] == "range":
        last = params["lastkey"]
        which = ("one key" if last == 0 else
                 "keys to the last argument" if last == -1 else
                 f"keys up to {last} arguments further" if last > 0 else
                 f"keys up to argument {last} from the end")
        if params.get("keystep", 1) > 1:
            which += f", every {params['keystep']}th"
        if params.get("limit"):
            which += f", the first 1/{params['limit']} of them"
    elif find["type"] == "keynum":
        which = (f"a count at +{params['keynumidx']}, then that many keys from "
                 f"+{params['firstkey']}, step {params['keystep']}")
    else:
        which = "keys only the command finds"
    text = f"{where}, {which}; flags {', '.join(spec['flags']) or 'none'}"
    text = escape(text)
    if spec.get("notes"):
        text += f" ({markdown_text(spec['notes'])})"
    return text


def since_text(cmd: Command, since: str) -> str:
    """The version a command came with: Redis's, or none for Hush's own commands.

    ``COMMAND DOCS`` gives Hush's own commands (``HUSH.CLOCK``) a Redis
    version as every command has one; the reference says what they are.
    """
    if cmd.full_name.startswith("hush."):
        return "Hush's own command (not in Redis)"
    return f"Redis {escape(since)}"


def command_section(cmd: Command, underline: str) -> list[str]:
    """The reference section of one command (and, for a container, of its subcommands)."""
    doc = documentation(cmd.full_name)
    summary = (doc or {}).get("summary") or cmd.summary
    since = (doc or {}).get("since") or cmd.since
    lines = [f".. _{label(cmd)}:", ""]
    lines += heading(display_name(cmd), underline)
    if summary:
        lines += [markdown_text(summary.strip().rstrip(".")) + ".", ""]
    subs = sorted(introspect.unique_subcommands(cmd), key=lambda sub: sub.name)
    if cmd.handler is not None or not subs:
        if doc is not None:  # a module command loaded at run time may have none
            lines += ["::", "", f"    {syntax(cmd, doc)}", ""]
        fields = [
            ("Arity", escape(_arity(cmd.arity))),
            ("Flags", ", ".join(literal(f) for f in introspect.flags(cmd)) or "none"),
            ("ACL categories",
             ", ".join(literal("@" + c) for c in introspect.acl_categories(cmd)) or "none"),
            ("Since", since_text(cmd, since)),
        ]
        if doc and doc.get("complexity"):
            fields.append(("Complexity", markdown_text(doc["complexity"])))
        if cmd.tips:
            fields.append(("Tips", ", ".join(literal(tip) for tip in cmd.tips)))
        for name, value in fields:
            lines.append(f":{name}: {value}")
        specs = introspect.key_specs(cmd)
        if specs:
            lines.append(":Keys:")
            lines += [f"    {index}. {_key_spec(spec)}" for index, spec in enumerate(specs, 1)]
        else:
            lines.append(":Keys: none")
        if doc and doc.get("history"):
            lines.append(":History:")
            lines += [f"    - {escape(version)}: {markdown_text(text)}"
                      for version, text in doc["history"]]
        if doc and doc.get("deprecated_since"):
            replaced = doc.get("replaced_by", "")
            lines.append(f":Deprecated: since Redis {escape(doc['deprecated_since'])}"
                         + (f"; use {markdown_text(replaced)}" if replaced else ""))
        lines.append("")
    else:
        lines += [f"A container: {display_name(cmd)} runs one of its "
                  f"{len(subs)} subcommands.", ""]
    for sub in subs:
        lines += command_section(sub, "~")
    return lines


def runnable_commands() -> list[Command]:
    """Every command and subcommand a client can run (CLIENT only dispatches to CLIENT LIST ...)."""
    return [cmd for cmd in every_command() if cmd.handler is not None or not cmd.subcommands]


def command_groups() -> dict[str, list[Command]]:
    """Group -> its top-level commands, groups in the reference's order."""
    groups: dict[str, list[Command]] = {}
    for cmd in all_commands():
        groups.setdefault(cmd.group, []).append(cmd)
    order = [g for g in GROUP_TITLES if g in groups] + sorted(set(groups) - set(GROUP_TITLES))
    return {group: groups[group] for group in order}


def group_title(group: str) -> str:
    return GROUP_TITLES.get(group, group.replace("-", " ").capitalize())


def group_page(group: str, commands: Iterable[Command]) -> str:
    """The reference page of one command group."""
    commands = list(commands)
    count = sum(1 + len(introspect.unique_subcommands(c)) for c in commands)
    lines = [".. This page is generated from the command table by docs/_ext/hush_reference.py.",
             ""]
    lines += heading(group_title(group), "=")
    with_subs = f" ({count} with their subcommands)" if count != len(commands) else ""
    lines += [f"{len(commands)} commands of Redis's ``{group}`` group{with_subs}. Each "
              "entry is what ``COMMAND INFO`` and ``COMMAND DOCS`` answer for it.", ""]
    for cmd in commands:
        lines += command_section(cmd, "-")
    return "\n".join(lines).rstrip("\n") + "\n"


def commands_index() -> str:
    """The index of the command reference: every group, every command with its summary."""
    groups = command_groups()
    total = len(runnable_commands())
    lines = [".. This page is generated from the command table by docs/_ext/hush_reference.py.",
             ""]
    lines += heading("Command reference", "=")
    lines += [f"Hush has {total} commands and subcommands, in {len(groups)} groups. "
              "Commands it does not list answer Redis's ``unknown command`` error. The "
              "pages are generated from Hush's command table, so they list exactly what "
              "a server answers for.", "",
              ".. toctree::", "   :maxdepth: 1", ""]
    lines += [f"   {group}" for group in groups]
    lines.append("")
    for group, commands in groups.items():
        lines += heading(group_title(group), "-")
        for cmd in commands:
            names = [cmd] + sorted(introspect.unique_subcommands(cmd), key=lambda s: s.name)
            for entry in names:
                summary = (documentation(entry.full_name) or {}).get("summary") or entry.summary
                lines.append(f":ref:`{display_name(entry)} <{label(entry)}>`")
                lines.append(f"    {markdown_text(summary.strip()) or 'No summary.'}")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


# -- settings ------------------------------------------------------------------------

#: What the pages say about a setting beyond its one-line description in the table.
MORE: dict[str, str] = {
    "tcp-backlog": "Explicit ``--port`` endpoints get it too.",
    "tcp-keepalive": "After it, one probe every third of it; the connection is dropped "
                     "after 3 unanswered, as Redis sets them. Applies to connections "
                     "accepted afterwards.",
    "aclfile": "``ACL LOAD`` reads it, ``ACL SAVE`` writes it; a bad file stops the start.",
    "save": "Redis's default is ``3600 1 300 100 60 10000``; Hush's is empty, so it takes "
            "no snapshot unless configured (see :doc:`/compatibility`).",
    "loglevel": "``debug``, ``verbose``, ``notice`` or ``warning``: the least severe "
                "lines kept, as in Redis (Hush's ``verbose`` lines: idle clients closed; "
                "Lua's ``redis.log`` at each level). Applies at once.",
    "logfile": "Opened for each line as Redis does, so logrotate may move it; one Hush "
               "cannot open stops the start (``Can't open the log file: ...``). Empty: "
               "standard output under ``twistd -n``, else where twistd logs "
               "(``--logfile``, ``--syslog``, ``twistd.log``).",
    "pidfile": "Written before Hush listens.",
    "syslog-enabled": "At Redis's priorities.",
    "syslog-facility": "``user`` or ``local0`` .. ``local7``.",
    "hz": "Hush's timers do not depend on it; ``INFO`` reports it (``hz``, "
          "``configured_hz``).",
    "notify-keyspace-events": "Checked with Redis's rules and shown in its order (``KEA`` "
                              "reads back ``AKE``).",
    "enable-module-command": "``loadmodule`` lines load modules at start whatever it says "
                             "(see :doc:`/modules`).",
    "enable-time-control": "See :doc:`/testing`.",
    "maxkeys": "See :ref:`key-limit`.",
    "maxkeys-policy": "See :ref:`key-limit`.",
    "maxmemory": "See :ref:`memory-limit`.",
    "cluster-enabled": "With a static slot map read from ``cluster-config-file``: see "
                       ":ref:`cluster-mode`.",
    "cluster-config-file": "In Redis's format; read at start, created when missing, "
                           "rewritten when the slot map changes (see :ref:`cluster-mode`).",
    "cluster-require-full-coverage": "A node then answers ``-CLUSTERDOWN`` to commands "
                                     "with keys.",
    "cluster-preferred-endpoint-type": "``ip``, ``hostname`` or ``unknown-endpoint``: "
                                       "what ``-MOVED`` and ``-ASK`` name.",
    "hash-max-listpack-entries": "Past it, or past ``hash-max-listpack-value``, the hash "
                                 "is a hashtable for good (``OBJECT ENCODING``, how "
                                 "``HSCAN`` pages); see :ref:`encoding-thresholds`.",
    "hash-max-listpack-value": "See :ref:`encoding-thresholds`.",
    "zset-max-listpack-entries": "Past it, or past ``zset-max-listpack-value``, the "
                                 "sorted set is a skiplist for good; see "
                                 ":ref:`encoding-thresholds`.",
    "zset-max-listpack-value": "See :ref:`encoding-thresholds`.",
    "set-max-intset-entries": "An intset lists its members in numeric order; see "
                              ":ref:`encoding-thresholds`.",
    "list-max-listpack-size": "Redis 7.0's lists are quicklists whatever it says; in Hush "
                              "it shapes ``MEMORY USAGE``'s figure for lists and the list "
                              "nodes ``DUMP`` and dump files write.",
    "list-compress-depth": "In Hush it only shapes ``MEMORY USAGE``'s figure for lists "
                           "(see :doc:`/compatibility` for the dump files).",
    "stream-node-max-bytes": "For the entries added from then on: what ``~`` trimming "
                             "drops, ``XINFO STREAM``'s node figures and the nodes ``DUMP`` "
                             "and dump files write (a loaded stream keeps its file's nodes).",
    "stream-node-max-entries": "As ``stream-node-max-bytes``; also the default ``LIMIT`` "
                               "of ``XADD`` and ``XTRIM`` with ``~`` (100 nodes' worth).",
    "latency-monitor-threshold": "Commands that long are kept as ``command`` or "
                                 "``fast-command`` events; see :ref:`latency`.",
    "latency-tracking": "In power-of-two buckets; ``no`` saves that count, about a tenth "
                        "of a microsecond per command. See :ref:`latency`.",
    "tracking-table-max-keys": "0: no limit. Random keys are invalidated before the next "
                               "command, with Redis's growing effort; see "
                               ":ref:`client-side-caching`.",
}


def default_text(setting: Setting, settings: Settings) -> str:
    """The default as ``CONFIG GET`` shows it on a server started without a config file."""
    return settings.render(setting.name)


def config_set_text(setting: Setting) -> str:
    if setting.protected:
        return "no (protected, as in Redis)"
    return "yes" if setting.mutable else "no (read at start)"


def _setting_entry(setting: Setting, settings: Settings, notes: bool) -> list[str]:
    name = literal(setting.name)
    if setting.aliases:
        name += " (alias " + ", ".join(literal(a) for a in setting.aliases) + ")"
    lines = [f".. _setting-{setting.name}:", "", name]
    text = prose(setting.doc)
    if setting.name in MORE:
        text = (text + " " if text else "") + MORE[setting.name]
    if text:
        lines.append(f"    {text}")
        lines.append("")
    lines.append(f"    :Default: {literal(default_text(setting, settings))}")
    lines.append(f"    :CONFIG SET: {config_set_text(setting)}")
    if notes and setting.note:
        lines.append(f"    :In Hush: {prose(setting.note)}")
    if setting.hidden:
        lines.append("    :Hidden: ``CONFIG GET`` finds it by its exact name only, "
                     "as in Redis.")
    lines.append("")
    return lines


def settings_page() -> str:
    """The settings reference: those Hush acts on, then Redis's others by topic."""
    settings = Settings()
    lines = [".. This page is generated from the settings table by docs/_ext/hush_reference.py.",
             ""]
    lines += heading("Settings reference", "=")
    lines += [f"Every directive of Redis 7.0.15's ``redis.conf`` is known to Hush "
              f"({len(TABLE) + len(ACCEPTED)} settings): a config file line sets it, "
              "``CONFIG GET`` shows it under its Redis name, ``CONFIG SET`` changes it "
              "where the entry says so, and ``CONFIG REWRITE`` writes it. Defaults are "
              "what ``CONFIG GET`` answers on a server started without a config file. "
              "How the file is read: :doc:`configuration`.", ""]
    lines += heading("Settings Hush acts on", "-")
    for setting in TABLE:
        lines += _setting_entry(setting, settings, notes=True)
    lines += heading("Redis's other directives", "-")
    lines += ["Hush keeps these with Redis's type, checks, error texts and default, and "
              "does not act on them beyond what each topic says. For those a config file "
              "sets, the startup log says once per topic what Hush does instead (a "
              "directive set to ``\"\"`` is off and needs no note).", ""]
    topics: dict[str, list[Setting]] = {}
    for setting in ACCEPTED:
        topics.setdefault(setting.note, []).append(setting)
    titles = {text: key for key, text in NOTES.items()}
    for note, members in topics.items():
        lines += heading(_topic_title(titles.get(note, "")), "~")
        lines += [prose(note), ""]
        for setting in members:
            lines += _setting_entry(setting, settings, notes=False)
    return "\n".join(lines).rstrip("\n") + "\n"


def _topic_title(key: str) -> str:
    return {
        "rdb": "Snapshots", "rdb-ignored": "Snapshot details", "aof": "The AOF's layout",
        "daemonize": "Daemon", "supervised": "Supervision", "tls": "TLS",
        "threads": "Threads", "lazyfree": "Lazy freeing", "allocator": "Memory allocator",
        "encodings": "HyperLogLog's sparse limit", "process": "The process",
        "shutdown": "Shutdown", "latency": "Latency percentiles", "lfu": "LFU",
        "eviction": "Eviction", "expiry": "Expiry", "modules": "Protected configs",
        "debugging": "Testing hooks", "warnings": "Startup checks",
        "replication-ignored": "Replication details", "cluster": "Cluster (no cluster bus)",
        "keyspace-events": "Keyspace notifications",
    }.get(key, key.replace("-", " ").capitalize() or "Other")


# -- writing -------------------------------------------------------------------------


def pages() -> dict[str, str]:
    """Every generated page: its path under docs/ -> its text."""
    out = {"commands/index.rst": commands_index(), "settings.rst": settings_page()}
    for group, commands in command_groups().items():
        out[f"commands/{group}.rst"] = group_page(group, commands)
    return out


def write_pages(root: Path = DOCS) -> list[Path]:
    """Write the generated pages under ``root``, touching only those whose text changed.

    Stale pages of groups that no longer exist are removed, so the toctree
    never points at a page the table no longer backs.
    """
    written = []
    wanted = pages()
    commands_dir = root / "commands"
    commands_dir.mkdir(exist_ok=True)
    for old in commands_dir.glob("*.rst"):
        if f"commands/{old.name}" not in wanted:
            old.unlink()
    for relative, text in wanted.items():
        path = root / relative
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def _on_builder_inited(app: Any) -> None:
    write_pages(Path(app.srcdir))


def setup(app: Any) -> dict[str, Any]:
    """Sphinx's entry point: generate the reference pages before the sources are read."""
    app.connect("builder-inited", _on_builder_inited)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}


if __name__ == "__main__":
    for path in write_pages():
        print(path)
