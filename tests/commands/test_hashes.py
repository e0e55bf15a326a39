"""Protocol tests of the hash commands, on a fake server and clock."""

from __future__ import annotations

import random

import pytest

from hush.core.errors import NOT_INTEGER, SYNTAX, WRONGTYPE
from hush.data.types.hash import encoding as hash_encoding
from tests.support import data, error_of, raw_reply


def pairs(flat: list) -> dict:
    return dict(zip(flat[::2], flat[1::2], strict=True))


# -- storage and basics ----------------------------------------------------------------


def test_hash_is_a_plain_dict_of_bytes(server, client):
    assert client.call("HSET", "h", "a", "1", "b", "2") == 2
    assert data(server)[b"h"] == {b"a": b"1", b"b": b"2"}
    assert type(data(server)[b"h"]) is dict
    assert client.call("TYPE", "h") == b"hash"


def test_hset_counts_only_new_fields_and_last_value_wins(client):
    assert client.call("HSET", "h", "a", "1") == 1
    assert client.call("HSET", "h", "a", "2", "b", "3", "b", "4") == 1
    assert client.call("HGETALL", "h") == [b"a", b"2", b"b", b"4"]


@pytest.mark.parametrize("name", ["HSET", "HMSET"])
def test_odd_number_of_values_is_an_arity_error(server, client, name):
    reply = client.call(name, "h", "a", "1", "b")
    assert error_of(reply) == f"ERR wrong number of arguments for '{name.lower()}' command"
    assert b"h" not in data(server)


def test_hmset_answers_ok(client):
    assert client.call("HMSET", "h", "a", "1", "b", "2") == b"OK"
    assert client.call("HMGET", "h", "b", "zz", "a") == [b"2", None, b"1"]


def test_hsetnx(client):
    assert client.call("HSETNX", "h", "a", "1") == 1
    assert client.call("HSETNX", "h", "a", "2") == 0
    assert client.call("HSETNX", "h", "b", "3") == 1
    assert client.call("HGETALL", "h") == [b"a", b"1", b"b", b"3"]


def test_reads_of_a_missing_key(client):
    assert client.call("HGET", "none", "a") is None
    assert client.call("HMGET", "none", "a", "b") == [None, None]
    assert client.call("HGETALL", "none") == []
    assert client.call("HKEYS", "none") == []
    assert client.call("HVALS", "none") == []
    assert client.call("HLEN", "none") == 0
    assert client.call("HEXISTS", "none", "a") == 0
    assert client.call("HSTRLEN", "none", "a") == 0


def test_reads(client):
    client.call("HSET", "h", "a", "1", "bb", "22", "", "")
    assert client.call("HGET", "h", "bb") == b"22"
    assert client.call("HGET", "h", "") == b""
    assert client.call("HLEN", "h") == 3
    assert client.call("HEXISTS", "h", "a") == 1
    assert client.call("HEXISTS", "h", "zz") == 0
    assert client.call("HSTRLEN", "h", "bb") == 2
    assert client.call("HSTRLEN", "h", "zz") == 0
    assert client.call("HKEYS", "h") == [b"a", b"bb", b""]
    assert client.call("HVALS", "h") == [b"1", b"22", b""]


def test_order_is_insertion_order_like_a_listpack(client):
    client.call("HSET", "h", "z", "1", "y", "2", "x", "3")
    client.call("HSET", "h", "y", "two")
    client.call("HDEL", "h", "z")
    client.call("HSET", "h", "z", "again")
    assert client.call("HKEYS", "h") == [b"y", b"x", b"z"]
    assert client.call("HVALS", "h") == [b"two", b"3", b"again"]


def test_hgetall_is_a_map_in_resp3(client):
    client.call("HSET", "h", "a", "1", "b", "2")
    assert raw_reply(client, "HGETALL", "h") == b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"
    client.call("HELLO", "3")
    assert raw_reply(client, "HGETALL", "h") == b"%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"
    assert raw_reply(client, "HGETALL", "none") == b"%0\r\n"
    assert raw_reply(client, "HKEYS", "h") == b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    assert raw_reply(client, "HMGET", "h", "a", "x") == b"*2\r\n$1\r\n1\r\n_\r\n"
    assert raw_reply(client, "HGET", "h", "x") == b"_\r\n"


def test_hdel_counts_and_deletes_the_emptied_hash(server, client):
    client.call("HSET", "h", "a", "1", "b", "2", "c", "3")
    assert client.call("HDEL", "h", "a", "zz", "a") == 1
    assert client.call("HDEL", "none", "a") == 0
    assert client.call("HDEL", "h", "b", "c", "d") == 2
    assert b"h" not in data(server)
    assert client.call("EXISTS", "h") == 0


def test_hset_keeps_the_ttl(server, client):
    client.call("HSET", "h", "a", "1")
    client.call("EXPIRE", "h", "100")
    client.call("HSET", "h", "b", "2")
    client.call("HINCRBY", "h", "n", "1")
    assert client.call("TTL", "h") == 100
    server.clock.advance(101)
    assert client.call("HGETALL", "h") == []


@pytest.mark.parametrize("args", [
    ("HSET", "s", "a", "1"), ("HMSET", "s", "a", "1"), ("HSETNX", "s", "a", "1"),
    ("HGET", "s", "a"), ("HMGET", "s", "a"), ("HGETALL", "s"), ("HKEYS", "s"), ("HVALS", "s"),
    ("HDEL", "s", "a"), ("HEXISTS", "s", "a"), ("HLEN", "s"), ("HSTRLEN", "s", "a"),
    ("HINCRBY", "s", "a", "1"), ("HINCRBYFLOAT", "s", "a", "1"), ("HRANDFIELD", "s"),
    ("HRANDFIELD", "s", "0"), ("HSCAN", "s", "0"), ("HSCAN", "s", "0", "COUNT", "0"),
])
def test_wrongtype(server, client, args):
    client.call("SET", "s", "x")
    assert error_of(client.call(*args)) == WRONGTYPE
    assert data(server)[b"s"] == b"x"


# -- counters -----------------------------------------------------------------------------


def test_hincrby(client):
    assert client.call("HINCRBY", "h", "n", "5") == 5
    assert client.call("HINCRBY", "h", "n", "-7") == -2
    assert client.call("HGET", "h", "n") == b"-2"


@pytest.mark.parametrize("stored", ["abc", "007", " 1", "+1", "1.0", "", "9223372036854775808"])
def test_hincrby_on_a_non_integer_value(client, stored):
    client.call("HSET", "h", "n", stored)
    assert error_of(client.call("HINCRBY", "h", "n", "1")) == "ERR hash value is not an integer"
    assert client.call("HGET", "h", "n") == stored.encode()


def test_hincrby_overflow_and_bad_increment(server, client):
    client.call("HSET", "h", "max", "9223372036854775807", "min", "-9223372036854775808")
    assert error_of(client.call("HINCRBY", "h", "max", "1")) == \
        "ERR increment or decrement would overflow"
    assert error_of(client.call("HINCRBY", "h", "min", "-1")) == \
        "ERR increment or decrement would overflow"
    assert client.call("HINCRBY", "h", "min", "1") == -9223372036854775807
    assert error_of(client.call("HINCRBY", "h", "n", "x")) == NOT_INTEGER
    # The increment is parsed before the key is looked at.
    client.call("SET", "s", "v")
    assert error_of(client.call("HINCRBY", "s", "n", "x")) == NOT_INTEGER
    assert error_of(client.call("HINCRBY", "none", "n", "1.5")) == NOT_INTEGER
    assert b"none" not in data(server)


def test_hincrbyfloat(client):
    assert client.call("HINCRBYFLOAT", "h", "f", "1.5") == b"1.5"
    assert client.call("HINCRBYFLOAT", "h", "f", "0.1") == b"1.6"
    assert client.call("HINCRBYFLOAT", "h", "f", "-1.6") == b"0"
    assert client.call("HINCRBYFLOAT", "h", "f", "0x10") == b"16"
    assert client.call("HINCRBYFLOAT", "h", "f", "1e3") == b"1016"
    assert client.call("HGET", "h", "f") == b"1016"
    client.call("HSET", "h", "i", "5")
    assert client.call("HINCRBYFLOAT", "h", "i", "0.25") == b"5.25"


def test_hincrbyfloat_errors(server, client):
    client.call("HSET", "h", "s", "abc", "inf", "inf", "big", "1e4932")
    assert error_of(client.call("HINCRBYFLOAT", "h", "s", "1")) == "ERR hash value is not a float"
    assert error_of(client.call("HINCRBYFLOAT", "h", "f", "abc")) == \
        "ERR value is not a valid float"
    assert error_of(client.call("HINCRBYFLOAT", "h", "f", "inf")) == \
        "ERR value is NaN or Infinity"
    assert error_of(client.call("HINCRBYFLOAT", "h", "inf", "1")) == \
        "ERR increment would produce NaN or Infinity"
    assert error_of(client.call("HINCRBYFLOAT", "h", "big", "1e4932")) == \
        "ERR increment would produce NaN or Infinity"
    assert client.call("HGET", "h", "big") == b"1e4932"
    assert error_of(client.call("HINCRBYFLOAT", "none", "f", "-inf")) == \
        "ERR value is NaN or Infinity"
    assert b"none" not in data(server)


# -- HRANDFIELD -----------------------------------------------------------------------------


@pytest.fixture
def abcd(client):
    client.call("HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4")
    random.seed(7)
    return {b"a": b"1", b"b": b"2", b"c": b"3", b"d": b"4"}


def test_hrandfield_single(client, abcd):
    seen = {client.call("HRANDFIELD", "h") for _ in range(200)}
    assert seen == set(abcd)
    assert client.call("HRANDFIELD", "none") is None


def test_hrandfield_positive_count_is_distinct_in_hash_order(client, abcd):
    for _ in range(50):
        got = client.call("HRANDFIELD", "h", "3")
        assert len(got) == 3 and len(set(got)) == 3
        assert got == sorted(got)  # a, b, c, d were inserted in this order
    assert client.call("HRANDFIELD", "h", "4") == [b"a", b"b", b"c", b"d"]
    assert client.call("HRANDFIELD", "h", "100") == [b"a", b"b", b"c", b"d"]


def test_hrandfield_negative_count_repeats(client, abcd):
    got = client.call("HRANDFIELD", "h", "-50")
    assert len(got) == 50
    assert set(got) == set(abcd)


def test_hrandfield_withvalues_shapes(client, abcd):
    flat = client.call("HRANDFIELD", "h", "-6", "WITHVALUES")
    assert len(flat) == 12
    assert all(abcd[f] == v for f, v in zip(flat[::2], flat[1::2], strict=True))
    assert client.call("HRANDFIELD", "h", "9", "withvalues") == \
        [b"a", b"1", b"b", b"2", b"c", b"3", b"d", b"4"]
    client.call("HELLO", "3")
    assert raw_reply(client, "HRANDFIELD", "h", "1", "WITHVALUES")[:6] == b"*1\r\n*2"
    nested = client.call("HRANDFIELD", "h", "-3", "WITHVALUES")
    assert len(nested) == 3
    assert all(len(p) == 2 and abcd[p[0]] == p[1] for p in nested)


def test_hrandfield_count_zero_and_missing_key(client, abcd):
    assert client.call("HRANDFIELD", "h", "0") == []
    assert client.call("HRANDFIELD", "none", "5") == []
    assert client.call("HRANDFIELD", "none", "-5", "WITHVALUES") == []


@pytest.mark.parametrize("args, message", [
    (("x",), NOT_INTEGER),
    (("1", "foo"), SYNTAX),
    (("1", "WITHVALUES", "x"), SYNTAX),
    (("-9223372036854775808",),
     "ERR value is out of range, value must between -9223372036854775807 and "
     "9223372036854775807"),
    (("4611686018427387904", "WITHVALUES"), "ERR value is out of range"),
    (("-4611686018427387904", "WITHVALUES"), "ERR value is out of range"),
])
def test_hrandfield_errors_come_before_the_key(client, args, message):
    client.call("SET", "s", "x")
    assert error_of(client.call("HRANDFIELD", "s", *args)) == message
    assert error_of(client.call("HRANDFIELD", "none", *args)) == message


# -- HSCAN ---------------------------------------------------------------------------------


def test_hscan_small_hash_returns_everything_whatever_the_cursor(client):
    client.call("HSET", "h", "a", "1", "b", "2", "ab", "3")
    assert client.call("HSCAN", "h", "0") == [b"0", [b"a", b"1", b"b", b"2", b"ab", b"3"]]
    assert client.call("HSCAN", "h", "999", "COUNT", "1") == \
        [b"0", [b"a", b"1", b"b", b"2", b"ab", b"3"]]
    assert client.call("HSCAN", "h", "0", "MATCH", "a*") == [b"0", [b"a", b"1", b"ab", b"3"]]


def test_hscan_options_are_checked_only_for_an_existing_hash(client):
    client.call("HSET", "h", "a", "1")
    assert error_of(client.call("HSCAN", "h", "0", "COUNT", "0")) == SYNTAX
    assert error_of(client.call("HSCAN", "h", "0", "TYPE", "hash")) == SYNTAX
    assert error_of(client.call("HSCAN", "h", "0", "COUNT", "x")) == NOT_INTEGER
    assert client.call("HSCAN", "none", "0", "COUNT", "0") == [b"0", []]
    assert error_of(client.call("HSCAN", "none", "x")) == "ERR invalid cursor"


def _scan_all(client, *options: str) -> tuple[dict, int]:
    cursor, found, steps = b"0", {}, 0
    while True:
        cursor, items = client.call("HSCAN", "big", cursor, *options)
        steps += 1
        for field, value in pairs(items).items():
            assert field not in found, field
            found[field] = value
        if cursor == b"0":
            return found, steps


def test_hscan_large_hash_pages_with_a_cursor(client):
    expected = {f"f{i}".encode(): f"v{i}".encode() for i in range(600)}
    client.call("HSET", "big", *[x for item in expected.items() for x in item])
    assert hash_encoding(expected) == b"hashtable"
    found, steps = _scan_all(client, "COUNT", "50")
    assert found == expected
    assert steps >= 12
    found, _ = _scan_all(client, "MATCH", "f1?")
    assert found == {f"f1{i}".encode(): f"v1{i}".encode() for i in range(10)}


def test_hscan_skips_fields_deleted_during_the_iteration(client):
    client.call("HSET", "big", *[x for i in range(600) for x in (f"f{i}", "v")])
    cursor, items = client.call("HSCAN", "big", "0", "COUNT", "100")
    seen = set(pairs(items))
    gone = [f"f{i}" for i in range(600) if f"f{i}".encode() not in seen][:50]
    client.call("HDEL", "big", *gone)
    while cursor != b"0":
        cursor, items = client.call("HSCAN", "big", cursor, "COUNT", "100")
        fresh = set(pairs(items))
        assert not fresh & seen
        seen |= fresh
    assert seen == {f"f{i}".encode() for i in range(600)} - {g.encode() for g in gone}


def test_hscan_reply_is_an_array_in_resp3(client):
    client.call("HSET", "h", "a", "1")
    client.call("HELLO", "3")
    assert raw_reply(client, "HSCAN", "h", "0") == \
        b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"


# -- encoding, stats, transactions -----------------------------------------------------------


def test_hash_encoding_thresholds():
    assert hash_encoding({b"a": b"1"}) == b"listpack"
    assert hash_encoding({b"f%d" % i: b"v" for i in range(512)}) == b"listpack"
    assert hash_encoding({b"f%d" % i: b"v" for i in range(513)}) == b"hashtable"
    assert hash_encoding({b"a": b"x" * 64}) == b"listpack"
    assert hash_encoding({b"a": b"x" * 65}) == b"hashtable"
    assert hash_encoding({b"x" * 65: b"a"}) == b"hashtable"


def test_object_encoding(client):
    client.call("HSET", "h", "a", "1")
    assert client.call("OBJECT", "ENCODING", "h") == b"listpack"
    client.call("HSET", "h", "long", "x" * 65)
    assert client.call("OBJECT", "ENCODING", "h") == b"hashtable"


def test_reads_count_keyspace_hits_and_misses(server, client):
    stats = server.service.store.stats
    client.call("HSET", "h", "a", "1")
    stats.keyspace_hits = stats.keyspace_misses = 0
    client.call("HGET", "h", "a")
    client.call("HLEN", "none")
    client.call("HSET", "h", "b", "2")  # writes do not count
    assert (stats.keyspace_hits, stats.keyspace_misses) == (1, 1)


def test_changes_in_place_spoil_a_watch(server, client):
    other = server.client(40001)
    client.call("HSET", "h", "a", "1")
    for change in (("HSET", "h", "b", "2"), ("HDEL", "h", "b"), ("HINCRBY", "h", "a", "1"),
                   ("HINCRBYFLOAT", "h", "a", "1"), ("HSETNX", "h", "new", "1")):
        client.call("WATCH", "h")
        other.call(*change)
        client.call("MULTI")
        client.call("HGET", "h", "a")
        assert client.call("EXEC") is None, change


def test_no_change_keeps_a_watch(server, client):
    other = server.client(40001)
    client.call("HSET", "h", "a", "1")
    client.call("WATCH", "h")
    other.call("HDEL", "h", "zz")
    other.call("HSETNX", "h", "a", "2")
    client.call("MULTI")
    client.call("HGET", "h", "a")
    assert client.call("EXEC") == [b"1"]


def test_replies_inside_multi_are_snapshots(client):
    client.call("HSET", "h", "a", "1")
    client.call("MULTI")
    client.call("HGETALL", "h")
    client.call("HSET", "h", "b", "2")
    client.call("HKEYS", "h")
    client.call("HVALS", "h")
    assert client.call("EXEC") == [[b"a", b"1"], 1, [b"a", b"b"], [b"1", b"2"]]
