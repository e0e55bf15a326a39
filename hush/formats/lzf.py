"""LZF, the compression Redis uses for strings in RDB files and DUMP payloads.

The compressed stream is a sequence of chunks, each starting with a control byte:

- ``000LLLLL`` then L+1 literal bytes (1..32);
- ``LLLooooo oooooooo``: copy L+2 bytes (L in 1..6) from ``offset+1`` bytes back;
- ``111ooooo LLLLLLLL oooooooo``: the same with length L+9.

:func:`compress` follows the choices of the liblzf compressor built into Redis
(16-bit hash table, "very fast" mode), so that for the same input it usually
produces the same bytes Redis writes; any valid LZF stream loads the same.
:func:`decompress` checks every length and offset: a corrupt stream raises
:class:`LzfError`, never reads outside its input nor grows past ``expected_len``.
"""

from __future__ import annotations

_MAX_LIT = 32
_MAX_OFF = 1 << 13
_MAX_REF = (1 << 8) + (1 << 3)
_HSIZE_MASK = (1 << 16) - 1


class LzfError(ValueError):
    """An LZF stream that does not decompress to the announced length."""


def decompress(data: bytes | memoryview, expected_len: int) -> bytes:
    """The ``expected_len`` bytes that ``data`` (a whole LZF stream) stands for."""
    out = bytearray()
    size = 0  # len(out), kept in a local: this loop runs per chunk of every value
    pos = 0
    end = len(data)
    while pos < end:
        ctrl = data[pos]
        pos += 1
        if ctrl < 32:
            stop = pos + ctrl + 1
            size += ctrl + 1
            if stop > end or size > expected_len:
                raise LzfError("literal run past the end of the input or the output")
            out += data[pos:stop]
            pos = stop
            continue
        length = (ctrl >> 5) + 2
        if length == 9:
            if pos >= end:
                raise LzfError("truncated back reference")
            length += data[pos]
            pos += 1
        if pos >= end:
            raise LzfError("truncated back reference")
        back = ((ctrl & 0x1F) << 8) + data[pos] + 1
        pos += 1
        start = size - back
        size += length
        if start < 0 or size > expected_len:
            raise LzfError("back reference outside the output")
        if back >= length:
            out += out[start:start + length]
        else:
            # An overlapping copy repeats the last ``back`` bytes.
            whole, rest = divmod(length, back)
            pattern = out[start:]
            out += pattern * whole + pattern[:rest]
    if size != expected_len:
        raise LzfError("output shorter than announced")
    return bytes(out)


def compress(data: bytes, max_len: int | None = None) -> bytes | None:
    """``data`` compressed, or None when that would take more than ``max_len`` bytes.

    Redis asks for at most ``len(data) - 4`` bytes and stores the string plain
    otherwise; pass that as ``max_len`` to make the same decision.
    """
    in_len = len(data)
    out_end = in_len + in_len // 16 + 64 if max_len is None else max_len
    if in_len == 0 or out_end <= 0:
        return None
    if in_len < 3:
        return bytes((in_len - 1,)) + data if in_len + 1 <= out_end else None
    table: dict[int, int] = {}
    get = table.get
    parts: list[bytes] = []
    # liblzf's output pointer is op = done + 1 + (ip - lit_start): the finished
    # chunks, the control byte reserved for the current literal run, its bytes.
    done = 0
    lit_start = 0
    ip = 0
    stop = in_len - 2
    # liblzf's hash of the 3 bytes at ip only depends on those bytes: the
    # 16-bit words at ip and ip + 1.
    word = (data[0] << 8) | data[1]
    while ip < stop:
        nxt = ((word << 8) | data[ip + 2]) & 0xFFFF
        slot = (word - nxt * 5) & 0xFFFF
        word = nxt
        ref = get(slot, -1)
        table[slot] = ip
        if (
            ref > 0
            and ip - ref <= _MAX_OFF
            and data[ref + 2] == data[ip + 2]
            and data[ref] == data[ip]
            and data[ref + 1] == data[ip + 1]
        ):
            lit = ip - lit_start
            op = done + 1 + lit
            if op + 4 >= out_end and op - (lit == 0) + 4 >= out_end:
                return None
            maxlen = in_len - ip - 2
            if maxlen > _MAX_REF:
                maxlen = _MAX_REF
            # liblzf checks bytes 3..18 unrolled when more than 16 may match.
            cap = maxlen if maxlen > 19 else (19 if maxlen > 16 else (maxlen if maxlen > 3 else 3))
            if data[ref:ref + cap] == data[ip:ip + cap]:
                n = cap
            else:
                n = 3
                while n < cap and data[ref + n] == data[ip + n]:
                    n += 1
            if lit:
                parts.append(bytes((lit - 1,)))
                parts.append(data[lit_start:ip])
                done += 1 + lit
            off = ip - ref - 1
            if n < 9:
                parts.append(bytes(((off >> 8) + ((n - 2) << 5), off & 0xFF)))
                done += 2
            else:
                parts.append(bytes(((off >> 8) + 0xE0, n - 9, off & 0xFF)))
                done += 3
            ip += n
            lit_start = ip
            if ip >= stop:
                break
            # "very fast" mode hashes the two positions before the next one
            word = (data[ip - 2] << 8) | data[ip - 1]
            nxt = ((word << 8) | data[ip]) & 0xFFFF
            table[(word - nxt * 5) & 0xFFFF] = ip - 2
            word = nxt
            nxt = ((word << 8) | data[ip + 1]) & 0xFFFF
            table[(word - nxt * 5) & 0xFFFF] = ip - 1
            word = nxt
        else:
            if done + 1 + ip - lit_start >= out_end:
                return None
            ip += 1
            if ip - lit_start == _MAX_LIT:
                parts.append(b"\x1f")
                parts.append(data[lit_start:ip])
                done += 1 + _MAX_LIT
                lit_start = ip
    if done + 1 + ip - lit_start + 3 > out_end:
        return None
    while in_len - lit_start >= _MAX_LIT:
        parts.append(b"\x1f")
        parts.append(data[lit_start:lit_start + _MAX_LIT])
        done += 1 + _MAX_LIT
        lit_start += _MAX_LIT
    if lit_start < in_len:
        parts.append(bytes((in_len - lit_start - 1,)))
        parts.append(data[lit_start:])
        done += 1 + in_len - lit_start
    if done > out_end:
        return None
    return b"".join(parts)
