# -*- test-case-name: tests.unit.data.test_types -*-
"""The value-type registry: one :class:`ValueType` record per Redis type.

Each module of :mod:`hush.data.types` declares the record of its type and
registers it when imported (:func:`register`); importing :mod:`hush.data.types`
imports them all. Whoever needs to know something about a stored value asks
the registry instead of keeping a table of its own:

- TYPE and SCAN's TYPE filter: :func:`type_name`;
- COPY: :func:`copy_value`;
- OBJECT ENCODING and DEBUG OBJECT: :func:`object_encoding`, under the
  encoding thresholds in effect (:data:`LIMITS`, Redis's ``*-max-*``
  settings: :func:`follow_settings`);
- the maxmemory estimate (:mod:`hush.data.sizes`): :func:`value_size`;
- MEMORY USAGE, Redis's own figure: :func:`memory_usage`;
- BGREWRITEAOF (:mod:`hush.persistence.aof`): :func:`rewrite_commands`;
- DUMP, RESTORE and dump.rdb files (:mod:`hush.persistence.rdb`):
  :func:`to_neutral` and :func:`from_neutral`; each value written in the
  encoding it has (:func:`written_encoding`) under the thresholds in effect
  (:func:`rdb_thresholds`), and each value loaded keeping the encoding it
  got (:func:`stored`).

Adding a field is one place: declare it on :class:`ValueType` (with a default
while not every type has it) and read it where it is used; each type module
fills it in. Adding a type is one module that registers its record, named in
``hush/data/types/__init__.py``; its commands are a family module in
:mod:`hush.commands`.

RDB: :mod:`hush.formats.rdb_object` reads and writes values in a neutral
form, ``(kind, value)`` with kinds named as TYPE names them (``list`` as a
list of bytes, ``zset`` as (member, score) pairs, ...). Each record converts
both ways (``to_neutral``, ``from_neutral``); the RDB writer finds a value's
record by its class as the consumers above do, the loader a kind's record by
its name (:data:`BY_KIND`).

Types Redis keeps inside another type -- bitmaps and HyperLogLog in strings,
geo in sorted sets -- are no records of their own: TYPE calls them by their
carrier's name and their values are its values. Their modules hold the rules
they add, and their commands store the carrier's values.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Sized
from dataclasses import dataclass, fields, replace
from sys import getsizeof
from typing import Any

from hush.config.table import BY_NAME
from hush.data.types import alloc
from hush.formats.rdb import Thresholds

#: Elements per command when a rewrite writes a large container (Redis's
#: AOF_REWRITE_ITEMS_PER_CMD).
ITEMS_PER_COMMAND = 64

#: Elements of a container looked at to estimate its average element size.
SAMPLE = 16

#: Classes whose values are never changed in place: COPY shares them.
IMMUTABLE: frozenset[type] = frozenset(
    {bytes, str, int, float, bool, type(None), frozenset})


@dataclass(slots=True)
class EncodingLimits:
    """Redis's encoding thresholds: where a value leaves its compact encoding.

    The attributes are the settings of the same names (``-`` for ``_``).
    A stream node holds at most ``stream_node_max_bytes`` bytes and
    ``stream_node_max_entries`` entries, 0 meaning no limit.
    """

    hash_max_listpack_entries: int = 512
    hash_max_listpack_value: int = 64
    set_max_intset_entries: int = 512
    zset_max_listpack_entries: int = 128
    zset_max_listpack_value: int = 64
    stream_node_max_bytes: int = 4096
    stream_node_max_entries: int = 100
    list_max_listpack_size: int = -2
    list_compress_depth: int = 0


#: The thresholds in effect: one server's settings, followed at run time
#: (:func:`follow_settings`). A process serves one server; in tests, the
#: server made last sets them.
LIMITS = EncodingLimits()

#: The settings that are encoding thresholds, by their Redis names.
LIMIT_SETTINGS = tuple(f.name.replace("_", "-") for f in fields(EncodingLimits))

#: Thresholds no value passes: what a value's content alone makes it.
_BOUNDLESS = EncodingLimits(**{f.name: 1 << 63 for f in fields(EncodingLimits)})

#: The encodings Redis converts a value to past a threshold, never back.
_CONVERTED = frozenset((b"hashtable", b"skiplist"))


@dataclass(frozen=True, slots=True)
class ValueType:
    """Everything Hush knows about one Redis value type.

    @ivar name: what TYPE answers (and SCAN's TYPE option matches).
    @ivar cls: the Python class of the stored values (exactly: no subclasses).
    @ivar encoding: OBJECT ENCODING of a value no command noted an encoding
        for, judged by its content under the given :class:`EncodingLimits`.
        Where Redis converts a value for good (a hash that outgrew its
        listpack stays a hashtable), the type's commands note the
        conversion in ``Database.encodings`` (:func:`note`).
    @ivar copy: a copy of a value that shares nothing mutable with it (COPY).
    @ivar size: the bytes CPython holds for a value, estimated from a sample
        of at most :data:`SAMPLE` elements so that a write to a large
        container is not a walk over it (maxmemory's used_memory).
    @ivar rewrite: the commands (argv lists) that rebuild ``value`` at
        ``key``, given (key, value): what BGREWRITEAOF writes for the key.
    @ivar to_neutral: the value in :mod:`hush.formats.rdb_object`'s neutral
        form, for DUMP and the RDB writer (it may share the stored value's
        parts: the writer only reads it).
    @ivar from_neutral: a stored value made of a neutral one the RDB reader
        returned (which it may take over).
    @ivar usage: the bytes Redis 7.0 would hold for a value of this type,
        given (value, its OBJECT ENCODING, how many elements to sample):
        MEMORY USAGE (:mod:`hush.data.types.alloc`); None: a bare object.
    """

    name: bytes
    cls: type
    encoding: Callable[[Any, EncodingLimits], bytes]
    copy: Callable[[Any], Any]
    size: Callable[[Any], int]
    rewrite: Callable[[bytes, Any], Iterable[list[bytes]]]
    to_neutral: Callable[[Any], Any]
    from_neutral: Callable[[Any], Any]
    usage: Callable[[Any, bytes, int], int] | None = None


#: The record of each value class.
BY_CLASS: dict[type, ValueType] = {}

#: The record of each neutral kind (``"string"``, ``"list"``, ...: the TYPE name).
BY_KIND: dict[str, ValueType] = {}


def register(record: ValueType) -> ValueType:
    """Make values of ``record.cls`` a Redis type described by ``record``."""
    BY_CLASS[record.cls] = record
    BY_KIND[record.name.decode()] = record
    return record


def type_name(value: Any) -> bytes:
    """Redis's name for the type of a stored value (TYPE)."""
    return BY_CLASS[value.__class__].name


def copy_value(value: Any) -> Any:
    """A copy of a stored value (or element) that shares nothing mutable with it.

    A class no type registered is deep-copied.
    """
    cls = value.__class__
    if cls in IMMUTABLE:
        return value
    record = BY_CLASS.get(cls)
    return record.copy(value) if record is not None else copy.deepcopy(value)


def object_encoding(value: Any, noted: bytes | None = None) -> bytes:
    """OBJECT ENCODING of a stored value.

    ``noted`` is the encoding a command noted for the value's key where the
    content cannot tell it (``Database.encodings``, see
    :mod:`hush.data.types.string`); it outranks the type's rule. A class no
    type registered is ``unknown``, as Redis's strEncoding names one it does
    not know.
    """
    if noted is not None:
        return noted
    record = BY_CLASS.get(value.__class__)
    return record.encoding(value, LIMITS) if record is not None else b"unknown"


def memory_usage(key: bytes, value: Any, noted: bytes | None = None,
                 samples: int = alloc.DEFAULT_SAMPLES) -> int:
    """MEMORY USAGE: what Redis 7.0 would hold for ``key`` and its ``value``.

    Containers are sized from ``samples`` of their elements (0: all), as
    Redis's objectComputeSize does; the key adds its string and its entry
    in the database's table.
    """
    record = BY_CLASS.get(value.__class__)
    if samples <= 0:
        samples = 1 << 62
    if record is None or record.usage is None:
        size = alloc.ROBJ
    else:
        size = record.usage(value, object_encoding(value, noted), samples)
    return size + alloc.sds_size(key) + alloc.DICT_ENTRY


def note(db: Any, key: bytes, encoding: bytes) -> None:
    """Record that the value at ``key`` now has ``encoding`` whatever its content."""
    db.encodings[key] = encoding


def stored(db: Any, key: bytes, value: Any) -> None:
    """A whole value was stored at ``key`` (a load, RESTORE): fix its encoding now.

    Redis's loader builds such a value under the thresholds in effect, which
    its content then tells; the encoding is noted where a later change of a
    threshold would make the content tell another (a hash too large for a
    listpack stays a hashtable when hash-max-listpack-entries is raised). Any
    note the key had goes.
    """
    noted = db.encodings
    if noted:
        noted.pop(key, None)
    record = BY_CLASS.get(value.__class__)
    if record is None:
        return
    encoding = record.encoding(value, LIMITS)
    if encoding in _CONVERTED and encoding != record.encoding(value, _BOUNDLESS):
        noted[key] = encoding


def written_encoding(value: Any, noted: bytes | None = None) -> bytes | None:
    """The encoding DUMP and the RDB writer keep for a stored value: its OBJECT
    ENCODING, as Redis writes a value in the encoding it has (a hash that
    became a hashtable is written as one, however small it is now). None for
    a string, whose RDB form does not depend on it."""
    cls = value.__class__
    if cls is bytes or cls is bytearray:
        return None
    return object_encoding(value, noted)


def rdb_thresholds(settings: Any) -> Thresholds:
    """The thresholds in effect (:data:`LIMITS`) as the RDB writer takes them, with
    the ``rdbcompression`` of ``settings`` (a :class:`hush.config.settings.Settings`)."""
    limits = LIMITS
    return Thresholds(
        list_max_listpack_size=limits.list_max_listpack_size,
        hash_max_listpack_entries=limits.hash_max_listpack_entries,
        hash_max_listpack_value=limits.hash_max_listpack_value,
        set_max_intset_entries=limits.set_max_intset_entries,
        zset_max_listpack_entries=limits.zset_max_listpack_entries,
        zset_max_listpack_value=limits.zset_max_listpack_value,
        stream_node_max_entries=limits.stream_node_max_entries,
        stream_node_max_bytes=limits.stream_node_max_bytes,
        rdb_compression=settings.value(BY_NAME["rdbcompression"]),
    )


# -- the thresholds -----------------------------------------------------------------


def set_limit(dbs: Iterable[Any], name: str, value: int) -> None:
    """Change one threshold (CONFIG SET ``name``), as Redis does: no value converts.

    A value keeps its encoding until a command changes it; one whose
    encoding, judged by its content, the new threshold would change gets
    that encoding noted first (a walk over the keys, only when a threshold
    is lowered).
    """
    attr = name.replace("-", "_")
    old = replace(LIMITS)
    setattr(LIMITS, attr, value)
    if value >= getattr(old, attr):
        return
    for db in dbs:
        noted = db.encodings
        for key, stored_value in db.items():
            if key in noted:
                continue
            record = BY_CLASS.get(stored_value.__class__)
            if record is None:
                continue
            before = record.encoding(stored_value, old)
            if before != record.encoding(stored_value, LIMITS):
                noted[key] = before


def follow_settings(settings: Any, dbs: Iterable[Any]) -> None:
    """Take the thresholds from ``settings`` and follow their CONFIG SETs.

    ``settings`` is a :class:`hush.config.settings.Settings`; ``dbs`` the
    databases whose values keep their encodings when a threshold changes.
    """
    databases = list(dbs)
    for name in LIMIT_SETTINGS:
        attr = name.replace("-", "_")
        setattr(LIMITS, attr, getattr(settings, attr))
        settings.on_change(name, lambda value, name=name: set_limit(databases, name, value))


def value_size(value: Any) -> int:
    """Estimated bytes held by a stored value (``sys.getsizeof`` for unknown classes)."""
    record = BY_CLASS.get(value.__class__)
    return record.size(value) if record is not None else getsizeof(value)


def rewrite_commands(key: bytes, value: Any) -> Iterable[list[bytes]]:
    """The commands that rebuild ``value`` at ``key`` (BGREWRITEAOF).

    @raise TypeError: no type registered the value's class.
    """
    record = BY_CLASS.get(value.__class__)
    if record is None:
        raise TypeError(f"cannot write a {value.__class__.__name__} value to the AOF")
    return record.rewrite(key, value)


def to_neutral(value: Any) -> tuple[str, Any]:
    """``(kind, neutral value)`` of a stored value, for DUMP and the RDB writer.

    @raise TypeError: no type registered the value's class.
    """
    record = BY_CLASS.get(value.__class__)
    if record is None:
        raise TypeError(f"cannot write a {value.__class__.__name__} value to RDB")
    return record.name.decode(), record.to_neutral(value)


def from_neutral(kind: str, value: Any) -> Any:
    """The stored value of a neutral ``(kind, value)`` (RESTORE, the RDB loader)."""
    return BY_KIND[kind].from_neutral(value)


# -- helpers the type modules share ---------------------------------------------------


def sampled_size(container: Sized, sample: list[Any], each: Callable[[Any], int],
                 extra: float = 0) -> int:
    """The container's own size plus its length times the average of ``each``
    over ``sample`` (a few of its elements) and ``extra`` per element."""
    size = getsizeof(container)
    if not sample:
        return size
    return size + int(len(container) * (sum(map(each, sample)) / len(sample) + extra))


def chunked(name: bytes, key: bytes, flat: list[bytes], step: int) -> Iterator[list[bytes]]:
    """``name key <items>`` commands of at most :data:`ITEMS_PER_COMMAND`
    elements (of ``step`` arguments each), as Redis's rewrite writes containers."""
    size = ITEMS_PER_COMMAND * step
    for index in range(0, len(flat), size):
        yield [name, key, *flat[index:index + size]]
