# -*- test-case-name: tests.unit.persistence.test_aof -*-
"""Loading the append-only file: its commands replayed through the dispatcher.

Runs before the server listens (hush.persistence.manager calls :func:`load`).
The commands run through a :class:`LoaderSession`, the dispatcher every
client uses, without a connection; the store's ``loading`` flag keeps the
admission checks and expiry out of the way meanwhile. A file that starts with
an RDB preamble (``aof-use-rdb-preamble``) has it loaded first
(:mod:`hush.persistence.rdb`), keeping keys whose deadline passed: the
commands after it may still refer to them.
"""

from __future__ import annotations

import io
import os
from typing import Any

from twisted.logger import Logger

from hush.commands.dispatch import UNKNOWN_COMMAND, Session, Unresolved
from hush.core.errors import CommandError
from hush.core.interfaces import Server
from hush.formats.rdb import RdbError
from hush.persistence import rdb
from hush.persistence.aof import AOFError, BadFormat, Truncated, parse

log = Logger()


class UnknownCommand(Exception):
    """The file names a command Hush does not have: it cannot be loaded."""


class LoaderSession(Session):
    """The client the AOF's commands run as: no connection, no watchers.

    Its commands are not shown to MONITOR or --metrics, and a command name
    Hush does not know stops the load (:class:`UnknownCommand`) instead of
    being answered.
    """

    __slots__ = ()

    def __init__(self, server: Server) -> None:
        super().__init__(server)
        self._watchers = []
        # As Redis's AOF client: no ACL user, every command allowed.
        self.user = None
        self.update_gate()

    def _unresolved(self, argv: list[bytes], why: Unresolved) -> Any:
        if why.kind is UNKNOWN_COMMAND:
            raise UnknownCommand(argv[0])
        return super()._unresolved(argv, why)


def load(service: Server, path: str, truncated_ok: bool = True) -> int:
    """Replay the AOF at ``path`` into ``service``'s store; return the commands run.

    A missing or empty file loads nothing. A file ending mid-command (or mid
    MULTI) is cut back to its last complete command, with a warning, when
    ``truncated_ok`` (aof-load-truncated); anything else raises AOFError.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return 0
    client = LoaderSession(service)
    processed = service.store.stats.total_commands_processed
    service.store.loading = True
    loaded = 0
    valid = 0  # offset after the last command outside an open MULTI
    try:
        if data.startswith(b"REDIS"):
            valid = _load_preamble(service, path, data)
        before_multi = valid
        for argv, end in parse(data, valid):
            if not client.in_multi and argv[0].lower() == b"multi":
                before_multi = valid
            try:
                reply = client.execute(argv)
            except UnknownCommand:
                raise AOFError(
                    "Unknown command '%s' reading the append only file at offset %d"
                    % (argv[0].decode("utf-8", "replace"), before_multi if client.in_multi
                       else valid)
                ) from None
            if isinstance(reply, CommandError):
                log.warn("AOF command {name} failed while loading: {error}",
                         name=argv[0].decode("utf-8", "replace"), error=str(reply))
            loaded += 1
            if not client.in_multi:
                valid = end
        if client.in_multi:
            log.warn("Revert incomplete MULTI/EXEC transaction in AOF file {path}", path=path)
            raise Truncated(before_multi)
    except Truncated as error:
        if not truncated_ok:
            raise AOFError(
                f"{error}: {path}. Set aof-load-truncated yes to load it anyway, or "
                f"repair it with hush-check-aof --fix {path}."
            ) from None
        offset = min(error.offset, before_multi) if client.in_multi else error.offset
        log.warn("!!! Warning: short read while loading the AOF file {path}!!! "
                 "AOF loaded anyway because aof-load-truncated is enabled; "
                 "truncated to its last valid command at offset {offset}.",
                 path=path, offset=offset)
        with open(path, "r+b") as handle:
            handle.truncate(offset)
            os.fsync(handle.fileno())
    except BadFormat as error:
        raise AOFError(
            f"{error}: {path}. Make a backup of the file, then repair it with "
            f"hush-check-aof --fix {path}."
        ) from None
    finally:
        service.store.loading = False
        service.store.stats.total_commands_processed = processed
    return loaded


def _load_preamble(service: Server, path: str, data: bytes) -> int:
    """Load the RDB part of an AOF; the offset where its commands start."""
    try:
        result = rdb.load_dataset(service.store, io.BytesIO(data),
                                  now_ms=service.store.now_ms(), drop_expired=False)
    except RdbError as error:
        raise AOFError(f"Error reading the RDB preamble of the AOF file {path}, "
                       f"AOF loading aborted: {error}") from None
    log.info("Reading RDB preamble from AOF file...")
    try:
        service.persistence.install_functions(result.functions)
    except CommandError as error:
        raise AOFError(f"Error reading the RDB preamble of the AOF file {path}, AOF loading "
                       f"aborted: its function libraries do not load: {error}") from None
    return result.end_offset
