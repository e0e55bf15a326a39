"""dump.rdb files: a streaming reader and a chunked writer (Redis 7.0's RDB version 10).

A file is ``REDIS`` and a 4-digit version, then opcodes: AUX fields, FUNCTION2
records (a function library's code), SELECTDB and RESIZEDB, and key records
(optionally preceded by an expire time, an LRU idle time or an LFU counter),
then EOF and the CRC-64 of everything before it (0: checksum disabled).

Reading (the loader at startup, DEBUG RELOAD, a replica's sync later)::

    reader = RdbFileReader(open("dump.rdb", "rb"))
    for record in reader:
        if isinstance(record, KeyRecord): ...   # db, key, kind, value, expire_ms, ...

The reader holds about one chunk (1 MiB) plus the record being read, never the
whole file; any object type Redis 7.0.15 loads is decoded (see
:mod:`hush.formats.rdb_object`), keys whose value is empty are skipped like
Redis skips them, and the checksum is verified after the last record. Expired
keys are yielded with their deadline: dropping them is the loader's call (Redis
drops them on a master, keeps them on a replica). Every error is an
:class:`~hush.formats.rdb.RdbError` naming the byte offset.

Writing (SAVE, BGSAVE in a forked child, DEBUG RELOAD)::

    writer = RdbFileWriter(out, thresholds)
    writer.write_header(ctime=now_s, used_mem=used)   # the aux fields Redis 7.0 writes
    writer.write_function(code)                       # each function library
    writer.select_db(0, db_size, expires_size)
    writer.write_key(key, kind, value, expire_ms=...)
    writer.finish()                                   # EOF + checksum, flushed

Output goes to ``out.write`` in chunks of about ``chunk_size`` bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from hush.formats import rdb
from hush.formats.crc64 import crc64
from hush.formats.rdb import (
    DEFAULT_THRESHOLDS,
    EmptyKey,
    RdbError,
    Reader,
    Thresholds,
    Truncated,
    encode_length,
    encode_ms_time,
    encode_string,
)
from hush.formats.rdb_object import decode_object, encode_object

REDIS_VERSION = b"7.0.15"


@dataclass(frozen=True, slots=True)
class AuxRecord:
    """An AUX field (redis-ver, ctime, used-mem, repl-id, ...)."""

    name: bytes
    value: bytes


@dataclass(frozen=True, slots=True)
class SelectDbRecord:
    """The following keys belong to database ``db``."""

    db: int


@dataclass(frozen=True, slots=True)
class ResizeDbRecord:
    """A size hint for the current database: its keys and how many have an expiry.

    It comes from the input: a loader may presize with it, but only up to what
    the file could hold.
    """

    db_size: int
    expires_size: int


@dataclass(frozen=True, slots=True)
class FunctionRecord:
    """A function library: its whole code, starting with its ``#!engine name=...`` line."""

    code: bytes


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A key and its value (see :mod:`hush.formats.rdb_object` for ``kind``/``value``)."""

    db: int
    key: bytes
    kind: str
    value: Any
    expire_ms: int | None = None
    lru_idle: int | None = None
    lfu_freq: int | None = None
    rdb_type: int = 0


Record = AuxRecord | SelectDbRecord | ResizeDbRecord | FunctionRecord | KeyRecord


class RdbFileReader:
    """Iterates the records of an RDB file read from ``source`` in chunks."""

    def __init__(self, source: BinaryIO, chunk_size: int = 1 << 20) -> None:
        self.source = source
        self.chunk_size = chunk_size
        self.version = 0
        self.checksum_verified = False
        self._buf = b""
        self._base = 0  # file offset of _buf[0]
        self._crc = 0
        self._crc_from = 0  # index in _buf up to which _crc covers
        self._at_eof = False
        self._reader = Reader(b"")

    @property
    def offset(self) -> int:
        """The file offset of the next byte to read (after the checksum once done)."""
        return self._base + self._reader.pos

    def _refill(self, keep_from: int) -> None:
        """Drop what was read before ``keep_from`` and read at least a chunk more."""
        buf = self._buf
        self._crc = crc64(memoryview(buf)[self._crc_from:keep_from], self._crc)
        kept = buf[keep_from:]
        # Reading at least as much as is kept doubles the buffer for a large
        # record, so re-reading it from its start costs O(n) overall.
        data = self.source.read(max(self.chunk_size, len(kept)))
        if not data:
            self._at_eof = True
        self._base += keep_from
        self._buf = kept + data
        self._crc_from = 0
        self._reader = Reader(self._buf, 0, base=self._base)

    def _parse(self, step):
        """Run ``step(reader)`` from the current position, reading more input as needed."""
        while True:
            reader = self._reader
            start = reader.pos
            try:
                return step(reader)
            except Truncated:
                if self._at_eof:
                    raise
                self._refill(start)

    def __iter__(self) -> Iterator[Record]:
        header = self._parse(lambda r: r.take(9))
        if header[:5] != b"REDIS":
            raise RdbError("Wrong signature trying to load DB from file", 0)
        try:
            version = int(header[5:])
        except ValueError:
            version = 0
        if not 1 <= version <= rdb.RDB_VERSION:
            raise RdbError("Can't handle RDB format version %s" % header[5:].decode("latin-1"), 5)
        self.version = version
        db = 0
        expire_ms = lru_idle = lfu_freq = None
        while True:
            opcode, payload = self._parse(_record)
            if opcode < rdb.OPCODE_FUNCTION2:  # a key: the common case first
                if payload is not None:
                    key, kind, value = payload
                    yield KeyRecord(db, key, kind, value, expire_ms, lru_idle, lfu_freq, opcode)
                expire_ms = lru_idle = lfu_freq = None
            elif opcode == rdb.OPCODE_EOF:
                break
            elif opcode == rdb.OPCODE_EXPIRETIME_MS:
                expire_ms = payload
            elif opcode == rdb.OPCODE_EXPIRETIME:
                expire_ms = payload * 1000
            elif opcode == rdb.OPCODE_IDLE:
                lru_idle = payload
            elif opcode == rdb.OPCODE_FREQ:
                lfu_freq = payload
            elif opcode == rdb.OPCODE_SELECTDB:
                db = payload
                yield SelectDbRecord(db)
            elif opcode == rdb.OPCODE_RESIZEDB:
                yield ResizeDbRecord(*payload)
            elif opcode == rdb.OPCODE_AUX:
                yield AuxRecord(*payload)
            else:
                yield FunctionRecord(payload)
        if version >= 5:
            self._verify_checksum()

    def _verify_checksum(self) -> None:
        end_of_data = self._reader.pos
        offset = self._base + end_of_data
        stored = int.from_bytes(self._parse(lambda r: r.take(8)), "little")
        # _parse may have refilled; the data's end is 8 bytes before the position now.
        end_of_data = self._reader.pos - 8
        expected = crc64(memoryview(self._buf)[self._crc_from:end_of_data], self._crc)
        if stored and stored != expected:
            raise RdbError("RDB CRC error", offset)
        self.checksum_verified = bool(stored)


def _record(reader: Reader) -> tuple[int, Any]:
    """One opcode and what follows it; a key's value is None when Redis would skip it."""
    opcode = reader.byte()
    if opcode < rdb.OPCODE_FUNCTION2:
        if opcode not in rdb.OBJECT_TYPES:
            reader.pos -= 1
            raise reader.error("Unknown RDB encoding type %d" % opcode)
        key = reader.string()
        try:
            kind, value = decode_object(reader, opcode)
        except EmptyKey:
            return opcode, None
        return opcode, (key, kind, value)
    if opcode == rdb.OPCODE_EXPIRETIME_MS:
        return opcode, reader.ms_time()
    if opcode == rdb.OPCODE_EXPIRETIME:
        return opcode, reader.sec_time()
    if opcode == rdb.OPCODE_FREQ:
        return opcode, reader.byte()
    if opcode == rdb.OPCODE_IDLE:
        return opcode, reader.length()
    if opcode == rdb.OPCODE_SELECTDB:
        return opcode, reader.length()
    if opcode == rdb.OPCODE_RESIZEDB:
        return opcode, (reader.length(), reader.length())
    if opcode == rdb.OPCODE_AUX:
        return opcode, (reader.string(), reader.string())
    if opcode == rdb.OPCODE_FUNCTION2:
        return opcode, reader.string()
    if opcode == rdb.OPCODE_FUNCTION:
        # Redis 7.0 rc1/rc2 wrote name, engine, description and code separately.
        name = reader.string()
        engine = reader.string()
        if reader.length():
            reader.string()
        return opcode, b"#!%s name=%s\n%s" % (engine, name, reader.string())
    if opcode == rdb.OPCODE_MODULE_AUX:
        module_id = reader.length()
        raise RdbError(
            "The RDB file contains AUX module data I can't load: no matching module '%s'"
            % rdb.module_type_name(module_id),
            reader.base + reader.pos,
        )
    return opcode, None  # EOF


class RdbFileWriter:
    """Writes an RDB file to ``out`` in chunks, keeping the running CRC-64."""

    def __init__(self, out: BinaryIO, thresholds: Thresholds = DEFAULT_THRESHOLDS,
                 chunk_size: int = 1 << 20, checksum: bool = True) -> None:
        self.out = out
        self.thresholds = thresholds
        self.chunk_size = chunk_size
        self.checksum = checksum
        self._parts: list[bytes] = []
        self._pending = 0
        self._crc = 0
        self._compress = thresholds.rdb_compression

    def _emit(self, data: bytes) -> None:
        self._parts.append(data)
        self._pending += len(data)
        if self._pending >= self.chunk_size:
            self.flush()

    def flush(self) -> None:
        """Write out what is buffered."""
        if not self._parts:
            return
        chunk = b"".join(self._parts)
        self._parts = []
        self._pending = 0
        if self.checksum:
            self._crc = crc64(chunk, self._crc)
        self.out.write(chunk)

    def write_header(self, ctime: int, used_mem: int, aof_base: bool = False,
                     extra_aux: dict[bytes, bytes] | None = None) -> None:
        """The magic and the aux fields Redis 7.0 writes (``extra_aux``: repl-id and such)."""
        self._emit(b"REDIS%04d" % rdb.RDB_VERSION)
        self.write_aux(b"redis-ver", REDIS_VERSION)
        self.write_aux(b"redis-bits", b"64")
        self.write_aux(b"ctime", b"%d" % ctime)
        self.write_aux(b"used-mem", b"%d" % used_mem)
        for name, value in (extra_aux or {}).items():
            self.write_aux(name, value)
        self.write_aux(b"aof-base", b"1" if aof_base else b"0")

    def write_aux(self, name: bytes, value: bytes) -> None:
        self._emit(bytes((rdb.OPCODE_AUX,)) + encode_string(name, self._compress)
                   + encode_string(value, self._compress))

    def write_function(self, code: bytes) -> None:
        """A function library (FUNCTION2 record)."""
        self._emit(bytes((rdb.OPCODE_FUNCTION2,)) + encode_string(code, self._compress))

    def select_db(self, db: int, db_size: int, expires_size: int) -> None:
        """Start database ``db`` (Redis skips empty ones) with its RESIZEDB hint."""
        self._emit(bytes((rdb.OPCODE_SELECTDB,)) + encode_length(db)
                   + bytes((rdb.OPCODE_RESIZEDB,)) + encode_length(db_size)
                   + encode_length(expires_size))

    def write_key(self, key: bytes, kind: str, value: Any, expire_ms: int | None = None,
                  lru_idle: int | None = None, lfu_freq: int | None = None,
                  encoding: bytes | None = None) -> None:
        """One key record; ``lru_idle`` in seconds, ``lfu_freq`` 0..255, as Redis saves
        them; ``encoding``, the value's OBJECT ENCODING, where the caller knows it."""
        rdb_type, body = encode_object(kind, value, self.thresholds, encoding)
        self.write_encoded(key, rdb_type, body, expire_ms, lru_idle, lfu_freq)

    def write_encoded(self, key: bytes, rdb_type: int, body: bytes, expire_ms: int | None = None,
                      lru_idle: int | None = None, lfu_freq: int | None = None) -> None:
        """A key record whose object is already encoded (a RESTOREd payload kept as is)."""
        head = b""
        if expire_ms is not None:
            head += bytes((rdb.OPCODE_EXPIRETIME_MS,)) + encode_ms_time(expire_ms)
        if lru_idle is not None:
            head += bytes((rdb.OPCODE_IDLE,)) + encode_length(lru_idle)
        if lfu_freq is not None:
            head += bytes((rdb.OPCODE_FREQ, lfu_freq))
        self._emit(head + bytes((rdb_type,)) + encode_string(key, self._compress) + body)

    def finish(self) -> None:
        """EOF, the checksum (0 when disabled, as with rdbchecksum no), and flush."""
        self._emit(bytes((rdb.OPCODE_EOF,)))
        self.flush()
        self.out.write(self._crc.to_bytes(8, "little") if self.checksum else bytes(8))
        if hasattr(self.out, "flush"):
            self.out.flush()
