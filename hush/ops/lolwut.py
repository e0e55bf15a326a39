# -*- test-case-name: tests.commands.test_server -*-
"""LOLWUT's computer art, as Redis 7.0 draws it.

Redis 7.0's own LOLWUT prints only its version; ``LOLWUT VERSION 5`` draws
Georg Nees's *Schotter* in Braille characters and ``VERSION 6`` a city
skyline in terminal colours, both with random displacements (so no two
drawings are the same, in Redis as here).
"""

from __future__ import annotations

import math
import random

from hush import REDIS_VERSION

_RAND_MAX = 2**31 - 1
_rng = random.Random()


def _rand() -> int:
    """C's rand(): a number in 0 .. RAND_MAX."""
    return _rng.getrandbits(31)


def _c_round(value: float) -> int:
    """C's round(): halves away from zero."""
    return int(math.floor(value + 0.5)) if value >= 0 else -int(math.floor(-value + 0.5))


class Canvas:
    """A grid of small integer pixels."""

    def __init__(self, width: int, height: int, background: int) -> None:
        self.width = width
        self.height = height
        self.pixels = bytearray([background]) * (width * height)

    def draw(self, x: int, y: int, color: int) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            self.pixels[x + y * self.width] = color

    def get(self, x: int, y: int) -> int:
        if 0 <= x < self.width and 0 <= y < self.height:
            return self.pixels[x + y * self.width]
        return 0

    def line(self, x1: int, y1: int, x2: int, y2: int, color: int) -> None:
        """Bresenham's line, as lwDrawLine."""
        dx, dy = abs(x2 - x1), abs(y2 - y1)
        sx = 1 if x1 < x2 else -1
        sy = 1 if y1 < y2 else -1
        err = dx - dy
        while True:
            self.draw(x1, y1, color)
            if x1 == x2 and y1 == y2:
                return
            e2 = err * 2
            if e2 > -dy:
                err -= dy
                x1 += sx
            if e2 < dx:
                err += dx
                y1 += sy

    def square(self, x: int, y: int, size: float, angle: float, color: int) -> None:
        """A square of side ``size`` centred on (x, y), turned by ``angle`` radians."""
        size = _c_round(size / 1.4142135623)
        k = math.pi / 4 + angle
        points = []
        for _ in range(4):
            points.append((_c_round(math.sin(k) * size + x), _c_round(math.cos(k) * size + y)))
            k += math.pi / 2
        for index in range(4):
            (x1, y1), (x2, y2) = points[index], points[(index + 1) % 4]
            self.line(x1, y1, x2, y2, color)


def schotter(columns: int, per_row: int, per_column: int) -> bytes:
    """LOLWUT VERSION 5: Schotter in Braille, ``columns`` characters wide."""
    width = columns * 2
    padding = 2 if width > 4 else 0
    side = (width - padding * 2) / per_row
    canvas = Canvas(width, int(side * per_column + padding * 2), 0)
    for y in range(per_column):
        for x in range(per_row):
            sx = int(x * side + side / 2 + padding)
            sy = int(y * side + side / 2 + padding)
            angle = 0.0
            if y > 1:
                r1, r2, r3 = (_rand() / _RAND_MAX / per_column * y for _ in range(3))
                if _rand() % 2:
                    r1 = -r1
                if _rand() % 2:
                    r2 = -r2
                if _rand() % 2:
                    r3 = -r3
                angle = r1
                sx = int(sx + r2 * side / 3)
                sy = int(sy + r3 * side / 3)
            canvas.square(sx, sy, side, angle, 1)
    out = []
    for y in range(0, canvas.height, 4):
        for x in range(0, canvas.width, 2):
            byte = 0
            for bit, (dx, dy) in enumerate(((0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2),
                                            (0, 3), (1, 3))):
                if canvas.get(x + dx, y + dy):
                    byte |= 1 << bit
            out.append(chr(0x2800 + byte))
        if y != canvas.height - 1:
            out.append("\n")
    return ("".join(out) + "\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. "
            + REDIS_VERSION + "\n").encode()


_COLORS = {0: "0;30;40m", 1: "0;90;100m", 2: "0;37;47m", 3: "0;97;107m"}


def _skyscraper(canvas: Canvas, xoff: int, width: int, height: int, windows: bool,
                color: int) -> None:
    start = canvas.height - 1
    end = start - height + 1
    for y in range(start, end - 1, -1):
        for x in range(xoff, xoff + width):
            if y == end and (x <= xoff + 1 or x >= xoff + width - 2):
                continue  # the roof is narrower
            pixel = color
            if windows and xoff + 1 < x < xoff + width - 2 and end + 1 < y < start - 1:
                relx, rely = x - (xoff + 1), y - (end + 1)
                if (relx // 2) % 2 and rely % 2:
                    pixel = color
                    while pixel == color:
                        pixel = 1 + _rand() % 2
                    if relx % 2:
                        pixel = canvas.get(x - 1, y)
            canvas.draw(x, y, pixel)


def skyline(columns: int, rows: int) -> bytes:
    """LOLWUT VERSION 6: a city skyline in terminal colours."""
    canvas = Canvas(columns, rows, 3)
    for color in (2, 1):
        offset = -10
        while offset < canvas.width:
            offset += _rand() % 8
            width = 10 + _rand() % 9
            if color == 2:
                height = canvas.height // 2 + (_rand() % canvas.height) // 2
            else:
                height = canvas.height // 2 + (_rand() % canvas.height) // 3
            _skyscraper(canvas, offset, width, height, False, color)
            offset += width // 2 if color == 2 else width + 1
    offset = -10
    while offset < canvas.width:
        offset += _rand() % 8
        width = 5 + _rand() % 14
        if width % 4:
            width += width % 3
        height = canvas.height // 3 + (_rand() % canvas.height) // 2
        _skyscraper(canvas, offset, width, height, True, 0)
        offset += width + 5
    lines = []
    for y in range(canvas.height):
        lines.append("".join(f"\033[{_COLORS.get(canvas.get(x, y), _COLORS[0])} \033[0m"
                             for x in range(canvas.width)))
    return ("\n".join(lines) + "\nDedicated to the 8 bit game developers of past and present.\n"
            "Original 8 bit image from Plaguemon by hikikomori. Redis ver. "
            + REDIS_VERSION + "\n").encode()


def version_only() -> bytes:
    """LOLWUT of Redis 7.0: its version."""
    return ("Redis ver. " + REDIS_VERSION + "\n").encode()


def chooses(version: int) -> str:
    """Which drawing ``LOLWUT VERSION version`` makes: "5", "6" or "" (the version line)."""
    text = "%d.0.0" % (version & 0xFFFFFFFF)
    if (text[0] == "5" and text[1] == "." and text[2] != "9") or text.startswith("4.9"):
        return "5"
    if (text[0] == "6" and text[1] == "." and text[2] != "9") or text.startswith("5.9"):
        return "6"
    return ""


def clamp(value: int, low: int, high: int) -> int:
    """LOLWUT's limits on its sizes."""
    return max(low, min(high, value))
