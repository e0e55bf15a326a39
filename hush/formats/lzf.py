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
    out_len = in_len + in_len // 16 + 64 if max_len is None else max_len
    if in_len == 0 or out_len <= 0:
        return None
    if in_len < 3:
        out = bytes([in_len - 1]) + data
        return out if len(out) <= out_len else None
    table: dict[int, int] = {}
    out = bytearray(b"\0")  # the first literal run's control byte, filled in later
    run_start = 0  # where the control byte of the current literal run sits
    lit = 0
    ip = 0
    hval = (data[0] << 8) | data[1]
    stop = in_len - 2
    while ip < stop:
        hval = ((hval << 8) | data[ip + 2]) & 0xFFFFFFFF
        slot = ((hval >> 8) - hval * 5) & _HSIZE_MASK
        ref = table.get(slot, -1)
        table[slot] = ip
        if (
            ref > 0
            and ip - ref - 1 < _MAX_OFF
            and data[ref + 2] == data[ip + 2]
            and data[ref] == data[ip]
            and data[ref + 1] == data[ip + 1]
        ):
            maxlen = in_len - ip - 2
            if maxlen > _MAX_REF:
                maxlen = _MAX_REF
            if len(out) + 3 + 1 >= out_len and len(out) - (lit == 0) + 3 + 1 >= out_len:
                return None
            # liblzf first checks bytes 3..18 unrolled when more than 16 may match.
            cap = max(maxlen, 19 if maxlen > 16 else 3)
            n = 3
            while n < cap and data[ref + n] == data[ip + n]:
                n += 1
            # close the literal run (or drop its empty control byte)
            if lit:
                out[run_start] = lit - 1
            else:
                del out[run_start]
            off = ip - ref - 1
            code = n - 2
            if code < 7:
                out.append((off >> 8) + (code << 5))
            else:
                out.append((off >> 8) + (7 << 5))
                out.append(code - 7)
            out.append(off & 0xFF)
            lit = 0
            run_start = len(out)
            out.append(0)
            ip += n
            if ip >= stop:
                break
            # "very fast" mode hashes the two positions before the next one
            ip -= 2
            hval = (data[ip] << 8) | data[ip + 1]
            hval = ((hval << 8) | data[ip + 2]) & 0xFFFFFFFF
            table[((hval >> 8) - hval * 5) & _HSIZE_MASK] = ip
            ip += 1
            hval = ((hval << 8) | data[ip + 2]) & 0xFFFFFFFF
            table[((hval >> 8) - hval * 5) & _HSIZE_MASK] = ip
            ip += 1
        else:
            if len(out) >= out_len:
                return None
            out.append(data[ip])
            lit += 1
            ip += 1
            if lit == _MAX_LIT:
                out[run_start] = lit - 1
                lit = 0
                run_start = len(out)
                out.append(0)
    if len(out) + 3 > out_len:
        return None
    while ip < in_len:
        out.append(data[ip])
        lit += 1
        ip += 1
        if lit == _MAX_LIT:
            out[run_start] = lit - 1
            lit = 0
            run_start = len(out)
            out.append(0)
    if lit:
        out[run_start] = lit - 1
    else:
        del out[run_start]
    if len(out) > out_len:
        return None
    return bytes(out)
