"""DUMP and RESTORE payloads.

A payload is one RDB object -- its type byte and body -- followed by the RDB
version as 2 bytes little endian and the CRC-64 of everything before the
checksum, 8 bytes little endian. Redis refuses a payload whose version is newer
than its own or whose checksum is wrong with ``DUMP payload version or checksum
are wrong``, and one whose object does not load with ``Bad data format``.

The DUMP handler calls ``dump_payload(kind, value, thresholds, encoding)``
with the key's neutral value (see :mod:`hush.formats.rdb_object`), the
encoding thresholds in effect and the value's OBJECT ENCODING; RESTORE calls ``load_payload(payload)`` and gets
``(kind, value)`` or a :class:`~hush.core.errors.CommandError` with Redis's text.

FUNCTION DUMP and FUNCTION RESTORE use the same footer around FUNCTION2
records, one per library (:func:`dump_functions`, :func:`function_sources`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from struct import Struct
from typing import Any

from hush.core.errors import CommandError
from hush.formats.crc64 import crc64
from hush.formats.rdb import (
    DEFAULT_THRESHOLDS,
    OBJECT_TYPES,
    OPCODE_FUNCTION,
    OPCODE_FUNCTION2,
    RDB_VERSION,
    RdbError,
    Reader,
    Thresholds,
    encode_string,
)
from hush.formats.rdb_object import decode_object, encode_object

PAYLOAD_VERSION_OR_CHECKSUM = "ERR DUMP payload version or checksum are wrong"
BAD_DATA_FORMAT = "ERR Bad data format"

_FOOTER = Struct("<HQ")


def dump_payload(kind: str, value: Any, thresholds: Thresholds = DEFAULT_THRESHOLDS,
                 encoding: bytes | None = None) -> bytes:
    """The DUMP payload of a neutral value, encoded as Redis 7.0.15 would (in
    ``encoding`` where given: see :func:`hush.formats.rdb_object.encoding_of`)."""
    rdb_type, body = encode_object(kind, value, thresholds, encoding)
    head = bytes((rdb_type,)) + body + RDB_VERSION.to_bytes(2, "little")
    return head + crc64(head).to_bytes(8, "little")


def verify_payload(payload: bytes, check_checksum: bool = True) -> int:
    """The payload's RDB version, or CommandError if it is too new or its checksum is wrong."""
    if len(payload) < 10:
        raise CommandError(PAYLOAD_VERSION_OR_CHECKSUM)
    version, checksum = _FOOTER.unpack_from(payload, len(payload) - 10)
    if version > RDB_VERSION:
        raise CommandError(PAYLOAD_VERSION_OR_CHECKSUM)
    if check_checksum and crc64(memoryview(payload)[:-8]) != checksum:
        raise CommandError(PAYLOAD_VERSION_OR_CHECKSUM)
    return version


def load_payload(payload: bytes, check_checksum: bool = True) -> tuple[str, Any]:
    """``(kind, value)`` from a RESTORE payload, or CommandError with Redis's reply.

    ``check_checksum=False`` is Redis's skip-checksum-validation (a debug setting).
    """
    verify_payload(payload, check_checksum)
    # Like Redis, the object is read from the whole payload: a malformed one
    # may run into the version and checksum bytes, which Redis then loads.
    reader = Reader(payload)
    try:
        rdb_type = reader.byte()
        if rdb_type not in OBJECT_TYPES:
            raise CommandError(BAD_DATA_FORMAT)
        return decode_object(reader, rdb_type)
    except RdbError:
        raise CommandError(BAD_DATA_FORMAT) from None


def dump_functions(sources: Iterable[bytes]) -> bytes:
    """FUNCTION DUMP's payload: a FUNCTION2 record per library's code, the version, the CRC-64."""
    body = b"".join(bytes((OPCODE_FUNCTION2,)) + encode_string(code) for code in sources)
    head = body + RDB_VERSION.to_bytes(2, "little")
    return head + crc64(head).to_bytes(8, "little")


def function_sources(payload: bytes) -> Iterator[bytes]:
    """The library codes of a FUNCTION RESTORE payload, one at a time.

    The footer is checked first (Redis's ``DUMP payload version or checksum
    are wrong``); a record that is not a library stops with Redis's text when
    it is reached, so libraries before it are yielded first, as Redis loads
    them one by one. Redis 7.0 rc1/rc2's FUNCTION records (name, engine,
    description and code apart) come back as one code with its shebang line.
    """
    verify_payload(payload)
    reader = Reader(payload)
    while len(payload) - reader.pos > 10:
        try:
            opcode = reader.byte()
        except RdbError:
            raise CommandError("ERR can not read data type") from None
        if opcode == OPCODE_FUNCTION2:
            yield _read(reader.string, "ERR Failed loading library payload")
        elif opcode == OPCODE_FUNCTION:
            name = _read(reader.string, "ERR Failed loading library name")
            engine = _read(reader.string, "ERR Failed loading engine name")
            if _read(reader.length, "ERR Failed loading library description indicator"):
                _read(reader.string, "ERR Failed loading library description")
            code = _read(reader.string, "ERR Failed loading library blob")
            yield b"#!%s name=%s\n%s" % (engine, name, code)
        else:
            raise CommandError("ERR given type is not a function")


def _read(read: Callable[[], Any], failure: str) -> Any:
    try:
        return read()
    except RdbError:
        raise CommandError(failure) from None
