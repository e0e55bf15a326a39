# -*- test-case-name: tests.unit.persistence.test_aof -*-
"""The append-only file, in Redis's own format (RESP multibulk commands).

:class:`AppendOnlyFile` receives the effects of write commands from
:class:`hush.persistence.propagation.Propagator`, encodes them (with a SELECT whenever
the database changes) into a buffer, and writes the buffer before the replies
that acknowledge those writes go out (``appendfsync always`` also fsyncs it
then; ``everysec`` fsyncs once a second from the injected clock; ``no``
leaves it to the OS). One file, ``<dir>/<appendfilename>``: the layout of
Redis before 7, which Redis 7 still loads (and upgrades) when it finds no
manifest.

:mod:`hush.persistence.loader` replays a file before the server listens.
:meth:`AppendOnlyFile.start_rewrite` compacts the file in a forked
child (BGREWRITEAOF) while the parent keeps serving and buffers what is
written meanwhile. With ``aof-use-rdb-preamble yes`` (Redis's default) the
compacted file is an RDB file (:mod:`hush.persistence.rdb`) followed by the
commands written since; without it, commands only.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger

from hush.core.errors import CommandError
from hush.data.types.registry import rewrite_commands
from hush.persistence import rdb
from hush.persistence.propagation import ReplicasOnly

log = Logger()

#: Seconds between checks on a rewriting child.
CHILD_POLL = 0.05
#: Commands a rewrite child writes between two checks that its parent lives.
PARENT_CHECK_EVERY = 256


def encode(argv: list[bytes]) -> bytes:
    """One command as a RESP multibulk array, as Redis writes it to its AOF."""
    parts = [b"*%d\r\n" % len(argv)]
    for arg in argv:
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


class AOFError(Exception):
    """The append-only file cannot be loaded."""


class Truncated(AOFError):
    """The file ends in the middle of a command (a crash during a write).

    @ivar offset: length of the file's valid prefix (complete commands).
    """

    def __init__(self, offset: int) -> None:
        super().__init__(f"Unexpected end of file reading the append only file at offset {offset}")
        self.offset = offset


class BadFormat(AOFError):
    """The file holds something other than RESP multibulk commands."""

    def __init__(self, offset: int, why: str = "") -> None:
        super().__init__(
            f"Bad file format reading the append only file at offset {offset}"
            + (f" ({why})" if why else "")
        )
        self.offset = offset


def parse(data: bytes, pos: int = 0) -> Iterator[tuple[list[bytes], int]]:
    """Yield (argv, end offset) per command from ``pos`` on; raise Truncated or BadFormat."""
    size = len(data)
    while pos < size:
        start = pos
        if data[pos] == 0x23:  # '#': an annotation (aof-timestamp-enabled), skipped as Redis does
            eol = data.find(b"\n", pos)
            if eol < 0:
                raise Truncated(start)
            pos = eol + 1
            continue
        if data[pos] != 0x2A:  # '*'
            raise BadFormat(pos)
        count, pos = _header(data, pos, start)
        if count < 1:
            raise BadFormat(start)
        argv = []
        for _ in range(count):
            if pos >= size:
                raise Truncated(start)
            if data[pos] != 0x24:  # '$'
                raise BadFormat(pos)
            length, pos = _header(data, pos, start)
            end = pos + length
            if length < 0:
                raise BadFormat(pos)
            if end + 2 > size:
                raise Truncated(start)
            if data[end:end + 2] != b"\r\n":
                raise BadFormat(end)
            argv.append(data[pos:end])
            pos = end + 2
        yield argv, pos


def _header(data: bytes, pos: int, start: int) -> tuple[int, int]:
    """The number after a '*' or '$' at ``pos``, and the offset after its CRLF."""
    eol = data.find(b"\r\n", pos)
    if eol < 0:
        # A header line cut short is a truncation unless it is already garbage.
        rest = data[pos + 1:].rstrip(b"\r").lstrip(b"-")
        if rest and not rest.isdigit():
            raise BadFormat(pos)
        raise Truncated(start)
    try:
        return int(data[pos + 1:eol]), eol + 2
    except ValueError:
        raise BadFormat(pos) from None




def snapshot_commands(store: Any, now_ms: int,
                      libraries: Iterable[bytes] = ()) -> Iterator[bytes]:
    """The whole dataset as encoded commands: per db a SELECT, per key one or more commands.

    Function libraries come first, as FUNCTION LOAD (Redis's rewriteFunctions).
    Each value is written as its type's record says
    (:func:`hush.data.types.registry.rewrite_commands`). Reads the dictionaries
    directly (no lookups that could expire keys and propagate from a forked
    child).
    """
    for code in libraries:
        yield encode([b"FUNCTION", b"LOAD", code])
    for db in store.dbs:
        if not len(db):
            continue
        yield encode([b"SELECT", b"%d" % db.index])
        expires = db.expires
        for key, value in list(db.items()):
            deadline = expires.get(key)
            if deadline is not None and deadline <= now_ms:
                continue
            for argv in rewrite_commands(key, value):
                yield encode(argv)
            if deadline is not None:
                yield encode([b"PEXPIREAT", key, b"%d" % deadline])


Orphaned = rdb.Orphaned


def write_snapshot(store: Any, path: str, now_ms: int,
                   alive: Callable[[], bool] | None = None, libraries: Iterable[bytes] = (),
                   settings: Any = None) -> int:
    """Write the dataset to ``path`` and fsync it; return its size.

    With ``settings`` whose ``aof-use-rdb-preamble`` is on, the dataset is
    written as an RDB file (``aof-base`` 1), else as commands. ``alive`` (a
    forked child's check on its parent) is asked every few commands; when it
    answers False the write stops with :class:`Orphaned`.
    """
    with open(path, "wb", buffering=1 << 20) as handle:
        if settings is not None and rdb.setting(settings, "aof-use-rdb-preamble"):
            rdb.write_dataset(store, settings, handle, now_s=now_ms // 1000,
                              functions=libraries, aof_base=True, alive=alive)
        else:
            for count, chunk in enumerate(snapshot_commands(store, now_ms, libraries)):
                if alive is not None and count % PARENT_CHECK_EVERY == 0 and not alive():
                    raise Orphaned(path)
                handle.write(chunk)
        handle.flush()
        os.fsync(handle.fileno())
        return handle.tell()


def replace_with_snapshot(store: Any, path: str, temp_name: str,
                          libraries: Iterable[bytes] = (), settings: Any = None) -> None:
    """Write the dataset to ``temp_name`` (beside ``path``), then move it over ``path``.

    A failed write removes the temporary file and leaves ``path`` as it was.
    """
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    temp = os.path.join(directory, temp_name)
    try:
        write_snapshot(store, temp, store.now_ms(), libraries=libraries, settings=settings)
        os.replace(temp, path)
    except BaseException:
        rdb.unlink(temp)
        raise
    rdb.fsync_dir(path)


def temp_files(pid: int) -> tuple[str, str]:
    """The rewrite child ``pid``'s file while it writes, and once it has written.

    Redis's names (relative to ``dir``): the parent installs the second one,
    and removes both when the child fails or is killed.
    """
    return f"temp-rewriteaof-{pid}.aof", f"temp-rewriteaof-bg-{pid}.aof"


def rewrite_child(store: Any, settings: Any, now_ms: int, parent: int,
                  libraries: Iterable[bytes] = ()) -> int:
    """The body of a forked rewrite child; its exit status.

    It writes the dataset to its temporary file, then renames it for the
    parent to install. A child whose parent died (a kill -9 of the server)
    would otherwise write the whole dataset for nobody and leave its file
    behind: it stops within a few commands and removes what it wrote.
    """
    writing, written = (os.path.join(settings.dir, name) for name in temp_files(os.getpid()))

    def alive() -> bool:
        return os.getppid() == parent

    try:
        write_snapshot(store, writing, now_ms, alive, libraries, settings)
        os.replace(writing, written)
        if not alive():
            rdb.unlink(written)
            return 1
        return 0
    except BaseException:
        rdb.unlink(writing)
        return 1


class AppendOnlyFile:
    """The open AOF: buffer, fsync policy, statistics, and background rewrites.

    @ivar current_size: bytes in the file (aof_current_size).
    @ivar base_size: size after the last rewrite or load (aof_base_size).
    """

    def __init__(self, store: Any, settings: Any, clock: IReactorTime) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.path = os.path.join(settings.dir, settings.appendfilename)
        self.fd = -1
        self.buf: list[bytes] = []
        self.selected_db = -1
        self.current_size = 0
        self.base_size = 0
        self.last_write_ok = True
        #: strerror of the last failed write, None once writes succeed again.
        self.write_error: str | None = None
        self.unsynced = False
        self._fsync_timer: IDelayedCall | None = None
        self._flush_call: IDelayedCall | None = None
        # Background rewrite.
        self.child_pid = 0
        self.rewrite_buf: list[bytes] | None = None
        self.rewrite_started_at = 0.0
        self._poll: IDelayedCall | None = None
        #: Called with (succeeded, seconds) when a rewrite child has ended.
        self.on_child_exit: Callable[[bool, int], None] = _ignore_exit
        #: Called when the file grew enough for an automatic rewrite.
        self.on_growth: Callable[[], None] = _nothing
        #: Called with the error text when writes start failing, None when they work again.
        self.on_write_status: Callable[[str | None], None] = _ignore
        #: The function libraries' code a rewrite writes first (set by the persistence manager).
        self.library_sources: Callable[[], list[bytes]] = list

    # -- writing ------------------------------------------------------------

    def open(self) -> None:
        """Open the file for appending and start the everysec timer."""
        os.makedirs(self.settings.dir or ".", exist_ok=True)
        self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.current_size = self.base_size = os.fstat(self.fd).st_size
        self.selected_db = -1
        self._arm_fsync()

    def _arm_fsync(self) -> None:
        if self.settings.appendfsync == "everysec" and self._fsync_timer is None:
            self._fsync_timer = self.clock.callLater(1.0, self._everysec)

    def feed(self, ops: list[tuple[int, list[bytes]]]) -> None:
        """Encode ops (SELECT as needed) into the buffer (and the rewrite buffer)."""
        parts = []
        for db_index, argv in ops:
            if argv.__class__ is ReplicasOnly:
                continue
            if db_index != self.selected_db:
                parts.append(encode([b"SELECT", b"%d" % db_index]))
                self.selected_db = db_index
            parts.append(encode(argv))
        data = b"".join(parts)
        self.buf.append(data)
        if self.rewrite_buf is not None:
            self.rewrite_buf.append(data)
        if self._flush_call is None:
            # Writes made outside a client's read (expiry timers) are written
            # at the end of this reactor turn; reads write before replying.
            # One call per turn at most: it is not cancelled by those writes.
            self._flush_call = self.clock.callLater(0, self._turn_ended)

    def _turn_ended(self) -> None:
        self._flush_call = None
        self.flush()

    def flush(self) -> None:
        """Write the buffer; fsync it too with appendfsync always."""
        if not self.buf or self.fd < 0:
            return
        data = b"".join(self.buf)
        try:
            written = 0
            while written < len(data):
                written += os.write(self.fd, data[written:])
        except OSError as error:
            # Keep what was not written for the next attempt, as Redis does.
            self.buf = [data[written:]]
            self.current_size += written
            if self.last_write_ok:
                log.error("Error writing to the AOF file: {error}", error=error)
            self.last_write_ok = False
            self.write_error = error.strerror or str(error)
            self.on_write_status(self.write_error)
            return
        self.buf = []
        self.current_size += written
        if not self.last_write_ok:
            log.info("AOF write error looks solved, Hush can write again.")
            self.last_write_ok = True
            self.write_error = None
            self.on_write_status(None)
        if self.settings.appendfsync == "always":
            os.fsync(self.fd)
        else:
            self.unsynced = True
        self._maybe_auto_rewrite()

    def fsync(self) -> None:
        """Flush and fsync now."""
        self.flush()
        if self.fd >= 0:
            os.fsync(self.fd)
        self.unsynced = False

    def _everysec(self) -> None:
        self._fsync_timer = None
        self.flush()
        if self.unsynced and self.fd >= 0:
            os.fsync(self.fd)
            self.unsynced = False
        self._arm_fsync()

    def close(self) -> None:
        """Flush, fsync and close (shutdown); abandon a running rewrite."""
        if self.child_pid:
            self.kill_rewrite()
        if self.fd >= 0:
            self.fsync()
            os.close(self.fd)
            self.fd = -1
        for call in (self._fsync_timer, self._flush_call):
            if call is not None and call.active():
                call.cancel()
        self._fsync_timer = self._flush_call = None

    # -- rewriting ------------------------------------------------------------

    @property
    def rewriting(self) -> bool:
        """True while a background rewrite runs."""
        return bool(self.child_pid)

    def start_rewrite(self) -> None:
        """Fork a child that writes the dataset to a temporary file (BGREWRITEAOF)."""
        if self.child_pid:
            raise CommandError("ERR Background append only file rewriting already in progress")
        self.flush()
        now_ms = self.store.now_ms()
        libraries = self.library_sources()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            code = 1
            try:
                code = rewrite_child(self.store, self.settings, now_ms, parent, libraries)
            finally:
                os._exit(code)
        self.child_pid = pid
        self.rewrite_buf = []
        self.rewrite_started_at = self.clock.seconds()
        # The next write starts with a SELECT, so the buffered tail appended
        # to the child's file names its database.
        self.selected_db = -1
        log.info("Background append only file rewriting started by pid {pid}", pid=pid)
        self._poll = self.clock.callLater(CHILD_POLL, self.check_child)

    def check_child(self) -> None:
        """Reap the rewriting child if it ended and finish (or abandon) the rewrite."""
        self._poll = None
        if not self.child_pid:
            return
        child = self.child_pid
        pid, status = os.waitpid(child, os.WNOHANG)
        if pid == 0:
            self._poll = self.clock.callLater(CHILD_POLL, self.check_child)
            return
        self.child_pid = 0
        seconds = int(self.clock.seconds() - self.rewrite_started_at)
        ok = os.waitstatus_to_exitcode(status) == 0
        if ok:
            try:
                self._install_rewrite(child)
            except OSError as error:
                log.error("Error installing the rewritten AOF: {error}", error=error)
                ok = False
        else:
            log.error("Background AOF rewrite failed (child exit status {status})", status=status)
        if not ok:
            self.rewrite_buf = None
            self._remove_temp_files(child)
        self.on_child_exit(ok, seconds)

    def _install_rewrite(self, child: int) -> None:
        # Everything buffered is also in rewrite_buf: write it to the old file
        # first so nothing is pending for the old one after the switch.
        self.flush()
        tail = b"".join(self.rewrite_buf or ())
        self.rewrite_buf = None
        temp = os.path.join(self.settings.dir, temp_files(child)[1])
        with open(temp, "ab") as handle:
            handle.write(tail)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, self.path)
        rdb.fsync_dir(self.path)
        if self.fd < 0:
            # A rewrite with the AOF off (BGSAVE): nothing appends to the file.
            return
        old, self.fd = self.fd, os.open(self.path, os.O_WRONLY | os.O_APPEND)
        os.close(old)
        self.current_size = self.base_size = os.fstat(self.fd).st_size
        log.info("Background AOF rewrite finished successfully")

    def _remove_temp_files(self, child: int) -> None:
        # Redis's aofRemoveTempFile: whatever the child left, in either stage.
        for name in temp_files(child):
            rdb.unlink(os.path.join(self.settings.dir, name))

    def kill_rewrite(self) -> None:
        """Stop a running rewrite child and drop its temporary files."""
        child = self.child_pid
        if not child:
            return
        rdb.kill_child(child, self._poll)
        self.child_pid = 0
        self._poll = None
        self.rewrite_buf = None
        self._remove_temp_files(child)

    def _maybe_auto_rewrite(self) -> None:
        percentage = self.settings.auto_aof_rewrite_percentage
        if not percentage or self.child_pid:
            return
        if self.current_size < self.settings.auto_aof_rewrite_min_size:
            return
        base = self.base_size or 1
        growth = self.current_size * 100 // base - 100
        if growth >= percentage:
            log.info("Starting automatic rewriting of AOF on {growth}% growth", growth=growth)
            self.on_growth()


def _nothing() -> None:
    pass


def _ignore_exit(_ok: bool, _seconds: int) -> None:
    pass


def _ignore(_status: str | None) -> None:
    pass
