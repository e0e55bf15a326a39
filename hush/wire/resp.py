"""RESP2/RESP3 reply values and their encoding.

Handlers return plain Python values; :func:`encode_into` turns them into wire
bytes for the connection's protocol version:

==================  ======================  ==========================
Python value        RESP2                   RESP3
==================  ======================  ==========================
bytes               bulk string             bulk string
SimpleString        ``+status``             ``+status``
int                 ``:n``                  ``:n``
bool                ``:1`` / ``:0``         ``#t`` / ``#f``
float               bulk ``%.17g``          double ``,``
None                null bulk ``$-1``       null ``_``
NULL_ARRAY          null array ``*-1``      null ``_``
list / tuple        array                   array
Bulks               array                   array
RespSet             array                   set ``~``
dict / RespMap      flat array              map ``%``
Push                array                   push ``>``
Verbatim            bulk string             verbatim ``=``
BigNumber           bulk string             big number ``(``
Raw                 as given                as given
DoubleText          bulk string             double ``,`` (its text)
CommandError        ``-message``            ``-message``
==================  ======================  ==========================
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from hush.core.errors import CommandError, message_bytes


class SimpleString(bytes):
    """A status reply such as ``+OK``."""

    __slots__ = ()


class RespSet(list):
    """An unordered collection: a set in RESP3, an array in RESP2."""

    __slots__ = ()


class RespMap(list):
    """A map given as a list of (key, value) pairs; keeps order, allows any key type."""

    __slots__ = ()


class Push(list):
    """An out-of-band message (pub/sub): a push in RESP3, an array in RESP2."""

    __slots__ = ()


class Bulks(list):
    """An array whose items are exact bytes (a list's elements): encoded as bulk
    strings without looking at each item's type first."""

    __slots__ = ()


class Replies(list):
    """Several top-level replies from one command (SUBSCRIBE confirms per channel)."""

    __slots__ = ()


class Verbatim(bytes):
    """Text meant for humans (INFO, CLIENT INFO): a verbatim string in RESP3."""

    __slots__ = ()


class BigNumber(bytes):
    """A big number (Lua scripts' ``{big_number=...}``): ``(`` in RESP3, a bulk string in RESP2."""

    __slots__ = ()


class Raw(bytes):
    """Bytes sent as they are, already encoded (the null of another protocol
    version that Redis puts in a tracking message)."""

    __slots__ = ()


class DoubleText(bytes):
    """A double as Redis prints it itself (addReplyHumanLongDouble: GEOPOS,
    WITHCOORD): this text as a bulk string in RESP2, a ``,`` double in RESP3."""

    __slots__ = ()


class _NullArray:
    """The null array of RESP2 (``*-1``), e.g. BLPOP's timeout reply."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NULL_ARRAY"


NULL_ARRAY = _NullArray()
OK = SimpleString(b"OK")
PONG = SimpleString(b"PONG")
QUEUED = SimpleString(b"QUEUED")


class _NoReply:
    """A reply that sends nothing (CLIENT REPLY OFF/SKIP, a repeated MONITOR)."""

    __slots__ = ()


NO_REPLY = _NoReply()

_OK_BYTES = b"+OK\r\n"
#: The encoded ``+OK`` reply.
OK_REPLY = _OK_BYTES
_NULL2 = b"$-1\r\n"
_NULL3 = b"_\r\n"
# Small integers are so common (counts, 0/1 flags) that their encodings are
# worth building once.
SMALL_INT_REPLIES = [b":%d\r\n" % i for i in range(1024)]


# Arrays of plain bulk strings (LRANGE, MGET, HGETALL's pairs, SMEMBERS) are
# the large replies. Formatting each element in a Python loop costs about
# 0.4 us an element; interleaving ready-made ``$len`` headers and the values
# with C-level list slicing and one join on CRLF costs less than half that.
_BULK_ARRAY_MIN = 8
_BULK_HEADERS = [b"$%d\r\n" % size for size in range(4096)]
_BULK_HEADER_AT = _BULK_HEADERS.__getitem__
_BARE_HEADER_AT = [b"$%d" % size for size in range(4096)].__getitem__
#: ``$<size>\r\n`` for sizes below 4096 (the dispatcher encodes bulk replies with it).
BULK_HEADERS = _BULK_HEADERS
_CRLF = b"\r\n"
_ONLY_BYTES = {bytes}
_BYTES_AND_NONE = {bytes, type(None)}
_EMPTY_FOR_NONE = {None: b""}
_NULL_PARTS2 = {None: _NULL2[:-2]}
_NULL_PARTS3 = {None: _NULL3[:-2]}


def _encode_bulks(out: list[bytes], values: list | tuple) -> bool:
    """Append ``values`` as bulk strings if all are plain short bytes; else False."""
    # Exact types only: SimpleString and Verbatim are bytes subclasses with
    # encodings of their own.
    if set(map(type, values)) != _ONLY_BYTES:
        return False
    return _join_bulks(out, values)


def _join_bulks(out: list[bytes], values: list | tuple) -> bool:
    """:func:`_encode_bulks` for values known to be exact bytes."""
    # header, value, header, value, ..., "" joined on CRLF: a third fewer
    # parts than with CRLFs of their own, and the last CRLF comes free.
    parts = [b""] * (2 * len(values) + 1)
    try:
        parts[0:-1:2] = map(_BARE_HEADER_AT, map(len, values))
    except IndexError:
        return False
    parts[1::2] = values
    out.append(_CRLF.join(parts))
    return True


def encode_each_into(out: list[bytes], values: list, resp3: bool) -> None:
    """Append each of ``values`` as a reply of its own: the replies of a run of
    commands (bulk strings and nulls, mostly)."""
    if len(values) >= _BULK_ARRAY_MIN:
        kinds = set(map(type, values))
        if kinds == _ONLY_BYTES:
            # Their types are known now: _encode_bulks would look again.
            if _join_bulks(out, values):
                return
        elif kinds == _BYTES_AND_NONE and _encode_bulks_and_nulls(out, values, resp3):
            return
    null = _NULL3 if resp3 else _NULL2
    for value in values:
        if value.__class__ is bytes:
            size = len(value)
            if size < 4096:
                out += (_BULK_HEADERS[size], value, _CRLF)
            else:
                out.append(b"$%d\r\n%s\r\n" % (size, value))
        elif value is None:
            out.append(null)
        else:
            encode_into(out, value, resp3)


def _encode_bulks_and_nulls(out: list[bytes], values: list, resp3: bool) -> bool:
    """Append ``values`` (short bytes and Nones) as bulk strings and nulls; False if
    one is too long for the header table.

    The layout of :func:`_encode_bulks` (header, value, CRLF) holds a null too:
    its text without the CRLF, then nothing. Dict lookups keyed by the values
    swap the Nones for those parts, keeping the work per value in C.
    """
    nulls = _NULL_PARTS3 if resp3 else _NULL_PARTS2
    filled = list(map(_EMPTY_FOR_NONE.get, values, values))
    try:
        headers = list(map(nulls.get, values, map(_BULK_HEADER_AT, map(len, filled))))
    except IndexError:
        return False
    parts = [_CRLF] * (3 * len(values))
    parts[0::3] = headers
    parts[1::3] = filled
    out.append(b"".join(parts))
    return True


def encode_ints_into(out: list[bytes], values: Iterable[int]) -> None:
    """Append each of ``values`` as an integer reply of its own."""
    out += map(_INT_REPLY, values)


# Formatting in C: a table lookup through a Python function costs more.
_INT_REPLY = b":%d\r\n".__mod__


def format_double(value: float) -> bytes:
    """Format a double as Redis 7.0 does in replies (``%.17g``, inf, -inf, nan)."""
    if math.isinf(value):
        return b"inf" if value > 0 else b"-inf"
    if math.isnan(value):
        return b"nan"
    return b"%.17g" % value


def encode_into(out: list[bytes], value: Any, resp3: bool) -> None:
    """Append the wire encoding of ``value`` to ``out``."""
    kind = type(value)
    if kind is bytes:
        out.append(b"$%d\r\n%s\r\n" % (len(value), value))
    elif kind is int:
        if 0 <= value < 1024:
            out.append(SMALL_INT_REPLIES[value])
        else:
            out.append(b":%d\r\n" % value)
    elif value is None:
        out.append(_NULL3 if resp3 else _NULL2)
    elif kind is SimpleString:
        out.append(_OK_BYTES if value is OK else b"+%s\r\n" % value)
    elif kind is list or kind is tuple:
        out.append(b"*%d\r\n" % len(value))
        if len(value) >= _BULK_ARRAY_MIN and _encode_bulks(out, value):
            return
        for item in value:
            if item.__class__ is bytes:
                out.append(b"$%d\r\n%s\r\n" % (len(item), item))
            else:
                encode_into(out, item, resp3)
    elif kind is Bulks:
        out.append(b"*%d\r\n" % len(value))
        try:
            if _join_bulks(out, value):
                return
        except TypeError:
            # Not bytes after all: each item its own way.
            pass
        for item in value:
            encode_into(out, item, resp3)
    elif isinstance(value, CommandError):
        out.append(error_bytes(value.message))
    elif kind is bool:
        if resp3:
            out.append(b"#t\r\n" if value else b"#f\r\n")
        else:
            out.append(b":1\r\n" if value else b":0\r\n")
    elif kind is float:
        text = format_double(value)
        if resp3:
            out.append(b",%s\r\n" % text)
        else:
            out.append(b"$%d\r\n%s\r\n" % (len(text), text))
    elif value is NULL_ARRAY:
        out.append(_NULL3 if resp3 else b"*-1\r\n")
    elif kind is dict or kind is RespMap:
        pairs = value.items() if kind is dict else value
        if resp3:
            out.append(b"%%%d\r\n" % len(value))
        else:
            out.append(b"*%d\r\n" % (2 * len(value)))
        for key, item in pairs:
            encode_into(out, key, resp3)
            encode_into(out, item, resp3)
    elif kind is RespSet:
        out.append(b"%s%d\r\n" % (b"~" if resp3 else b"*", len(value)))
        if len(value) >= _BULK_ARRAY_MIN and _encode_bulks(out, value):
            return
        for item in value:
            encode_into(out, item, resp3)
    elif kind is Replies:
        for item in value:
            encode_into(out, item, resp3)
    elif kind is Push:
        out.append(b"%s%d\r\n" % (b">" if resp3 else b"*", len(value)))
        for item in value:
            encode_into(out, item, resp3)
    elif kind is Verbatim:
        if resp3:
            out.append(b"=%d\r\ntxt:%s\r\n" % (len(value) + 4, value))
        else:
            out.append(b"$%d\r\n%s\r\n" % (len(value), value))
    elif kind is BigNumber:
        if resp3:
            out.append(b"(%s\r\n" % value)
        else:
            out.append(b"$%d\r\n%s\r\n" % (len(value), value))
    elif kind is Raw:
        out.append(value)
    elif kind is DoubleText:
        if resp3:
            out.append(b",%s\r\n" % value)
        else:
            out.append(b"$%d\r\n%s\r\n" % (len(value), value))
    elif kind is str:
        encoded = value.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(encoded), encoded))
    else:
        raise TypeError(f"cannot encode reply of type {kind.__name__}")


def encode(value: Any, resp3: bool = False) -> bytes:
    """Return the wire encoding of one reply value."""
    out: list[bytes] = []
    encode_into(out, value, resp3)
    return b"".join(out)


def error_bytes(message: str) -> bytes:
    """Encode an error reply line for ``message`` (which includes its code).

    The bytes of client input quoted in it come back as they were (see
    :func:`hush.core.errors.text`).
    """
    return b"-%s\r\n" % message_bytes(one_line(message))


def one_line(message: str) -> str:
    """An error text as Redis's addReplyErrorFormat sends it: one line.

    Newlines at its end are dropped and the others become spaces, so that a
    message quoting client input cannot break the framing.
    """
    if "\r" in message or "\n" in message:
        return message.rstrip("\r\n").replace("\r", " ").replace("\n", " ")
    return message
