# -*- test-case-name: tests.commands.test_geo -*-
"""Geo commands: GEOADD, GEODIST, GEOHASH, GEOPOS, GEOSEARCH(STORE), GEORADIUS(BYMEMBER)[_RO].

A geo set is a sorted set whose scores are Redis's 52-bit geohashes
(:mod:`hush.formats.geohash`, which repeats Redis's double arithmetic, so
scores, distances, coordinates and search results are Redis's to the bit).
GEOADD is ZADD of the encoded points, and propagates as that ZADD, as Redis
does (geo.c rewrites its argv). The searches read their arguments in
georadiusGeneric's order: the key's type first, then the centre and the
radius, then the options one by one, then the checks of the whole.

Coordinates are replied as Redis prints a long double (``%.17Lf`` trimmed)
with :class:`~hush.wire.resp.DoubleText`: bulk strings in RESP2, doubles in
RESP3; distances with four decimals, as bulk strings in both.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hush.commands.args import parse_int, syntax_error
from hush.commands.table import command, effects, range_spec
from hush.commands.zsets import _zadd
from hush.core.errors import NOT_FLOAT, CommandError, NamesCommand
from hush.data.types.zset import ZSet, parse_score
from hush.formats import geohash
from hush.wire.resp import NULL_ARRAY, DoubleText

GROUP = "geo"

NOT_DECODED = "ERR could not decode requested zset member"

_READ = dict(flags=("readonly",), acl=("@read", "@geo", "@slow"))
_WRITE = dict(flags=("write", "denyoom"), acl=("@write", "@geo", "@slow"))
_RO_ACCESS = (range_spec("RO", "access"),)


def _double(raw: bytes, error: str = NOT_FLOAT) -> float:
    """getDoubleFromObjectOrReply: strict, no NaN, no overflow to inf."""
    value = parse_score(raw)
    if value is None:
        raise CommandError(error)
    return value


def _lonlat(lon_raw: bytes, lat_raw: bytes) -> tuple[float, float]:
    """extractLongLatOrReply: two doubles, then Redis's range check."""
    lon = _double(lon_raw)
    lat = _double(lat_raw)
    geohash.check_lonlat(lon, lat)
    return lon, lat


def _distance(amount: bytes, unit: bytes) -> tuple[float, float]:
    """extractDistanceOrReply: (radius, meters per unit)."""
    radius = _double(amount, "ERR need numeric radius")
    if radius < 0:
        raise CommandError("ERR radius cannot be negative")
    return radius, geohash.unit_factor(unit)


def _box(width_raw: bytes, height_raw: bytes, unit: bytes) -> tuple[float, float, float]:
    """extractBoxOrReply: (width, height, meters per unit)."""
    width = _double(width_raw, "ERR need numeric width")
    height = _double(height_raw, "ERR need numeric height")
    if height < 0 or width < 0:
        raise CommandError("ERR height or width cannot be negative")
    return width, height, geohash.unit_factor(unit)


def _read(ctx, key: bytes) -> ZSet | None:
    return ctx.db.read_typed(key, ZSet)


def _coordinates(score: float) -> list[DoubleText]:
    lon, lat = geohash.decode_score(score)
    return [DoubleText(geohash.format_coordinate(lon)),
            DoubleText(geohash.format_coordinate(lat))]


# -- GEOADD -----------------------------------------------------------------------

_GEOADD_OPTIONS = frozenset([b"nx", b"xx", b"ch"])


def _geoadd_parse(args: tuple[bytes, ...]) -> tuple[int, list[tuple[int, bytes]]]:
    """(how many option arguments lead, [(score, member)]) as geoaddCommand reads them."""
    first = 0
    while first < len(args) and args[first].lower() in _GEOADD_OPTIONS:
        first += 1
    options = {arg.lower() for arg in args[:first]}
    rest = args[first:]
    if len(rest) % 3 or {b"nx", b"xx"} <= options:
        raise syntax_error()
    points = []
    for index in range(0, len(rest), 3):
        lon, lat = _lonlat(rest[index], rest[index + 1])
        points.append((geohash.encode_score(lon, lat), rest[index + 2]))
    if not points:
        # ZADD, which Redis hands the rest to, has no score-member pair.
        raise syntax_error()
    return first, points


@command("geoadd", arity=-5, keys=(1, 1, 1), group=GROUP, since="3.2.0",
         summary="Add one or more geospatial items in the geospatial index represented "
                 "using a sorted set",
         key_specs=(range_spec("RW", "update"),), **_WRITE)
def geoadd(ctx, key: bytes, *args: bytes) -> int:
    first, points = _geoadd_parse(args)
    options = {arg.lower() for arg in args[:first]}
    return _zadd(ctx, key, [(float(score), member) for score, member in points],
                 nx=b"nx" in options, xx=b"xx" in options, ch=b"ch" in options)


@effects("geoadd")
def _geoadd_effects(ctx, argv: list[bytes], reply: Any) -> list[list[bytes]]:
    # Redis replaces GEOADD's argv by the ZADD it runs (lower-case name,
    # the options as sent, integer scores), and that is what it propagates.
    first, points = _geoadd_parse(tuple(argv[2:]))
    zadd = [b"zadd", *argv[1:2 + first]]
    for score, member in points:
        zadd += (b"%d" % score, member)
    return [zadd]


# -- point queries ----------------------------------------------------------------


@command("geodist", arity=-4, keys=(1, 1, 1), group=GROUP, since="3.2.0",
         summary="Returns the distance between two members of a geospatial index",
         key_specs=_RO_ACCESS, **_READ)
def geodist(ctx, key: bytes, member1: bytes, member2: bytes, *unit: bytes) -> bytes | None:
    to_meters = 1.0
    if len(unit) == 1:
        to_meters = geohash.unit_factor(unit[0])
    elif unit:
        raise syntax_error()
    zset = _read(ctx, key)
    if zset is None:
        return None
    score1, score2 = zset.score(member1), zset.score(member2)
    if score1 is None or score2 is None:
        return None
    lon1, lat1 = geohash.decode_score(score1)
    lon2, lat2 = geohash.decode_score(score2)
    return geohash.format_distance(geohash.distance(lon1, lat1, lon2, lat2) / to_meters)


@command("geohash", arity=-2, keys=(1, 1, 1), group=GROUP, since="3.2.0",
         summary="Returns members of a geospatial index as standard geohash strings",
         key_specs=_RO_ACCESS, **_READ)
def geohash_(ctx, key: bytes, *members: bytes) -> list[bytes | None]:
    zset = _read(ctx, key)
    scores = [None if zset is None else zset.score(member) for member in members]
    return [None if score is None else geohash.geohash_string(score) for score in scores]


@command("geopos", arity=-2, keys=(1, 1, 1), group=GROUP, since="3.2.0",
         summary="Returns longitude and latitude of members of a geospatial index",
         key_specs=_RO_ACCESS, **_READ)
def geopos(ctx, key: bytes, *members: bytes) -> list[Any]:
    zset = _read(ctx, key)
    scores = [None if zset is None else zset.score(member) for member in members]
    return [NULL_ARRAY if score is None else _coordinates(score) for score in scores]


# -- searches (georadiusGeneric) ----------------------------------------------------

_COORDS = 1        # GEORADIUS: the centre is a longitude and latitude
_MEMBER = 2        # GEORADIUSBYMEMBER: the centre is a member
_NOSTORE = 4       # the _RO variants: no STORE / STOREDIST
_SEARCH = 8        # GEOSEARCH's FROM.../BY... arguments
_SEARCHSTORE = 16  # GEOSEARCHSTORE: the destination comes first, STOREDIST is a flag


class _Search:
    """What a search's arguments asked for."""

    def __init__(self) -> None:
        self.lon = self.lat = 0.0
        self.conversion = 1.0
        self.radius: float | None = None
        self.width = self.height = 0.0
        self.withdist = self.withhash = self.withcoord = False
        self.any = False
        self.order: str | None = None
        self.count = 0
        self.store: bytes | None = None
        self.storedist = False
        self.from_member = self.from_lonlat = False
        self.by_radius = self.by_box = False

    def shape(self) -> geohash.Shape:
        return geohash.Shape(self.lon, self.lat, self.conversion, self.radius,
                             self.width, self.height)


def _centre_of(zset: ZSet, member: bytes, search: _Search) -> None:
    score = zset.score(member)
    if score is None:
        raise CommandError(NOT_DECODED)
    search.lon, search.lat = geohash.decode_score(score)


def _parse_search(args: tuple[bytes, ...], zset: ZSet | None, flags: int,
                  name: str) -> _Search:
    """georadiusGeneric's argument parsing, errors in its order (``args``: argv[1:])."""
    search = _Search()
    if flags & _COORDS:
        base = 5
        search.lon, search.lat = _lonlat(args[1], args[2])
        search.radius, search.conversion = _distance(args[3], args[4])
    elif flags & _MEMBER:
        base = 4
        # Without the key Redis parses neither the member nor the radius.
        if zset is not None:
            _centre_of(zset, args[1], search)
            search.radius, search.conversion = _distance(args[2], args[3])
    else:
        base = 1
        if flags & _SEARCHSTORE:
            base = 2
            search.store = args[0]
    rest = args[base:]
    index = 0
    while index < len(rest):
        arg = rest[index].lower()
        left = len(rest) - index - 1
        if arg == b"withdist":
            search.withdist = True
        elif arg == b"withhash":
            search.withhash = True
        elif arg == b"withcoord":
            search.withcoord = True
        elif arg == b"any":
            search.any = True
        elif arg == b"asc":
            search.order = "ASC"
        elif arg == b"desc":
            search.order = "DESC"
        elif arg == b"count" and left >= 1:
            search.count = parse_int(rest[index + 1])
            if search.count <= 0:
                raise CommandError("ERR COUNT must be > 0")
            index += 1
        elif arg in (b"store", b"storedist") and left >= 1 and not flags & (_NOSTORE | _SEARCH):
            search.store = rest[index + 1]
            search.storedist = arg == b"storedist"
            index += 1
        elif arg == b"storedist" and flags & _SEARCHSTORE:
            search.storedist = True
        elif arg == b"frommember" and left >= 1 and flags & _SEARCH and not search.from_lonlat:
            if zset is not None:
                _centre_of(zset, rest[index + 1], search)
            search.from_member = True
            index += 1
        elif arg == b"fromlonlat" and left >= 2 and flags & _SEARCH and not search.from_member:
            search.lon, search.lat = _lonlat(rest[index + 1], rest[index + 2])
            search.from_lonlat = True
            index += 2
        elif arg == b"byradius" and left >= 2 and flags & _SEARCH and not search.by_box:
            search.radius, search.conversion = _distance(rest[index + 1], rest[index + 2])
            search.by_radius = True
            index += 2
        elif arg == b"bybox" and left >= 3 and flags & _SEARCH and not search.by_radius:
            search.width, search.height, search.conversion = _box(
                rest[index + 1], rest[index + 2], rest[index + 3])
            search.radius = None
            search.by_box = True
            index += 3
        else:
            raise syntax_error()
        index += 1
    if search.store is not None and (search.withdist or search.withhash or search.withcoord):
        which = "GEOSEARCHSTORE" if flags & _SEARCHSTORE else "STORE option in GEORADIUS"
        raise CommandError(
            f"ERR {which} is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
    if flags & _SEARCH and not (search.from_member or search.from_lonlat):
        raise NamesCommand(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for %s", name)
    if flags & _SEARCH and not (search.by_radius or search.by_box):
        raise NamesCommand(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for %s", name)
    if search.any and not search.count:
        raise CommandError("ERR the ANY argument requires COUNT argument")
    return search


def _range_query(zset: ZSet) -> geohash.RangeQuery:
    """The set's members with ``low <= score < high``, in order, read lazily."""
    order = zset.order

    def query(low: float, high: float) -> Iterator[tuple[bytes, float]]:
        for score, member in order.islice(order.bisect_left((low,))):
            if score >= high:
                return
            yield member, score

    return query


def _search(ctx, args: tuple[bytes, ...], flags: int, name: str) -> Any:
    db = ctx.db
    zset = _read(ctx, args[1] if flags & _SEARCHSTORE else args[0])
    search = _parse_search(args, zset, flags, name)
    if zset is None:
        if search.store is None:
            return []
        db.delete(search.store)
        return 0
    matches = geohash.search(search.shape(), _range_query(zset), count=search.count,
                             any_=search.any, order=search.order)
    if search.store is not None:
        return _store(ctx, search.store, matches, search.storedist)
    if not (search.withdist or search.withhash or search.withcoord):
        return [match.member for match in matches]
    replies = []
    for match in matches:
        item: list[Any] = [match.member]
        if search.withdist:
            item.append(geohash.format_distance(match.distance))
        if search.withhash:
            item.append(geohash.score_as_integer(match.score))
        if search.withcoord:
            item.append([DoubleText(geohash.format_coordinate(match.longitude)),
                         DoubleText(geohash.format_coordinate(match.latitude))])
        replies.append(item)
    return replies


def _store(ctx, key: bytes, matches: list[geohash.Match], storedist: bool) -> int:
    """Store the found members (scored by geohash, or by distance with STOREDIST)."""
    if not matches:
        ctx.db.delete(key)
        return 0
    zset = ZSet()
    for match in matches:
        zset.add(match.member, match.distance if storedist else match.score)
    ctx.db.set(key, zset)
    return len(matches)


def _keyword_spec(keyword: str, startfrom: int) -> dict[str, Any]:
    return {
        "flags": ["OW", "update"],
        "begin_search": {"type": "keyword",
                         "spec": {"keyword": keyword, "startfrom": startfrom}},
        "find_keys": {"type": "range", "spec": {"lastkey": 0, "keystep": 1, "limit": 0}},
    }


@command("georadius", arity=-6, flags=("write", "denyoom", "movablekeys"), keys=(1, 1, 1),
         group=GROUP, since="3.2.0", acl=("@write", "@geo", "@slow"),
         summary="Query a sorted set representing a geospatial index to fetch members "
                 "matching a given maximum distance from a point",
         key_specs=(range_spec("RO", "access"), _keyword_spec("STORE", 6),
                    _keyword_spec("STOREDIST", 6)))
def georadius(ctx, *args: bytes) -> Any:
    return _search(ctx, args, _COORDS, "georadius")


@command("georadius_ro", arity=-6, keys=(1, 1, 1), group=GROUP, since="3.2.10",
         summary="A read-only variant for GEORADIUS", key_specs=_RO_ACCESS, **_READ)
def georadius_ro(ctx, *args: bytes) -> Any:
    return _search(ctx, args, _COORDS | _NOSTORE, "georadius_ro")


@command("georadiusbymember", arity=-5, flags=("write", "denyoom", "movablekeys"),
         keys=(1, 1, 1), group=GROUP, since="3.2.0", acl=("@write", "@geo", "@slow"),
         summary="Query a sorted set representing a geospatial index to fetch members "
                 "matching a given maximum distance from a member",
         key_specs=(range_spec("RO", "access"), _keyword_spec("STORE", 5),
                    _keyword_spec("STOREDIST", 5)))
def georadiusbymember(ctx, *args: bytes) -> Any:
    return _search(ctx, args, _MEMBER, "georadiusbymember")


@command("georadiusbymember_ro", arity=-5, keys=(1, 1, 1), group=GROUP, since="3.2.10",
         summary="A read-only variant for GEORADIUSBYMEMBER", key_specs=_RO_ACCESS, **_READ)
def georadiusbymember_ro(ctx, *args: bytes) -> Any:
    return _search(ctx, args, _MEMBER | _NOSTORE, "georadiusbymember_ro")


@command("geosearch", arity=-7, keys=(1, 1, 1), group=GROUP, since="6.2.0",
         summary="Query a sorted set representing a geospatial index to fetch members "
                 "inside an area of a box or a circle.",
         key_specs=_RO_ACCESS, **_READ)
def geosearch(ctx, *args: bytes) -> Any:
    return _search(ctx, args, _SEARCH, "geosearch")


@command("geosearchstore", arity=-8, keys=(1, 2, 1), group=GROUP, since="6.2.0",
         summary="Query a sorted set representing a geospatial index to fetch members "
                 "inside an area of a box or a circle, and store the result in another key.",
         key_specs=(range_spec("OW", "update"), range_spec("RO", "access", index=2)),
         **_WRITE)
def geosearchstore(ctx, *args: bytes) -> Any:
    return _search(ctx, args, _SEARCH | _SEARCHSTORE, "geosearchstore")
