# -*- test-case-name: tests.unit.config.test_config -*-
"""CONFIG GET, SET, REWRITE, RESETSTAT and HELP, over :mod:`hush.config.settings`."""

from __future__ import annotations

from hush.commands.table import command, container, help_command
from hush.config.files import rewrite_file
from hush.config.kinds import ConfigError
from hush.core.errors import SYNTAX, CommandError
from hush.wire.resp import OK

GROUP = "server"

container("config", group=GROUP, since="2.0.0",
          summary="A container for server configuration commands")

_CONFIG_FLAGS = ("admin", "noscript", "loading", "stale")
_CONFIG_ACL = ("admin", "slow", "dangerous")
_GLOB_CHARS = frozenset(b"*?[")


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


@command("config|get", arity=-3, flags=_CONFIG_FLAGS, group=GROUP, since="2.0.0",
         summary="Get the values of configuration parameters", acl=_CONFIG_ACL)
def config_get(ctx, *patterns: bytes) -> dict[bytes, bytes]:
    """Every setting matching any of the glob patterns, each once (a map in RESP3)."""
    found: dict[bytes, tuple[bytes, bytes]] = {}
    for pattern in patterns:
        for name, value in ctx.server.settings.get(pattern).items():
            # Redis answers an exact (glob-free) name in the caller's spelling.
            shown = pattern if not _GLOB_CHARS.intersection(pattern) else name
            found.setdefault(name, (shown, value))
    return dict(found.values())


@command("config|set", arity=-4, flags=_CONFIG_FLAGS, group=GROUP, since="2.0.0",
         summary="Set configuration parameters to the given values", acl=_CONFIG_ACL,
         tips=("request_policy:all_nodes", "response_policy:all_succeeded"))
def config_set(ctx, *pairs: bytes):
    """Change settings, all or none of them; modules told through Settings.on_change."""
    if len(pairs) % 2:
        raise CommandError(SYNTAX)
    try:
        ctx.server.settings.set_many(
            (_text(name), _text(value)) for name, value in zip(pairs[::2], pairs[1::2], strict=True))
    except ConfigError as error:
        # Redis prints the setting's name with %s: it ends at a NUL byte.
        error.name = error.name.split("\0", 1)[0]
        raise CommandError(error.command_error()) from None
    return OK


@command("config|rewrite", arity=2, flags=_CONFIG_FLAGS, group=GROUP, since="2.8.0",
         summary="Rewrite the configuration file with the in memory configuration",
         acl=_CONFIG_ACL)
def config_rewrite(ctx):
    """Write the current settings into the --config file, keeping its comments."""
    settings = ctx.server.settings
    if not settings.config_file:
        raise CommandError("ERR The server is running without a config file")
    try:
        rewrite_file(settings)
    except OSError as error:
        raise CommandError(f"ERR Rewriting config file: {error.strerror}") from None
    return OK


@command("config|resetstat", arity=2, flags=_CONFIG_FLAGS, group=GROUP, since="2.0.0",
         summary="Reset the stats returned by INFO", acl=_CONFIG_ACL)
def config_resetstat(ctx):
    """Zero the INFO stats counters."""
    ctx.store.stats.reset()
    ctx.server.persistence.reset_stats()
    ctx.server.commandstats.reset()
    return OK


_CONFIG_HELP = [
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Prints this help.",
]


help_command("config", _CONFIG_HELP, group=GROUP, since="5.0.0", acl=("slow",))
