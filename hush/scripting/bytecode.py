# -*- test-case-name: tests.commands.test_scripting -*-
"""A patch on compiled Lua 5.1 chunks: tail calls made plain calls.

In Redis ``redis.call``, ``cjson.encode`` ... are C functions, which Lua
never tail-calls, so ``return redis.call(...)`` keeps the script's frame for
error positions. Hush's are Lua functions: :func:`untail` turns the script's
tail calls into plain calls (same results, frame kept).
"""

from __future__ import annotations

_OP_CALL = 28
_OP_TAILCALL = 29


def untail(chunk: bytes) -> bytes:
    """Lua 5.1 bytecode with every OP_TAILCALL turned into OP_CALL.

    The compiler emits a tail call as CALL (C = multiple results) followed by
    RETURN (B = up to top) and then renames the CALL; renaming it back gives
    exactly the code of an ordinary call whose results are returned.
    """
    if chunk[:5] != b"\x1bLua\x51" or len(chunk) < 12:
        return chunk
    little = chunk[6] == 1
    int_size, size_t_size, instruction_size, number_size = chunk[7], chunk[8], chunk[9], chunk[10]
    if instruction_size != 4:
        return chunk
    order = "little" if little else "big"
    out = bytearray(chunk)
    pos = 12

    def read_int(size: int) -> int:
        nonlocal pos
        value = int.from_bytes(chunk[pos:pos + size], order, signed=False)
        pos += size
        return value

    def skip_string() -> None:
        nonlocal pos
        length = read_int(size_t_size)
        pos += length

    def function() -> None:
        nonlocal pos
        skip_string()
        pos += 2 * int_size + 4
        for _ in range(read_int(int_size)):
            instruction = int.from_bytes(chunk[pos:pos + 4], order)
            if instruction & 0x3F == _OP_TAILCALL:
                patched = (instruction & ~0x3F) | _OP_CALL
                out[pos:pos + 4] = patched.to_bytes(4, order)
            pos += 4
        for _ in range(read_int(int_size)):
            kind = chunk[pos]
            pos += 1
            if kind == 1:
                pos += 1
            elif kind == 3:
                pos += number_size
            elif kind == 4:
                skip_string()
        for _ in range(read_int(int_size)):
            function()
        lines = read_int(int_size)
        pos += lines * int_size
        for _ in range(read_int(int_size)):
            skip_string()
            pos += 2 * int_size
        for _ in range(read_int(int_size)):
            skip_string()

    function()
    return bytes(out)
