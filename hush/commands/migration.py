# -*- test-case-name: tests.commands.test_migrate -*-
"""Moving keys to another server: the core of MIGRATE, as Redis's migrateCommand does it.

:func:`migrate_keys` sends each key as a RESTORE of its DUMP payload (with
its remaining TTL) over a cached blocking connection
(:mod:`hush.wire.sync_client`), reads the target's one-line replies, deletes
each key the target accepted (unless COPY) and propagates those deletions as
one DEL. Errors are Redis's: ``IOERR error or timeout connecting to the
client``, ``IOERR error or timeout writing|reading to target instance``, and
``ERR Target instance replied with error: ...``; a broken cached connection
is retried once with a new one, unless it timed out.

The command name sent is a parameter, so cluster mode can send
RESTORE-ASKING as Redis does there.
"""

from __future__ import annotations

from typing import Any

from hush.core.errors import CommandError
from hush.data.types.registry import rdb_thresholds, to_neutral, written_encoding
from hush.formats.rdb_payload import dump_payload
from hush.wire.resp import OK, SimpleString
from hush.wire.sync_client import Timeout

NOKEY = SimpleString(b"NOKEY")
CONNECT_ERROR = "IOERR error or timeout connecting to the client"


def _command(argv: list[bytes]) -> bytes:
    parts = [b"*%d\r\n" % len(argv)]
    for arg in argv:
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


def _io_error(writing: bool) -> CommandError:
    return CommandError("IOERR error or timeout %s to target instance"
                        % ("writing" if writing else "reading"))


def migrate_keys(ctx: Any, host: bytes, port: bytes, keys: list[bytes], target_db: int,
                 timeout_ms: int, *, copy: bool = False, replace: bool = False,
                 username: bytes | None = None, password: bytes | None = None,
                 restore: bytes = b"RESTORE") -> Any:
    """Move (or with ``copy``, copy) ``keys`` of the client's database to ``host:port``.

    The reply MIGRATE gives: ``+NOKEY`` when none of the keys exists, OK, or
    a CommandError. Blocks for at most about ``timeout_ms`` per network step.
    """
    db = ctx.db
    cache = ctx.server.migrate_connections
    found = []
    for key in keys:
        value = db.get(key)
        stats = ctx.store.stats
        if value is None:
            stats.keyspace_misses += 1
        else:
            stats.keyspace_hits += 1
            found.append((key, value))
    if not found:
        return NOKEY
    thresholds = rdb_thresholds(ctx.server.settings)
    timeout = timeout_ms / 1000
    may_retry = True
    while True:
        try:
            conn = cache.get(host, port, timeout)
        except OSError:
            raise CommandError(CONNECT_ERROR) from None
        parts = []
        if password is not None:
            parts.append(_command([b"AUTH", password] if username is None
                                  else [b"AUTH", username, password]))
        select = conn.last_db != target_db
        if select:
            parts.append(_command([b"SELECT", b"%d" % target_db]))
        now = ctx.store.now_ms()
        moving = []
        for key, value in found:
            ttl = 0
            deadline = db.get_expire(key)
            if deadline is not None:
                ttl = deadline - now
                if ttl < 0:
                    continue
                ttl = max(ttl, 1)
            moving.append(key)
            payload = dump_payload(*to_neutral(value), thresholds,
                                   written_encoding(value, db.encodings.get(key)))
            argv = [restore, key, b"%d" % ttl, payload]
            if replace:
                argv.append(b"REPLACE")
            parts.append(_command(argv))
        try:
            conn.send(b"".join(parts))
            auth_reply = conn.read_line() if password is not None else b"+"
            select_reply = conn.read_line() if select else b"+"
        except OSError as error:
            writing = not conn.sent_all
            cache.close(host, port)
            if may_retry and not isinstance(error, Timeout):
                may_retry = False
                continue
            raise _io_error(writing) from None
        target_error: bytes | None = None
        socket_error: OSError | None = None
        deleted: list[bytes] = []
        read = 0
        for key in moving:
            try:
                line = conn.read_line()
            except OSError as error:
                socket_error = error
                break
            read += 1
            if auth_reply[:1] == b"-" or select_reply[:1] == b"-" or line[:1] == b"-":
                if target_error is None:
                    conn.last_db = -1
                    target_error = (auth_reply if auth_reply[:1] == b"-" else select_reply
                                    if select_reply[:1] == b"-" else line)
            elif not copy:
                db.delete(key)
                deleted.append(key)
        if (target_error is None and socket_error is not None and read == 0 and may_retry
                and not isinstance(socket_error, Timeout)):
            cache.close(host, port)
            may_retry = False
            continue
        if socket_error is not None:
            cache.close(host, port)
        if deleted:
            # Only the keys the target acknowledged are gone: propagate those.
            ctx.propagate_instead([b"DEL", *deleted])
        if target_error is not None:
            raise CommandError("ERR Target instance replied with error: "
                               + target_error[1:].decode("utf-8", "replace"))
        if socket_error is not None:
            raise _io_error(False)
        conn.last_db = target_db
        return OK
