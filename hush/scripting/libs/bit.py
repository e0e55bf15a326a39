# -*- test-case-name: tests.commands.test_scripting -*-
"""Lua BitOp 1.0 (Redis's ``bit`` library): 32-bit operations on Lua numbers."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from hush.scripting.libs.args import check_number

_MASK32 = 0xFFFFFFFF


def _tobit(args: tuple[Any, ...], index: int) -> int:
    # Lua BitOp's normalisation: add 2^52 + 2^51 and keep the double's low
    # 32 bits (round to nearest, then modulo 2^32).
    number = float(check_number(args, index)) + 6755399441055744.0
    return struct.unpack("<Q", struct.pack("<d", number))[0] & _MASK32


def _signed(bits: int) -> int:
    bits &= _MASK32
    return bits - 0x100000000 if bits & 0x80000000 else bits


def _bit_fold(operation: Callable[[int, int], int]) -> Callable[..., int]:
    def fold(*args: Any) -> int:
        result = _tobit(args, 0)
        for index in range(1, len(args)):
            result = operation(result, _tobit(args, index))
        return _signed(result)

    return fold


def _bit_shift(operation: Callable[[int, int], int]) -> Callable[..., int]:
    def shift(*args: Any) -> int:
        value = _tobit(args, 0)
        count = _tobit(args, 1) & 31
        return _signed(operation(value, count))

    return shift


def _tohex(*args: Any) -> bytes:
    value = _tobit(args, 0)
    digits = _signed(_tobit(args, 1)) if len(args) > 1 else 8
    alphabet = "0123456789abcdef"
    if digits < 0:
        digits = -digits
        alphabet = alphabet.upper()
    digits = min(digits, 8)
    out = []
    for _ in range(digits):
        out.append(alphabet[value & 15])
        value >>= 4
    return "".join(reversed(out)).encode()


def _bswap(*args: Any) -> int:
    value = _tobit(args, 0)
    return _signed(int.from_bytes(value.to_bytes(4, "little"), "big"))


#: Function name (as ``bit.<name>``) -> implementation.
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "tobit": lambda *args: _signed(_tobit(args, 0)),
    "bnot": lambda *args: _signed(~_tobit(args, 0)),
    "band": _bit_fold(lambda a, b: a & b),
    "bor": _bit_fold(lambda a, b: a | b),
    "bxor": _bit_fold(lambda a, b: a ^ b),
    "lshift": _bit_shift(lambda v, n: v << n),
    "rshift": _bit_shift(lambda v, n: v >> n),
    "arshift": _bit_shift(lambda v, n: _signed(v) >> n),
    "rol": _bit_shift(lambda v, n: (v << n) | (v >> (32 - n))),
    "ror": _bit_shift(lambda v, n: (v >> n) | (v << (32 - n))),
    "bswap": _bswap,
    "tohex": _tohex,
}
