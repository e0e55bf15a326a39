"""Geo commands, byte for byte against a real redis-server (RESP2 and RESP3)."""

from __future__ import annotations

import random

import pytest

pytestmark = pytest.mark.differential

SICILY = ("GEOADD", "Sicily", "13.361389", "38.115556", "Palermo",
          "15.087269", "37.502669", "Catania")

GEOADD_SCRIPT = [
    SICILY,
    ("ZRANGE", "Sicily", "0", "-1", "WITHSCORES"),
    ("TYPE", "Sicily"),
    ("OBJECT", "ENCODING", "Sicily"),
    ("GEOADD", "Sicily", "13.361389", "38.115556", "Palermo"),
    ("GEOADD", "Sicily", "CH", "13.5", "38.1", "Palermo", "12.5", "37.8", "Marsala"),
    ("GEOADD", "Sicily", "NX", "1", "1", "Palermo", "14.9", "37.6", "Paterno"),
    ("GEOADD", "Sicily", "XX", "13.361389", "38.115556", "Palermo", "1", "1", "Nowhere"),
    ("GEOADD", "Sicily", "XX", "CH", "13.361389", "38.115556", "Palermo"),
    ("GEOADD", "Sicily", "ch", "nx", "15", "37", "Other"),
    ("ZRANGE", "Sicily", "0", "-1", "WITHSCORES"),
    ("GEOADD", "Sicily", "NX", "XX", "1", "1", "x"),
    ("GEOADD", "Sicily", "CH", "CH", "CH"),
    ("GEOADD", "Sicily", "1", "1"),
    ("GEOADD", "Sicily", "1", "1", "a", "2"),
    ("GEOADD", "Sicily", "GT", "1", "1", "a"),
    ("GEOADD", "Sicily", "x", "1", "a"),
    ("GEOADD", "Sicily", "1", "y", "a"),
    ("GEOADD", "Sicily", "1", "nan", "a"),
    ("GEOADD", "Sicily", "181", "0", "a"),
    ("GEOADD", "Sicily", "-180.0000001", "0", "a"),
    ("GEOADD", "Sicily", "0", "85.05112879", "a"),
    ("GEOADD", "Sicily", "0", "-85.05112879", "a"),
    ("GEOADD", "Sicily", "0", "90", "a"),
    ("GEOADD", "Sicily", "12.5", "1e400", "a"),
    ("GEOADD", "Sicily", "1", "1", "ok", "200", "1", "bad"),
    ("ZSCORE", "Sicily", "ok"),
    ("GEOADD", "edges", "180", "85.05112878", "ne", "-180", "-85.05112878", "sw",
     "0", "0", "origin", "-0", "-0", "negzero", "179.9999999", "0", "dateline"),
    ("ZRANGE", "edges", "0", "-1", "WITHSCORES"),
    ("GEOPOS", "edges", "ne", "sw", "origin", "negzero", "dateline"),
    ("GEOHASH", "edges", "ne", "sw", "origin", "negzero", "dateline"),
    ("SET", "str", "x"),
    ("GEOADD", "str", "1", "1", "a"),
    ("GEOADD", "k"),
    ("GEOADD", "k", "1", "1"),
]

POINT_SCRIPT = [
    SICILY,
    ("GEODIST", "Sicily", "Palermo", "Catania"),
    ("GEODIST", "Sicily", "Palermo", "Catania", "km"),
    ("GEODIST", "Sicily", "Palermo", "Catania", "KM"),
    ("GEODIST", "Sicily", "Palermo", "Catania", "mi"),
    ("GEODIST", "Sicily", "Palermo", "Catania", "Ft"),
    ("GEODIST", "Sicily", "Palermo", "Catania", "m"),
    ("GEODIST", "Sicily", "Palermo", "Palermo"),
    ("GEODIST", "Sicily", "Palermo", "Nowhere"),
    ("GEODIST", "Sicily", "Palermo", "Catania", "yd"),
    ("GEODIST", "Sicily", "Palermo", "Catania", "km", "x"),
    ("GEODIST", "nokey", "a", "b"),
    ("GEODIST", "nokey", "a", "b", "bad"),
    ("GEODIST", "str", "a", "b"),
    ("GEOHASH", "Sicily", "Palermo", "Catania", "Nowhere"),
    ("GEOHASH", "Sicily"),
    ("GEOHASH", "nokey", "a", "b"),
    ("GEOPOS", "Sicily", "Palermo", "Catania", "Nowhere"),
    ("GEOPOS", "Sicily"),
    ("GEOPOS", "nokey", "a"),
    ("SET", "str", "x"),
    ("GEOHASH", "str", "a"),
    ("GEOPOS", "str", "a"),
    # Any sorted set can be asked: scores decode as whatever cell they name.
    ("ZADD", "plain", "0", "zero", "1", "one", "-1", "minus", "1e20", "huge", "inf", "top",
     "-inf", "bottom", "4503599627370495.5", "past52", "0.5", "half"),
    ("GEOPOS", "plain", "zero", "one", "minus", "huge", "top", "bottom", "past52", "half"),
    ("GEOHASH", "plain", "zero", "one", "minus", "huge", "top", "bottom", "past52", "half"),
    ("GEODIST", "plain", "zero", "huge"),
    ("GEODIST", "plain", "top", "bottom", "km"),
    ("GEORADIUS", "plain", "0", "0", "20000", "km", "WITHHASH", "WITHCOORD", "WITHDIST"),
]

SEARCH_SCRIPT = [
    SICILY,
    ("GEOADD", "Sicily", "12.758489", "38.788135", "edge1", "17.241510", "38.788135", "edge2"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHCOORD"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "WITHHASH"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "withhash", "ASC"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "DESC"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "1"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "1", "DESC"),
    ("GEORADIUS", "Sicily", "15", "37", "400", "km", "COUNT", "2", "ANY"),
    ("GEORADIUS", "Sicily", "15", "37", "400", "km", "COUNT", "2", "ANY", "ASC"),
    ("GEORADIUS", "Sicily", "15", "37", "0", "km"),
    ("GEORADIUS", "Sicily", "15", "37", "1", "m"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "KM"),
    ("GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "WITHDIST", "ASC"),
    ("GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km", "WITHDIST"),
    ("GEORADIUSBYMEMBER", "Sicily", "Palermo", "500", "mi", "WITHCOORD", "DESC", "COUNT", "3"),
    ("GEORADIUSBYMEMBER_RO", "Sicily", "Catania", "100", "km"),
    ("GEORADIUSBYMEMBER", "Sicily", "Nowhere", "100", "km"),
    ("GEORADIUSBYMEMBER", "Sicily", "Nowhere", "x", "bad"),
    ("GEORADIUSBYMEMBER", "Sicily", "Palermo", "x", "km"),
    ("GEORADIUSBYMEMBER", "nokey", "a", "x", "bad", "WITHDIST"),
    ("GEORADIUSBYMEMBER", "nokey", "a", "x", "bad", "BOGUS"),
    ("GEORADIUSBYMEMBER", "nokey", "a", "1", "km", "STORE", "dst"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "ASC",
     "WITHCOORD", "WITHDIST", "WITHHASH"),
    ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "300", "100", "km"),
    ("GEOSEARCH", "Sicily", "frommember", "Palermo", "byradius", "200", "km", "desc",
     "count", "2"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "COUNT", "3",
     "ANY", "WITHDIST"),
    ("GEOSEARCH", "Sicily", "FROMMEMBER", "Nowhere", "BYRADIUS", "200", "km"),
    ("GEOSEARCH", "nokey", "FROMMEMBER", "Nowhere", "BYRADIUS", "200", "km"),
    ("GEOSEARCH", "nokey", "FROMMEMBER", "Nowhere", "BYRADIUS", "x", "km"),
    ("GEOSEARCH", "Sicily", "BYRADIUS", "200", "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37"),
    ("geosearch", "Sicily", "BYRADIUS", "200", "km", "ASC", "DESC"),
    ("GeoSearch", "Sicily", "FROMLONLAT", "15", "37", "COUNT", "1"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "FROMMEMBER", "Palermo", "BYRADIUS",
     "1", "km"),
    ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "FROMLONLAT", "15", "37", "BYRADIUS",
     "1", "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "BYBOX", "1",
     "1", "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "1", "1", "km", "BYRADIUS",
     "1", "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "STORE", "x"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "STOREDIST"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "-1", "1", "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "x", "1", "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "1", "y", "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "1", "1", "parsec"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "1", "1"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "100", "BYRADIUS", "1", "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "x", "37", "BYRADIUS", "1", "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "-1", "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "ANY"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "COUNT", "0"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "COUNT", "-3"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "COUNT", "x"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "COUNT"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "0"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "ANY"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "FROMMEMBER", "Palermo"),
    ("GEORADIUS", "Sicily", "15", "37", "200"),
    ("GEORADIUS", "Sicily", "15", "37", "x", "km"),
    ("GEORADIUS", "Sicily", "15", "37", "-5", "km"),
    ("GEORADIUS", "Sicily", "15", "37", "5", "nm"),
    ("GEORADIUS", "Sicily", "195", "37", "5", "km"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "d", "WITHDIST"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHHASH", "STOREDIST", "d"),
    ("GEORADIUS", "nokey", "x", "37", "200", "km"),
    ("GEORADIUS", "nokey", "15", "37", "200", "km"),
    ("GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "STORE", "d"),
    ("GEORADIUSBYMEMBER_RO", "Sicily", "Palermo", "200", "km", "STOREDIST", "d"),
    ("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km",
     "WITHDIST"),
    ("SET", "str", "x"),
    ("GEORADIUS", "str", "x", "37", "200", "km"),
    ("GEOSEARCH", "str", "BOGUS"),
    ("GEOSEARCHSTORE", "dst", "str", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"),
    ("GEOSEARCHSTORE", "str", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"),
    ("TYPE", "str"),
]

STORE_SCRIPT = [
    SICILY,
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "r1"),
    ("ZRANGE", "r1", "0", "-1", "WITHSCORES"),
    ("OBJECT", "ENCODING", "r1"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "STOREDIST", "r2", "DESC"),
    ("ZRANGE", "r2", "0", "-1", "WITHSCORES"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "r1", "STOREDIST", "r3"),
    ("EXISTS", "r3"),
    ("ZRANGE", "r3", "0", "-1", "WITHSCORES"),
    ("GEORADIUSBYMEMBER", "Sicily", "Palermo", "100", "km", "STORE", "r4", "COUNT", "1"),
    ("ZRANGE", "r4", "0", "-1", "WITHSCORES"),
    ("GEOSEARCHSTORE", "r5", "Sicily", "FROMMEMBER", "Catania", "BYBOX", "500", "500", "mi"),
    ("ZRANGE", "r5", "0", "-1", "WITHSCORES"),
    ("GEOSEARCHSTORE", "r6", "Sicily", "FROMMEMBER", "Catania", "BYRADIUS", "500", "mi",
     "STOREDIST", "COUNT", "1", "DESC"),
    ("ZRANGE", "r6", "0", "-1", "WITHSCORES"),
    # A result with nothing in it deletes the destination; so does a missing source.
    ("SET", "r7", "x", "EX", "100"),
    ("GEORADIUS", "Sicily", "0", "0", "1", "km", "STORE", "r7"),
    ("EXISTS", "r7"),
    ("SET", "r7", "x"),
    ("GEOSEARCHSTORE", "r7", "nokey", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"),
    ("EXISTS", "r7"),
    ("SET", "r8", "x", "EX", "100"),
    ("GEOSEARCHSTORE", "r8", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"),
    ("TTL", "r8"),
    ("TYPE", "r8"),
    ("GEOSEARCHSTORE", "Sicily", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "100", "km"),
    ("ZRANGE", "Sicily", "0", "-1"),
]


def test_geoadd(pair):
    pair.run_script(GEOADD_SCRIPT)


def test_point_queries(pair):
    pair.run_script(POINT_SCRIPT)


def test_searches(pair):
    pair.run_script(SEARCH_SCRIPT)


def test_stores(pair):
    pair.run_script(STORE_SCRIPT)


def _random_point(rng: random.Random) -> tuple[str, str]:
    lon = rng.uniform(-180, 180)
    lat = rng.uniform(-85.05112878, 85.05112878)
    return repr(lon), repr(lat)


def _fill(pair, rng: random.Random, key: str, count: int, spread: float = 0.0) -> None:
    """``count`` points: around the globe, or within ``spread`` degrees of 2.35,48.85."""
    args = []
    for index in range(count):
        if spread:
            lon = repr(2.35 + rng.uniform(-spread, spread))
            lat = repr(48.85 + rng.uniform(-spread, spread))
        else:
            lon, lat = _random_point(rng)
        args += [lon, lat, "m%d" % index]
    for start in range(0, len(args), 3000):
        pair.check("GEOADD", key, *args[start:start + 3000])


def _search_options(rng: random.Random) -> list[str]:
    options = []
    if rng.random() < 0.4:
        options += ["COUNT", str(rng.choice([1, 2, 5, 50, 400]))]
        if rng.random() < 0.3:
            options.append("ANY")
    if rng.random() < 0.6:
        options.append(rng.choice(["ASC", "DESC"]))
    for flag in ("WITHDIST", "WITHCOORD", "WITHHASH"):
        if rng.random() < 0.3:
            options.append(flag)
    rng.shuffle(options) if "COUNT" not in options else None
    return options


def test_random_searches_over_many_points(pair):
    """10k points over the globe and 3k around Paris, searched every way."""
    rng = random.Random(424242)
    _fill(pair, rng, "world", 10000)
    _fill(pair, rng, "paris", 3000, spread=0.2)
    pair.check("OBJECT", "ENCODING", "paris")
    for _ in range(150):
        key = rng.choice(["world", "paris"])
        unit = rng.choice(["m", "km", "mi", "ft"])
        scale = {"m": 1, "km": 1000, "mi": 1609.34, "ft": 0.3048}[unit]
        size = repr(rng.choice([500.0, 5e3, 5e4, 5e5, 5e6, 2e7]) / scale * rng.uniform(0.5, 2))
        if key == "paris" and rng.random() < 0.7:
            lon, lat = repr(2.35 + rng.uniform(-0.3, 0.3)), repr(48.85 + rng.uniform(-0.3, 0.3))
        else:
            lon, lat = _random_point(rng)
        member = "m%d" % rng.randrange(3000)
        options = _search_options(rng)
        shape = (["BYRADIUS", size, unit] if rng.random() < 0.5
                 else ["BYBOX", size, repr(float(size) * rng.uniform(0.2, 3)), unit])
        centre = ["FROMMEMBER", member] if rng.random() < 0.3 else ["FROMLONLAT", lon, lat]
        roll = rng.random()
        if roll < 0.4:
            pair.check("GEOSEARCH", key, *centre, *shape, *options)
        elif roll < 0.6:
            pair.check("GEORADIUS", key, lon, lat, size, unit, *options)
        elif roll < 0.75:
            pair.check("GEORADIUSBYMEMBER", key, member, size, unit, *options)
        else:
            store = [o for o in options if not o.startswith("WITH")]
            if rng.random() < 0.5:
                store.append("STOREDIST")
            pair.check("GEOSEARCHSTORE", "out", key, *centre, *shape, *store)
            pair.check("ZRANGE", "out", "0", "-1", "WITHSCORES")
    pair.check("GEOPOS", "world", *("m%d" % i for i in range(0, 10000, 97)))
    pair.check("GEOHASH", "world", *("m%d" % i for i in range(0, 10000, 89)))
    for _ in range(30):
        a, b = rng.randrange(10000), rng.randrange(10000)
        pair.check("GEODIST", "world", "m%d" % a, "m%d" % b, rng.choice(["m", "km", "mi"]))


def test_scripts_see_coordinates_as_redis_hands_them(pair):
    pair.check(*SICILY)
    pair.check("EVAL", "return redis.call('GEOPOS', KEYS[1], 'Palermo', 'x')", "1", "Sicily")
    pair.check("EVAL", "redis.setresp(3); return redis.call('GEOPOS', KEYS[1], 'Palermo', 'x')",
               "1", "Sicily")
    pair.check("EVAL", "redis.setresp(3); return redis.call('GEORADIUS', KEYS[1], 15, 37, 200,"
               " 'km', 'WITHCOORD', 'WITHDIST', 'WITHHASH', 'ASC')", "1", "Sicily")
    pair.check("EVAL", "return redis.pcall('GeoSearch', KEYS[1], 'BYRADIUS', 1, 'km', 'ASC', "
               "'ASC')", "1", "Sicily")


def test_command_info(pair):
    for name in ("GEOADD", "GEODIST", "GEOHASH", "GEOPOS", "GEOSEARCH", "GEOSEARCHSTORE",
                 "GEORADIUS", "GEORADIUS_RO", "GEORADIUSBYMEMBER", "GEORADIUSBYMEMBER_RO"):
        pair.check("COMMAND", "INFO", name)


@pytest.mark.parametrize("args", [
    "GEOADD k 1 1 a",
    "GEORADIUS k 0 0 1 m",
    "GEORADIUS k 0 0 1 m STORE a",
    "GEORADIUS k 0 0 1 m STORE a STOREDIST b",
    "GEORADIUS k 0 0 1 m STOREDIST b STORE a",
    "GEORADIUS k 0 0 1 m STORE",
    "GEORADIUSBYMEMBER k m 1 m STORE x",
    "GEORADIUSBYMEMBER_RO k m 1 m",
    "GEOSEARCH k FROMMEMBER m BYRADIUS 1 m",
    "GEOSEARCHSTORE d k FROMMEMBER m BYRADIUS 1 m",
])
def test_command_getkeys(pair, args):
    pair.check("COMMAND", "GETKEYS", *args.split())
