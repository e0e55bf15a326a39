# -*- test-case-name: tests.unit.wire.test_parser -*-
"""Request parsing: RESP multibulk frames and inline commands, as Redis reads them.

:class:`RequestParser` is the exact, incremental, offset-based parser: it keeps
only the unfinished element between reads (never re-copies the rest of the
buffer per line), checks Redis's limits on each header before waiting for the
payload, and reports Redis's protocol error texts.

:class:`FastParser` puts hiredis's C reader in front of it for the common case
(whole multibulk frames per read) and hands anything unusual to the exact
parser, so both paths give the same commands and the same errors.
"""

from __future__ import annotations

import re
from typing import Any

try:
    import hiredis
    from hiredis import pack_command
except ImportError:  # pragma: no cover - hiredis is a declared dependency
    hiredis = None

#: Redis's PROTO_INLINE_MAX_SIZE: the longest inline request or header line.
INLINE_MAX_SIZE = 64 * 1024
#: Redis's default proto-max-bulk-len.
DEFAULT_MAX_BULK_LEN = 512 * 1024 * 1024
#: The largest multibulk count accepted: Redis 7.0 refuses only counts above
#: INT_MAX (Redis 6 refused above 1024*1024).
DEFAULT_MAX_MULTIBULK_LEN = 2**31 - 1
#: Redis's default client-query-buffer-limit.
DEFAULT_MAX_QUERY_BUFFER = 1024 * 1024 * 1024
#: What :meth:`RequestParser.feed` returns in place of an error text when the
#: unfinished request outgrew client-query-buffer-limit: Redis closes such a
#: client without a reply and logs why.
QUERY_BUFFER_EXCEEDED = "closing client that reached max query buffer length"
#: What :meth:`RequestParser.feed` returns in place of an error text when, made
#: with ``inline=False``, it stopped before an inline request: the commands
#: before it are complete, and :meth:`RequestParser.take_inline` gives the rest.
INLINE_AHEAD = "an inline request follows"

Command = list[bytes]

_INT_RE = re.compile(rb"(?:0|-?[1-9][0-9]{0,18})\Z")
# Payloads above this are gathered as a list of chunks and joined once, so a
# large value arriving in many reads is copied once, not once per read.
_CHUNKED_BULK = 32 * 1024


class _Reject(Exception):
    """Internal: the request is malformed; carries Redis's error text."""


class _InlineAhead(Exception):
    """Internal: an inline request starts at offset ``args[0]`` (parsers without inline)."""


#: What :func:`split_inline` raises for unbalanced quotes (its text is Redis's error).
ProtocolReject = _Reject


def _parse_length(raw: bytes, error: str) -> int:
    # Redis's string2ll: optional '-', no '+', no leading zeros, no spaces.
    if not _INT_RE.match(raw):
        raise _Reject(error)
    return int(raw)


class RequestParser:
    """Turns a byte stream into commands (lists of bytes arguments).

    Feed it each read with :meth:`feed`; it returns the complete commands and,
    when the stream is malformed, Redis's protocol error text. After an error
    the parser must not be fed again: the connection is to be closed.

    @ivar max_bulk_len: proto-max-bulk-len; longer declared bulks are refused.
    @ivar max_multibulk_len: the largest accepted ``*N`` count.
    @ivar max_query_buffer: client-query-buffer-limit: the most bytes an
        unfinished request may hold (unparsed bytes plus the arguments already
        parsed); beyond it :meth:`feed` reports L{QUERY_BUFFER_EXCEEDED}.
    @ivar inline: False to stop before an inline request (L{INLINE_AHEAD}).
    """

    def __init__(
        self,
        max_bulk_len: int = DEFAULT_MAX_BULK_LEN,
        max_multibulk_len: int = DEFAULT_MAX_MULTIBULK_LEN,
        max_query_buffer: int = DEFAULT_MAX_QUERY_BUFFER,
        inline: bool = True,
    ) -> None:
        self.max_bulk_len = max_bulk_len
        self.max_multibulk_len = max_multibulk_len
        self.max_query_buffer = max_query_buffer
        self.inline = inline
        self._inline_rest = b""
        self._buf = b""
        self._argv: Command | None = None
        # Bytes in self._argv, kept as arguments arrive: summing them per read
        # would be quadratic for a huge command arriving in many reads.
        self._argv_bytes = 0
        self._remaining = 0
        self._bulk_len = -1
        self._chunks: list[bytes] = []
        self._chunks_len = 0

    @property
    def idle(self) -> bool:
        """True between requests: nothing is buffered or half-parsed."""
        return self._argv is None and not self._buf and not self._chunks

    @property
    def buffered(self) -> int:
        """Bytes held for the unfinished request (the query buffer)."""
        return len(self._buf) + self._chunks_len + self._argv_bytes

    def feed(self, data: bytes) -> tuple[list[Command], str | None]:
        """Parse ``data``; return the complete commands and an error text or None."""
        if self._chunks:
            self._chunks.append(data)
            self._chunks_len += len(data)
            if self._chunks_len < self._bulk_len + 2:
                if self._chunks_len + self._argv_bytes > self.max_query_buffer:
                    self._reset()
                    return [], QUERY_BUFFER_EXCEEDED
                return [], None
            buf = b"".join(self._chunks)
            self._chunks = []
            self._chunks_len = 0
        elif self._buf:
            buf = self._buf + data
        else:
            buf = data
        commands: list[Command] = []
        try:
            pos = self._parse(buf, commands)
        except _Reject as reject:
            self._reset()
            return commands, str(reject)
        except _InlineAhead as ahead:
            # Nothing is held at a request boundary: the rest is the caller's.
            self._buf = b""
            self._inline_rest = buf[ahead.args[0]:]
            return commands, INLINE_AHEAD
        rest = len(buf) - pos
        if rest + self._argv_bytes > self.max_query_buffer:
            self._reset()
            return commands, QUERY_BUFFER_EXCEEDED
        if rest <= 0:
            self._buf = b""
        elif self._bulk_len >= _CHUNKED_BULK:
            self._buf = b""
            self._chunks = [buf[pos:]]
            self._chunks_len = rest
        else:
            self._buf = buf[pos:] if pos else buf
        return commands, None

    def take_inline(self) -> bytes:
        """The rest of the read from the inline request :meth:`feed` stopped before."""
        rest, self._inline_rest = self._inline_rest, b""
        return rest

    def _reset(self) -> None:
        """Drop everything held: the connection is about to close."""
        self._buf = b""
        self._argv = None
        self._argv_bytes = 0
        self._chunks = []
        self._chunks_len = 0
        self._bulk_len = -1

    def _parse(self, buf: bytes, commands: list[Command]) -> int:
        """Parse complete requests from ``buf``; return the offset parsed up to."""
        pos = 0
        end = len(buf)
        argv = self._argv
        remaining = self._remaining
        bulk_len = self._bulk_len
        argv_bytes = self._argv_bytes
        find = buf.find
        try:
            while pos < end:
                if argv is None:
                    if buf[pos] != 42:  # not '*': an inline request
                        if not self.inline:
                            raise _InlineAhead(pos)
                        newline = find(b"\n", pos)
                        if newline < 0:
                            if end - pos > INLINE_MAX_SIZE:
                                raise _Reject("ERR Protocol error: too big inline request")
                            break
                        args = split_inline(buf[pos:newline])
                        pos = newline + 1
                        if args:
                            commands.append(args)
                        continue
                    newline = find(b"\r", pos)
                    if newline < 0 or newline + 1 >= end:
                        if end - pos > INLINE_MAX_SIZE:
                            raise _Reject("ERR Protocol error: too big mbulk count string")
                        break
                    count = _parse_length(
                        buf[pos + 1 : newline], "ERR Protocol error: invalid multibulk length"
                    )
                    if count > self.max_multibulk_len:
                        raise _Reject("ERR Protocol error: invalid multibulk length")
                    pos = newline + 2
                    if count <= 0:
                        continue
                    argv = []
                    argv_bytes = 0
                    remaining = count
                    bulk_len = -1
                while remaining:
                    if bulk_len < 0:
                        newline = find(b"\r", pos)
                        if newline < 0 or newline + 1 >= end:
                            if end - pos > INLINE_MAX_SIZE:
                                raise _Reject("ERR Protocol error: too big bulk count string")
                            return pos
                        if buf[pos] != 36:  # '$'
                            # The byte itself, as Redis's %c prints it.
                            got = buf[pos:pos + 1].decode("utf-8", "surrogateescape")
                            raise _Reject(f"ERR Protocol error: expected '$', got '{got}'")
                        bulk_len = _parse_length(
                            buf[pos + 1 : newline], "ERR Protocol error: invalid bulk length"
                        )
                        if bulk_len < 0 or bulk_len > self.max_bulk_len:
                            raise _Reject("ERR Protocol error: invalid bulk length")
                        pos = newline + 2
                    if end - pos < bulk_len + 2:
                        return pos
                    # Like Redis, the two bytes after the payload are skipped
                    # unchecked: they are the CRLF in any valid request.
                    argv.append(buf[pos : pos + bulk_len])
                    argv_bytes += bulk_len
                    pos += bulk_len + 2
                    bulk_len = -1
                    remaining -= 1
                commands.append(argv)
                argv = None
                argv_bytes = 0
            return pos
        finally:
            self._argv = argv
            self._argv_bytes = argv_bytes
            self._remaining = remaining
            self._bulk_len = bulk_len


_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}
_SPACE = b" \n\r\t\v\f"
_HEX = b"0123456789abcdefABCDEF"


def split_inline(line: bytes) -> Command:
    """Split an inline request line into arguments, as Redis's sdssplitargs does.

    Double quotes allow ``\\xHH`` and ``\\n``-style escapes, single quotes only
    ``\\'``; a closing quote must be followed by a space or the end of line.
    """
    if b'"' not in line and b"'" not in line:
        return line.split()
    args: Command = []
    i = 0
    n = len(line)
    while True:
        while i < n and line[i] in _SPACE:
            i += 1
        if i >= n:
            return args
        current = bytearray()
        in_double = in_single = False
        while True:
            if in_double:
                if i >= n:
                    raise _Reject("ERR Protocol error: unbalanced quotes in request")
                c = line[i]
                if (
                    c == 92
                    and i + 3 < n
                    and line[i + 1] == 120
                    and line[i + 2] in _HEX
                    and line[i + 3] in _HEX
                ):
                    current.append(int(line[i + 2 : i + 4], 16))
                    i += 3
                elif c == 92 and i + 1 < n:
                    i += 1
                    current.append(_ESCAPES.get(line[i], line[i]))
                elif c == 34:
                    if i + 1 < n and line[i + 1] not in _SPACE:
                        raise _Reject("ERR Protocol error: unbalanced quotes in request")
                    in_double = False
                    i += 1
                    break
                else:
                    current.append(c)
            elif in_single:
                if i >= n:
                    raise _Reject("ERR Protocol error: unbalanced quotes in request")
                c = line[i]
                if c == 92 and i + 1 < n and line[i + 1] == 39:
                    i += 1
                    current.append(39)
                elif c == 39:
                    if i + 1 < n and line[i + 1] not in _SPACE:
                        raise _Reject("ERR Protocol error: unbalanced quotes in request")
                    in_single = False
                    i += 1
                    break
                else:
                    current.append(c)
            else:
                if i >= n:
                    break
                c = line[i]
                if c in _SPACE:
                    break
                if c == 34:
                    in_double = True
                elif c == 39:
                    in_single = True
                else:
                    current.append(c)
            i += 1
        args.append(bytes(current))


_FAST_SLICE = 64 * 1024
# hiredis 3.5 spends seconds (and allocates gigabytes) on an array header
# counting 2**31 to 2**32-1 elements, even nested: such reads never reach it.
_HUGE_COUNT = re.compile(rb"\*[0-9]{10}")


class _Headers(dict):
    """``n`` -> ``prefix + b"%d\\r\\n" % n``: small counts cached, others made on demand."""

    def __init__(self, prefix: bytes, cached: int) -> None:
        super().__init__((n, b"%s%d\r\n" % (prefix, n)) for n in range(cached))
        self.prefix = prefix

    def __missing__(self, n: int) -> bytes:
        return b"%s%d\r\n" % (self.prefix, n)


_bulk_header = _Headers(b"$", 1024).__getitem__
_array_header = _Headers(b"*", 64).__getitem__


def _canonical_uniform(frames: list[Command]) -> tuple[bytes, bool]:
    """The canonical RESP of ``frames`` if they all have the same length, else
    ValueError; and whether they all name the same command (as sent).

    A pipeline usually repeats one command, so a read's frames share their
    length; then the reply is laid out with one slice assignment per argument
    position (``zip`` gives the columns), keeping the work per argument in C.
    Against ``pack_command`` per frame this halves the check's cost for 16
    GETs. An element that is not bytes makes ``len`` or ``join`` raise, as
    ``pack_command`` would (the caller then falls back to the exact parser).
    """
    count = len(frames)
    width = len(frames[0])
    stride = 1 + 3 * width
    parts = [b"\r\n"] * (stride * count)
    parts[0::stride] = [_array_header(width)] * count
    position = 1
    names: Any = ()
    for column in zip(*frames, strict=True):
        if position == 1:
            names = column
        parts[position::stride] = map(_bulk_header, map(len, column))
        parts[position + 1::stride] = column
        position += 3
    return b"".join(parts), names.count(names[0]) == count


class FastParser:
    """hiredis in front of :class:`RequestParser` for whole multibulk reads.

    A read goes to hiredis only when the exact parser is idle and the read
    starts with ``*``. hiredis reads more than Redis accepts: other RESP
    types (``+``, ``=``, ``(`` come back as bytes too, ``~`` as a list),
    frames split across reads, and it does not check the CRLF after a bulk.
    So its frames are used only if re-encoding them canonically (hiredis's
    C ``pack_command``) gives back the read byte for byte, and the configured
    limits hold: then the read is exactly those frames of bulk strings.
    Otherwise the read is parsed again by the exact parser, which applies
    Redis's limits and error texts. No command runs before its read is parsed,
    so parsing a read twice is safe.

    Comparing bytes keeps the per-argument checks in C: a Python loop over
    the arguments cost more than hiredis's parsing itself.
    """

    def __init__(
        self,
        max_bulk_len: int = DEFAULT_MAX_BULK_LEN,
        max_multibulk_len: int = DEFAULT_MAX_MULTIBULK_LEN,
        max_query_buffer: int = DEFAULT_MAX_QUERY_BUFFER,
        inline: bool = True,
    ) -> None:
        self.exact = RequestParser(max_bulk_len, max_multibulk_len, max_query_buffer, inline)
        self._reader = hiredis.Reader() if hiredis is not None else None
        #: True between requests (nothing buffered or half-parsed); kept up
        #: to date after each read, so asking costs no call.
        self.idle = True
        #: For the commands of the last read: True when they are more than one
        #: and repeat one command name (as sent) with one argument count, False
        #: when not, None when the exact parser read them (not looked at).
        self.uniform: bool | None = False
        # Likewise: hiredis may take a read only when the exact parser holds nothing.
        self._fast_ready = self._reader is not None

    @property
    def buffered(self) -> int:
        """Bytes held for the unfinished request."""
        return self.exact.buffered

    def feed(self, data: bytes) -> tuple[list[Command], str | None]:
        """Parse ``data``; return the complete commands and an error text or None."""
        if (
            self._fast_ready
            and data[:1] == b"*"
            # The first count has under 10 digits; any other '*' is checked
            # by the regex (one read of one command skips it).
            and b"\r" in data[1:11]
            and (data.find(b"*", 1) < 0 or _HUGE_COUNT.search(data) is None)
        ):
            frames = self._fast(data)
            if frames is not None:
                return frames, None
            # The reader may hold part of a frame: start the next one clean.
            self._reader = hiredis.Reader()
        self.uniform = None
        result = self.exact.feed(data)
        self.idle = idle = self.exact.idle
        self._fast_ready = self._reader is not None and idle
        return result

    def take_inline(self) -> bytes:
        """The rest of the read from the inline request :meth:`feed` stopped before."""
        return self.exact.take_inline()

    def _fast(self, data: bytes) -> list[Command] | None:
        reader = self._reader
        frames: list[Command] = []
        end = len(data)
        exact = self.exact
        try:
            if end <= _FAST_SLICE:
                reader.feed(data)
                # iter() calls gets in C until the reader has no whole frame left.
                frames += iter(reader.gets, False)
            else:
                # hiredis moves its unread buffer down after every reply it
                # returns, so one huge feed costs quadratic time: feed slices.
                for offset in range(0, end, _FAST_SLICE):
                    reader.feed(data, offset, min(_FAST_SLICE, end - offset))
                    self._take(reader, frames)
            # pack_command refuses anything but bytes, str, int and float; a
            # str cannot come back (no encoding is set) and an int or a float
            # re-encodes differently from its wire form.
            if len(frames) == 1:
                # One request per read (no pipelining): its own short way.
                frame = frames[0]
                if (
                    pack_command(tuple(frame)) != data
                    or not frame
                    or len(frame) > exact.max_multibulk_len
                    or (end > exact.max_bulk_len and max(map(len, frame)) > exact.max_bulk_len)
                ):
                    return None
                self.uniform = False
                return frames
            try:
                canonical, uniform = _canonical_uniform(frames)
            except ValueError:
                # Frames of different lengths (zip's strict check); testing
                # that first would cost every uniform read a pass.
                canonical = b"".join(map(pack_command, map(tuple, frames)))
                uniform = False
        except Exception:
            return None
        if canonical != data:
            return None
        # Equal bytes mean every frame was an array of bulk strings (anything
        # else re-encodes differently or not at all); Redis skips no empty
        # ones and refuses long ones with its own error (the exact parser's).
        if uniform:
            width = len(frames[0])
            if not width or width > exact.max_multibulk_len:
                return None
        else:
            lengths = list(map(len, frames))
            if not min(lengths) or max(lengths) > exact.max_multibulk_len:
                return None
        max_bulk = exact.max_bulk_len
        if end > max_bulk:
            # Only a read longer than the limit can hold a bulk over it.
            for frame in frames:
                if max(map(len, frame)) > max_bulk:
                    return None
        self.uniform = uniform
        return frames

    def _take(self, reader, frames: list[Command]) -> None:
        """Append the frames hiredis has complete (to be verified by the caller)."""
        # iter() calls gets in C until the reader has no whole frame left.
        frames += iter(reader.gets, False)
