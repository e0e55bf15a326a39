"""Redis's geohash (geohash.c, geohash_helper.c and geo.c of Redis 7.0).

A geo set is a sorted set whose scores are 52-bit geohashes: longitude and
latitude each cut into 26 bits (latitude over Web Mercator's
-85.05112878..85.05112878, not -90..90), interleaved, latitude in the even
bits. Everything here repeats Redis's double arithmetic in the same order,
so scores, positions, distances and search results come out identical; the
C library's sin/cos/asin/sqrt are the ones Python's math module calls.

What the command handlers call:

- :func:`check_lonlat` ``(lon, lat)`` after parsing the two doubles (GEOADD,
  GEORADIUS, GEOSEARCH FROMLONLAT): Redis's "invalid longitude,latitude
  pair" error; :func:`encode_score` ``(lon, lat)`` -> the score GEOADD gives
  to ZADD (an int below 2**54, exact as a double).
- :func:`decode_score` ``(score)`` -> ``(lon, lat)`` of the cell centre
  (GEOPOS, GEOSEARCH FROMMEMBER, GEORADIUSBYMEMBER), :func:`geohash_string`
  ``(score)`` -> the 11-character GEOHASH, :func:`distance` in meters and
  :func:`unit_factor` ``(b"km")`` -> meters per unit (GEODIST divides by it).
- :func:`format_distance` (WITHDIST, GEODIST: ``%.4f`` as Redis rounds it) and
  :func:`format_coordinate` (GEOPOS, WITHCOORD): the reply text, the same
  in RESP2 (a bulk string) and RESP3 (a double, ``,<text>``).
- :func:`search` ``(shape, range_query, count=, any_=, order=)`` -> the
  :class:`Match` list GEOSEARCH/GEORADIUS reply or store, in Redis's order.
  ``range_query(min, max)`` is the sorted set's score range query: it
  yields ``(member, score)`` with ``min <= score < max`` in sorted-set order
  (score, then member bytes); it is iterated lazily, so COUNT ANY stops
  reading the set as early as Redis does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hush.core.errors import CommandError

LONG_MIN = -180.0
LONG_MAX = 180.0
LAT_MIN = -85.05112878
LAT_MAX = 85.05112878
#: Bits per coordinate in a geo set's scores (26 * 2 = 52 bits).
STEP_MAX = 26
EARTH_RADIUS_IN_METERS = 6372797.560856
MERCATOR_MAX = 20037726.37

#: Meters per unit, as geo.c's extractUnitOrReply.
UNITS = {b"m": 1.0, b"km": 1000.0, b"ft": 0.3048, b"mi": 1609.34}
UNSUPPORTED_UNIT = "ERR unsupported unit provided. please use M, KM, FT, MI"

_D_R = math.pi / 180.0
_MASK64 = (1 << 64) - 1
_EVEN = 0x5555555555555555
_ODD = 0xAAAAAAAAAAAAAAAA
_BASE32 = b"0123456789bcdefghjkmnpqrstuvwxyz"


# -- coordinates and scores ---------------------------------------------------------

def unit_factor(unit: bytes) -> float:
    """Meters per ``unit`` (m, km, ft, mi, any case) or Redis's error."""
    factor = UNITS.get(unit.lower())
    if factor is None:
        raise CommandError(UNSUPPORTED_UNIT)
    return factor


def check_lonlat(lon: float, lat: float) -> None:
    """Raise Redis's error unless the pair can be indexed."""
    if lon < LONG_MIN or lon > LONG_MAX or lat < LAT_MIN or lat > LAT_MAX:
        raise CommandError("ERR invalid longitude,latitude pair %f,%f" % (lon, lat))


def _spread(v: int) -> int:
    """The low 32 bits of ``v`` moved to the even bit positions."""
    v = (v | (v << 16)) & 0x0000FFFF0000FFFF
    v = (v | (v << 8)) & 0x00FF00FF00FF00FF
    v = (v | (v << 4)) & 0x0F0F0F0F0F0F0F0F
    v = (v | (v << 2)) & 0x3333333333333333
    return (v | (v << 1)) & _EVEN


def _squeeze(v: int) -> int:
    """The even bits of ``v`` packed into the low 32 bits."""
    v &= _EVEN
    v = (v | (v >> 1)) & 0x3333333333333333
    v = (v | (v >> 2)) & 0x0F0F0F0F0F0F0F0F
    v = (v | (v >> 4)) & 0x00FF00FF00FF00FF
    v = (v | (v >> 8)) & 0x0000FFFF0000FFFF
    return (v | (v >> 16)) & 0x00000000FFFFFFFF


def encode(lon: float, lat: float, step: int = STEP_MAX,
           lon_range: tuple[float, float] = (LONG_MIN, LONG_MAX),
           lat_range: tuple[float, float] = (LAT_MIN, LAT_MAX)) -> int | None:
    """geohashEncode: the interleaved ``2 * step`` bits, or None out of range."""
    if lon > LONG_MAX or lon < LONG_MIN or lat > LAT_MAX or lat < LAT_MIN:
        return None
    if lat < lat_range[0] or lat > lat_range[1] or lon < lon_range[0] or lon > lon_range[1]:
        return None
    lat_offset = (lat - lat_range[0]) / (lat_range[1] - lat_range[0]) * float(1 << step)
    lon_offset = (lon - lon_range[0]) / (lon_range[1] - lon_range[0]) * float(1 << step)
    return _spread(int(lat_offset)) | (_spread(int(lon_offset)) << 1)


def encode_score(lon: float, lat: float) -> int:
    """The sorted-set score of a point (call :func:`check_lonlat` first)."""
    bits = encode(lon, lat)
    if bits is None:
        raise ValueError("coordinates out of range: %r, %r" % (lon, lat))
    return bits


@dataclass(frozen=True)
class Area:
    """A geohash cell: its bits and step, and the box it covers."""

    bits: int
    step: int
    lon_min: float
    lon_max: float
    lat_min: float
    lat_max: float


def decode(bits: int, step: int, lon_range: tuple[float, float] = (LONG_MIN, LONG_MAX),
           lat_range: tuple[float, float] = (LAT_MIN, LAT_MAX)) -> Area:
    """geohashDecode: the box of a cell."""
    lat_cells = _squeeze(bits)
    lon_cells = _squeeze(bits >> 1)
    lat_scale = lat_range[1] - lat_range[0]
    lon_scale = lon_range[1] - lon_range[0]
    size = float(1 << step)
    return Area(
        bits, step,
        lon_range[0] + (lon_cells * 1.0 / size) * lon_scale,
        lon_range[0] + ((lon_cells + 1) * 1.0 / size) * lon_scale,
        lat_range[0] + (lat_cells * 1.0 / size) * lat_scale,
        lat_range[0] + ((lat_cells + 1) * 1.0 / size) * lat_scale,
    )


def _score_bits(score: float) -> int:
    """``(uint64_t)score`` as x86-64 code compiled by gcc computes it.

    Scores of a geo set are 52-bit integers, but any sorted set can be
    asked: out-of-range doubles take the CPU's "integer indefinite" value.
    """
    if score != score:
        return 1 << 63
    if score >= 2.0**63:
        rest = score - 2.0**63
        return (int(rest) | (1 << 63)) if rest < 2.0**63 else 0
    if score < -(2.0**63):
        return 1 << 63
    return int(score) & _MASK64


def score_as_integer(score: float) -> int:
    """``(long long)score`` on x86-64: the WITHHASH reply of a member."""
    if score != score or not -(2.0**63) <= score < 2.0**63:
        return -(1 << 63)
    return int(score)


def decode_score(score: float) -> tuple[float, float]:
    """The (longitude, latitude) GEOPOS shows for a score: the cell centre."""
    area = decode(_score_bits(score), STEP_MAX)
    lon = min(max((area.lon_min + area.lon_max) / 2, LONG_MIN), LONG_MAX)
    lat = min(max((area.lat_min + area.lat_max) / 2, LAT_MIN), LAT_MAX)
    return lon, lat


def geohash_string(score: float) -> bytes:
    """GEOHASH: the standard 11-character geohash (latitude over -90..90)."""
    lon, lat = decode_score(score)
    bits = encode(lon, lat, STEP_MAX, (-180.0, 180.0), (-90.0, 90.0))
    assert bits is not None  # a decoded position is always in range
    chars = [_BASE32[(bits >> (52 - (i + 1) * 5)) & 0x1F] for i in range(10)]
    # 52 bits make ten characters and two bits; Redis pads with a '0'.
    return bytes(chars) + b"0"


# -- distances ----------------------------------------------------------------------

def lat_distance(lat1: float, lat2: float) -> float:
    """Meters between two latitudes on one meridian."""
    return EARTH_RADIUS_IN_METERS * abs(lat2 * _D_R - lat1 * _D_R)


def distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Haversine distance in meters, as geohashGetDistance computes it."""
    lon1r = lon1 * _D_R
    lon2r = lon2 * _D_R
    v = math.sin((lon2r - lon1r) / 2)
    if v == 0.0:
        return lat_distance(lat1, lat2)
    lat1r = lat1 * _D_R
    lat2r = lat2 * _D_R
    u = math.sin((lat2r - lat1r) / 2)
    a = u * u + math.cos(lat1r) * math.cos(lat2r) * v * v
    return 2.0 * EARTH_RADIUS_IN_METERS * math.asin(math.sqrt(a))


def format_distance(value: float) -> bytes:
    """A distance as Redis prints it: four decimals (fixedpoint_d2string)."""
    if value == 0:
        return b"0.0000"
    # llrint: round half to even, as Python's round() of a float.
    scaled = round(value * 10000.0)
    digits = b"%05d" % abs(scaled)
    return (b"-" if scaled < 0 else b"") + digits[:-4] + b"." + digits[-4:]


def format_coordinate(value: float) -> bytes:
    """A coordinate as addReplyHumanLongDouble prints it (``%.17Lf``, trimmed)."""
    if math.isinf(value):
        return b"inf" if value > 0 else b"-inf"
    text = b"%.17f" % value
    if b"." in text:
        text = text.rstrip(b"0").rstrip(b".")
    return b"0" if text == b"-0" else text


# -- search areas -------------------------------------------------------------------

@dataclass(frozen=True)
class Shape:
    """A GEOSEARCH/GEORADIUS area around a centre.

    ``radius`` (BYRADIUS) or ``width`` and ``height`` (BYBOX) are in the
    unit whose size in meters is ``conversion``.
    """

    lon: float
    lat: float
    conversion: float = 1.0
    radius: float | None = None
    width: float = 0.0
    height: float = 0.0

    @property
    def is_box(self) -> bool:
        return self.radius is None

    def bounds(self) -> tuple[float, float, float, float]:
        """geohashBoundingBox: (min lon, min lat, max lon, max lat)."""
        height = self.conversion * (self.height / 2 if self.is_box else self.radius)
        width = self.conversion * (self.width / 2 if self.is_box else self.radius)
        lat_delta = height / EARTH_RADIUS_IN_METERS / _D_R
        lon_delta_top = width / EARTH_RADIUS_IN_METERS / math.cos((self.lat + lat_delta) * _D_R) / _D_R
        lon_delta_bottom = width / EARTH_RADIUS_IN_METERS / math.cos((self.lat - lat_delta) * _D_R) / _D_R
        # Meridians converge towards the pole: the wider edge is the one
        # nearer the equator.
        lon_delta = lon_delta_bottom if self.lat < 0 else lon_delta_top
        return self.lon - lon_delta, self.lat - lat_delta, self.lon + lon_delta, self.lat + lat_delta

    def radius_meters(self) -> float:
        if self.is_box:
            half_w, half_h = self.width / 2, self.height / 2
            return math.sqrt(half_w * half_w + half_h * half_h) * self.conversion
        return self.radius * self.conversion

    def contains(self, lon: float, lat: float) -> float | None:
        """The distance in meters from the centre when the point is inside."""
        if not self.is_box:
            dist = distance(self.lon, self.lat, lon, lat)
            return None if dist > self.radius * self.conversion else dist
        if lat_distance(lat, self.lat) > self.height * self.conversion / 2:
            return None
        if distance(lon, lat, self.lon, lat) > self.width * self.conversion / 2:
            return None
        return distance(self.lon, self.lat, lon, lat)


def estimate_step(radius_meters: float, lat: float) -> int:
    """geohashEstimateStepsByRadius: cell size for a search radius."""
    if radius_meters == 0:
        return 26
    step = 1
    while radius_meters < MERCATOR_MAX:
        radius_meters *= 2
        step += 1
    step -= 2
    if lat > 66 or lat < -66:
        step -= 1
        if lat > 80 or lat < -80:
            step -= 1
    return min(max(step, 1), 26)


def _move(bits: int, step: int, dx: int, dy: int) -> int:
    """geohash_move_x/_y: the neighbouring cell (wrapping around)."""
    width = 64 - step * 2
    if dx:
        x = bits & _ODD
        y = bits & _EVEN
        zz = _EVEN >> width
        x = (x + (zz + 1)) if dx > 0 else ((x | zz) - (zz + 1))
        bits = ((x & _MASK64) & (_ODD >> width)) | y
    if dy:
        x = bits & _ODD
        y = bits & _EVEN
        zz = _ODD >> width
        y = (y + (zz + 1)) if dy > 0 else ((y | zz) - (zz + 1))
        bits = x | ((y & _MASK64) & (_EVEN >> width))
    return bits


#: The nine cells of a search, in Redis's order: centre, N, S, E, W, NE, NW, SE, SW.
_DIRECTIONS = ((0, 0), (0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1))


def search_cells(shape: Shape) -> list[tuple[int, int] | None]:
    """geohashCalculateAreasByShapeWGS84: the nine (bits, step) cells to
    scan, None for those the bounding box proves useless."""
    min_lon, min_lat, max_lon, max_lat = shape.bounds()
    step = estimate_step(shape.radius_meters(), shape.lat)
    bits = encode(shape.lon, shape.lat, step)
    assert bits is not None  # the centre was validated by the caller
    north = decode(_move(bits, step, 0, 1), step)
    south = decode(_move(bits, step, 0, -1), step)
    east = decode(_move(bits, step, 1, 0), step)
    west = decode(_move(bits, step, -1, 0), step)
    # Near a cell's edge the estimated step can leave part of the area
    # outside the nine cells: then one step coarser.
    if step > 1 and (north.lat_max < max_lat or south.lat_min > min_lat
                     or east.lon_max < max_lon or west.lon_min > min_lon):
        step -= 1
        bits = encode(shape.lon, shape.lat, step)
        assert bits is not None
    area = decode(bits, step)
    cells: list[tuple[int, int] | None] = [(_move(bits, step, dx, dy), step)
                                           for dx, dy in _DIRECTIONS]
    if step >= 2:
        useless = set()
        if area.lat_min < min_lat:
            useless |= {(0, -1), (-1, -1), (1, -1)}
        if area.lat_max > max_lat:
            useless |= {(0, 1), (1, 1), (-1, 1)}
        if area.lon_min < min_lon:
            useless |= {(-1, 0), (-1, -1), (-1, 1)}
        if area.lon_max > max_lon:
            useless |= {(1, 0), (1, -1), (1, 1)}
        cells = [None if direction in useless else cell
                 for direction, cell in zip(_DIRECTIONS, cells, strict=True)]
    return cells


def cell_score_range(bits: int, step: int) -> tuple[int, int]:
    """The scores [min, max) of the members inside a cell."""
    shift = 52 - step * 2
    return bits << shift, (bits + 1) << shift


# -- search -------------------------------------------------------------------------

@dataclass
class Match:
    """A member found by a search; ``distance`` is in the shape's unit."""

    member: bytes
    score: float
    longitude: float
    latitude: float
    distance: float


RangeQuery = Callable[[float, float], Iterable[tuple[bytes, float]]]


def search(shape: Shape, range_query: RangeQuery, count: int = 0, any_: bool = False,
           order: str | None = None) -> list[Match]:
    """The members GEOSEARCH/GEORADIUS return, in the order Redis returns them.

    ``count`` 0 means no COUNT; ``order`` is None, ``"ASC"`` or ``"DESC"``
    (COUNT without ANY and without an order sorts ascending, as Redis does).
    """
    limit = count if any_ else 0
    found: list[tuple[Match, float]] = []  # with the distance in meters
    cells = search_cells(shape)
    last = 0
    for i, cell in enumerate(cells):
        if cell is None:
            continue
        # Huge radii make neighbours repeat: skip one equal to the last cell
        # scanned (Redis's check, which never looks at the centre's).
        if last and cell == cells[last]:
            continue
        if found and limit and len(found) >= limit:
            break
        low, high = cell_score_range(*cell)
        for member, score in range_query(float(low), float(high)):
            lon, lat = decode_score(score)
            dist = shape.contains(lon, lat)
            if dist is not None:
                found.append((Match(member, score, lon, lat, 0.0), dist))
            if found and limit and len(found) >= limit:
                break
        last = i
    if count and order is None and not any_:
        order = "ASC"
    returned = min(count, len(found)) if count else len(found)
    if order is not None:
        descending = order.upper() == "DESC"
        if returned == len(found):
            # glibc's qsort is a merge sort: ties keep their order.
            found.sort(key=lambda pair: pair[1], reverse=descending)
        else:
            partial_sort(found, lambda a, b: _compare(a[1], b[1], descending), 0, returned - 1)
    out = []
    for match, dist in found[:returned]:
        match.distance = dist / shape.conversion
        out.append(match)
    return out


def _compare(a: float, b: float, descending: bool) -> int:
    result = 1 if a > b else (0 if a == b else -1)
    return -result if descending else result


def partial_sort(items: list, cmp: Callable[[object, object], int], lrange: int, rrange: int) -> None:
    """Redis's pqsort: sort so that positions lrange..rrange hold the right
    items, in place, with the same swaps (hence the same order of ties) as
    its Bentley-McIlroy quicksort."""
    _pqsort(items, 0, len(items), cmp, lrange, rrange)


def _med3(items: list, a: int, b: int, c: int, cmp) -> int:
    if cmp(items[a], items[b]) < 0:
        if cmp(items[b], items[c]) < 0:
            return b
        return c if cmp(items[a], items[c]) < 0 else a
    if cmp(items[b], items[c]) > 0:
        return b
    return a if cmp(items[a], items[c]) < 0 else c


def _swap(items: list, i: int, j: int) -> None:
    items[i], items[j] = items[j], items[i]


def _vecswap(items: list, i: int, j: int, n: int) -> None:
    for k in range(n):
        _swap(items, i + k, j + k)


def _pqsort(items: list, a: int, n: int, cmp, lrange: int, rrange: int) -> None:
    while True:
        if n < 7:
            for m in range(a + 1, a + n):
                p = m
                while p > a and cmp(items[p - 1], items[p]) > 0:
                    _swap(items, p, p - 1)
                    p -= 1
            return
        pm = a + n // 2
        if n > 7:
            pl = a
            pn = a + n - 1
            if n > 40:
                d = n // 8
                pl = _med3(items, pl, pl + d, pl + 2 * d, cmp)
                pm = _med3(items, pm - d, pm, pm + d, cmp)
                pn = _med3(items, pn - 2 * d, pn - d, pn, cmp)
            pm = _med3(items, pl, pm, pn, cmp)
        _swap(items, a, pm)
        pa = pb = a + 1
        pc = pd = a + n - 1
        while True:
            while pb <= pc:
                result = cmp(items[pb], items[a])
                if result > 0:
                    break
                if result == 0:
                    _swap(items, pa, pb)
                    pa += 1
                pb += 1
            while pb <= pc:
                result = cmp(items[pc], items[a])
                if result < 0:
                    break
                if result == 0:
                    _swap(items, pc, pd)
                    pd -= 1
                pc -= 1
            if pb > pc:
                break
            _swap(items, pb, pc)
            pb += 1
            pc -= 1
        pn = a + n
        r = min(pa - a, pb - pa)
        _vecswap(items, a, pb - r, r)
        r = min(pd - pc, pn - pd - 1)
        _vecswap(items, pb, pn - r, r)
        r = pb - pa
        if r > 1 and _overlaps(a, r, lrange, rrange):
            _pqsort(items, a, r, cmp, lrange, rrange)
        r = pd - pc
        if r <= 1:
            return
        a, n = pn - r, r
        if not _overlaps(a, n, lrange, rrange):
            return


def _overlaps(start: int, n: int, lrange: int, rrange: int) -> bool:
    """Whether items start..start+n-1 meet the range pqsort must sort."""
    end = start + n - 1
    return not ((lrange < start and rrange < start) or (lrange > end and rrange > end))
