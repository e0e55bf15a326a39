# -*- test-case-name: tests.unit.persistence.test_rdb -*-
"""The dataset as an RDB file and back: dump.rdb, the AOF's RDB preamble, DEBUG RELOAD.

:func:`write_dataset` writes every database (and the function libraries) to
any object with ``write`` -- a file, a pipe, a socket's file -- through
:class:`hush.formats.rdb_file.RdbFileWriter`, each value in the encoding it
has under the thresholds in effect (:func:`hush.data.types.registry.rdb_thresholds`),
as Redis 7.0.15 writes them.
:func:`save_file` writes it beside its destination and renames it into place,
the way Redis's ``rdbSave`` does, in the foreground (SAVE) or in a forked
child (BGSAVE, :func:`save_child`).

:func:`load_dataset` reads a file into an empty store: values become stored
values through their type's record (:func:`hush.data.types.registry.from_neutral`)
in the encodings the thresholds then give them (:func:`~hush.data.types.registry.stored`),
expired keys are dropped (and counted) as a master drops them, except in an
AOF preamble, whose later commands may still refer to them. The garbage
collector is off while loading: a million new containers would otherwise
trigger full collections over everything loaded so far.

Function libraries are code here: the writer takes each library's code
(FUNCTION2 records), the loader returns the code it read
(:attr:`LoadResult.functions`); :class:`hush.persistence.manager.Persistence`
hands them to and from the server's FUNCTION libraries.
"""

from __future__ import annotations

import gc
import os
import resource
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from hush.config.table import BY_NAME
from hush.data.types.registry import (
    from_neutral,
    rdb_thresholds,
    stored,
    to_neutral,
    written_encoding,
)
from hush.formats.rdb import RdbError
from hush.formats.rdb_file import (
    AuxRecord,
    FunctionRecord,
    KeyRecord,
    RdbFileReader,
    RdbFileWriter,
    SelectDbRecord,
)

#: Keys a forked child writes between two checks that its parent lives.
PARENT_CHECK_EVERY = 1024

#: The maxmemory policies for which Redis saves each key's idle time.
_LRU_POLICIES = frozenset({"allkeys-lru", "volatile-lru"})


class Orphaned(Exception):
    """The server that forked a save child is gone; the child gives up."""


@dataclass
class LoadResult:
    """What a load found: counts INFO reports, the libraries, the aux fields."""

    keys_loaded: int = 0
    keys_expired: int = 0
    functions: list[bytes] = field(default_factory=list)
    aux: dict[bytes, bytes] = field(default_factory=dict)
    #: The byte after the file's checksum (where an AOF's commands start).
    end_offset: int = 0


def setting(settings: Any, name: str) -> Any:
    """The value of any setting by its Redis name (acted on or only kept)."""
    return settings.value(BY_NAME[name])


def used_memory() -> int:
    """The process's peak resident size, for the ``used-mem`` aux field."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def write_dataset(store: Any, settings: Any, out: BinaryIO, *, now_s: int,
                  functions: Iterable[bytes] = (), aof_base: bool = False,
                  alive: Callable[[], bool] | None = None,
                  extra_aux: dict[bytes, bytes] | None = None) -> None:
    """Write the whole dataset as an RDB file to ``out`` (any object with ``write``).

    Reads the dictionaries directly, as a forked child must (a lookup could
    expire a key and propagate from the child). ``alive`` is asked every
    :data:`PARENT_CHECK_EVERY` keys; False stops the write with :class:`Orphaned`.
    ``extra_aux`` are aux fields written after ``used-mem`` (a replication
    snapshot's ``repl-stream-db``, ``repl-id``, ``repl-offset``).
    """
    writer = RdbFileWriter(out, rdb_thresholds(settings),
                           checksum=setting(settings, "rdbchecksum"))
    writer.write_header(ctime=now_s, used_mem=used_memory(), aof_base=aof_base,
                        extra_aux=extra_aux)
    for code in functions:
        writer.write_function(code)
    save_idle = settings.maxmemory_policy in _LRU_POLICIES
    written = 0
    for db in store.dbs:
        if not len(db):
            continue
        expires = db.expires
        noted = db.encodings
        writer.select_db(db.index, len(db), len(expires))
        for key, value, used in db.used_items():
            kind, neutral = to_neutral(value)
            idle = max(0, now_s - used) if save_idle else None
            writer.write_key(key, kind, neutral, expires.get(key) if expires else None, idle,
                             encoding=written_encoding(value, noted.get(key)))
            written += 1
            if alive is not None and written % PARENT_CHECK_EVERY == 0 and not alive():
                raise Orphaned()
    writer.finish()


def save_file(store: Any, settings: Any, path: str, temp_path: str, *, now_s: int,
              functions: Iterable[bytes] = (), alive: Callable[[], bool] | None = None,
              extra_aux: dict[bytes, bytes] | None = None) -> int:
    """Write the dataset to ``temp_path``, fsync it, rename it to ``path``; its size.

    A failed write removes the temporary file and leaves ``path`` as it was.
    """
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    try:
        with open(temp_path, "wb") as handle:
            write_dataset(store, settings, handle, now_s=now_s, functions=functions,
                          alive=alive, extra_aux=extra_aux)
            handle.flush()
            os.fsync(handle.fileno())
            size = handle.tell()
        os.replace(temp_path, path)
    except BaseException:
        unlink(temp_path)
        raise
    fsync_dir(path)
    return size


def save_child(store: Any, settings: Any, path: str, now_s: int, parent: int,
               functions: list[bytes], extra_aux: dict[bytes, bytes] | None = None) -> int:
    """The body of a forked BGSAVE child; its exit status.

    Like Redis's child it writes ``temp-<pid>.rdb`` and renames it over the
    dump file itself. A child whose parent died stops within a few keys and
    removes what it wrote.
    """
    temp = os.path.join(os.path.dirname(path) or ".", temp_name(os.getpid()))

    def alive() -> bool:
        return os.getppid() == parent

    try:
        save_file(store, settings, path, temp, now_s=now_s, functions=functions, alive=alive,
                  extra_aux=extra_aux)
        return 0
    except BaseException:
        return 1


def stream_child(store: Any, settings: Any, fd: int, mark: bytes, now_s: int,
                 functions: list[bytes], extra_aux: dict[bytes, bytes] | None = None) -> int:
    """The body of a forked child that streams the dataset into the pipe ``fd``; its status.

    What a diskless sync sends a replica: ``$EOF:<mark>\r\n``, the RDB file,
    then ``mark`` again (Redis's rdbSaveRioWithEOFMark). A parent that stops
    reading (it died, or the replicas went away) makes the write fail and
    the child give up.
    """
    try:
        with os.fdopen(fd, "wb", buffering=1 << 16) as out:
            out.write(b"$EOF:" + mark + b"\r\n")
            write_dataset(store, settings, out, now_s=now_s, functions=functions,
                          extra_aux=extra_aux)
            out.write(mark)
        return 0
    except BaseException:
        return 1


def temp_name(pid: int) -> str:
    """The file a save writes before renaming it (Redis's ``temp-<pid>.rdb``)."""
    return f"temp-{pid}.rdb"


def load_dataset(store: Any, source: BinaryIO, *, now_ms: int, drop_expired: bool = True,
                 merge: bool = False) -> LoadResult:
    """Read an RDB file from ``source`` into ``store``, whose databases are empty.

    A key already there is an error, unless ``merge`` (DEBUG RELOAD MERGE):
    then the file's value replaces it.

    Raises :class:`~hush.formats.rdb.RdbError` naming the offset for a file
    that cannot be loaded (what was loaded before stays: the caller refuses
    to start, or empties the store).
    """
    result = LoadResult()
    reader = RdbFileReader(source)
    dbs = store.dbs
    expiry = store.expiry
    now_s = now_ms // 1000
    db = dbs[0]
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for record in reader:
            if record.__class__ is KeyRecord:
                expire = record.expire_ms
                if expire is not None and drop_expired and expire < now_ms:
                    result.keys_expired += 1
                    continue
                data = db.data
                key = record.key
                if key in data and not merge:
                    raise RdbError("Duplicated key '%s' found in RDB file (DB %d)"
                                   % (key.decode("latin-1"), db.index), reader.offset)
                value = record.value
                if record.kind != "string":
                    value = from_neutral(record.kind, value)
                data[key] = value
                if merge or value.__class__ is not bytes:
                    # The encoding the thresholds give it now stays (and a
                    # merged key's old note goes).
                    stored(db, key, value)
                if expire is not None:
                    db.expires[key] = expire
                    expiry.add(expire, db.index, key)
                elif merge and db.expires:
                    db.expires.pop(key, None)
                if record.lru_idle is not None:
                    db.pin_use(key, now_s - record.lru_idle)
                result.keys_loaded += 1
            elif record.__class__ is SelectDbRecord:
                if record.db >= len(dbs):
                    raise RdbError(
                        "FATAL: Data file was created with a Redis server configured to "
                        "handle more than %d databases. Exiting" % len(dbs), reader.offset)
                db = dbs[record.db]
            elif record.__class__ is FunctionRecord:
                result.functions.append(record.code)
            elif record.__class__ is AuxRecord:
                result.aux[record.name] = record.value
    finally:
        if was_enabled:
            gc.enable()
    # What was loaded lives as long as the server: keep it out of the
    # collector's full passes.
    gc.freeze()
    result.end_offset = reader.offset
    return result


def fsync_dir(path: str) -> None:
    """Make a rename in ``path``'s directory durable."""
    fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def unlink(path: str) -> None:
    """Remove ``path`` if it is there."""
    try:
        os.unlink(path)
    except OSError:
        pass


def kill_child(pid: int, poll: Any) -> None:
    """Kill a forked save or rewrite child, reap it and stop ``poll``, its watcher
    (a LoopingCall or None); the caller then forgets both."""
    try:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    except OSError:
        pass
    if poll is not None and poll.active():
        poll.cancel()
