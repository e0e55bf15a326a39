"""Feeding request streams to a parser: in chunks, cut at offsets, damaged.

Shared by the parser tests and the parser fuzzing tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from hypothesis import strategies as st

#: The bytes damage puts in: RESP's punctuation and digits, quotes, escapes, a space.
DAMAGE_BYTES = b"*$\r\n-0123456789 x\"'\\"


def feed_chunks(parser: Any, chunks: Iterable[bytes]) -> tuple[list[list[bytes]], str | None]:
    """Feed each chunk; return every command and the first error."""
    commands: list[list[bytes]] = []
    for chunk in chunks:
        got, error = parser.feed(chunk)
        commands.extend(got)
        if error is not None:
            return commands, error
    return commands, None


def split_at(data: bytes, offsets: Iterable[int]) -> list[bytes]:
    """``data`` cut at each offset (repeats and the ends give no empty chunk)."""
    cuts = sorted(set(offsets))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True) if a != b]


def damage(stream: bytes, draw: Callable[[st.SearchStrategy[Any]], Any],
           least: int = 1, most: int = 3) -> bytes:
    """``stream`` with ``least`` to ``most`` bytes flipped, inserted or dropped.

    ``draw`` is hypothesis's (a composite strategy's argument, or ``data.draw``).
    """
    out = bytearray(stream)
    for _ in range(draw(st.integers(least, most))):
        if not out:
            break
        index = draw(st.integers(0, len(out) - 1))
        action = draw(st.sampled_from(["flip", "insert", "drop"]))
        byte = draw(st.sampled_from(DAMAGE_BYTES))
        if action == "flip":
            out[index] = byte
        elif action == "insert":
            out.insert(index, byte)
        else:
            del out[index]
    return bytes(out)
