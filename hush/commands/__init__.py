"""Command families. Importing this package fills the command table.

Each family lives in its own module and registers its commands with
:func:`hush.commands.table.command`; the dispatcher only reads the table.
"""

from hush.commands import (  # noqa: F401  (imported for their registrations)
    acl,
    bitmaps,
    clock,
    cluster,
    config,
    connection,
    diagnostics,
    functions,
    geo,
    hashes,
    hyperloglog,
    keys,
    latency,
    lists,
    memory,
    modules,
    persistence,
    pubsub,
    replication,
    scripting,
    server,
    sets,
    sort,
    stream_groups,
    streams,
    strings,
    transactions,
    zsets,
)
from hush.commands.table import COMMANDS, Command, all_commands, command, lookup

__all__ = ["COMMANDS", "Command", "all_commands", "command", "lookup"]
