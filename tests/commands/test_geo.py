"""Geo commands through the protocol (StringTransport + task.Clock).

Replies, scores and errors are pinned against redis-server in
tests/differential/test_geo.py; these pin reply types, stored values and writes.
"""

from __future__ import annotations

from hush.commands.table import lookup
from hush.data.types.zset import ZSet
from hush.formats import geohash
from tests.support import data, raw_reply
from tests.support import error_of as error

SICILY = ("GEOADD", "Sicily", "13.361389", "38.115556", "Palermo",
          "15.087269", "37.502669", "Catania")


def test_geoadd_stores_geohash_scores(client, server):
    assert client.call(*SICILY) == 2
    zset = data(server)[b"Sicily"]
    assert zset.__class__ is ZSet
    assert zset.score(b"Palermo") == float(geohash.encode_score(13.361389, 38.115556))
    assert client.call("TYPE", "Sicily") == b"zset"


def test_coordinates_are_bulk_strings_in_resp2_and_doubles_in_resp3(client, resp3):
    client.call(*SICILY)
    assert raw_reply(client, "GEOPOS", "Sicily", "Palermo", "nope") == (
        b"*2\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*-1\r\n")
    assert raw_reply(resp3, "GEOPOS", "Sicily", "Palermo", "nope") == (
        b"*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n")
    # Distances are bulk strings in both.
    assert raw_reply(resp3, "GEODIST", "Sicily", "Palermo", "Catania", "km") == (
        b"$8\r\n166.2742\r\n")


def test_a_script_sees_coordinates_as_strings_or_doubles(client):
    client.call(*SICILY)
    as_strings = "return redis.call('GEOPOS', KEYS[1], 'Palermo')[1]"
    assert client.call("EVAL", as_strings, "1", "Sicily") == [
        b"13.36138933897018433", b"38.11555639549629859"]
    # In RESP3 a double is a {double=...} table, which goes back out as a double.
    as_doubles = ("redis.setresp(3); local p = redis.call('GEOPOS', KEYS[1], 'Palermo')[1];"
                  " return {type(p[1]), p[1]}")
    assert client.call("EVAL", as_doubles, "1", "Sicily") == [b"table", b"13.361389338970184"]


def test_the_exactly_one_of_errors_name_the_command_as_sent(client):
    client.call(*SICILY)
    assert error(client.call("GeoSearch", "Sicily", "BYRADIUS", "1", "km", "ASC", "ANY")) == (
        "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GeoSearch")
    assert error(client.call("geosearchSTORE", "d", "Sicily", "FROMLONLAT", "1", "1",
                             "COUNT", "1")) == (
        "ERR exactly one of BYRADIUS and BYBOX can be specified for geosearchSTORE")
    script = "return redis.pcall('geosearch', KEYS[1], 'BYRADIUS', 1, 'km', 'ASC', 'ASC')"
    reply = client.call("EVAL", script, "1", "Sicily")
    assert error(reply) == (
        "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for geosearch")


def test_geosearchstore_replaces_the_destination_and_its_ttl(client, server):
    client.call(*SICILY)
    client.call("SET", "dst", "x", "EX", "100")
    assert client.call("GEOSEARCHSTORE", "dst", "Sicily", "FROMMEMBER", "Palermo",
                       "BYRADIUS", "500", "km", "STOREDIST") == 2
    assert client.call("TTL", "dst") == -1
    stored = data(server)[b"dst"]
    assert stored.score(b"Palermo") == 0.0
    assert client.call("OBJECT", "ENCODING", "dst") == b"listpack"


def test_a_search_storing_nothing_deletes_the_destination(client, store):
    client.call(*SICILY)
    client.call("SET", "dst", "x")
    dirty = store.dirty
    assert client.call("GEORADIUS", "Sicily", "0", "0", "1", "m", "STORE", "dst") == 0
    assert client.call("EXISTS", "dst") == 0
    assert store.dirty == dirty + 1
    # Nothing to delete: no write.
    assert client.call("GEORADIUS", "Sicily", "0", "0", "1", "m", "STORE", "dst") == 0
    assert store.dirty == dirty + 1


def test_geoadd_wakes_zset_waiters(server):
    waiter, writer = server.client(), server.client(40001)
    waiter.send_raw(b"*3\r\n$8\r\nBZPOPMIN\r\n$1\r\ng\r\n$1\r\n0\r\n")
    writer.call("GEOADD", "g", "1", "1", "m")
    assert waiter.replies()[-1] == [b"g", b"m", b"%d" % geohash.encode_score(1.0, 1.0)]


def test_search_flags_and_keys_come_from_the_table():
    georadius = lookup(b"georadius")
    argv = [b"GEORADIUS", b"k", b"0", b"0", b"1", b"m", b"STOREDIST", b"d", b"STORE", b"s"]
    assert georadius.key_positions(argv) == [1, 9, 7]
    assert georadius.key_positions(argv[:6]) == [1]
    assert "movablekeys" in georadius.flags
    assert lookup(b"georadius_ro").key_positions(argv) == [1]
