"""RDB objects <-> neutral Python values.

A value is a ``(kind, value)`` pair, independent of how the store will hold it:

- ``("string", bytes)``
- ``("list", list[bytes])`` head to tail
- ``("set", set[bytes])``
- ``("zset", list[tuple[bytes, float]])`` ascending by (score, member)
- ``("hash", dict[bytes, bytes])`` in stored order
- ``("stream", rdb_stream.Stream)``

:func:`decode_object` reads the object of any type Redis 7.0.15 loads --
including the older ziplist, zipmap, intset and quicklist 1 encodings -- after
its type byte has been read. Module types are refused with Redis's message.
An object with no elements raises :class:`~hush.formats.rdb.EmptyKey` (a file
loader skips the key, as Redis does; RESTORE refuses it).

:func:`encode_object` writes a value in the encoding Redis 7.0.15 would hold
it in given the :class:`~hush.formats.rdb.Thresholds` (so RESTORE of the
result gives the OBJECT ENCODING Redis would give), or in the encoding the
caller says the value has (Redis writes a hash that became a hashtable as
one, however small it is now), returning the RDB type byte and the object's
bytes. The RDB writer and DUMP call it, and the RDB loader and RESTORE call
:func:`decode_object` with a :class:`~hush.formats.rdb.Reader`.
"""

from __future__ import annotations

import math
from typing import Any

from hush.formats import intset, listpack, rdb, ziplist, zipmap
from hush.formats.rdb import (
    DEFAULT_THRESHOLDS,
    EmptyKey,
    Reader,
    Thresholds,
    encode_binary_double,
    encode_length,
    encode_string,
    format_double,
)
from hush.formats.rdb_stream import decode_stream, encode_stream

Value = tuple[str, Any]

# Redis's optimization_level: the byte sizes a negative list-max-listpack-size means.
_LIST_SIZE_LEVELS = (4096, 8192, 16384, 32768, 65536)
_LIST_SIZE_SAFETY_LIMIT = 8192
_LIST_SIZE_OVERHEAD = 8
_QUICKLIST_PLAIN = 1
_QUICKLIST_PACKED = 2


def _empty(reader: Reader) -> EmptyKey:
    return EmptyKey("Empty key", reader.base + reader.pos)


def _pairs(items: list[bytes], reader: Reader, what: str) -> list[tuple[bytes, bytes]]:
    if len(items) % 2:
        raise reader.error("%s integrity check failed." % what)
    return list(zip(items[0::2], items[1::2], strict=True))


def _hash_from_pairs(pairs: list[tuple[bytes, bytes]], reader: Reader, what: str) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise reader.error("%s integrity check failed." % what)
    return result


def _zset_from_pairs(pairs: list[tuple[bytes, bytes]], reader: Reader, what: str) -> list:
    members = []
    for member, score_text in pairs:
        try:
            score = float(score_text)
        except ValueError:
            raise reader.error("%s integrity check failed." % what) from None
        if math.isnan(score):
            raise reader.error("Zset with NAN score detected")
        members.append((member, score))
    if len({member for member, _ in members}) != len(members):
        raise reader.error("%s integrity check failed." % what)
    return members


def _blob(reader: Reader, decode, what: str) -> list:
    """A container blob stored as a string, decoded; corrupt -> Redis's integrity error."""
    start = reader.pos
    blob = reader.string()
    try:
        return decode(blob)
    except ValueError:
        reader.pos = start
        raise reader.error("%s integrity check failed." % what) from None


def decode_object(reader: Reader, rdb_type: int) -> Value:
    """Read one object of ``rdb_type`` (the type byte already read) as a neutral value."""
    if rdb_type == rdb.TYPE_STRING:
        return "string", reader.string()
    if rdb_type == rdb.TYPE_LIST_QUICKLIST_2:
        return "list", _quicklist(reader, True)
    if rdb_type == rdb.TYPE_HASH_LISTPACK:
        pairs = _pairs(_blob(reader, listpack.decode, "Hash listpack"), reader, "Hash listpack")
        if not pairs:
            raise _empty(reader)
        return "hash", _hash_from_pairs(pairs, reader, "Hash listpack")
    if rdb_type == rdb.TYPE_SET:
        count = reader.length()
        if count == 0:
            raise _empty(reader)
        members = set()
        read = reader.string
        for _ in range(count):
            members.add(read())
        if len(members) != count:
            raise reader.error("Duplicate set members detected")
        return "set", members
    if rdb_type == rdb.TYPE_SET_INTSET:
        values = _blob(reader, intset.decode, "Intset")
        if not values:
            raise _empty(reader)
        return "set", {b"%d" % value for value in values}
    if rdb_type == rdb.TYPE_ZSET_LISTPACK:
        pairs = _pairs(_blob(reader, listpack.decode, "Zset listpack"), reader, "Zset listpack")
        if not pairs:
            raise _empty(reader)
        return "zset", _zset_from_pairs(pairs, reader, "Zset listpack")
    if rdb_type in (rdb.TYPE_ZSET_2, rdb.TYPE_ZSET):
        return "zset", _skiplist_zset(reader, rdb_type)
    if rdb_type == rdb.TYPE_HASH:
        count = reader.length()
        if count == 0:
            raise _empty(reader)
        result: dict[bytes, bytes] = {}
        read = reader.string
        for _ in range(count):
            field = read()
            result[field] = read()
        if len(result) != count:
            raise reader.error("Duplicate hash fields detected")
        return "hash", result
    if rdb_type in (rdb.TYPE_STREAM_LISTPACKS_2, rdb.TYPE_STREAM_LISTPACKS):
        return "stream", decode_stream(reader, rdb_type)
    if rdb_type == rdb.TYPE_LIST_QUICKLIST:
        return "list", _quicklist(reader, False)
    if rdb_type == rdb.TYPE_LIST:
        count = reader.length()
        if count == 0:
            raise _empty(reader)
        read = reader.string
        return "list", [read() for _ in _bounded(reader, count)]
    if rdb_type == rdb.TYPE_LIST_ZIPLIST:
        items = _blob(reader, ziplist.decode, "List ziplist")
        if not items:
            raise _empty(reader)
        return "list", items
    if rdb_type == rdb.TYPE_HASH_ZIPLIST:
        pairs = _pairs(_blob(reader, ziplist.decode, "Hash ziplist"), reader, "Hash ziplist")
        if not pairs:
            raise _empty(reader)
        return "hash", _hash_from_pairs(pairs, reader, "Hash ziplist")
    if rdb_type == rdb.TYPE_ZSET_ZIPLIST:
        pairs = _pairs(_blob(reader, ziplist.decode, "Zset ziplist"), reader, "Zset ziplist")
        if not pairs:
            raise _empty(reader)
        return "zset", _zset_from_pairs(pairs, reader, "Zset ziplist")
    if rdb_type == rdb.TYPE_HASH_ZIPMAP:
        pairs = _blob(reader, zipmap.decode, "Zipmap")
        if not pairs:
            raise _empty(reader)
        return "hash", _hash_from_pairs(pairs, reader, "Zipmap")
    if rdb_type in (rdb.TYPE_MODULE, rdb.TYPE_MODULE_2):
        module_id = reader.length()
        raise reader.error(
            "The RDB file contains module data I can't load: no matching module type '%s'"
            % rdb.module_type_name(module_id)
        )
    raise reader.error("Unknown RDB encoding type %d" % rdb_type)


def _bounded(reader: Reader, count: int) -> range:
    """``range(count)``; every element takes at least a byte, so a count past that is corrupt."""
    if count > reader.remaining():
        raise reader.truncated()
    return range(count)


def _quicklist(reader: Reader, version_2: bool) -> list[bytes]:
    nodes = reader.length()
    if nodes == 0:
        raise _empty(reader)
    items: list[bytes] = []
    for _ in range(nodes):
        container = reader.length() if version_2 else _QUICKLIST_PACKED
        if container not in (_QUICKLIST_PACKED, _QUICKLIST_PLAIN):
            raise reader.error("Quicklist integrity check failed.")
        start = reader.pos
        blob = reader.string()
        if not blob:
            reader.pos = start
            raise reader.error("Quicklist integrity check failed.")
        if container == _QUICKLIST_PLAIN:
            items.append(blob)
            continue
        try:
            items += listpack.decode(blob) if version_2 else ziplist.decode(blob)
        except ValueError:
            reader.pos = start
            what = "Listpack" if version_2 else "Ziplist"
            raise reader.error("%s integrity check failed." % what) from None
    if not items:
        raise _empty(reader)
    return items


def _skiplist_zset(reader: Reader, rdb_type: int) -> list[tuple[bytes, float]]:
    count = reader.length()
    if count == 0:
        raise _empty(reader)
    read = reader.string
    score_of = reader.binary_double if rdb_type == rdb.TYPE_ZSET_2 else reader.string_double
    members: list[tuple[bytes, float]] = []
    for _ in _bounded(reader, count):
        member = read()
        score = score_of()
        if score != score:
            raise reader.error("Zset with NAN score detected")
        members.append((member, score))
    if len({member for member, _ in members}) != count:
        raise reader.error("Duplicate zset fields detected")
    # Redis 7 saves a skiplist from the greatest to the smallest member (so
    # this sort is linear), older versions in hash order.
    members.sort(key=_score_order)
    return members


def _score_order(pair: tuple[bytes, float]) -> tuple[float, bytes]:
    return pair[1], pair[0]


def _list_allows(node_size: int, node_count: int, element_size: int, fill: int) -> bool:
    """Redis's _quicklistNodeAllowInsert for a listpack node."""
    new_size = node_size + element_size + _LIST_SIZE_OVERHEAD
    if fill < 0:
        level = -fill - 1
        if level < len(_LIST_SIZE_LEVELS) and new_size <= _LIST_SIZE_LEVELS[level]:
            return True
    if new_size > _LIST_SIZE_SAFETY_LIMIT:
        return False
    return node_count < fill


def quicklist_nodes(items: list[bytes], thresholds: Thresholds = DEFAULT_THRESHOLDS) -> list[tuple[int, bytes]]:
    """The (container, blob) nodes Redis builds by RPUSHing ``items`` to a new list."""
    fill = thresholds.list_max_listpack_size
    plain_from = thresholds.list_packed_threshold
    enc = listpack.encode_entry
    nodes: list[tuple[int, bytes]] = []
    parts: list[bytes] = []
    size = 0
    for item in items:
        n = len(item)
        if n >= plain_from:
            if parts:
                nodes.append((_QUICKLIST_PACKED, listpack.build(parts)))
                parts = []
            nodes.append((_QUICKLIST_PLAIN, item))
            continue
        encoded = enc(item)
        if parts and _list_allows(size, len(parts), n, fill):
            parts.append(encoded)
            size += len(encoded)
        else:
            if parts:
                nodes.append((_QUICKLIST_PACKED, listpack.build(parts)))
            parts = [encoded]
            size = listpack.HEADER_SIZE + 1 + len(encoded)
    if parts:
        nodes.append((_QUICKLIST_PACKED, listpack.build(parts)))
    return nodes


#: The RDB type byte of each (kind, OBJECT ENCODING) a caller may name.
_BY_ENCODING = {
    ("set", b"intset"): rdb.TYPE_SET_INTSET,
    ("set", b"hashtable"): rdb.TYPE_SET,
    ("zset", b"listpack"): rdb.TYPE_ZSET_LISTPACK,
    ("zset", b"skiplist"): rdb.TYPE_ZSET_2,
    ("hash", b"listpack"): rdb.TYPE_HASH_LISTPACK,
    ("hash", b"hashtable"): rdb.TYPE_HASH,
}


def encoding_of(kind: str, value: Any, thresholds: Thresholds = DEFAULT_THRESHOLDS,
                encoding: bytes | None = None) -> int:
    """The RDB type byte Redis 7.0.15 would write ``value`` with.

    ``encoding`` is the value's OBJECT ENCODING where the caller knows it:
    Redis writes a set, sorted set or hash in the encoding it has, which
    its content under the thresholds in effect may not tell (a value that
    left its compact encoding keeps the large one; one built under higher
    thresholds keeps its compact one). Without it the content decides.
    """
    if kind == "string":
        return rdb.TYPE_STRING
    if kind == "list":
        return rdb.TYPE_LIST_QUICKLIST_2
    if encoding is not None:
        known = _BY_ENCODING.get((kind, encoding))
        if known is not None:
            return known
    if kind == "set":
        if len(value) <= thresholds.set_max_intset_entries and all(
            listpack.string_to_int(member) is not None for member in value
        ):
            return rdb.TYPE_SET_INTSET
        return rdb.TYPE_SET
    if kind == "zset":
        limit = thresholds.zset_max_listpack_value
        if len(value) <= thresholds.zset_max_listpack_entries and all(
            len(member) <= limit for member, _ in value
        ):
            return rdb.TYPE_ZSET_LISTPACK
        return rdb.TYPE_ZSET_2
    if kind == "hash":
        limit = thresholds.hash_max_listpack_value
        pairs = value.items() if isinstance(value, dict) else value
        if len(value) <= thresholds.hash_max_listpack_entries and all(
            len(f) <= limit and len(v) <= limit for f, v in pairs
        ):
            return rdb.TYPE_HASH_LISTPACK
        return rdb.TYPE_HASH
    if kind == "stream":
        return rdb.TYPE_STREAM_LISTPACKS_2
    raise ValueError("unknown value kind %r" % kind)


def encode_object(kind: str, value: Any, thresholds: Thresholds = DEFAULT_THRESHOLDS,
                  encoding: bytes | None = None) -> tuple[int, bytes]:
    """``(rdb_type, object bytes)`` for a neutral value, in the encoding Redis would
    choose, or in ``encoding`` (its OBJECT ENCODING, see :func:`encoding_of`).

    Collections must not be empty (Redis deletes a key whose last element goes).
    """
    compress = thresholds.rdb_compression
    rdb_type = encoding_of(kind, value, thresholds, encoding)
    if kind == "string":
        return rdb_type, encode_string(value, compress)
    if kind != "stream" and not value:
        raise ValueError("cannot encode an empty %s" % kind)
    if kind == "list":
        nodes = quicklist_nodes(value, thresholds)
        out = [encode_length(len(nodes))]
        for container, blob in nodes:
            out.append(encode_length(container))
            out.append(encode_string(blob, compress))
        return rdb_type, b"".join(out)
    if kind == "set":
        if rdb_type == rdb.TYPE_SET_INTSET:
            blob = intset.encode(int(member) for member in value)
            return rdb_type, encode_string(blob, compress)
        return rdb_type, encode_length(len(value)) + b"".join(
            encode_string(member, compress) for member in value
        )
    if kind == "zset":
        if rdb_type == rdb.TYPE_ZSET_LISTPACK:
            flat: list[bytes] = []
            for member, score in sorted(value, key=_score_order):
                flat.append(member)
                flat.append(format_double(score))
            return rdb_type, encode_string(listpack.encode(flat), compress)
        ordered = sorted(value, key=_score_order, reverse=True)
        return rdb_type, encode_length(len(ordered)) + b"".join(
            encode_string(member, compress) + encode_binary_double(score)
            for member, score in ordered
        )
    if kind == "hash":
        pairs = list(value.items()) if isinstance(value, dict) else list(value)
        if rdb_type == rdb.TYPE_HASH_LISTPACK:
            flat = [item for pair in pairs for item in pair]
            return rdb_type, encode_string(listpack.encode(flat), compress)
        return rdb_type, encode_length(len(pairs)) + b"".join(
            encode_string(f, compress) + encode_string(v, compress) for f, v in pairs
        )
    return rdb_type, encode_stream(value, thresholds)
