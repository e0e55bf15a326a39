"""Geohash scores, positions, distances and searches (hush.formats.geohash)
against Redis 7.0's geo.c, geohash.c and geohash_helper.c.

The differential tests GEOADD random points into a real redis-server and
into a plain sorted list standing in for Hush's sorted set, then compare
ZSCORE, GEOPOS, GEOHASH, GEODIST and random GEOSEARCH queries reply by
reply.
"""

from __future__ import annotations

import bisect
import functools
import random

import pytest

from hush.core.errors import CommandError
from hush.formats import geohash as geo
from tests.differential.harness import ParsedConnection, RawConnection

PALERMO = (13.361389, 38.115556)
CATANIA = (15.087269, 37.502669)


class SortedSet:
    """A dict-backed sorted set with the range query :func:`geo.search` takes."""

    def __init__(self) -> None:
        self.scores: dict[bytes, float] = {}
        self.order: list[tuple[float, bytes]] = []

    def add(self, member: bytes, score: float) -> None:
        if member in self.scores:
            self.order.remove((self.scores[member], member))
        self.scores[member] = score
        bisect.insort(self.order, (score, member))

    def range(self, low: float, high: float):
        i = bisect.bisect_left(self.order, (low, b""))
        while i < len(self.order) and self.order[i][0] < high:
            yield self.order[i][1], self.order[i][0]
            i += 1


def search_reply(matches: list[geo.Match], withdist: bool, withhash: bool,
                 withcoord: bool) -> list:
    """GEOSEARCH's RESP2 reply, as hiredis parses it."""
    if not (withdist or withhash or withcoord):
        return [m.member for m in matches]
    out = []
    for m in matches:
        item: list = [m.member]
        if withdist:
            item.append(geo.format_distance(m.distance))
        if withhash:
            item.append(geo.score_as_integer(m.score))
        if withcoord:
            item.append([geo.format_coordinate(m.longitude), geo.format_coordinate(m.latitude)])
        out.append(item)
    return out


def _num(x: float) -> bytes:
    return repr(x).encode()


# -- unit tests ---------------------------------------------------------------------


def test_known_point_as_redis_documents_it():
    score = geo.encode_score(*PALERMO)
    assert score == 3479099956230698
    assert geo.decode_score(score) == (13.361389338970184, 38.1155563954963)
    lon, lat = geo.decode_score(score)
    assert geo.format_coordinate(lon) == b"13.36138933897018433"
    assert geo.format_coordinate(lat) == b"38.11555639549629859"
    assert geo.geohash_string(score) == b"sqc8b49rny0"
    other = geo.encode_score(*CATANIA)
    meters = geo.distance(*geo.decode_score(score), *geo.decode_score(other))
    assert geo.format_distance(meters) == b"166274.1516"
    assert geo.format_distance(meters / geo.unit_factor(b"MI")) == b"103.3182"


@pytest.mark.parametrize("value,text", [
    (0.0, b"0.0000"), (-0.0, b"0.0000"), (1e-9, b"0.0000"), (0.00005, b"0.0000"),
    (0.00015, b"0.0001"),  # 0.00015 * 10000 is 1.4999999999999998
    (0.03125, b"0.0312"), (0.09375, b"0.0938"),  # exact ties: llrint rounds to even
    (1.23456, b"1.2346"), (12345.6789, b"12345.6789"),
    (20015086.796, b"20015086.7960"),
])
def test_format_distance(value, text):
    assert geo.format_distance(value) == text


@pytest.mark.parametrize("value,text", [
    (180.0, b"180"), (-0.0, b"0"), (0.5, b"0.5"), (-179.99999731779098511, b"-179.99999731779098511"),
    (2.0**-18, b"0.00000381469726562"),  # an exact tie at the 17th decimal: to even
])
def test_format_coordinate(value, text):
    assert geo.format_coordinate(value) == text


def test_invalid_pairs_and_units():
    geo.check_lonlat(-180.0, geo.LAT_MAX)
    with pytest.raises(CommandError) as err:
        geo.check_lonlat(181.0, 0.0)
    assert err.value.message == "ERR invalid longitude,latitude pair 181.000000,0.000000"
    with pytest.raises(CommandError) as err:
        geo.check_lonlat(0.0, float("-inf"))
    assert err.value.message == "ERR invalid longitude,latitude pair 0.000000,-inf"
    assert geo.unit_factor(b"Km") == 1000.0
    with pytest.raises(CommandError) as err:
        geo.unit_factor(b"yd")
    assert err.value.message == "ERR unsupported unit provided. please use M, KM, FT, MI"


def test_scores_outside_52_bits_decode_as_the_c_cast_does():
    assert geo._score_bits(-1.0) == 2**64 - 1
    assert geo._score_bits(float("inf")) == 0
    assert geo._score_bits(float("-inf")) == 2**63
    assert geo._score_bits(2.0**63) == 2**63
    assert geo._score_bits(2.0**64) == 0
    assert geo.decode_score(-1.0) == (180.0, geo.LAT_MAX)
    assert geo.score_as_integer(1e300) == -(2**63)


def test_neighbours_wrap_around():
    # The westmost cell's west neighbour is the eastmost one.
    west_edge = geo.encode(-180.0, 0.0, 3)
    assert west_edge is not None
    area = geo.decode(geo._move(west_edge, 3, -1, 0), 3)
    assert area.lon_max == 180.0


def test_partial_sort_puts_the_smallest_first():
    rng = random.Random(4)
    for n in (3, 7, 8, 40, 41, 300):
        items = [rng.randrange(20) for _ in range(n)]
        for k in {1, n // 3, n}:
            work = list(items)
            geo.partial_sort(work, lambda a, b: (a > b) - (a < b), 0, k - 1)
            assert work[:k] == sorted(items)[:k]
            assert sorted(work) == sorted(items)


def test_count_any_stops_reading_the_set():
    zset = SortedSet()
    for i in range(50):
        zset.add(b"m%02d" % i, float(geo.encode_score(10.0 + i * 1e-4, 20.0)))
    read = []

    def range_query(low, high):
        for member, score in zset.range(low, high):
            read.append(member)
            yield member, score

    shape = geo.Shape(10.0, 20.0, 1000.0, radius=100.0)
    found = geo.search(shape, range_query, count=3, any_=True)
    assert len(found) == 3 and len(read) == 3
    everything = geo.search(shape, zset.range)
    assert len(everything) == 50
    nearest = geo.search(shape, zset.range, count=3)
    assert [m.member for m in nearest] == [b"m00", b"m01", b"m02"]
    assert nearest[1].distance == pytest.approx(0.0104, abs=1e-4)  # in km


# -- differential -------------------------------------------------------------------


def _random_points(rng: random.Random, zset: SortedSet, real: ParsedConnection, n: int, centre, spread):
    for i in range(n):
        lon = min(max(centre[0] + rng.uniform(-spread, spread), -180.0), 180.0)
        lat = min(max(centre[1] + rng.uniform(-spread, spread), geo.LAT_MIN), geo.LAT_MAX)
        if rng.random() < 0.05:
            lon, lat = centre  # several members on one spot: ties in distance
        member = b"m%d" % i
        assert real.run("GEOADD", "geo", _num(lon), _num(lat), member) in (0, 1)
        zset.add(member, float(geo.encode_score(lon, lat)))


@pytest.mark.differential
@pytest.mark.parametrize("seed", range(6))
def test_scores_positions_hashes_distances_as_redis(real, seed):
    rng = random.Random(seed)
    zset = SortedSet()
    _random_points(rng, zset, real, 200, (rng.uniform(-180, 180), rng.uniform(-85, 85)),
                   rng.choice([0.001, 1.0, 30.0, 400.0]))
    for member, score in zset.scores.items():
        assert float(real.run("ZSCORE", "geo", member)) == score
    members = list(zset.scores)
    for member in members[:50]:
        lon, lat = geo.decode_score(zset.scores[member])
        pos = [geo.format_coordinate(lon), geo.format_coordinate(lat)]
        assert real.run("GEOPOS", "geo", member) == [pos]
        assert real.run("GEOHASH", "geo", member) == [geo.geohash_string(zset.scores[member])]
    for _ in range(50):
        a, b = rng.choice(members), rng.choice(members)
        unit = rng.choice([b"m", b"km", b"mi", b"ft"])
        meters = geo.distance(*geo.decode_score(zset.scores[a]), *geo.decode_score(zset.scores[b]))
        assert real.run("GEODIST", "geo", a, b, unit) == geo.format_distance(
            meters / geo.unit_factor(unit))


@pytest.mark.differential
@pytest.mark.parametrize("seed", range(8))
def test_searches_as_redis(real, seed):
    rng = random.Random(100 + seed)
    zset = SortedSet()
    centre = (rng.uniform(-180, 180), rng.uniform(-85, 85))
    spread = rng.choice([0.01, 1.0, 10.0, 180.0])
    _random_points(rng, zset, real, rng.choice([20, 150, 400]), centre, spread)
    for _ in range(40):
        lon = min(max(centre[0] + rng.uniform(-spread, spread), -180.0), 180.0)
        lat = min(max(centre[1] + rng.uniform(-spread, spread), geo.LAT_MIN), geo.LAT_MAX)
        unit = rng.choice([b"m", b"km", b"mi", b"ft"])
        conversion = geo.unit_factor(unit)
        size = rng.choice([0, 1, 100, 5000, 1e5, 1e6, 5e6, 3e7]) / conversion
        args: list = ["GEOSEARCH", "geo", "FROMLONLAT", _num(lon), _num(lat)]
        if rng.random() < 0.5:
            shape = geo.Shape(lon, lat, conversion, radius=size)
            args += ["BYRADIUS", _num(size), unit]
        else:
            width, height = size * rng.uniform(0.2, 2), size * rng.uniform(0.2, 2)
            shape = geo.Shape(lon, lat, conversion, width=width, height=height)
            args += ["BYBOX", _num(width), _num(height), unit]
        order = rng.choice([None, "ASC", "DESC"])
        count = rng.choice([0, 0, 1, 3, 10, 50])
        any_ = bool(count) and rng.random() < 0.4
        flags = [rng.random() < 0.5 for _ in range(3)]
        args += [order] if order else []
        args += ["COUNT", count] + (["ANY"] if any_ else []) if count else []
        args += [name for name, on in zip(("WITHDIST", "WITHHASH", "WITHCOORD"), flags,
                                          strict=True) if on]
        ours = search_reply(geo.search(shape, zset.range, count, any_, order), *flags)
        assert ours == real.run(*args), args


@pytest.mark.differential
def test_ties_sorted_as_redis_partial_quicksort(real):
    rng = random.Random(5)
    for _ in range(12):
        real.run("DEL", "geo")
        zset = SortedSet()
        spots = [(rng.uniform(10, 10.01), rng.uniform(40, 40.01))
                 for _ in range(rng.choice([1, 2, 5, 20]))]
        for _ in range(rng.choice([8, 30, 60, 200])):
            lon, lat = rng.choice(spots)
            member = b"p%03d" % rng.randrange(1000)
            real.run("GEOADD", "geo", _num(lon), _num(lat), member)
            zset.add(member, float(geo.encode_score(lon, lat)))
        shape = geo.Shape(10.005, 40.005, 1000.0, radius=5.0)
        for order in (None, "ASC", "DESC"):
            for count in (1, 5, 7, 8, 41, 100):
                args = ["GEOSEARCH", "geo", "FROMLONLAT", "10.005", "40.005", "BYRADIUS",
                        "5", "km", "COUNT", count, "WITHDIST"] + ([order] if order else [])
                ours = search_reply(geo.search(shape, zset.range, count, False, order),
                                    True, False, False)
                assert ours == real.run(*args), args


@pytest.mark.differential
def test_any_sorted_set_scores_decode_as_redis(real):
    zset = SortedSet()
    scores = [-1, -1e300, 1e300, "inf", "-inf", 2**63, 2**64, 1.5e19, 2**52 - 1, 2**52,
              2**53 + 2, 0, 0.5, 123456789.75]
    for i, score in enumerate(scores):
        real.run("ZADD", "geo", str(score), b"s%d" % i)
        zset.add(b"s%d" % i, float(score))
    for member, score in zset.scores.items():
        lon, lat = geo.decode_score(score)
        assert real.run("GEOPOS", "geo", member) == [
            [geo.format_coordinate(lon), geo.format_coordinate(lat)]]
        assert real.run("GEOHASH", "geo", member) == [geo.geohash_string(score)]
    for lon, lat in [(0.0, 0.0), (180.0, geo.LAT_MAX), (-180.0, geo.LAT_MIN)]:
        shape = geo.Shape(lon, lat, 1000.0, radius=20000.0)
        args = ["GEOSEARCH", "geo", "FROMLONLAT", _num(lon), _num(lat), "BYRADIUS", "20000",
                "km", "ASC", "WITHHASH", "WITHCOORD", "WITHDIST"]
        assert search_reply(geo.search(shape, zset.range, order="ASC"), True, True, True) \
            == real.run(*args)


@pytest.mark.differential
def test_coordinate_text_is_the_same_in_resp3(real):
    # RESP3 sends addReplyHumanLongDouble as a double: ",<the same text>".
    real.run("GEOADD", "geo", _num(PALERMO[0]), _num(PALERMO[1]), "p")
    raw = RawConnection(real.conn.sock.getpeername()[1])
    raw.call("HELLO", "3")
    lon, lat = geo.decode_score(geo.encode_score(*PALERMO))
    expected = b"*1\r\n*2\r\n,%s\r\n,%s\r\n" % (geo.format_coordinate(lon), geo.format_coordinate(lat))
    assert raw.call("GEOPOS", "geo", "p") == expected
    raw.close()


@pytest.mark.differential
@pytest.mark.parametrize("lon,lat", [
    ("181", "0"), ("-180.0001", "0"), ("0", "85.06"), ("0", "-85.05112879"), ("inf", "0"),
    ("180", "85.05112878"), ("-180", "-85.05112878"),
])
def test_lonlat_errors_as_redis(real, lon, lat):
    expected = real.run("GEOADD", "geo", lon, lat, "x")
    try:
        geo.check_lonlat(float(lon), float(lat))
    except CommandError as err:
        assert expected == ("error", err.message)
    else:
        assert expected == 1
        score = float(real.run("ZSCORE", "geo", "x"))
        assert score == geo.encode_score(float(lon), float(lat))


@pytest.mark.parametrize("unit", ["m", "KM", "Mi", "ft", "yard"])
@pytest.mark.differential
def test_units_as_redis(real, unit):
    real.run("GEOADD", "geo", _num(PALERMO[0]), _num(PALERMO[1]), "a",
             _num(CATANIA[0]), _num(CATANIA[1]), "b")
    expected = real.run("GEODIST", "geo", "a", "b", unit)
    try:
        factor = geo.unit_factor(unit.encode())
    except CommandError as err:
        assert expected == ("error", err.message)
        return
    points = [geo.decode_score(geo.encode_score(*p)) for p in (PALERMO, CATANIA)]
    assert expected == geo.format_distance(geo.distance(*points[0], *points[1]) / factor)


def test_partial_sort_ties_follow_the_quicksort_swaps():
    # A stable sort would keep the input order of equal keys; Redis's
    # partial quicksort does not, and replies depend on it.
    items = [(5, "a"), (1, "b"), (5, "c"), (1, "d"), (5, "e"), (1, "f"), (5, "g"), (1, "h")]

    def by_key(a, b):
        return (a[0] > b[0]) - (a[0] < b[0])

    work = list(items)
    geo.partial_sort(work, by_key, 0, 3)
    stable = sorted(items, key=functools.cmp_to_key(by_key))
    assert [k for k, _ in work[:4]] == [1, 1, 1, 1]
    assert work[:4] != stable[:4]
